//! The one-GET program on tokio + hyper: `hyper-get URL` fetches URL and prints the status and
//! the body's length, e.g. `200 25 bytes` — what `scripts/footprint/src/get.rs` does with evloop.
//!
//! Run with: `scripts/footprint.sh` (it builds both, stripped, and compares what each adds over a
//! plain hello world).

use std::process::ExitCode;

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: hyper-get URL");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let fetched = runtime.block_on(async {
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let response = client.get(url.parse()?).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok::<_, Error>((status, String::from_utf8_lossy(&body).into_owned()))
    });
    match fetched {
        Ok((status, text)) => {
            println!("{status} {} bytes", text.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("GET {url}: {e}");
            ExitCode::FAILURE
        }
    }
}

//! The one-GET footprint program: `evloop-get URL` fetches URL with evloop's HTTP client and
//! prints the status and the body's length, e.g. `200 25 bytes`.
//!
//! Run with: `scripts/footprint.sh` (it measures this program's stripped size against the same
//! GET on tokio + hyper, `scripts/footprint-hyper/`, and runs both against a local nginx).
//! It is what `aiohttp.ClientSession().get(url)` plus `await response.text()` is in Python;
//! a production client would add TLS, HTTP/2 and content decoding, which evloop's does not have.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: evloop-get URL");
        return ExitCode::from(2);
    };
    let fetched = evloop::run(async {
        let response = evloop::http::Client::new().get(&url).send().await?;
        let status = response.status();
        Ok::<_, evloop::http::Error>((status, response.text().await?))
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

//! fetch: a small curl on evloop's HTTP/1.1 client.
//!
//! Mirrors: "Python异步编程:掌握asyncio构建高性能应用" (Python asynchronous programming: mastering
//! asyncio to build high-performance applications), section "心智模型" (the mental model)
//! — seeds/001_3283da4f40090053.txt. Its `fetch_good`: `async with session.get(url) as
//! response:` on one `aiohttp.ClientSession`, here [`Client`]. The body is streamed chunk by
//! chunk and never held in memory whole, like `response.content.read(chunk_size)` in
//! the untitled article in seeds/002_2249a562833656a4.txt (its introduction,
//! "引言", opens "在现代Python开发中,异步编程已成为构建高性能应用的重要技术手段": in modern
//! Python development, async programming has become an important technique for building
//! high-performance applications), section "3.3 内存优化技巧" (memory optimization techniques).
//!
//! Run with: `cargo run --example fetch -- [-X METHOD] [-H 'Name: value']... [-d DATA]
//! [--timeout SECS] [-i] [-L] URL...` (try `python3 -m http.server --bind 127.0.0.1 8000`).
//!
//! What to look for:
//! 1. One `Client` for every URL, fetched in order: a server that keeps connections alive
//!    serves them all on one TCP connection, as curl does (`RUST_LOG=debug` shows the pool).
//! 2. Every failure is one line on stderr, `fetch: <url>: <error>`, and exit status 1; the
//!    client's errors already say what happened and what to try. Bad usage exits with 2.
//! 3. Without `-L` the client's `max_redirects` is 0, so the 3xx response itself should be the
//!    answer, as with curl. (Today the client fails with "gave up after 0 redirects" instead;
//!    fetch then says "use -L" and exits 1.) With `-L` the client follows up to 10 redirects
//!    inside `send`, so `-i` shows the last head only (curl shows every hop's).
//!
//! What production tools do differently: curl speaks TLS, HTTP/2 and 3, and decodes gzip; it
//! writes to stdout without blocking its event loop. Here a write to a full pipe blocks the
//! loop's only thread — harmless in a tool that does one request at a time, wrong in a server.

mod support;

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use evloop::http::{Client, ClientConfig, Error, Method, Response, Url, Version, validate_header};

const USAGE: &str = "usage: fetch [-X METHOD] [-H 'Name: value']... [-d DATA] [--timeout SECS] [-i] [-L] URL...";

const HELP: &str = "Fetches each URL in order, on one keep-alive client, and writes the bodies to stdout.

  -X METHOD       request method (default GET, or POST with -d)
  -H 'Name: val'  add a request header (repeatable)
  -d DATA         send DATA as the body (form-encoded unless -H sets Content-Type)
  --timeout SECS  total deadline per request, connecting and the whole body included
  -i              print the status line and headers before the body
  -L              follow redirects (up to 10)
  -h, --help      show this help

Exit status: 0 if every URL was fetched, 1 if any failed, 2 on bad usage.";

/// What the command line asked for.
#[derive(Debug, Default)]
struct Args {
    method: Option<Method>,
    headers: Vec<(String, String)>,
    data: Option<String>,
    timeout: Option<Duration>,
    include_head: bool,
    follow: bool,
    urls: Vec<String>,
}

/// Why the arguments were not accepted: a message for stderr, or a plain `--help`.
enum Usage {
    Help,
    Bad(String),
}

fn main() -> ExitCode {
    support::init_logger_on_stderr();
    let args = match parse_args(support::args()) {
        Ok(args) => args,
        Err(Usage::Help) => {
            println!("{USAGE}\n\n{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(Usage::Bad(message)) => {
            eprintln!("fetch: {message}\n{USAGE}\n(try `fetch --help`)");
            return ExitCode::from(2);
        }
    };
    let all_ok = support::run(fetch_all(args));
    if all_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Hand-rolled argument parsing: curl's short options take their value as the next argument.
fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Args, Usage> {
    let mut args = Args::default();
    while let Some(arg) = argv.next() {
        let mut value = |flag: &str| argv.next().ok_or_else(|| Usage::Bad(format!("{flag} needs a value")));
        match arg.as_str() {
            "-h" | "--help" => return Err(Usage::Help),
            "-i" | "--include" => args.include_head = true,
            "-L" | "--location" => args.follow = true,
            "-X" | "--request" => {
                let name = value("-X")?;
                // The library's own check (a method is a token), applied before anything runs.
                let method = Method::new(&name).map_err(|e| Usage::Bad(format!("-X {name:?}: {e}")))?;
                args.method = Some(method);
            }
            "-H" | "--header" => {
                let line = value("-H")?;
                let Some((name, val)) = line.split_once(':') else {
                    return Err(Usage::Bad(format!("-H {line:?}: expected 'Name: value'")));
                };
                let (name, val) = (name.to_string(), val.trim_start_matches([' ', '\t']).to_string());
                // `RequestBuilder::header` would refuse it at `send` too, once per URL; checking
                // here reports a CR or LF (a header-injection attempt) once, as bad usage.
                validate_header(&name, &val).map_err(|e| Usage::Bad(format!("-H {line:?}: {e}")))?;
                args.headers.push((name, val));
            }
            "-d" | "--data" => args.data = Some(value("-d")?),
            "--timeout" | "-m" | "--max-time" => {
                let text = value("--timeout")?;
                let secs: f64 = text
                    .parse()
                    .map_err(|_| Usage::Bad(format!("--timeout {text:?}: not a number")))?;
                if !(secs > 0.0 && secs.is_finite()) {
                    return Err(Usage::Bad(format!(
                        "--timeout {text:?}: must be a positive number of seconds"
                    )));
                }
                args.timeout = Some(Duration::from_secs_f64(secs));
            }
            // Clustered switches, as in `curl -iL`.
            flag if flag.len() > 2 && !flag.starts_with("--") && flag[1..].chars().all(|c| "iL".contains(c)) => {
                args.include_head |= flag.contains('i');
                args.follow |= flag.contains('L');
            }
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(Usage::Bad(format!("unknown option {flag:?}")));
            }
            _ => args.urls.push(arg),
        }
    }
    if args.urls.is_empty() {
        return Err(Usage::Bad("no URL given".to_string()));
    }
    Ok(args)
}

/// Fetches every URL in order on one client; true if all of them succeeded.
async fn fetch_all(args: Args) -> bool {
    let config = ClientConfig {
        // curl's default is not to follow; `-L` follows, curl's limit is 50, aiohttp's 10.
        max_redirects: if args.follow { 10 } else { 0 },
        ..ClientConfig::default()
    };
    // aiohttp's `async with ClientSession() as session:` — one pool shared by every request.
    let client = Client::with_config(config);
    let mut all_ok = true;
    for url in &args.urls {
        if let Err(error) = fetch_one(&client, &args, url).await {
            // Errors never repeat a URL (it may hold a password); we print it with the
            // password masked by `Url`'s `Display`, or as typed if it does not even parse.
            let shown = Url::parse(url).map_or_else(|_| url.clone(), |u| u.to_string());
            eprintln!("fetch: {shown}: {error}");
            all_ok = false;
        }
        log::debug!("idle connections kept for the next URL: {}", client.idle_connections());
    }
    all_ok
}

/// Why one URL failed: the client's error, stdout refusing the bytes, or a redirect we were
/// not asked to follow.
enum Failure {
    Http(Error),
    Stdout(io::Error),
    RedirectNotFollowed,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Http(e) => write!(f, "{e}"),
            Failure::Stdout(e) => write!(f, "writing to stdout failed: {e}"),
            Failure::RedirectNotFollowed => f.write_str("the server answered with a redirect; use -L to follow it"),
        }
    }
}

/// Sends one request and streams its response to stdout.
async fn fetch_one(client: &Client, args: &Args, url: &str) -> Result<(), Failure> {
    // curl's rule: -d without -X means POST.
    let method = match (&args.method, &args.data) {
        (Some(method), _) => method.clone(),
        (None, Some(_)) => Method::POST,
        (None, None) => Method::GET,
    };
    let mut request = client.request(method, url);
    for (name, value) in &args.headers {
        request = request.header(name, value);
    }
    if let Some(data) = &args.data {
        if !args
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        {
            request = request.header("Content-Type", "application/x-www-form-urlencoded");
        }
        request = request.body(data.as_bytes());
    }
    if let Some(total) = args.timeout {
        request = request.timeout(Some(total));
    }
    let mut response = match request.send().await {
        Ok(response) => response,
        // With `max_redirects: 0` the client should hand back the 3xx itself (curl without -L
        // prints it and succeeds). Today it fails with "gave up after 0 redirects, the server
        // may be redirecting in a loop", and the response is gone; say what really happened.
        Err(Error::TooManyRedirects { limit: 0 }) if !args.follow => return Err(Failure::RedirectNotFollowed),
        Err(error) => return Err(Failure::Http(error)),
    };
    // A 404 or 500 is still an answer: like curl (without --fail) we print it and succeed.
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if args.include_head {
        write_head(&mut out, &response).map_err(Failure::Stdout)?;
    }
    // Stream: each piece goes out as it arrives, so a 5 GB download needs no 5 GB of memory.
    while let Some(piece) = response.chunk().await.map_err(Failure::Http)? {
        out.write_all(&piece).map_err(Failure::Stdout)?;
    }
    out.flush().map_err(Failure::Stdout)
}

/// The status line and headers, as curl -i prints them (CRLF line ends, then a blank line).
fn write_head(out: &mut impl Write, response: &Response) -> io::Result<()> {
    let version = match response.version() {
        Version::Http10 => "HTTP/1.0",
        Version::Http11 => "HTTP/1.1",
    };
    write!(out, "{version} {} {}\r\n", response.status(), response.reason())?;
    for (name, value) in response.headers() {
        write!(out, "{name}: {value}\r\n")?;
    }
    out.write_all(b"\r\n")
}

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
//! [--data-urlencode NAME=VALUE]... [--compressed] [-b COOKIES|FILE] [-c FILE] [-x PROXY]
//! [--timeout SECS] [-i] [-L] URL...` (try `python3 -m http.server --bind 127.0.0.1 8000`;
//! `--compressed` needs `--features gzip`). For `https://` URLs add `--features tls` (after
//! `--example fetch`), and `--cacert FILE` to trust a private CA as curl does (here in addition
//! to the bundled roots).
//!
//! What to look for:
//! 1. One `Client` for every URL, fetched in order: a server that keeps connections alive
//!    serves them all on one TCP connection, as curl does (`RUST_LOG=debug` shows the pool).
//! 2. Every failure is one line on stderr, `fetch: <url>: <error>`, and exit status 1; the
//!    client's errors already say what happened and what to try. Bad usage exits with 2.
//! 3. Without `-L` the client's `max_redirects` is 0, so `send` hands back the 3xx response
//!    itself: fetch prints it (with `-i`, its `Location`) and succeeds, as curl does. With `-L`
//!    the client follows up to 10 redirects inside `send`, so `-i` shows the last head only
//!    (curl shows every hop's).
//! 4. `--compressed` sends `Accept-Encoding: gzip, deflate` and prints the body decoded; without
//!    it the body arrives exactly as sent. `--data-urlencode` pairs become a form body through
//!    `RequestBuilder::form`, the same encoder as query strings.
//! 5. Cookies (aiohttp's session jar): every URL shares the client's `CookieJar`, so a cookie
//!    the first URL sets goes to the second. `-b 'a=1; b=2'` adds a `Cookie` header, `-b FILE`
//!    loads a jar and `-c FILE` saves it at the end, both in the Netscape cookie file format
//!    curl uses (one tab-separated line per cookie). Unlike curl, whose cookie engine is off
//!    unless `-b` or `-c` turns it on, evloop's client keeps cookies by default, as aiohttp's does.
//!
//! What production tools do differently: curl speaks TLS, HTTP/2 and 3, and decodes brotli and
//! zstd too; it writes to stdout without blocking its event loop. Here a write to a full pipe blocks the
//! loop's only thread — harmless in a tool that does one request at a time, wrong in a server.

mod support;

use std::io::{self, Write};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use evloop::http::{
    Client, ClientConfig, Cookie, CookieJar, Error, Method, Proxy, Response, Url, Version, validate_header,
};

const USAGE: &str = "usage: fetch [-X METHOD] [-H 'Name: value']... [-d DATA] [--data-urlencode NAME=VALUE]... \
                     [--compressed] [-b COOKIES|FILE] [-c FILE] [-x PROXY] [--cacert FILE] [--timeout SECS] [-i] [-L] URL...";

const HELP: &str = "Fetches each URL in order, on one keep-alive client, and writes the bodies to stdout.

  -X METHOD       request method (default GET, or POST with -d)
  -H 'Name: val'  add a request header (repeatable)
  -d, --data DATA send DATA as the body (labelled form-encoded unless -H sets Content-Type)
  --data-urlencode NAME=VALUE
                  add a pair to a form body, percent-encoded (repeatable; not with -d)
  --compressed    ask for gzip or deflate and print the body decoded (needs --features gzip)
  -b, --cookie 'a=1; b=2' | FILE
                  send these cookies, or load a Netscape-format cookie file into the jar
  -c, --cookie-jar FILE
                  write every cookie of the jar to FILE at the end (Netscape format)
  -x, --proxy URL use this http:// proxy (http://[user:pass@]host:port); https:// URLs go
                  through it in a CONNECT tunnel (with --features tls)
  --timeout SECS  total deadline per request, connecting and the whole body included
  -i              print the status line and headers before the body
  -L              follow redirects (up to 10)
  --cacert FILE   also trust the CA certificate(s) in FILE (PEM or DER) for https://
  -h, --help      show this help

Exit status: 0 if every URL was fetched, 1 if any failed, 2 on bad usage.";

/// What the command line asked for.
#[derive(Debug, Default)]
struct Args {
    method: Option<Method>,
    headers: Vec<(String, String)>,
    data: Option<String>,
    /// `--data-urlencode` pairs, sent as one form body.
    form: Vec<(String, String)>,
    compressed: bool,
    timeout: Option<Duration>,
    include_head: bool,
    follow: bool,
    cacert: Option<String>,
    /// `-b name=value…`: sent as a `Cookie` header.
    cookie_header: Option<String>,
    /// `-b FILE`: a cookie file to load into the jar first.
    cookie_file: Option<String>,
    /// `-c FILE`: where to save the jar at the end.
    cookie_jar: Option<String>,
    proxy: Option<Proxy>,
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
            "--cacert" => args.cacert = Some(value("--cacert")?),
            // curl's rule: with an `=` it is cookie data, otherwise a file name.
            "-b" | "--cookie" => match value("-b")? {
                data if data.contains('=') => args.cookie_header = Some(data),
                file => args.cookie_file = Some(file),
            },
            "-c" | "--cookie-jar" => args.cookie_jar = Some(value("-c")?),
            "-x" | "--proxy" => {
                let text = value("-x")?;
                let url = if text.contains("://") {
                    text.clone()
                } else {
                    format!("http://{text}")
                };
                let proxy = Proxy::new(&url).map_err(|e| Usage::Bad(format!("-x {text:?}: {e}")))?;
                args.proxy = Some(proxy);
            }
            "--data-urlencode" => {
                let pair = value("--data-urlencode")?;
                // curl's rule: `name=value`, or just `value` (a pair with an empty name).
                let (name, val) = pair.split_once('=').unwrap_or(("", &pair));
                args.form.push((name.to_string(), val.to_string()));
            }
            "--compressed" if cfg!(feature = "gzip") => args.compressed = true,
            "--compressed" => {
                return Err(Usage::Bad(
                    "--compressed needs the gzip feature: cargo run --features gzip --example fetch".to_string(),
                ));
            }
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
    if args.data.is_some() && !args.form.is_empty() {
        return Err(Usage::Bad("-d and --data-urlencode cannot be mixed here".to_string()));
    }
    Ok(args)
}

/// Fetches every URL in order on one client; true if all of them succeeded.
async fn fetch_all(args: Args) -> bool {
    let jar = Rc::new(CookieJar::new());
    if let Some(path) = &args.cookie_file {
        match std::fs::read_to_string(path) {
            Ok(text) => netscape::load(&jar, &text),
            // curl too goes on without the cookies when the file cannot be read.
            Err(e) => eprintln!("fetch: -b {path}: {e} (going on without those cookies)"),
        }
    }
    #[allow(unused_mut)] // without the tls feature, --cacert only fails
    let mut config = ClientConfig {
        // curl's default is not to follow; `-L` follows, curl's limit is 50, aiohttp's 10.
        max_redirects: if args.follow { 10 } else { 0 },
        cookies: Some(jar.clone()),
        proxy: args.proxy.clone(),
        // curl sends no Accept-Encoding unless told to; neither does fetch.
        #[cfg(feature = "gzip")]
        decompress: args.compressed,
        ..ClientConfig::default()
    };
    if let Some(path) = &args.cacert {
        #[cfg(feature = "tls")]
        let added = config.tls.add_root_file(path).map(drop).map_err(|e| e.to_string());
        #[cfg(not(feature = "tls"))]
        let added: Result<(), String> = Err("https needs evloop's `tls` feature (cargo run --features tls ...)".into());
        if let Err(error) = added {
            eprintln!("fetch: --cacert {path}: {error}");
            return false;
        }
    }
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
    if let Some(path) = &args.cookie_jar
        && let Err(e) = std::fs::write(path, netscape::save(&jar))
    {
        eprintln!("fetch: -c {path}: {e}");
        all_ok = false;
    }
    all_ok
}

/// Why one URL failed: the client's error, or stdout refusing the bytes.
enum Failure {
    Http(Error),
    Stdout(io::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Http(e) => write!(f, "{e}"),
            Failure::Stdout(e) => write!(f, "writing to stdout failed: {e}"),
        }
    }
}

/// Sends one request and streams its response to stdout.
async fn fetch_one(client: &Client, args: &Args, url: &str) -> Result<(), Failure> {
    // curl's rule: -d (or --data-urlencode) without -X means POST.
    let method = match &args.method {
        Some(method) => method.clone(),
        None if args.data.is_some() || !args.form.is_empty() => Method::POST,
        None => Method::GET,
    };
    let mut request = client.request(method, url);
    for (name, value) in &args.headers {
        request = request.header(name, value);
    }
    if let Some(cookies) = &args.cookie_header {
        request = request.header("Cookie", cookies);
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
    if !args.form.is_empty() {
        let pairs: Vec<(&str, &str)> = args.form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        request = request.form(&pairs);
    }
    if let Some(total) = args.timeout {
        request = request.timeout(Some(total));
    }
    // Without -L a 3xx comes back as the answer (`max_redirects: 0`): printed like any other.
    // With -L, a redirect chain past 10 hops is `Error::TooManyRedirects`, reported below.
    let mut response = request.send().await.map_err(Failure::Http)?;
    // A 3xx, a 404 or a 500 is still an answer: like curl (without --fail) we print it and
    // succeed.
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

/// The Netscape cookie file format (curl's `-b FILE`/`-c FILE`): one cookie per line, seven
/// tab-separated fields — domain, "include subdomains", path, secure, expiry (Unix seconds,
/// 0 for a session cookie), name, value — with `#HttpOnly_` before the domain of an HttpOnly
/// cookie and `#` starting a comment.
mod netscape {
    use super::*;

    /// Every cookie of the jar, one line each, under curl's header comment.
    pub fn save(jar: &CookieJar) -> String {
        let mut out = String::from("# Netscape HTTP Cookie File\n# Written by evloop's fetch example.\n\n");
        let flag = |b: bool| if b { "TRUE" } else { "FALSE" };
        for c in jar.cookies() {
            let expires = c
                .expires
                .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            // A domain cookie is written with a leading dot, as curl does.
            let domain = if c.host_only {
                c.domain.clone()
            } else {
                format!(".{}", c.domain)
            };
            let prefix = if c.http_only { "#HttpOnly_" } else { "" };
            let (subdomains, secure) = (flag(!c.host_only), flag(c.secure));
            out.push_str(&format!(
                "{prefix}{domain}\t{subdomains}\t{}\t{secure}\t{expires}\t{}\t{}\n",
                c.path, c.name, c.value
            ));
        }
        out
    }

    /// Puts every well-formed line of `text` into the jar; other lines are skipped.
    pub fn load(jar: &CookieJar, text: &str) {
        for line in text.lines() {
            let (http_only, line) = match line.strip_prefix("#HttpOnly_") {
                Some(rest) => (true, rest),
                None if line.starts_with('#') => continue,
                None => (false, line),
            };
            let fields: Vec<&str> = line.split('\t').collect();
            let [domain, subdomains, path, secure, expires, name, value] = fields[..] else {
                continue;
            };
            let expires = match expires.parse::<u64>() {
                Ok(0) => None,
                Ok(secs) => Some(UNIX_EPOCH + Duration::from_secs(secs)),
                Err(_) => continue,
            };
            jar.insert(Cookie {
                name: name.to_string(),
                value: value.to_string(),
                domain: domain.trim_start_matches('.').to_ascii_lowercase(),
                path: path.to_string(),
                expires,
                secure: secure == "TRUE",
                http_only,
                host_only: subdomains != "TRUE",
                same_site: None,
            });
        }
    }
}

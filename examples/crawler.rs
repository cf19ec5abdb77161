//! crawler: the articles' async crawler — 1000 pages, a global and a per-host limit, timeouts,
//! and retries with backoff — against a misbehaving server it runs itself, on the same loop.
//!
//! Mirrors the case study in article 000 (section 6, `AsyncCrawler`) and the retry decorators
//! of 001 and 002. The asyncio/aiohttp pieces and what plays their part here:
//!
//! | article (Python)                                   | here                                         |
//! |----------------------------------------------------|----------------------------------------------|
//! | `aiohttp.ClientSession`                            | [`Client`] (one, shared by every page)       |
//! | `TCPConnector(limit=…, limit_per_host=10)`         | [`ClientConfig`] `limit`, `limit_per_host`   |
//! | `ClientTimeout(total=…)`, `asyncio.timeout`        | `ClientConfig::total_timeout`                |
//! | the retry loop / `@retry` decorator with backoff   | [`with_retry`] and a [`RetryPolicy`]         |
//! | `asyncio.Semaphore(concurrency)`                   | [`Semaphore`], taken before the request      |
//! | `asyncio.gather(*tasks, return_exceptions=True)`   | [`evloop::gather_all`]: one task per page    |
//!
//! Run with: `cargo run --example crawler [-- --virtual] [--pages N]`
//!
//! What to look for:
//! 1. Two limits, both visible in the server's own count of requests in flight: host 0 holds
//!    half the pages and is capped at 10 at a time (politeness), the crawl as a whole at 30.
//! 2. Why a semaphore in front of a client that already has a limit: the total timeout counts
//!    the wait for a pool slot, as aiohttp's `ClientTimeout.total` does. A thousand requests
//!    started at once would spend their 500 ms queueing and fail with "no pooled connection
//!    became free". The article takes its semaphore *before* starting `asyncio.timeout` for
//!    the same reason; so do we, once per attempt, so a page sleeping off its backoff holds no
//!    slot. (Waiting for host 0's per-host slot still counts; that wait is short.)
//! 3. Failures that go away (a 500, a connection cut mid-body, a cold page slower than the
//!    timeout) are retried and end up "ok"; pages broken every time fail after 3 attempts.
//! 4. Keep-alive: each host sees far fewer connections than requests.
//!
//! What production crawlers do differently: a frontier with a queue per host (Scrapy's
//! download slots), so a slow host cannot hold the global slots hostage; robots.txt, rate
//! limits in requests per second rather than in flight, TLS, and discovering links rather than
//! being handed a list.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use evloop::http::{Client, ClientConfig, Error, RetryPolicy, TimeoutKind, with_retry};
use evloop::net::{TcpListener, TcpStream};
use evloop::sync::Semaphore;
use evloop::time::{now, sleep};
use evloop::{Either, Runtime, select};

const LIMIT: usize = 30;
const LIMIT_PER_HOST: usize = 10;
const TIMEOUT: Duration = Duration::from_millis(500);
const ATTEMPTS: u32 = 3;
/// Which host serves page `i`: `HOST_OF[i % 6]`. Host 0, a big site, gets half the pages.
const HOST_OF: [usize; 6] = [0, 1, 0, 2, 0, 3];
const HOSTS: usize = 4;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .format_timestamp(None)
        .init();
    let (mut virtual_clock, mut pages) = (false, 1000);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--virtual" => virtual_clock = true,
            "--pages" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => pages = n,
                None => return usage("--pages needs a number"),
            },
            "-h" | "--help" => {
                println!("usage: crawler [--virtual] [--pages N]");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    let builder = if virtual_clock { Runtime::builder().virtual_clock() } else { Runtime::builder() };
    let runtime = builder.build().expect("the OS should let us create an epoll instance");
    runtime.block_on(crawl(pages, virtual_clock));
    ExitCode::SUCCESS
}

fn usage(message: &str) -> ExitCode {
    eprintln!("crawler: {message}\nusage: crawler [--virtual] [--pages N]");
    ExitCode::from(2)
}

// ---------------------------------------------------------------------------------------------
// The server: hand-written HTTP/1.1 keep-alive on `TcpListener`, one listener per "host".
// ---------------------------------------------------------------------------------------------

/// xorshift64 (Marsaglia, 2003): three shifts and xors, plenty for deciding a page's fate.
struct XorShift(u64);

impl XorShift {
    /// Seeded from the page number alone, so a page behaves the same whatever order requests
    /// arrive in: the runs differ only where the loop's timing does.
    fn for_page(page: u32) -> XorShift {
        XorShift((u64::from(page) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % n
    }
}

/// How a page misbehaves, by hit number: its `n`-th request gets `respond(n)`.
#[derive(Clone, Copy)]
enum Kind {
    Normal,
    Flaky,      // 3.0 %: 500 on the first hit, fine after
    Broken,     // 1.0 %: 500 every time
    Cut,        // 3.0 %: the first response stops halfway and the connection is dropped
    SlowOnce,   // 2.0 %: the first hit takes 2 s (a cold cache), longer than the timeout
    AlwaysSlow, // 0.5 %: 2 s every time
}

/// What the server does for one request: wait `delay`, then answer `status`, or cut it short.
struct Plan {
    delay: Duration,
    status: &'static str,
    cut: bool,
    size: usize,
}

fn plan(page: u32, hit: u32) -> Plan {
    let mut rng = XorShift::for_page(page);
    let kind = match rng.below(1000) {
        0..30 => Kind::Flaky,
        30..40 => Kind::Broken,
        40..70 => Kind::Cut,
        70..90 => Kind::SlowOnce,
        90..95 => Kind::AlwaysSlow,
        _ => Kind::Normal,
    };
    // 1–20 ms usually; one page in ten takes 50–200 ms (still within the timeout).
    let mut delay = Duration::from_millis(if rng.below(10) == 0 { 50 + rng.below(150) } else { 1 + rng.below(20) });
    let first = hit == 0;
    if matches!(kind, Kind::AlwaysSlow) || matches!(kind, Kind::SlowOnce) && first {
        delay = Duration::from_secs(2);
    }
    let fail = matches!(kind, Kind::Broken) || matches!(kind, Kind::Flaky) && first;
    Plan {
        delay,
        status: if fail { "500 Internal Server Error" } else { "200 OK" },
        cut: matches!(kind, Kind::Cut) && first,
        size: 512 + rng.below(8 * 1024) as usize,
    }
}

/// What the server counts, per host: requests, connections, and requests in flight.
#[derive(Default)]
struct ServerStats {
    hits: RefCell<HashMap<u32, u32>>,
    requests: [Cell<usize>; HOSTS],
    connections: [Cell<usize>; HOSTS],
    in_flight: [Cell<usize>; HOSTS + 1], // the last one: all hosts together
    peak: [Cell<usize>; HOSTS + 1],
}

/// Counts one request as in flight at `host` (and overall) for as long as it lives; its `Drop`
/// runs whether the response was written, cut, or abandoned.
struct Busy(Rc<ServerStats>, usize);

impl Busy {
    fn enter(stats: &Rc<ServerStats>, host: usize) -> Busy {
        for i in [host, HOSTS] {
            let n = stats.in_flight[i].get() + 1;
            stats.in_flight[i].set(n);
            stats.peak[i].set(stats.peak[i].get().max(n));
        }
        Busy(stats.clone(), host)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        for i in [self.1, HOSTS] {
            self.0.in_flight[i].set(self.0.in_flight[i].get() - 1);
        }
    }
}

/// asyncio's `start_server` callback loop: accept, and hand each connection to its own task.
async fn serve(listener: TcpListener, host: usize, stats: Rc<ServerStats>) {
    loop {
        if let Ok((stream, _)) = listener.accept().await {
            stats.connections[host].set(stats.connections[host].get() + 1);
            drop(evloop::spawn(connection(stream, host, stats.clone()))); // detached
        }
    }
}

/// One keep-alive connection: request after request until the client hangs up.
async fn connection(stream: TcpStream, host: usize, stats: Rc<ServerStats>) {
    let mut buf = Vec::new();
    while let Some(path) = read_request(&stream, &mut buf).await {
        let _busy = Busy::enter(&stats, host);
        stats.requests[host].set(stats.requests[host].get() + 1);
        let Some(page) = path.strip_prefix("/page/").and_then(|n| n.parse::<u32>().ok()) else {
            let reply = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            if stream.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
            continue;
        };
        let hit = *stats.hits.borrow_mut().entry(page).and_modify(|h| *h += 1).or_default();
        let plan = plan(page, hit);
        if plan.delay > Duration::from_secs(1) || plan.status != "200 OK" || plan.cut { eprintln!("DBG page {page} hit {hit} delay {:?} {} cut {}", plan.delay, plan.status, plan.cut); }
        // "Work" for `delay`, but stop if the client hangs up meanwhile (it timed out): its
        // limits no longer count this request, so neither should our in-flight gauge. Our
        // client never pipelines, so a read that returns anything here means it is gone.
        if let Either::Right(_) = select(sleep(plan.delay), stream.read(&mut [0u8; 1])).await {
            return;
        }
        let body = format!("<html><title>page {page}</title>{}</html>", "x".repeat(plan.size));
        let mut reply = format!("HTTP/1.1 {}\r\nContent-Length: {}\r\n\r\n", plan.status, body.len()).into_bytes();
        reply.extend_from_slice(body.as_bytes());
        if plan.cut {
            // Promise the whole body, send half, hang up: the client must not take it for a page.
            reply.truncate(reply.len() - body.len() / 2);
        }
        if stream.write_all(&reply).await.is_err() || plan.cut {
            return;
        }
    }
}

/// Reads one request head; returns its path. Headers are ignored: our client sends no body.
async fn read_request(stream: &TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return head.split(' ').nth(1).map(str::to_string); // "GET /page/7 HTTP/1.1"
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(n) if n > 0 && buf.len() < 64 * 1024 => buf.extend_from_slice(&chunk[..n]),
            _ => return None, // closed, failed, or a head without end
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The crawler.
// ---------------------------------------------------------------------------------------------

/// What the crawl has seen so far.
#[derive(Default)]
struct Tally {
    done: Cell<usize>,
    ok: Cell<usize>,
    bytes: Cell<usize>,
    attempts: Cell<usize>,
    failed: RefCell<BTreeMap<String, usize>>,
    last_progress: Cell<Option<Instant>>,
}

/// One page: up to `ATTEMPTS` attempts, each admitted by the semaphore, then timed.
async fn fetch_page(client: Client, admission: Semaphore, url: String, tally: Rc<Tally>) -> Result<Vec<u8>, Error> {
    let policy = RetryPolicy {
        max_attempts: ATTEMPTS,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        ..RetryPolicy::default()
    };
    with_retry(policy, |_attempt| {
        let (client, admission, url, tally) = (client.clone(), admission.clone(), url.clone(), tally.clone());
        async move {
            let _permit = admission.acquire().await.expect("nobody closes the admission semaphore");
            tally.attempts.set(tally.attempts.get() + 1);
            // A 500 becomes an error here, so `with_retry` sees it (and retries it).
            client.get(&url).send().await?.error_for_status()?.bytes().await
        }
    })
    .await
}

/// Why a page failed, in words for the summary.
fn reason(error: &Error) -> String {
    match error {
        Error::Status(code) => format!("HTTP {code} on every attempt"),
        Error::Timeout(TimeoutKind::Total) => format!("slower than the {} ms timeout", TIMEOUT.as_millis()),
        Error::Truncated { .. } => "connection dropped mid-response".to_string(),
        other => other.to_string(),
    }
}

fn record(tally: &Tally, result: &Result<Vec<u8>, Error>, total: usize, start: Instant) {
    tally.done.set(tally.done.get() + 1);
    match result {
        Ok(body) => {
            tally.ok.set(tally.ok.get() + 1);
            tally.bytes.set(tally.bytes.get() + body.len());
        }
        Err(error) if { eprintln!("DBG fail {error} at {:?}", now() - start); true } => *tally.failed.borrow_mut().entry(reason(error)).or_default() += 1,
    }
    // A terminal gets one line, redrawn at most every 100 ms; a pipe or file a line per 25 %.
    let done = tally.done.get();
    let terminal = std::io::stdout().is_terminal();
    let due = if terminal {
        tally.last_progress.get().is_none_or(|t| now() - t >= Duration::from_millis(100))
    } else {
        done % total.div_ceil(4) == 0
    };
    if due || done == total {
        tally.last_progress.set(Some(now()));
        let failed: usize = tally.failed.borrow().values().sum();
        let line = format!(
            "  {done:>5}/{total} pages   ok {}   failed {failed}   retries {}   {:.1} s",
            tally.ok.get(),
            tally.attempts.get() - done.min(tally.attempts.get()),
            (now() - start).as_secs_f64()
        );
        let mut out = std::io::stdout().lock();
        let _ = if terminal { write!(out, "\r{line}") } else { writeln!(out, "{line}") };
        let _ = out.flush();
    }
}

async fn crawl(pages: usize, virtual_clock: bool) {
    let stats = Rc::new(ServerStats::default());
    let mut ports = Vec::new();
    for host in 0..HOSTS {
        let listener = TcpListener::bind(([127, 0, 0, 1], 0).into()).expect("binding 127.0.0.1:0 should work");
        ports.push(listener.local_addr().expect("a bound listener has an address").port());
        drop(evloop::spawn(serve(listener, host, stats.clone())));
    }
    println!("server: {HOSTS} hosts on 127.0.0.1, ports {ports:?}; host 0 serves half the pages");
    println!("client: limit {LIMIT}, limit_per_host {LIMIT_PER_HOST}, total timeout {} ms, {ATTEMPTS} attempts per page, backoff 100 ms doubling, jittered", TIMEOUT.as_millis());

    let client = Client::with_config(ClientConfig {
        limit: LIMIT,
        limit_per_host: LIMIT_PER_HOST,
        total_timeout: Some(TIMEOUT),
        ..ClientConfig::default()
    });
    let admission = Semaphore::new(LIMIT);
    let tally = Rc::new(Tally::default());
    let start = now();
    let tasks = (0..pages).map(|i| {
        let url = format!("http://127.0.0.1:{}/page/{i}", ports[HOST_OF[i % HOST_OF.len()]]);
        let (client, admission, tally) = (client.clone(), admission.clone(), tally.clone());
        async move {
            let result = fetch_page(client, admission, url, tally.clone()).await;
            record(&tally, &result, pages, start);
        }
    });
    for outcome in evloop::gather_all(tasks).await {
        outcome.expect("a page task neither panics nor is cancelled");
    }
    let elapsed = now() - start;
    if std::io::stdout().is_terminal() {
        println!();
    }

    println!("summary:");
    let failed: usize = tally.failed.borrow().values().sum();
    println!("  ok      {:>5} pages, {} KiB", tally.ok.get(), tally.bytes.get() / 1024);
    println!("  failed  {failed:>5} pages");
    for (why, n) in tally.failed.borrow().iter() {
        println!("          {n:>5}  {why}");
    }
    println!("  retries {:>5} ({} attempts for {pages} pages)", tally.attempts.get() - pages, tally.attempts.get());
    println!("  at the server       requests  connections  most in flight at once");
    for host in 0..=HOSTS {
        let (name, limit) = if host < HOSTS { (format!("host {host}"), LIMIT_PER_HOST) } else { ("all".into(), LIMIT) };
        let sum = |c: &[Cell<usize>; HOSTS]| if host < HOSTS { c[host].get() } else { c.iter().map(Cell::get).sum() };
        println!(
            "    {name:<10} {:>13} {:>12} {:>9}  (limit {limit})",
            sum(&stats.requests),
            sum(&stats.connections),
            stats.peak[host].get()
        );
    }
    if virtual_clock {
        // with_retry's jitter comes from an RNG seeded by the system clock, so the simulated
        // time differs by a few ms between runs; everything above is the same every run.
        println!("  elapsed: not shown on the virtual clock (retry jitter makes it vary by a few ms)");
    } else {
        let secs = elapsed.as_secs_f64();
        println!("  elapsed {secs:.2} s, {:.0} pages/s", pages as f64 / secs);
    }
}

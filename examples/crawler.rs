//! crawler: the article's async crawler — 1000 pages, a global and a per-host limit, timeouts
//! and retries with backoff — against a misbehaving server that runs on the same loop.
//!
//! Mirrors: "深入理解 Python 异步编程(下)" (Understanding Python asynchronous programming in
//! depth, part 3 of 3), section "六、综合案例:异步爬虫系统" (6, case study: an asynchronous
//! crawler), its `AsyncCrawler` in "6.2 实现方案" (the implementation)
//! — seeds/000_8e7512ba363f68fc.txt. The retries follow `with_retry` in
//! "Python异步编程:掌握asyncio构建高性能应用" (Python asynchronous programming: mastering asyncio
//! to build high-performance applications), section "带重试的错误处理" (error handling with
//! retries) — seeds/001_3283da4f40090053.txt, and `fetch_with_retry` in the untitled article in
//! seeds/002_2249a562833656a4.txt (its introduction, "引言", opens
//! "在现代Python开发中,异步编程已成为构建高性能应用的重要技术手段": in modern Python development,
//! async programming has become an important technique for building high-performance
//! applications), section "3.2 异步资源管理" (asynchronous resource management).
//! What plays each asyncio/aiohttp part:
//!
//! | article (Python)                                   | here                                       |
//! |----------------------------------------------------|--------------------------------------------|
//! | `aiohttp.ClientSession`                            | [`Client`], one, shared by every page      |
//! | `TCPConnector(limit=…, limit_per_host=10)`         | [`ClientConfig`] `limit`, `limit_per_host` |
//! | `ClientTimeout(total=…)`, `asyncio.timeout(…)`     | `ClientConfig::total_timeout`              |
//! | the retry loop, `with_retry(coro_fn)` with backoff | [`with_retry`] and a [`RetryPolicy`]       |
//! | `asyncio.Semaphore(concurrency)`                   | [`Semaphore`], taken before each attempt   |
//! | `asyncio.gather(*tasks, return_exceptions=True)`   | [`evloop::gather_all`], a task per page    |
//!
//! Run with: `cargo run --example crawler [-- --virtual] [--pages N]`
//!
//! Or crawl a real site instead of the built-in one: `--url BASE` fetches `BASE/page/0` …
//! `BASE/page/N-1` with the same limits, timeouts and retries, and `https://` works with
//! `--features tls` (`--cacert FILE` trusts a private CA, as curl's flag does). CI crawls a
//! local nginx over TLS that way (`scripts/tls_peer.sh`).
//!
//! What to look for:
//! 1. Both limits, counted by the server: host 0 (half the pages) never has more than 10
//!    requests in flight, all hosts together never more than 30.
//! 2. Why a semaphore in front of a client that has limits: the total timeout counts the wait
//!    for a pool slot (as aiohttp's `ClientTimeout.total` does), so 1000 requests sent at once
//!    would spend their 500 ms queueing. The article enters its semaphore before
//!    `asyncio.timeout` for this reason; we let 40 attempts run their clock at a time (30 on the
//!    wire, 10 queued at the pool). A retry queues again at the back, FIFO, so the last
//!    failures come in at the very end.
//! 3. A 500 that goes away, a body cut short, a page slow only once: retried, and ok in the
//!    end. Pages that fail every time give up after 3 attempts. The server sees far fewer
//!    connections than requests (keep-alive); each failed response costs one.
//! 4. `--virtual`: the same crawl in a tenth of a second, since every sleep is a clock jump.
//!    The summary repeats exactly; the timing lines do not quite, as `with_retry` draws its
//!    jitter from an RNG seeded by the system clock, which nothing here can seed.
//!
//! What production crawlers do differently: a queue per host (Scrapy's download slots), so a
//! busy host cannot fill the global slots; robots.txt; rate limits in requests per second;
//! TLS; and discovering links instead of being handed a list.

mod support;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use evloop::http::{Client, ClientConfig, Error, RetryPolicy, TimeoutKind, with_retry};
use evloop::net::{TcpListener, TcpStream};
use evloop::sync::Semaphore;
use evloop::time::{now, sleep};
use evloop::{Either, select};

const LIMIT: usize = 30;
const LIMIT_PER_HOST: usize = 10;
/// Attempts whose clock may run at once: the limit, plus a short queue at the pool.
const STARTED: usize = LIMIT + LIMIT_PER_HOST;
const TIMEOUT: Duration = Duration::from_millis(500);
const ATTEMPTS: u32 = 3;
const HOSTS: usize = 4;
/// Page `i` lives on host `HOST_OF[i % 6]`: host 0, a big site, has half the pages.
const HOST_OF: [usize; 6] = [0, 1, 0, 2, 0, 3];

fn main() {
    support::init_logger_on_stderr();
    let (mut virtual_clock, mut pages) = (false, 1000);
    let (mut base, mut cacert) = (None, None);
    let mut args = support::args();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--virtual" => virtual_clock = true,
            "--pages" => pages = args.next().and_then(|n| n.parse().ok()).unwrap_or(0),
            "--url" => base = Some(args.next().unwrap_or_else(|| usage())),
            "--cacert" => cacert = Some(args.next().unwrap_or_else(|| usage())),
            _ => usage(),
        }
    }
    if pages == 0 || (virtual_clock && base.is_some()) {
        usage(); // a real site answers in real time: a virtual clock would time every page out
    }
    let config = client_config(cacert.as_deref());
    let runtime = support::runtime(virtual_clock);
    match base {
        Some(base) => runtime.block_on(crawl_site(base, pages, config)),
        None => runtime.block_on(crawl(pages, virtual_clock, config)),
    }
}

fn usage() -> ! {
    eprintln!("usage: crawler [--virtual] [--pages N] | crawler --url BASE [--cacert FILE] [--pages N]");
    std::process::exit(2)
}

/// The article's client settings, trusting `cacert` too if given.
fn client_config(cacert: Option<&str>) -> ClientConfig {
    #[allow(unused_mut)] // without the tls feature there is nothing to add
    let mut config = ClientConfig {
        limit: LIMIT,
        limit_per_host: LIMIT_PER_HOST,
        total_timeout: Some(TIMEOUT),
        ..ClientConfig::default()
    };
    if let Some(path) = cacert {
        #[cfg(feature = "tls")]
        if let Err(error) = config.tls.add_root_file(path) {
            eprintln!("crawler: --cacert {path}: {error}");
            std::process::exit(2);
        }
        #[cfg(not(feature = "tls"))]
        {
            eprintln!("crawler: --cacert {path}: https needs evloop's `tls` feature (cargo run --features tls ...)");
            std::process::exit(2);
        }
    }
    config
}

// ---- The server: HTTP/1.1 keep-alive by hand on `TcpListener`, one listener per "host". ----

/// xorshift64 (Marsaglia, 2003): the next number of the sequence in `state`, in `0..n`.
fn xorshift(state: &mut u64, n: u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state % n
}

/// What the server does with request number `hit` (0 = first) for `page`.
struct Plan {
    delay: Duration,
    status: &'static str,
    /// Send half the promised body, then hang up.
    cut: bool,
    size: usize,
}

/// Seeded from the page number alone, so a page misbehaves the same way whatever order the
/// requests arrive in.
fn plan(page: u32, hit: u32) -> Plan {
    let mut rng = (u64::from(page) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    xorshift(&mut rng, 1); // nearby seeds give correlated first outputs: skip one
    let (roll, first) = (xorshift(&mut rng, 1000), hit == 0);
    // Per mille:  0–29 a 500 the first time · 30–39 a 500 every time · 40–69 cut the first
    // time · 70–89 2 s the first time (a cold cache) · 90–94 2 s every time · the rest fine.
    let fail = roll < 30 && first || (30..40).contains(&roll);
    let slow = (70..90).contains(&roll) && first || (90..95).contains(&roll);
    // Otherwise 1–20 ms; one page in ten takes 50–200 ms, still well within the timeout.
    let millis = match xorshift(&mut rng, 10) {
        _ if slow => 2000,
        0 => 50 + xorshift(&mut rng, 150),
        _ => 1 + xorshift(&mut rng, 20),
    };
    Plan {
        delay: Duration::from_millis(millis),
        status: if fail { "500 Internal Server Error" } else { "200 OK" },
        cut: (40..70).contains(&roll) && first,
        size: 512 + xorshift(&mut rng, 8 * 1024) as usize,
    }
}

/// What the server counts, per host; index `HOSTS` counts all hosts together.
#[derive(Default)]
struct ServerStats {
    hits: RefCell<HashMap<u32, u32>>,
    requests: [Cell<usize>; HOSTS + 1],
    connections: [Cell<usize>; HOSTS + 1],
    in_flight: [Cell<usize>; HOSTS + 1],
    peak: [Cell<usize>; HOSTS + 1],
}

/// Applies `f` to `host`'s counter and to the all-hosts one.
fn update(counters: &[Cell<usize>; HOSTS + 1], host: usize, f: impl Fn(usize) -> usize) {
    for i in [host, HOSTS] {
        counters[i].set(f(counters[i].get()));
    }
}

/// One request in flight at `host` for as long as it lives: its `Drop` runs whether the
/// response was written, cut short, or abandoned.
struct Busy(Rc<ServerStats>, usize);

impl Busy {
    fn enter(stats: &Rc<ServerStats>, host: usize) -> Busy {
        update(&stats.in_flight, host, |n| n + 1);
        for i in [host, HOSTS] {
            stats.peak[i].set(stats.peak[i].get().max(stats.in_flight[i].get()));
        }
        Busy(stats.clone(), host)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        update(&self.0.in_flight, self.1, |n| n - 1);
    }
}

/// asyncio's `start_server`: accept, and give each connection a task of its own.
async fn serve(listener: TcpListener, host: usize, stats: Rc<ServerStats>) {
    loop {
        if let Ok((stream, _)) = listener.accept().await {
            update(&stats.connections, host, |n| n + 1);
            drop(evloop::spawn(connection(stream, host, stats.clone()))); // detached
        }
    }
}

/// One keep-alive connection: request after request, until the client hangs up.
async fn connection(stream: TcpStream, host: usize, stats: Rc<ServerStats>) {
    let mut buf = Vec::new();
    while let Some(path) = read_request(&stream, &mut buf).await {
        let _busy = Busy::enter(&stats, host);
        update(&stats.requests, host, |n| n + 1);
        let Some(page) = path.strip_prefix("/page/").and_then(|n| n.parse::<u32>().ok()) else {
            return; // not a URL of ours: hang up
        };
        let hit = *stats.hits.borrow_mut().entry(page).and_modify(|h| *h += 1).or_default();
        let plan = plan(page, hit);
        // "Work" for `delay`, but stop if the client hangs up meanwhile (it timed out): it no
        // longer counts this request against its limits, so neither do we. Our client never
        // pipelines, so anything the read returns (end of stream, or bytes) means "gone".
        if let Either::Right(_) = select(sleep(plan.delay), stream.read(&mut [0u8; 1])).await {
            return;
        }
        let body = format!("<html><title>page {page}</title>{}</html>", "x".repeat(plan.size));
        let head = format!("HTTP/1.1 {}\r\nContent-Length: {}\r\n\r\n", plan.status, body.len());
        let mut reply = [head.as_bytes(), body.as_bytes()].concat();
        if plan.cut {
            reply.truncate(reply.len() - body.len() / 2); // the client must not take this for a page
        }
        if stream.write_all(&reply).await.is_err() || plan.cut {
            return;
        }
    }
}

/// Reads one request head and returns its path (`GET /page/7 HTTP/1.1`); headers are skipped.
async fn read_request(stream: &TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = buf.drain(..end + 4).collect();
            return String::from_utf8_lossy(&head).split(' ').nth(1).map(str::to_string);
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(n) if n > 0 && buf.len() < 64 * 1024 => buf.extend_from_slice(&chunk[..n]),
            _ => return None, // closed, failed, or a head without an end
        }
    }
}

// ---- The crawler. ----

/// What the crawl has seen so far.
#[derive(Default)]
struct Tally {
    done: Cell<usize>,
    ok: Cell<usize>,
    retries: Cell<usize>,
    failed: RefCell<BTreeMap<String, usize>>,
    last_progress: Cell<Option<Instant>>,
}

/// One page: up to `ATTEMPTS` attempts, each one admitted by the semaphore, then timed.
async fn fetch_page(client: Client, admission: Semaphore, url: String, tally: Rc<Tally>) -> Result<Vec<u8>, Error> {
    let policy = RetryPolicy {
        max_attempts: ATTEMPTS,
        base_delay: Duration::from_millis(100), // then 200 ms; each scaled by a random 0.5–1.0
        ..RetryPolicy::default()
    };
    with_retry(policy, |attempt| {
        let (client, admission, url, tally) = (client.clone(), admission.clone(), url.clone(), tally.clone());
        async move {
            tally.retries.set(tally.retries.get() + usize::from(attempt > 0));
            let _permit = admission.acquire().await.expect("nobody closes this semaphore");
            // `error_for_status` turns a 500 into an error, which `with_retry` retries.
            client.get(&url).send().await?.error_for_status()?.bytes().await
        }
    })
    .await
}

/// Counts one finished page and redraws the progress line: on a terminal, in place, at most
/// every 100 ms; into a pipe or file, one line per quarter of the crawl.
fn record(tally: &Tally, result: &Result<Vec<u8>, Error>, total: usize, start: Instant) {
    let done = tally.done.get() + 1;
    tally.done.set(done);
    match result {
        Ok(_) => tally.ok.set(tally.ok.get() + 1),
        Err(error) => *tally.failed.borrow_mut().entry(reason(error)).or_default() += 1,
    }
    let terminal = std::io::stdout().is_terminal();
    let due = match tally.last_progress.get() {
        _ if done == total => true,
        _ if !terminal => done.is_multiple_of(total.div_ceil(4)),
        last => last.is_none_or(|t| now() - t >= Duration::from_millis(100)),
    };
    if due {
        tally.last_progress.set(Some(now()));
        let (ok, retries, secs) = (tally.ok.get(), tally.retries.get(), (now() - start).as_secs_f64());
        let (cr, lf) = if terminal { ("\r", "") } else { ("", "\n") };
        let failed = done - ok;
        print!("{cr}  {done:>5}/{total} pages   ok {ok}   failed {failed}   retries {retries}   {secs:.1} s{lf}");
        std::io::stdout().flush().expect("stdout accepts the progress line");
    }
}

/// Why a page failed, in a few words.
fn reason(error: &Error) -> String {
    match error {
        Error::Status(code) => format!("HTTP {code} on every attempt"),
        Error::Timeout(TimeoutKind::Total) => format!("slower than the {} ms timeout", TIMEOUT.as_millis()),
        Error::Truncated { .. } => "connection dropped mid-response".to_string(),
        other => other.to_string(),
    }
}

async fn crawl(pages: usize, virtual_clock: bool, config: ClientConfig) {
    let stats = Rc::new(ServerStats::default());
    let mut ports = Vec::new();
    for host in 0..HOSTS {
        let listener = TcpListener::bind(([127, 0, 0, 1], 0).into()).expect("127.0.0.1:0 is always bindable");
        ports.push(listener.local_addr().expect("a bound listener has an address").port());
        drop(evloop::spawn(serve(listener, host, stats.clone())));
    }
    println!("server: {HOSTS} hosts on 127.0.0.1, ports {ports:?}; host 0 has half of the {pages} pages");
    println!("        random delays; some 500s, some bodies cut short, some pages slower than the timeout");
    println!("client: limit {LIMIT}, limit_per_host {LIMIT_PER_HOST}, total timeout {TIMEOUT:?}, {ATTEMPTS} attempts");
    let urls = (0..pages).map(|i| format!("http://127.0.0.1:{}/page/{i}", ports[HOST_OF[i % HOST_OF.len()]]));
    let (tally, elapsed, wall) = fetch_all(Client::with_config(config), urls.collect()).await;
    let (ok, failed) = (tally.ok.get(), pages - tally.ok.get());
    println!("summary (the same on every --virtual run):");
    println!("  ok           {ok:>5} pages");
    println!("  failed       {failed:>5} pages");
    for (why, n) in tally.failed.borrow().iter() {
        println!("               {n:>5}  {why}");
    }
    println!("  retries      {:>5}", tally.retries.get());
    println!("                  host 0  host 1  host 2  host 3     all");
    table_row("requests", &stats.requests);
    // with_retry's jitter comes from an RNG seeded by the system clock: no run repeats these.
    println!("timing (varies a little from run to run, --virtual too: the retry jitter is random):");
    table_row("connections", &stats.connections);
    table_row("most in flight", &stats.peak);
    println!("  (limits: {LIMIT_PER_HOST} per host, {LIMIT} in all)");
    let (secs, real) = (elapsed.as_secs_f64(), wall.elapsed().as_secs_f64());
    let clock = if virtual_clock {
        format!("virtual clock; {real:.2} s of real time")
    } else {
        "real clock".into()
    };
    println!("  elapsed {secs:.2} s ({clock}), {:.0} pages/s", pages as f64 / secs);
}

/// Every URL, a task each, under the admission semaphore; what was seen and how long it took.
async fn fetch_all(client: Client, urls: Vec<String>) -> (Rc<Tally>, Duration, Instant) {
    let pages = urls.len();
    let (admission, tally) = (Semaphore::new(STARTED), Rc::new(Tally::default()));
    let (start, wall) = (now(), Instant::now());
    let tasks = urls.into_iter().map(|url| {
        let (client, admission, tally) = (client.clone(), admission.clone(), tally.clone());
        async move {
            let result = fetch_page(client, admission, url, tally.clone()).await;
            record(&tally, &result, pages, start);
        }
    });
    for outcome in evloop::gather_all(tasks).await {
        outcome.expect("a page task neither panics nor is cancelled");
    }
    if std::io::stdout().is_terminal() {
        println!();
    }
    (tally, now() - start, wall)
}

/// `--url BASE`: the same crawl against a real site, `BASE/page/0` onwards. Exits with 1 if
/// any page failed, so a script (CI) can tell.
async fn crawl_site(base: String, pages: usize, config: ClientConfig) {
    println!("site: {base}/page/0 .. {base}/page/{}", pages - 1);
    let urls = (0..pages).map(|i| format!("{}/page/{i}", base.trim_end_matches('/')));
    let (tally, elapsed, _) = fetch_all(Client::with_config(config), urls.collect()).await;
    println!("summary:");
    println!("  ok           {:>5} pages", tally.ok.get());
    for (why, n) in tally.failed.borrow().iter() {
        println!("  failed       {n:>5}  {why}");
    }
    println!("  retries      {:>5}", tally.retries.get());
    println!(
        "  elapsed {:.2} s, {:.0} pages/s",
        elapsed.as_secs_f64(),
        pages as f64 / elapsed.as_secs_f64()
    );
    if tally.ok.get() != pages {
        std::process::exit(1);
    }
}

fn table_row(label: &str, counters: &[Cell<usize>; HOSTS + 1]) {
    let cells: String = counters.iter().map(|n| format!("{:>8}", n.get())).collect();
    println!("  {label:<14}{cells}");
}

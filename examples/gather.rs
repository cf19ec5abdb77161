//! gather: running many futures at once, and what happens when one of them fails.
//!
//! Mirrors: "Python异步编程:掌握asyncio构建高性能应用" (Python asynchronous programming: mastering
//! asyncio to build high-performance applications), section "并发请求" (concurrent requests)
//! — seeds/001_3283da4f40090053.txt, whose `check_all` ends in `await asyncio.gather(*tasks,
//! return_exceptions=True)`; and "Pythonasyncio协程详解与实战" (Python asyncio coroutines in
//! detail, and in practice), section "asyncio在实际项目中如何应用?常见陷阱与最佳实践" (how asyncio is
//! used in real projects: common pitfalls and best practices) — seeds/003_d72a955675d78a58.txt,
//! which advises `return_exceptions=True` "而不是让第一个异常就中断整个gather" (rather than let the
//! first exception end the whole gather). So: gather's two failure modes, the default, where
//! the first exception propagates, and `return_exceptions=True`, where every outcome comes
//! back. Then `asyncio.as_completed` and asyncio 3.11's `TaskGroup`.
//!
//! Run with: `cargo run --example gather [-- --virtual]`
//!
//! What to look for:
//! 1. `evloop::gather` is fail-fast: at t = 0.3 s one fetch returns `Err`, and the two still
//!    running are cancelled; their "cancelled mid-request" cleanup lines print *before*
//!    gather returns, because gather waits for the cancelled tasks to be gone. Total: 0.3 s.
//!    (asyncio's `gather` does not cancel the others; they run on unobserved. Use a
//!    `TaskGroup` there for this behaviour.)
//! 2. `evloop::gather_all` returns every outcome in input order, after the slowest: an
//!    `Ok(Err(..))` for a job that returned an error, and `Err(JoinError)` for one that
//!    panicked. This section installs a quiet panic hook while it runs, so the panic does not
//!    also print Rust's usual "thread 'main' panicked at …" message.
//! 3. `as_completed` yields results in the order they finish, not the order they were given.
//! 4. A `TaskGroup`: one task fails, its siblings are cancelled (cleanup lines), and `join`
//!    returns a `GroupError` listing every failure (asyncio's `ExceptionGroup`).
//!
//! What production runtimes do differently: `futures::join_all` and tokio's `join!`/`try_join!`
//! poll the futures inside the calling task, with no spawn: cheaper, and `try_join!` drops (so
//! cancels) the rest on the first error, but nothing runs in parallel across threads. tokio's
//! `JoinSet` is the spawning kind, like `as_completed` here; it aborts what is left when
//! dropped, and its panics come back as `JoinError`s as they do here.

mod support;

use std::time::{Duration, Instant};

use evloop::time::{now, sleep};
use evloop::{TaskGroup, as_completed, gather, gather_all};

use support::since;

fn main() {
    support::init_logger();
    run(support::virtual_clock_requested());
}

/// A stand-in for an open HTTP connection. If it is dropped before the reply came (the task
/// was cancelled), its `Drop` says so: that line is the cleanup the examples look for.
struct Connection {
    url: &'static str,
    replied: bool,
    start: Instant,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if !self.replied {
            println!(
                "  [{}] {}: cancelled mid-request; connection closed",
                since(self.start),
                self.url
            );
        }
    }
}

/// A pretend HTTP GET that takes `millis` and then succeeds, or fails with a server error.
async fn fetch(url: &'static str, millis: u64, fails: bool, start: Instant) -> Result<String, String> {
    let mut connection = Connection {
        url,
        replied: false,
        start,
    };
    sleep(Duration::from_millis(millis)).await;
    connection.replied = true;
    if fails {
        println!("  [{}] {url}: 500 Internal Server Error", since(start));
        return Err(format!("{url} answered 500"));
    }
    println!("  [{}] {url}: 200 OK", since(start));
    Ok(format!("<{url} body>"))
}

/// A job for `gather_all`: job 2 panics, job 3 returns an error, the rest succeed.
async fn job(index: u64) -> Result<u64, String> {
    sleep(Duration::from_millis(100 * (index + 1))).await;
    match index {
        2 => panic!("job 2 hit a bug"),
        3 => Err("job 3: invalid input".to_string()),
        _ => Ok(index * 10),
    }
}

pub fn run(virtual_clock: bool) {
    let runtime = support::runtime(virtual_clock);

    runtime.block_on(async {
        println!("-- 1. gather: fail fast; the others are cancelled --");
        let start = now();
        let urls = [
            ("/a", 100, false),
            ("/b", 200, false),
            ("/c", 300, true),
            ("/d", 500, false),
            ("/e", 800, false),
        ];
        let fetches = urls.map(|(url, millis, fails)| fetch(url, millis, fails, start));
        match gather(fetches).await {
            Ok(bodies) => println!("  [{}] main: all succeeded (unexpected): {bodies:?}", since(start)),
            Err(error) => println!("  [{}] main: gather returned Err({error:?})", since(start)),
        }

        println!("-- 2. gather_all (return_exceptions=True): every outcome, in input order; quiet panic hook on --");
        let start = now();
        let loud_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {})); // job 2's panic is reported below instead
        let outcomes = gather_all((0..5).map(job)).await;
        std::panic::set_hook(loud_hook);
        println!("  [{}] main: gather_all returned after the slowest job:", since(start));
        for (index, outcome) in outcomes.iter().enumerate() {
            match outcome {
                Ok(Ok(value)) => println!("    job {index}: Ok(Ok({value}))"),
                Ok(Err(error)) => println!("    job {index}: Ok(Err({error:?})): the job returned an error"),
                Err(error) => println!("    job {index}: Err(JoinError): {error}"),
            }
        }

        println!("-- 3. as_completed: results in the order they finish --");
        let start = now();
        let delays = [400, 100, 300, 200];
        let mut finished = as_completed(delays.map(|millis| async move {
            sleep(Duration::from_millis(millis)).await;
            millis
        }));
        while let Some((index, outcome)) = finished.next().await {
            let millis = outcome.expect("these sleeps neither panic nor get cancelled");
            println!("  [{}] input #{index} ({millis} ms) is done", since(start));
        }

        println!("-- 4. TaskGroup: one failure cancels the siblings --");
        let start = now();
        let group: TaskGroup<String> = TaskGroup::new();
        group.spawn(async move { fetch("/download", 500, false, start).await.map(drop) });
        group.spawn(async move { fetch("/parse", 200, true, start).await.map(drop) });
        group.spawn(async move { fetch("/index", 1000, false, start).await.map(drop) });
        match group.join().await {
            Ok(()) => println!("  [{}] main: the group succeeded (unexpected)", since(start)),
            Err(error) => println!("  [{}] main: join() returned Err: {error}", since(start)),
        }
    });
}

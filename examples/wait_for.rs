//! wait_for: give an operation a deadline; when it runs out, the operation is cancelled.
//!
//! Mirrors asyncio's `await asyncio.wait_for(slow(), timeout=1)` and the articles' advice to
//! put a timeout on every network call (the crawler's per-request timeout): a 3 s operation
//! under a 1 s limit fails with `Elapsed` (Python's `TimeoutError`), a 0.5 s one succeeds.
//!
//! Run with: `cargo run --example wait_for [-- --virtual]`
//!
//! What to look for:
//! 1. On timeout the inner future is *dropped* where it is parked (inside its `sleep`): the
//!    `Connection` it holds is closed by its `Drop`, before `timeout` even returns. That
//!    `Drop` is Rust's `except CancelledError:` / `finally:` block. The line "finished" never
//!    prints: the code after the await point never runs.
//! 2. After each case, `evloop::stats()` counts zero timers: a dropped sleep takes its timer
//!    out of the wheel with it.
//! 3. A timeout around a spawned task's `JoinHandle` only stops the *waiting*: the task runs
//!    on until it is cancelled explicitly (asyncio's `wait_for` would cancel the task).
//!
//! What production runtimes do differently: tokio's `timeout` works the same way (drop on
//! expiry); asyncio delivers a `CancelledError` *into* the coroutine instead, which may catch
//! it and even refuse to stop. Rust has no way to refuse: a dropped future is gone.

use std::time::{Duration, Instant};

use evloop::Runtime;
use evloop::time::{now, sleep, timeout};

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .format_timestamp(None)
        .target(env_logger::Target::Stdout)
        .init();
    run(std::env::args().any(|arg| arg == "--virtual"));
}

/// Time since `start` on the loop's clock, in seconds with millisecond precision.
fn since(start: Instant) -> String {
    let elapsed = now().duration_since(start);
    format!("t = {}.{:03} s", elapsed.as_secs(), elapsed.subsec_millis())
}

/// A resource held across an await point: a stand-in for a socket or a database connection.
struct Connection {
    name: &'static str,
    start: Instant,
}

impl Drop for Connection {
    fn drop(&mut self) {
        println!(
            "  [{}] {}: Connection dropped: cleanup ran",
            since(self.start),
            self.name
        );
    }
}

/// An operation that takes `took` (pretend I/O) and holds a connection while it does.
async fn operation(name: &'static str, took: Duration, start: Instant) -> &'static str {
    let _connection = Connection { name, start };
    println!(
        "  [{}] {name}: opened a connection; working for {} ms",
        since(start),
        took.as_millis()
    );
    sleep(took).await;
    println!("  [{}] {name}: finished", since(start));
    "the data"
}

pub fn run(virtual_clock: bool) {
    let runtime = Runtime::builder()
        .with_virtual_clock(virtual_clock)
        .build()
        .expect("the OS should let us create an epoll instance");
    println!(
        "clock: {}",
        if virtual_clock {
            "virtual (sleeps take no real time)"
        } else {
            "real"
        }
    );
    let limit = Duration::from_secs(1);

    runtime.block_on(async {
        for (name, took) in [("slow", Duration::from_secs(3)), ("fast", Duration::from_millis(500))] {
            println!(
                "-- the {name} operation ({} ms) with a {} ms timeout --",
                took.as_millis(),
                limit.as_millis()
            );
            let start = now();
            match timeout(limit, operation(name, took, start)).await {
                Ok(data) => println!("  [{}] main: got {data:?} in time", since(start)),
                Err(elapsed) => println!("  [{}] main: Err(Elapsed): {elapsed}", since(start)),
            }
            println!("  main: timers left in the wheel: {}", evloop::stats().timers);
        }

        println!("-- a timeout around a task's JoinHandle stops the waiting, not the task --");
        let start = now();
        let mut task = evloop::spawn(operation("task", Duration::from_secs(3), start));
        if timeout(limit, &mut task).await.is_err() {
            println!(
                "  [{}] main: gave up waiting; the task is finished: {}",
                since(start),
                task.is_finished()
            );
        }
        println!("  [{}] main: cancelling {} explicitly", since(start), task.id());
        task.cancel();
        match task.await {
            Err(error) if error.is_cancelled() => println!("  [{}] main: {error}", since(start)),
            other => println!("  [{}] main: unexpected: {other:?}", since(start)),
        }
    });
}

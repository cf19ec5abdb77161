//! wait_for: give an operation a deadline; when it runs out, the operation is cancelled.
//!
//! Mirrors asyncio's `await asyncio.wait_for(slow(), timeout=1)`: a 3 s operation under a 1 s
//! limit fails with `Elapsed` (Python's `TimeoutError`), a 0.5 s one succeeds. No article has
//! this program; it follows the advice of "深入理解 Python 异步编程(下)" (Understanding Python
//! asynchronous programming in depth, part 3 of 3), sections "5.2 性能优化策略" (performance
//! strategies: "合理设置超时:使用asyncio.wait_for避免长时间阻塞", set sensible timeouts with
//! `wait_for`) and "5.3 错误处理规范" (rules for handling errors: a timeout on every async
//! operation), which its crawler in "6.2 实现方案" (the implementation) applies to each request
//! — seeds/000_8e7512ba363f68fc.txt.
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

mod support;

use std::time::{Duration, Instant};

use evloop::time::{now, sleep, timeout};

use support::since;

fn main() {
    support::init_logger();
    run(support::virtual_clock_requested());
}

/// A resource held across an await point: a stand-in for a socket or a database connection.
struct Connection {
    name: &'static str,
    start: Instant,
}

impl Drop for Connection {
    fn drop(&mut self) {
        println!(
            "  [t = {}] {}: Connection dropped: cleanup ran",
            since(self.start),
            self.name
        );
    }
}

/// An operation that takes `took` (pretend I/O) and holds a connection while it does.
async fn operation(name: &'static str, took: Duration, start: Instant) -> &'static str {
    let _connection = Connection { name, start };
    println!(
        "  [t = {}] {name}: opened a connection; working for {} ms",
        since(start),
        took.as_millis()
    );
    sleep(took).await;
    println!("  [t = {}] {name}: finished", since(start));
    "the data"
}

pub fn run(virtual_clock: bool) {
    let runtime = support::runtime(virtual_clock);
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
                Ok(data) => println!("  [t = {}] main: got {data:?} in time", since(start)),
                Err(elapsed) => println!("  [t = {}] main: Err(Elapsed): {elapsed}", since(start)),
            }
            println!("  main: timers left in the wheel: {}", evloop::stats().timers);
        }

        println!("-- a timeout around a task's JoinHandle stops the waiting, not the task --");
        let start = now();
        let mut task = evloop::spawn(operation("task", Duration::from_secs(3), start));
        if timeout(limit, &mut task).await.is_err() {
            println!(
                "  [t = {}] main: gave up waiting; the task is finished: {}",
                since(start),
                task.is_finished()
            );
        }
        println!("  [t = {}] main: cancelling {} explicitly", since(start), task.id());
        task.cancel();
        match task.await {
            Err(error) if error.is_cancelled() => println!("  [t = {}] main: {error}", since(start)),
            other => println!("  [t = {}] main: unexpected: {other:?}", since(start)),
        }
    });
}

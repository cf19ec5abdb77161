//! cancel: stopping work early: hard cancel, a cooperative token, `shield`, and `timeout`.
//!
//! Mirrors: "深入理解 Python 异步编程(下)" (Understanding Python asynchronous programming in
//! depth, part 3 of 3), section "2.3 任务取消不当" (cancelling tasks improperly)
//! — seeds/000_8e7512ba363f68fc.txt. A task that holds a resource, the article's
//! `task_with_resource`, is cancelled mid-sleep with `task.cancel()`, and the resource must still
//! be released. In asyncio that is `try: … finally:` (or `except CancelledError: …; raise`);
//! in Rust it is `Drop`, which runs when the cancelled task's future is dropped. (The article
//! says its `finally` version never runs; in asyncio it does. The real trap there is catching
//! `CancelledError` and not re-raising it.)
//!
//! Run with: `cargo run --example cancel [-- --virtual]`
//!
//! What to look for:
//! 1. `JoinHandle::cancel()`: the task is never polled again; its future is dropped where it is
//!    parked, so "resource released" prints, "finished" never does, and the handle gives
//!    `Err(JoinError)` with `is_cancelled()`.
//! 2. `CancellationToken`: cancelling only *asks*. The worker sees it in a `select` with its
//!    work, then awaits a 0.2 s flush before returning `Ok`: async cleanup, which a destructor
//!    cannot do (`Drop` is synchronous).
//! 3. `shield`: cancelling the outer task drops what it awaits. An inner save awaited directly
//!    is abandoned with it; a shielded one is its own task and commits anyway.
//! 4. `timeout`: cancellation by deadline; the resource is released before `Err(Elapsed)`.
//!
//! What production runtimes do differently: asyncio *throws* `CancelledError` into the
//! coroutine at its await point, so a coroutine can run async cleanup, or even refuse to stop;
//! Rust futures are simply dropped, which is why graceful shutdown needs a token. tokio works
//! like evloop (`JoinHandle::abort`, `tokio_util::sync::CancellationToken`), except that an
//! abort of a task running on another thread takes effect only at its next await point.

mod support;

use std::time::{Duration, Instant};

use evloop::sync::CancellationToken;
use evloop::time::{now, sleep, timeout};
use evloop::{Either, select, shield, spawn};

use support::since;

fn main() {
    support::init_logger();
    run(support::virtual_clock_requested());
}

/// A stand-in for a connection or a file handle: its `Drop` is the cleanup.
struct Resource {
    name: &'static str,
    start: Instant,
}

impl Drop for Resource {
    fn drop(&mut self) {
        println!(
            "  [{}] {}: resource released (its Drop ran)",
            since(self.start),
            self.name
        );
    }
}

/// The article's `task_with_resource`: take a resource, then wait a long time with it.
async fn hold(name: &'static str, start: Instant) {
    let _resource = Resource { name, start };
    println!("  [{}] {name}: resource acquired; sleeping 10 s", since(start));
    sleep(Duration::from_secs(10)).await;
    println!(
        "  [{}] {name}: finished (never printed: the task is cancelled first)",
        since(start)
    );
}

/// Buffers one record every 100 ms until asked to stop, then flushes them (async cleanup).
async fn writer(token: CancellationToken, start: Instant) -> usize {
    let mut buffered = 0;
    loop {
        // Whichever is ready first wins; the other future is dropped on the spot.
        match select(token.cancelled(), sleep(Duration::from_millis(100))).await {
            Either::Left(()) => break,
            Either::Right(()) => {
                buffered += 1;
                println!("  [{}] writer: buffered record {buffered}", since(start));
            }
        }
    }
    println!(
        "  [{}] writer: cancellation noticed; flushing {buffered} records (0.2 s)",
        since(start)
    );
    sleep(Duration::from_millis(200)).await; // an .await in cleanup: a Drop could not do this
    println!("  [{}] writer: flushed; returning normally", since(start));
    buffered
}

/// Tells, when dropped, whether the save it belongs to got to commit.
struct SaveGuard {
    name: &'static str,
    committed: bool,
    start: Instant,
}

impl Drop for SaveGuard {
    fn drop(&mut self) {
        if !self.committed {
            println!(
                "  [{}] save({}): abandoned half-written (dropped)",
                since(self.start),
                self.name
            );
        }
    }
}

/// A half-second write that must not be cut short.
async fn save(name: &'static str, start: Instant) {
    let mut guard = SaveGuard {
        name,
        committed: false,
        start,
    };
    println!("  [{}] save({name}): writing for 0.5 s", since(start));
    sleep(Duration::from_millis(500)).await;
    guard.committed = true;
    println!("  [{}] save({name}): committed", since(start));
}

/// Whether a task's outcome says it was cancelled.
fn was_cancelled<T>(outcome: Result<T, evloop::JoinError>) -> bool {
    outcome.is_err_and(|error| error.is_cancelled())
}

pub fn run(virtual_clock: bool) {
    let runtime = support::runtime(virtual_clock);

    runtime.block_on(async {
        println!("-- 1. JoinHandle::cancel(): the future is dropped, Drop is the cleanup --");
        let start = now();
        let task = spawn(hold("db connection", start));
        sleep(Duration::from_millis(100)).await;
        println!("  [{}] main: task.cancel() -> {}", since(start), task.cancel());
        match task.await {
            Err(error) if error.is_cancelled() => println!("  [{}] main: the handle gave Err: {error}", since(start)),
            other => println!("  main: unexpected outcome {other:?}"),
        }

        println!("-- 2. CancellationToken: ask, and let the task clean up with .await --");
        let start = now();
        let token = CancellationToken::new();
        let task = spawn(writer(token.clone(), start));
        sleep(Duration::from_millis(350)).await;
        println!(
            "  [{}] main: token.cancel(); the writer decides when to stop",
            since(start)
        );
        token.cancel();
        let flushed = task
            .await
            .expect("the writer returns normally, it is never hard-cancelled");
        println!("  [{}] main: the writer returned Ok({flushed})", since(start));

        println!("-- 3. shield: the outer task is cancelled; the shielded inner task is not --");
        let start = now();
        // Two outer tasks: one awaits its save inline (the save is part of its future)...
        let plain = spawn(async move { save("plain", start).await });
        // ...the other through `shield`, which spawns the save as its own task; the outer task
        // only holds its handle, and dropping a handle detaches a task, it does not cancel it.
        let shielded = spawn(async move { shield(save("shielded", start)).await });
        sleep(Duration::from_millis(100)).await;
        println!("  [{}] main: cancelling both outer tasks", since(start));
        plain.cancel();
        shielded.cancel();
        let (plain, shielded) = (was_cancelled(plain.await), was_cancelled(shielded.await));
        println!(
            "  [{}] main: both outer tasks report cancelled: {plain}, {shielded}",
            since(start)
        );
        sleep(Duration::from_millis(500)).await;
        println!("  [{}] main: only the shielded save got to commit", since(start));

        println!("-- 4. timeout: cancellation by deadline --");
        let start = now();
        match timeout(Duration::from_millis(300), hold("socket", start)).await {
            Ok(()) => println!("  main: finished in time (unexpected)"),
            Err(elapsed) => println!("  [{}] main: Err(Elapsed): {elapsed}", since(start)),
        }
    });
}

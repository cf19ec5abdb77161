//! semaphore: 100 workers, at most 10 at a time: a `Semaphore` bounds concurrency.
//!
//! Mirrors: the untitled article in seeds/002_2249a562833656a4.txt (its introduction, "引言",
//! opens "在现代Python开发中,异步编程已成为构建高性能应用的重要技术手段": in modern Python
//! development, async programming has become an important technique for building
//! high-performance applications), section "2.2 协程调度问题" (coroutine scheduling problems),
//! its "优化方案" (the optimized version, `optimized_scheduler`). The same limit appears in
//! "Python异步编程:掌握asyncio构建高性能应用" (Python asynchronous programming: mastering asyncio
//! to build high-performance applications), section "信号量(速率控制)" (semaphores: rate control)
//! — seeds/001_3283da4f40090053.txt. The program:
//!
//! ```python
//! semaphore = asyncio.Semaphore(10)            # at most 10 workers at once
//! async def limited_worker(name, delay):
//!     async with semaphore:
//!         await asyncio.sleep(delay)
//! await asyncio.gather(*(limited_worker(i, 0.1) for i in range(100)))
//! ```
//!
//! Run with: `cargo run --example semaphore [-- --virtual] [--dump]`
//!
//! What to look for:
//! 1. With the limit, the workers run in ten waves of ten: about 1.0 s in all, and the peak
//!    number inside the limited section is 10. Without it all 100 sleep at once: about 0.1 s,
//!    peak 100. The limit trades time for a bounded load on whatever the workers talk to.
//! 2. First come, first served. The workers arrive in a scrambled order (0, 37, 74, 11, …), and
//!    they acquire in exactly that order: a freed permit is *handed* to the longest-waiting
//!    worker inside the `Drop` of the permit that freed it, so nobody can barge in between.
//! 3. The "inside" count is kept by a guard whose `Drop` decrements it, so it would stay right
//!    even if a worker were cancelled mid-sleep: cancelling drops the future, which drops the
//!    guard and the permit (the permit then goes to the next waiter).
//! 4. With `--dump`, the loop's task dump (`evloop::all_tasks()`, asyncio's `python -m asyncio
//!    ps`) at t = 0.25 s, in the middle of the third wave: ten workers parked on their timers,
//!    the rest parked on the semaphore, each with its place in line, and how long it has waited.
//!
//! What production runtimes do differently: tokio's `Semaphore` uses the same FIFO hand-off,
//! written with atomics and an intrusive waiter list so tasks on many threads can share it.
//! asyncio's `Semaphore` woke a waiter and let it *retry*, and was reworked more than once to
//! stop newcomers overtaking woken waiters (`src/sync/mod.rs` tells the story). And a real
//! crawler needs more than this: a semaphore bounds how many requests are in flight, not how
//! many start per second (that takes a token bucket), and it is usually paired with a second,
//! per-host limit.

mod support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use evloop::sync::Semaphore;
use evloop::time::{now, sleep};

use support::secs;

fn main() {
    support::init_logger();
    run(support::virtual_clock_requested());
}

/// How many workers there are, and how long each one "works" (pretend I/O).
const WORKERS: usize = 100;
const WORK: Duration = Duration::from_millis(100);

/// How many workers are inside the limited section right now, and the most there ever were.
#[derive(Default)]
struct Gauge {
    inside: Cell<usize>,
    peak: Cell<usize>,
}

/// Counts one worker as inside for as long as it lives. It lives in the worker's future, so
/// it is dropped whether the worker finishes or is cancelled, and the count stays right.
struct Inside(Rc<Gauge>);

impl Inside {
    fn enter(gauge: &Rc<Gauge>) -> Inside {
        let inside = gauge.inside.get() + 1;
        gauge.inside.set(inside);
        gauge.peak.set(gauge.peak.get().max(inside));
        Inside(gauge.clone())
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        self.0.inside.set(self.0.inside.get() - 1);
    }
}

/// What one run's workers share.
struct Shared {
    /// The limit; `None` runs every worker at once.
    limit: Option<Semaphore>,
    gauge: Rc<Gauge>,
    /// Worker ids in the order they got in, with the time each got in.
    acquired: RefCell<Vec<(usize, Duration)>>,
    start: Instant,
}

/// The article's `limited_worker`: wait for a permit (if there is a limit), then "work".
async fn worker(id: usize, shared: Rc<Shared>) {
    // `async with semaphore:` — the permit is held until it is dropped at the end of the fn.
    let _permit = match &shared.limit {
        Some(semaphore) => Some(semaphore.acquire().await.expect("nobody closes this semaphore")),
        None => None,
    };
    let at = now().duration_since(shared.start);
    shared.acquired.borrow_mut().push((id, at));
    let _inside = Inside::enter(&shared.gauge);
    sleep(WORK).await;
}

/// Runs all the workers, arriving in `arrivals` order, and narrates what happened.
async fn run_workers(limit: Option<usize>, arrivals: &[usize]) {
    let shared = Rc::new(Shared {
        limit: limit.map(Semaphore::new),
        gauge: Rc::default(),
        acquired: RefCell::new(Vec::new()),
        start: now(),
    });
    // `asyncio.gather(*workers)`: each worker becomes a task, spawned (and so first polled,
    // and so queued on the semaphore) in `arrivals` order.
    let dumper = (limit.is_some() && dump_requested()).then(|| evloop::spawn(print_dump_at(DUMP_AT)));
    let outcomes = evloop::gather_all(arrivals.iter().map(|&id| worker(id, shared.clone()))).await;
    if let Some(dumper) = dumper {
        dumper.await.expect("the dumper does not panic");
    }
    let total = now().duration_since(shared.start);
    assert!(outcomes.iter().all(Result::is_ok), "no worker panics or is cancelled");

    // One line per wave: the workers that got in in the same millisecond.
    let acquired = shared.acquired.borrow();
    for wave in acquired.chunk_by(|a, b| a.1.as_millis() == b.1.as_millis()) {
        let ids: Vec<String> = wave.iter().take(5).map(|(id, _)| id.to_string()).collect();
        let more = if wave.len() > 5 { ", …" } else { "" };
        println!(
            "  t = {}: {:>3} got in ({}{more})",
            secs(wave[0].1),
            wave.len(),
            ids.join(", ")
        );
    }
    println!(
        "  all {WORKERS} done at t = {}; most inside at once: {}",
        secs(total),
        shared.gauge.peak.get()
    );
    if limit.is_some() {
        println!("  first 20 to arrive: {}", first_20(arrivals.iter().copied()));
        println!("  first 20 to get in: {}", first_20(acquired.iter().map(|a| a.0)));
        let fifo = acquired.iter().map(|a| a.0).eq(arrivals.iter().copied());
        println!("  all {WORKERS} acquired in arrival order (first come, first served): {fifo}");
    }
}

/// Whether `--dump` was given.
fn dump_requested() -> bool {
    std::env::args().any(|arg| arg == "--dump")
}

/// When the dump is taken: in the middle of the third wave.
const DUMP_AT: Duration = Duration::from_millis(250);

/// Sleeps until `at`, then prints the task dump: its first rows, and how many the rest are.
async fn print_dump_at(at: Duration) {
    sleep(at).await;
    let dump = evloop::all_tasks();
    println!(
        "  -- task dump at t = {} (evloop::all_tasks(), like `python -m asyncio ps`) --",
        secs(at)
    );
    let table = dump.to_string();
    let lines: Vec<&str> = table.lines().collect();
    for line in lines.iter().take(14) {
        println!("  {line}");
    }
    if lines.len() > 14 {
        println!("  … and {} more tasks", lines.len() - 14);
    }
}

/// The first 20 worker ids, space-separated.
fn first_20(ids: impl Iterator<Item = usize>) -> String {
    ids.take(20).map(|id| id.to_string()).collect::<Vec<_>>().join(" ")
}

pub fn run(virtual_clock: bool) {
    let runtime = support::runtime(virtual_clock);
    // A scrambled but fixed arrival order (37 and 100 share no factor, so this is a
    // permutation of 0..100): it makes "served in arrival order" visible, not just "by id".
    let arrivals: Vec<usize> = (0..WORKERS).map(|i| i * 37 % WORKERS).collect();

    runtime.block_on(async {
        println!(
            "-- {WORKERS} workers of {} ms under Semaphore::new(10) --",
            WORK.as_millis()
        );
        println!("  the first 10 take the free permits; the other 90 queue, in arrival order");
        run_workers(Some(10), &arrivals).await;
        println!("  ten waves of 0.1 s: about 1.0 s. Each permit that comes back is handed to the");
        println!("  front of the queue, whichever worker gave it back.");

        println!("-- the same {WORKERS} workers, no limit --");
        run_workers(None, &arrivals).await;
        println!("  everyone sleeps at once: about 0.1 s, and 100 requests in flight at the peak");
    });
}

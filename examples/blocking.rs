//! blocking: the one rule of an event loop: never block its thread. What breaking it looks
//! like, and the fix, `spawn_blocking`, for blocking calls and for CPU-heavy work.
//!
//! Mirrors: the untitled article in seeds/002_2249a562833656a4.txt (its introduction,
//! "引言", opens "在现代Python开发中,异步编程已成为构建高性能应用的重要技术手段": in modern
//! Python development, async programming has become an important technique for building
//! high-performance applications), section "2.1 事件循环阻塞陷阱" (the event-loop
//! blocking pitfall), whose blocking call is `requests.get`; and "Pythonasyncio协程详解与实战"
//! (Python asyncio coroutines in detail, and in practice), section
//! "asyncio在实际项目中如何应用?常见陷阱与最佳实践" (how asyncio is used in real projects: common
//! pitfalls and best practices), the pitfall "阻塞调用" (blocking calls) and the practice
//! "隔离阻塞代码" (isolate blocking code) — seeds/003_d72a955675d78a58.txt. `time.sleep()`
//! inside a coroutine stops *every* coroutine, and the fix is `await asyncio.to_thread(...)`
//! / `loop.run_in_executor(...)`. CPU-bound work goes to an executor too: a
//! `ProcessPoolExecutor` in "深入理解 Python 异步编程(下)" (Understanding Python asynchronous
//! programming in depth, part 3 of 3), section "1.2 异步编程如何规避 GIL 限制" (how async
//! programming gets around the GIL) — seeds/000_8e7512ba363f68fc.txt, and in seeds/001's
//! section "CPU 密集型工作与 ProcessPoolExecutor" (CPU-bound work and ProcessPoolExecutor),
//! because of Python's GIL; Rust threads run truly in parallel.
//!
//! Run with: `cargo run --example blocking` (no `--virtual`: this example is about real time
//! passing while a thread is stuck, which a virtual clock cannot show).
//!
//! What to look for: a ticker task that ticks every 50 ms. In part 1 a task calls
//! `std::thread::sleep(300 ms)`: the ticker goes silent for 300 ms, and the loop logs a
//! warning naming the task that "blocked the loop" (evloop times every poll while warnings are
//! enabled; this example turns them on through env_logger). In part 2 the same sleep runs on
//! the blocking pool and the ticker never misses a beat. Part 3 counts the primes below three
//! million on the pool while the ticker keeps ticking.
//!
//! What production runtimes do differently: tokio's `spawn_blocking` pool is the same design
//! (lazy threads, a cap, an idle timeout), and `block_in_place` lets a multi-threaded runtime
//! hand its other tasks to a new thread instead. CPU-heavy work usually goes to a dedicated
//! pool such as rayon, sized to the number of cores. asyncio's debug mode warns about slow
//! callbacks (`slow_callback_duration`, 100 ms) just as evloop does; tokio has no such warning
//! built in (tokio-console shows busy tasks instead).

mod support;

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

use evloop::time::{interval, now, sleep};
use evloop::{spawn_blocking, spawn_named};

use support::since;

fn main() {
    support::init_logger();
    if support::virtual_clock_requested() {
        println!("(--virtual has no effect here: blocking is about real time)");
    }
    run();
}

/// Ticks every 50 ms until `stop` is set; prints each tick if `verbose`. Returns the number
/// of ticks and the longest gap between two of them.
async fn ticker(start: Instant, verbose: bool, stop: Rc<Cell<bool>>) -> (u32, Duration) {
    let mut ticks = interval(Duration::from_millis(50));
    let (mut count, mut longest, mut last) = (0, Duration::ZERO, None);
    while !stop.get() {
        ticks.tick().await;
        let at = now();
        let gap = last.map_or(Duration::ZERO, |last| at - last);
        (count, longest, last) = (count + 1, longest.max(gap), Some(at));
        if verbose {
            let frozen = if gap > Duration::from_millis(100) {
                "  <- the loop was frozen"
            } else {
                ""
            };
            println!(
                "  ticker: tick {count:>2} at {} (gap {:>3} ms){frozen}",
                since(start),
                gap.as_millis()
            );
        }
    }
    (count, longest)
}

/// Runs `work` while a ticker task ticks, then reports how regular the ticks were.
async fn with_ticker<F: Future>(verbose: bool, work: impl FnOnce(Instant) -> F) -> F::Output {
    let start = now();
    let stop = Rc::new(Cell::new(false));
    let ticker = spawn_named("ticker", ticker(start, verbose, stop.clone()));
    sleep(Duration::from_millis(120)).await; // let the ticker get going
    let output = work(start).await;
    sleep(Duration::from_millis(150)).await; // and watch it a little longer
    stop.set(true);
    let (count, longest) = ticker.await.expect("the ticker neither panics nor is cancelled");
    println!(
        "  ticker: {count} ticks in {}; longest gap between two ticks: {} ms",
        since(start),
        longest.as_millis()
    );
    output
}

/// Counts primes below `limit` by trial division: deliberately plain, CPU-bound work.
fn count_primes(limit: u64) -> usize {
    (2..limit).filter(|&n| is_prime(n)).count()
}

fn is_prime(n: u64) -> bool {
    if n.is_multiple_of(2) {
        return n == 2;
    }
    let mut divisor = 3;
    while divisor * divisor <= n {
        if n.is_multiple_of(divisor) {
            return false;
        }
        divisor += 2;
    }
    n > 1
}

pub fn run() {
    let pause = Duration::from_millis(300);
    support::run(async {
        println!("-- 1. the pitfall: a task calls std::thread::sleep(300 ms) --");
        with_ticker(true, |start| async move {
            let sleepy = spawn_named("sleepy", async move { std::thread::sleep(pause) });
            println!(
                "  [{}] main: spawned \"sleepy\" ({}); it will block the thread",
                since(start),
                sleepy.id()
            );
            sleepy.await.expect("sleepy neither panics nor is cancelled");
            println!(
                "  [{}] main: sleepy is done; nothing else ran while it slept",
                since(start)
            );
        })
        .await;

        println!("-- 2. the fix: the same sleep on the blocking pool (asyncio.to_thread) --");
        with_ticker(true, |start| async move {
            println!(
                "  [{}] main: spawn_blocking(sleep 300 ms); main awaits its handle",
                since(start)
            );
            spawn_blocking(move || std::thread::sleep(pause))
                .await
                .expect("a sleep does not panic");
            println!(
                "  [{}] main: the pool thread is done; the loop never stopped",
                since(start)
            );
        })
        .await;

        let limit = 3_000_000;
        println!("-- 3. CPU-heavy work off the loop: count the primes below three million --");
        let (primes, took) = with_ticker(false, |start| async move {
            println!("  [{}] main: handing the count to the blocking pool", since(start));
            let job = spawn_blocking(move || {
                let started = Instant::now();
                (count_primes(limit), started.elapsed())
            });
            job.await.expect("counting primes does not panic")
        })
        .await;
        println!(
            "  main: {primes} primes, counted in {} ms on a pool thread",
            took.as_millis()
        );
        println!(
            "  (on the loop's thread, the ticker would have stopped for those {} ms)",
            took.as_millis()
        );
    });
}

//! periodic: two periodic jobs on one loop, and what happens to ticks that a slow job missed.
//!
//! Mirrors: "Python异步编程实战:Asyncio、多线程与多进程在高并发场景下的应用" (Python asynchronous
//! programming in practice: asyncio, multithreading and multiprocessing in high-concurrency
//! scenarios), section "Asyncio在实际应用中的最佳实践" (asyncio best practices in real
//! applications), part "2. 异步任务调度" (scheduling async tasks) — seeds/004_c645c2748a557271.txt.
//! Its `TaskScheduler` runs one job every 2 s and one every 3 s, each as
//! `while True: await callback(); await asyncio.sleep(interval)`. Here they are
//! written with `evloop::time::interval`, which keeps a fixed cadence: the next tick is
//! due one period after the previous one was *due*, not after the job finished, so the
//! schedule does not drift by the job's running time the way `job(); sleep(period)` does.
//!
//! Run with: `cargo run --example periodic [-- --virtual]`
//!
//! What to look for:
//! 1. A 2 s job and a 3 s job interleave on one thread: both run at t = 0 (an interval's first
//!    tick is immediate), then 2, 3, 4, 6 (both), 8, 9, 10. Main sleeps 10.5 s and then cancels
//!    both jobs: a periodic job usually ends by being cancelled, parked in `tick()`.
//! 2. A 1 s interval whose first run takes 2.5 s, under each `MissedTickBehavior`: `Burst`
//!    fires the missed ticks back to back, `Delay` restarts the cadence from the late tick,
//!    `Skip` (the default) fires one late tick and then rejoins the original schedule.
//!
//! With `--virtual` the ten seconds take no real time and the timeline is exact on every run.
//!
//! What production runtimes do differently: this is tokio's `Interval` and its
//! `MissedTickBehavior`, with one change: tokio's default is `Burst`; evloop's is `Skip`,
//! because a periodic job rarely wants a flurry of catch-up runs after a stall. Cron-like
//! schedulers (APScheduler, Celery beat) add persistence and wall-clock schedules on top.

mod support;

use std::time::{Duration, Instant};

use evloop::time::{MissedTickBehavior, interval, now, sleep};

fn main() {
    support::init_logger();
    run(support::virtual_clock_requested());
}

/// `instant - start` in seconds with one decimal (the jobs here run on whole and half seconds).
fn secs(instant: Instant, start: Instant) -> String {
    format!("{:.1}", instant.saturating_duration_since(start).as_secs_f64())
}

/// A periodic job: waits for each tick of a `period`-long interval and "does its work".
async fn job(name: &'static str, period: Duration, start: Instant) {
    let mut ticks = interval(period);
    for run in 1.. {
        ticks.tick().await;
        println!("  [t = {:>4} s] {name}: run #{run}", secs(now(), start));
    }
}

/// A 1 s interval whose first run is slow (2.5 s); returns "due→fired" for five ticks.
async fn late_ticks(behavior: MissedTickBehavior) -> String {
    let start = now();
    let mut ticks = interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(behavior);
    let mut line = String::new();
    for run in 0..5 {
        let due = ticks.tick().await;
        line += &format!("  {}→{}", secs(due, start), secs(now(), start));
        if run == 0 {
            sleep(Duration::from_millis(2500)).await; // the slow run: three ticks come due meanwhile
        }
    }
    line
}

pub fn run(virtual_clock: bool) {
    let runtime = support::runtime(virtual_clock);

    runtime.block_on(async {
        println!("-- 1. a job every 2 s and a job every 3 s, stopped after 10.5 s --");
        let start = now();
        let every_2s = evloop::spawn_named("every 2 s", job("every 2 s", Duration::from_secs(2), start));
        let every_3s = evloop::spawn_named("every 3 s", job("every 3 s", Duration::from_secs(3), start));
        println!(
            "  main: spawned {} and {}; sleeping 10.5 s",
            every_2s.id(),
            every_3s.id()
        );
        println!("  (between runs each job is parked in tick(), and the loop sleeps until the nearest deadline)");
        sleep(Duration::from_millis(10_500)).await;
        println!(
            "  [t = {:>4} s] main: woke up; cancelling both jobs",
            secs(now(), start)
        );
        for handle in [every_2s, every_3s] {
            handle.cancel();
            match handle.await {
                Err(error) if error.is_cancelled() => println!("  main: {error} (dropped while parked in tick())"),
                other => println!("  main: unexpected: {other:?}"),
            }
        }

        println!("-- 2. missed ticks: a 1 s interval whose first run takes 2.5 s (due→fired, in s) --");
        for behavior in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            let line = late_ticks(behavior).await;
            println!("  {:<5}{line}", format!("{behavior:?}"));
        }
        println!("  Burst: the ticks due at 1 s and 2 s both fire at 2.5 s, then the schedule resumes");
        println!("  Delay: the late tick restarts the cadence: 3.5, 4.5, … (the schedule has shifted)");
        println!("  Skip (the default): one late tick at 2.5 s, then back on the original 3, 4, … grid");
    });
}

//! say_after: the "time issue": two waits awaited in turn add up; run as tasks they overlap.
//!
//! Mirrors: "Pythonasyncio协程详解与实战" (Python asyncio coroutines in detail, and in practice),
//! section "解决方案" (the solution) — seeds/003_d72a955675d78a58.txt. Its Task A / Task B
//! program: `task_a` sleeps 2 s, `task_b` sleeps 1 s, and `await asyncio.gather(task_a(),
//! task_b())` finishes in about 2 s, not 3 s ("总耗时大约是2秒(最长那个任务的时间),而不是3秒").
//! The first half shows the 3 s version, which is what happens when coroutines are simply
//! awaited one after the other.
//!
//! Run with: `cargo run --example say_after [-- --virtual]`
//!
//! What to look for: the start/finish times. Awaited in turn, B cannot start until A has
//! finished: 3 s. As tasks, both start at t = 0 and the total is the longest wait: 2 s. On the
//! real clock the times are some microseconds late (a timer is never early, and the loop
//! needs a moment to notice it); with `--virtual`, the loop's clock jumps straight to each
//! deadline, the program finishes at once, and it prints exactly the same numbers every run.
//!
//! What production runtimes do differently: asyncio's `gather` wraps each coroutine in a task
//! and awaits them all, which is what part 2 does by hand (spawn, then await each handle).
//! `futures::join!` and tokio's `join!` go one step further: they poll several futures inside
//! the *current* task, with no spawn and no allocation (but then, on a multi-threaded runtime,
//! never on two cores at once). tokio's paused clock (`tokio::time::pause`) is `--virtual`.

mod support;

use std::time::{Duration, Instant};

use evloop::time::{now, sleep};

use support::since;

fn main() {
    support::init_logger();
    run(support::virtual_clock_requested());
}

/// The article's `task_a` / `task_b`: announce, wait (pretend I/O), announce.
async fn say_after(name: &str, delay: Duration, start: Instant) {
    println!(
        "  [t = {}] {name}: started; sleeping {} s",
        since(start),
        delay.as_secs()
    );
    sleep(delay).await;
    println!("  [t = {}] {name}: finished", since(start));
}

pub fn run(virtual_clock: bool) {
    let runtime = support::runtime(virtual_clock);

    runtime.block_on(async {
        println!("-- 1. awaited one after the other: `await task_a(); await task_b()` --");
        let start = now();
        println!("  main: awaiting Task A; main itself is suspended until A's timer fires");
        say_after("Task A", Duration::from_secs(2), start).await;
        println!("  main: A is done; only now does Task B start");
        say_after("Task B", Duration::from_secs(1), start).await;
        println!("  total: t = {}: the waits added up (2 s + 1 s)", since(start));

        println!("-- 2. as concurrent tasks: `await asyncio.gather(task_a(), task_b())` --");
        let start = now();
        let a = evloop::spawn(say_after("Task A", Duration::from_secs(2), start));
        let b = evloop::spawn(say_after("Task B", Duration::from_secs(1), start));
        println!("  main: spawned A as {} and B as {}; awaiting both", a.id(), b.id());
        a.await.expect("Task A neither panics nor is cancelled");
        println!("  main: A's handle is done; B finished a second earlier, while A was sleeping");
        b.await.expect("Task B neither panics nor is cancelled");
        println!(
            "  total: t = {}: both waits overlapped; the longest one decides",
            since(start)
        );
    });
}

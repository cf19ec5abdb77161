//! lock_race: a read-await-write race on a shared counter, and the `Lock` that fixes it.
//!
//! Mirrors: the untitled article in seeds/002_2249a562833656a4.txt (its introduction,
//! "引言", opens "在现代Python开发中,异步编程已成为构建高性能应用的重要技术手段": in modern
//! Python development, async programming has become an important technique for building
//! high-performance applications), section "2.3 资源竞争与并发控制陷阱" (the resource
//! contention and concurrency control pitfall). Its counter race: three tasks each add 1 a
//! thousand times, but with an `await` between reading the counter and writing it back:
//!
//! ```python
//! async def unsafe_increment():
//!     global shared_counter
//!     for _ in range(1000):
//!         temp = shared_counter
//!         await asyncio.sleep(0.0001)        # evloop::yield_now() here: asyncio.sleep(0)
//!         shared_counter = temp + 1
//! ```
//!
//! and the fix, `async with counter_lock:` around the three lines.
//!
//! Run with: `cargo run --example lock_race [-- --virtual]`
//!
//! What to look for:
//! 1. One thread, no preemption, and still a race: a task can only lose control at an
//!    `.await`, but that is exactly where this one parks, holding a stale copy of the counter.
//!    The trace shows A, B and C all reading 0 before any of them writes 1.
//! 2. The loss is the same on every run: 1000 instead of 3000. evloop's scheduler is FIFO and
//!    runs one snapshot of the ready queue per turn, so every turn runs A, B, C in that order;
//!    each reads the value, yields to the back of the queue, and next turn all three write the
//!    *same* value + 1. Three increments per turn, two of them lost. (asyncio's `sleep(0.0001)`
//!    goes through the timer heap and the OS clock, so there the loss can vary from run to run.)
//! 3. With the guard held across the `.await`, the other two queue on the lock, and the lock
//!    is handed over in FIFO order: A, B, C, A, B, C… and the total is 3000.
//! 4. The price of a lock held across a wait: the article's version sleeps 0.1 ms inside the
//!    lock, so the 3000 sleeps run one after another: at least 0.3 s (each sleep is a little
//!    late, never early). Keep critical sections short, and await outside them.
//!
//! Cases 1–3 never sleep, so they print the same on either clock; only case 4's time differs.
//!
//! What production runtimes do differently: on a multi-threaded runtime (tokio's default) the
//! same race also happens *without* any `.await`, between threads, which is why tokio's tasks
//! must be `Send` and shared state sits behind a `Mutex` or an atomic. Rust makes the racy
//! version hard to write there; here, single-threaded, `Rc<Cell<u64>>` is allowed, and the
//! only interleaving points are the `.await`s you can see.

mod support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use evloop::sync::Lock;
use evloop::time::{now, sleep};
use evloop::yield_now;

fn main() {
    support::init_logger();
    run(support::virtual_clock_requested());
}

/// Increments per task, and the tasks' names.
const ROUNDS: u64 = 1000;
const NAMES: [&str; 3] = ["A", "B", "C"];

/// The first few steps of a case, to print afterwards.
#[derive(Default)]
struct Trace(RefCell<Vec<String>>);

impl Trace {
    fn note(&self, line: impl FnOnce() -> String) {
        let mut lines = self.0.borrow_mut();
        if lines.len() < 9 {
            lines.push(line());
        }
    }

    fn print(&self) {
        println!("  first steps: {}, …", self.0.borrow().join("; "));
    }
}

/// The racy increment: read, yield to the loop, write back what was read plus one.
async fn unsafe_increment(name: &'static str, counter: Rc<Cell<u64>>, trace: Rc<Trace>) {
    for _ in 0..ROUNDS {
        let v = counter.get();
        trace.note(|| format!("{name} reads {v}"));
        yield_now().await; // another task may run here, and read the same `v`
        counter.set(v + 1);
        trace.note(|| format!("{name} writes {}", v + 1));
    }
}

/// The same, with the lock's guard held from the read to the write.
async fn safe_increment(name: &'static str, counter: Rc<Lock<u64>>, trace: Rc<Trace>, pause: Option<Duration>) {
    for _ in 0..ROUNDS {
        let mut guard = counter.lock().await; // `async with counter_lock:`
        let v = *guard;
        trace.note(|| format!("{name} locks, reads {v}"));
        match pause {
            Some(pause) => sleep(pause).await, // the article's `sleep(0.0001)`
            None => yield_now().await,         // others run, but queue on the lock
        }
        *guard = v + 1;
        trace.note(|| format!("{name} writes {}, unlocks", v + 1));
    } // the guard drops here at the end of each round: the lock goes to the next waiter
}

/// Runs the three safe incrementers and returns the final count.
async fn locked_case(pause: Option<Duration>, trace: &Rc<Trace>) -> u64 {
    let counter = Rc::new(Lock::new(0u64));
    let tasks = NAMES.map(|name| safe_increment(name, counter.clone(), trace.clone(), pause));
    let outcomes = evloop::gather_all(tasks).await;
    assert!(outcomes.iter().all(Result::is_ok), "no incrementer panics");
    *counter.lock().await
}

pub fn run(virtual_clock: bool) {
    let runtime = support::runtime(virtual_clock);
    let expected = ROUNDS * NAMES.len() as u64;

    runtime.block_on(async {
        println!("-- 1. three tasks x {ROUNDS}: read, yield_now().await, write back read + 1 --");
        let counter = Rc::new(Cell::new(0));
        let trace = Rc::new(Trace::default());
        let tasks = NAMES.map(|name| unsafe_increment(name, counter.clone(), trace.clone()));
        let outcomes = evloop::gather_all(tasks).await;
        assert!(outcomes.iter().all(Result::is_ok), "no incrementer panics");
        trace.print();
        let got = counter.get();
        println!(
            "  counter = {got} (expected {expected}): {} updates lost",
            expected - got
        );
        println!("  every turn runs A, B, C: all three read the same value before any writes,");
        println!("  then all three write that value + 1. The same count on every run.");

        println!("-- 2. the same, with the guard of a Lock held across the yield --");
        let trace = Rc::new(Trace::default());
        let got = locked_case(None, &trace).await;
        trace.print();
        println!("  counter = {got} (expected {expected}): B and C waited on the lock while A yielded,");
        println!("  and each unlock handed the lock to the longest waiter: A, B, C, A, B, C, …");

        println!("-- 3. the article's fix as written: sleep 0.1 ms while holding the lock --");
        let start = now();
        let got = locked_case(Some(Duration::from_micros(100)), &Rc::new(Trace::default())).await;
        let took = now().duration_since(start).as_secs_f64();
        println!("  counter = {got} after {took:.1} s: 3000 sleeps, one after another, none overlapping");
        println!("  (each 0.1 ms sleep waits its full 0.1 ms, one at a time). Correct, but serial:");
        println!("  hold a lock only around the read and the write, never across slow I/O if you can help it.");
    });
}

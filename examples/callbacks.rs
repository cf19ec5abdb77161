//! callbacks: what an event loop offered before coroutines: `call_soon`, `call_later`, and
//! "callback hell", next to the same job written with async/await.
//!
//! Mirrors: "深入理解 Python 异步编程(下)" (Understanding Python asynchronous programming in
//! depth, part 3 of 3), section "2.1 回调地狱与解决方案" (callback hell and its solution)
//! — seeds/000_8e7512ba363f68fc.txt. There `callback1` calls `call_soon(callback2)`, which calls
//! `call_soon(callback3)`; the fix is one `async def` that awaits three times. Here both
//! versions run *at the same time*, on the same loop.
//!
//! Run with: `cargo run --example callbacks [-- --virtual]`
//!
//! What to look for:
//! 1. `call_soon` is FIFO: a, b, c run in the order they were scheduled, and only once the
//!    code that scheduled them gives the loop control back.
//! 2. A callback that schedules the next one pushes it to the *back* of the ready queue, and a
//!    task step goes on the same queue: so callback 1, task step 1, callback 2, task step 2…
//!    alternate. Each result travels into the next closure by being captured (`move`); getting
//!    the final result *out* needs a shared cell, because nobody can await a callback.
//! 3. `call_later` callbacks run in deadline order, after any `call_soon`; a cancelled one
//!    never runs. With `--virtual` the times print exactly (0.100 s, 0.300 s) on every run.
//!
//! What production runtimes do differently: JavaScript, Twisted and libuv programs were
//! written in this style for years (promises, then async/await, fixed the readability).
//! tokio has no public `call_soon` at all: everything is a task, and a "callback" is a tiny
//! spawned future. asyncio keeps callbacks as the loop's primitive and builds tasks on them;
//! evloop keeps both and puts them on one queue so their relative order matches asyncio's.

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use evloop::time::{now, sleep};
use evloop::{call_later, call_soon, yield_now};

use support::{since, step};

fn main() {
    support::init_logger();
    run(support::virtual_clock_requested());
}

/// The async version's pretend I/O: give the loop one turn, then produce a value.
async fn lookup(what: &str, value: String) -> String {
    step(format!(
        "task: asking for {what}; awaiting (the task parks, the loop moves on)"
    ));
    yield_now().await;
    value
}

pub fn run(virtual_clock: bool) {
    let runtime = support::runtime(virtual_clock);
    runtime.block_on(async {
        println!("-- 1. call_soon is first in, first out --");
        for name in ["a", "b", "c"] {
            call_soon(move || step(format!("callback {name}")));
        }
        step("main: scheduled a, b, c; none has run: main still holds the loop");
        yield_now().await; // main goes to the back of the queue, behind a, b and c
        step("main: back after yield_now: a, b, c ran first, in the order they were scheduled");

        println!("-- 2. one job, written as nested callbacks and as a task, running side by side --");
        let result = Rc::new(RefCell::new(None));
        let out = result.clone();
        call_soon(move || {
            step("callback 1: look up the user id (42); schedule callback 2 with it");
            let id = 42;
            call_soon(move || {
                step(format!(
                    "callback 2: got id {id}; load the name (ada); schedule callback 3"
                ));
                let name = "ada";
                call_soon(move || {
                    step(format!("callback 3: got {name:?}; store the greeting in a shared cell"));
                    *out.borrow_mut() = Some(format!("hello, {name}"));
                });
            });
        });
        let task = evloop::spawn(async {
            let id = lookup("the user id", "42".to_string()).await;
            let name = lookup(&format!("the name of user {id}"), "ada".to_string()).await;
            step(format!("task: got {name:?}; returning the greeting"));
            format!("hello, {name}")
        });
        step("main: scheduled callback 1 and spawned the task; awaiting the task");
        let from_task = task.await.expect("the task neither panics nor is cancelled");
        let from_callbacks = result.borrow_mut().take();
        step(format!(
            "main: task returned {from_task:?}; the callbacks left {from_callbacks:?}"
        ));

        println!("-- 3. call_later, and a cancelled callback --");
        let start = now();
        call_later(Duration::from_millis(300), move || {
            step(format!("t = {}: the 300 ms callback", since(start)))
        });
        call_later(Duration::from_millis(100), move || {
            step(format!("t = {}: the 100 ms callback", since(start)))
        });
        let doomed = call_later(Duration::from_millis(200), || {
            step("the 200 ms callback (never printed)")
        });
        call_soon(move || step(format!("t = {}: call_soon runs before every timer", since(start))));
        let cancelled = doomed.cancel();
        step(format!(
            "main: cancel() of {} returned {cancelled}; is_pending() is now {}",
            doomed.id(),
            doomed.is_pending()
        ));
        sleep(Duration::from_millis(400)).await;
        step(format!(
            "t = {}: main woke from sleep(400 ms); timers ran in deadline order",
            since(start)
        ));
    });
}

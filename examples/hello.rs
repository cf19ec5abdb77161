//! hello: the smallest evloop program: run a coroutine, await another one, spawn a task.
//!
//! Mirrors: "Pythonasyncio协程详解与实战" (Python asyncio coroutines in detail, and in practice),
//! section "解决方案" (the solution), its three steps "定义协程" (define a coroutine), "等待异步操作"
//! (await an asynchronous operation) and "运行事件循环" (run the event loop: `asyncio.run`)
//! — seeds/003_d72a955675d78a58.txt. The program is asyncio's usual first one:
//!
//! ```python
//! async def greet(name):
//!     await asyncio.sleep(0.1)              # pretend to wait for I/O
//!     return f"hello, {name}"
//!
//! async def main():
//!     print(await greet("world"))           # a plain await: greet runs *inside* main
//!     task = asyncio.create_task(greet("task"))   # a task: the loop runs it on its own
//!     print(await task)
//!
//! asyncio.run(main())
//! ```
//!
//! Run with: `cargo run --example hello`
//!
//! What to look for: the numbered steps. Awaiting an `async fn` does not create anything the
//! loop can see: `greet("world")` runs inside main's own poll, and `current_id()` says so.
//! Spawning does create a task, but it does not run until main gives the loop control back
//! (by awaiting something that is not ready); only then does the loop pick the task up.
//!
//! What production runtimes do differently: tokio's `#[tokio::main]` hides `block_on` behind
//! a macro and usually runs a thread pool, so a spawned task may start at once on another
//! thread while main keeps going; that is why tokio's `spawn` needs `Send` futures and evloop's
//! does not. Python creates a coroutine object per call; Rust compiles each `async fn` into a
//! state machine, and awaiting one nests it inside the caller's, with no allocation at all.

mod support;

use std::time::Duration;

use support::step;

fn main() {
    support::init_logger();
    run();
}

/// Who is running: a task, or the future given to `run` (which is not a task).
fn who() -> String {
    match evloop::current_id() {
        Some(id) => format!("in {id}"),
        None => "in the main future".to_string(),
    }
}

/// A coroutine that waits (for a pretend network reply) and returns a value.
async fn greet(name: &str) -> String {
    step(format!(
        "  greet({name:?}) {}: sleeping 100 ms; the poll returns Pending",
        who()
    ));
    evloop::time::sleep(Duration::from_millis(100)).await;
    step(format!("  greet({name:?}) {}: the timer woke us up; returning", who()));
    format!("hello, {name}")
}

pub fn run() {
    // `evloop::run` is `asyncio.run`: build a loop, run this future to completion, tear down.
    let answer = support::run(async {
        step(format!("main: started {}", who()));
        step("main: calling greet(\"world\").await: no task is created, greet runs inside main");
        let greeting = greet("world").await;
        step(format!("main: greet returned {greeting:?}"));

        let task = evloop::spawn(async { greet("task").await });
        step(format!("main: spawned {}; it is queued but has not run yet", task.id()));
        step("main: still running: spawning never switches to the new task by itself");
        step("main: awaiting the task's JoinHandle, so main parks and the loop runs the task");
        let from_task = task.await.expect("greet does not panic, and nobody cancels the task");
        step(format!("main: the task finished and returned {from_task:?}"));
        (greeting, from_task)
    });
    step(format!(
        "evloop::run returned {answer:?}; the loop and its tasks are gone"
    ));
}

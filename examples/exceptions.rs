//! exceptions: where a panic in a task goes, with and without someone awaiting the task.
//!
//! Mirrors: "深入理解 Python 异步编程(下)" (Understanding Python asynchronous programming in
//! depth, part 3 of 3), section "2.2 异常处理陷阱" (the exception-handling pitfall), and for the
//! loop-wide handler section "5.3 错误处理规范" (rules for handling errors)
//! — seeds/000_8e7512ba363f68fc.txt. There `create_task(faulty_task())` never awaited ends as
//! asyncio's "Task exception was never retrieved" in the log, while
//! `try: await task except ValueError:` catches it. evloop treats a panic in a task as
//! Python treats an exception in one: it is caught at the task's boundary and kept for
//! whoever awaits the `JoinHandle`; with no one to receive it, it goes to the loop's
//! exception handler (`loop.set_exception_handler`). Either way the loop keeps running.
//!
//! Run with: `cargo run --example exceptions`
//!
//! What to look for: the `[exception handler]` lines (for the detached task and for a
//! panicking callback), the `JoinError` the awaiting code inspects, and the heartbeat task
//! that keeps beating through all three panics. This example installs a silent panic hook
//! while it runs; without it, Rust's default hook would also print "thread 'main' panicked
//! at …" for every panic, even the ones that are caught and handled.
//!
//! What production runtimes do differently: tokio also catches a task's panic and hands it
//! to the `JoinHandle` as a `JoinError`, but a detached task's panic is only printed by the
//! panic hook; there is no loop-wide handler (an unstable option can shut the runtime down
//! instead). Rust's idiom for expected failures is `Result`, not panics: a real service
//! returns `Err` from its tasks and keeps panics for bugs.

mod support;

use evloop::{Runtime, call_soon, spawn_named, yield_now};

use support::step;

fn main() {
    support::init_logger();
    run();
}

/// The article's `faulty_task`: it fails on its first step.
async fn faulty(what: &'static str) {
    step(format!("{what}: running, and about to panic"));
    panic!("ValueError: {what} failed");
}

pub fn run() {
    // Keep whatever hook was installed, to put it back afterwards (the tour runs other
    // examples after this one, and their panics should print normally).
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));

    let runtime = support::build(Runtime::builder());
    runtime.set_exception_handler(|context| println!("    [exception handler] {context}"));
    runtime.block_on(async {
        let heartbeat = spawn_named("heartbeat", async {
            for beat in 1.. {
                step(format!("heartbeat: beat {beat}, the loop is alive"));
                yield_now().await;
            }
        });

        println!("-- 1. a detached task panics: nobody will ever see its JoinError --");
        let detached = spawn_named("faulty", faulty("detached task"));
        step(format!(
            "main: spawned {} and dropped its handle (fire and forget)",
            detached.id()
        ));
        drop(detached);
        yield_now().await; // one turn: the heartbeat beats, the task runs and panics
        step("main: the panic was caught at the task's boundary and sent to the handler");

        println!("-- 2. a callback panics --");
        let callback = call_soon(|| panic!("KeyError: a callback failed"));
        step(format!("main: scheduled {} which will panic", callback.id()));
        yield_now().await;

        println!("-- 3. the same failure, awaited: try/except --");
        let awaited = spawn_named("faulty-awaited", faulty("awaited task"));
        step(format!("main: spawned {} and awaiting it", awaited.id()));
        match awaited.await {
            Ok(()) => step("main: the task succeeded (not expected here)"),
            Err(error) if error.is_panic() => step(format!(
                "main: caught it: is_panic() = true, panic_message() = {:?}; no handler line",
                error.panic_message().unwrap_or("(not a string)")
            )),
            Err(error) => step(format!("main: the task ended another way: {error}")),
        }

        println!("-- 4. the loop is still running --");
        step("main: cancelling the heartbeat, which has kept beating through every panic");
        heartbeat.cancel();
        match heartbeat.await {
            Err(error) if error.is_cancelled() => step(format!("main: {error}")),
            other => step(format!("main: unexpected heartbeat outcome: {other:?}")),
        }
    });
    drop(runtime);
    std::panic::set_hook(previous_hook);
}

//! eager_start: the same program with and without eager task start, printing the order.
//!
//! Mirrors: asyncio 3.12's `loop.set_task_factory(asyncio.eager_task_factory)`: "the task
//! starts executing immediately, synchronously, until its first await; if it completes or
//! raises without ever awaiting, no scheduling happens at all". The program: a handler that
//! spawns one lookup per key; most keys are in a cache (the lookup returns without waiting),
//! one is not (it sleeps, pretending to ask a server).
//!
//! Run with: `cargo run --example eager_start`
//!
//! What to look for:
//! 1. Without eager start, `spawn` only queues: the handler runs on until its first await, and
//!    every lookup starts after it, in the next turn.
//! 2. With eager start, each lookup runs inside its own `spawn`, interleaved with the handler's
//!    lines; the cached ones are finished before `spawn` returns, and were never queued (the
//!    loop's `Stats::wakes` counts no spawn wake for them), so the handler's join is quick.
//! 3. The cost is the order: code after `spawn` can no longer count on running before the new
//!    task's first step. asyncio made it an option for that reason, and so does evloop
//!    (`Builder::eager_tasks`, or `evloop::spawn_eager` for one task).
//!
//! What production runtimes do differently: tokio has no eager spawn; its `LocalSet`'s
//! `spawn_local` always queues. An eager first poll also runs the child on the parent's stack,
//! so a deep chain of eager spawns nests polls (evloop saves and restores the parent's per-poll
//! state around each; `src/runtime/eager.rs`).

mod support;

use std::time::Duration;

use evloop::Runtime;
use evloop::time::sleep;

fn main() {
    support::init_logger();
    for eager in [false, true] {
        let title = if eager {
            "with eager start"
        } else {
            "without eager start (the default)"
        };
        println!("-- {title} --");
        let runtime = support::build(Runtime::builder().virtual_clock().eager_tasks(eager));
        let spawn_wakes = runtime.block_on(handler());
        println!("  tasks queued by their spawn: {spawn_wakes}");
        println!();
    }
}

/// Looks up three keys, each in a task of its own, and waits for all of them.
async fn handler() -> u64 {
    let before = evloop::stats().wakes.spawn;
    let mut lookups = Vec::new();
    for key in ["alpha", "beta", "gamma"] {
        println!("  handler: spawning the lookup of {key}");
        lookups.push(evloop::spawn(lookup(key)));
        println!(
            "  handler: spawned {key}; finished already: {}",
            lookups.last().is_some_and(|t| t.is_finished())
        );
    }
    println!("  handler: waiting for the lookups");
    for lookup in lookups {
        let value = lookup.await.expect("a lookup does not panic");
        println!("  handler: got {value}");
    }
    evloop::stats().wakes.spawn - before
}

/// A lookup that usually hits the cache; "beta" has to go to the "server".
async fn lookup(key: &'static str) -> String {
    println!("    lookup {key}: started");
    if key == "beta" {
        println!("    lookup {key}: not cached, asking the server");
        sleep(Duration::from_millis(20)).await;
    }
    println!("    lookup {key}: done");
    format!("{key}=1")
}

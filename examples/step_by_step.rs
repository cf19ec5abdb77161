//! step_by_step: the loop one turn at a time: what ran, what it woke and why, what the clock did.
//!
//! Mirrors: asyncio's `BaseEventLoop._run_once`, the one loop turn that `run_forever` repeats,
//! and the say_after program of `examples/say_after.rs` (Task A sleeps 2 s, Task B 1 s, and
//! together they take 2 s, not 3). Here nobody calls `block_on`: the program calls
//! `Runtime::run_once()` itself and prints the report of every turn, on the virtual clock,
//! first letting the clock jump on its own, then with the clock paused and moved by hand with
//! `evloop::time::advance` (tokio's `time::pause` / `time::advance`).
//!
//! Run with: `cargo run --example step_by_step`
//!
//! Each turn prints its number and the loop's time, then whatever the tasks print while they
//! run in it, then the turn's report (the lines starting with `→`).
//!
//! What to look for:
//! 1. A turn runs exactly what was ready when it started (its "ran" list); what those steps
//!    wake waits for the next turn ("it runs next turn").
//! 2. When nothing is ready, the turn first looks outward and waits. On the virtual clock that
//!    wait is a jump straight to the next deadline ("waited 1 s"), after which the timer fires
//!    and its task runs *in the same turn*.
//! 3. Paused, the clock does not jump: the clock task moves it 500 ms at a time with
//!    `advance`, and each advance fires only the timers due by then, so B wakes after the
//!    second advance and A after the fourth.
//!
//! What production runtimes do differently: none lets a caller step the loop and get a report
//! back; asyncio's debug mode and tokio-console show the same facts as logs and live views.
//! Host loops (a GUI's, a game's) do step a loop, with a call that never blocks:
//! `Runtime::run_ready`, in `examples/host_loop.rs`.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use evloop::record::WakeCause;
use evloop::time::{advance, now, sleep};
use evloop::{JoinHandle, Ran, Runtime, TaskId, TurnReport};

fn main() {
    support::init_logger();
    println!("-- 1. the virtual clock jumps on its own whenever the loop is idle --");
    let runtime = support::build(Runtime::builder().virtual_clock());
    let names = spawn_say_afters(&runtime);
    step_until_done(&runtime, &names);

    println!();
    println!("-- 2. paused: only `advance` moves the clock --");
    let runtime = support::build(Runtime::builder().start_paused(true));
    let mut names = spawn_say_afters(&runtime);
    let clock = runtime.spawn(async {
        for _ in 0..4 {
            advance(Duration::from_millis(500)).await;
        }
    });
    names.insert(clock.id(), ("clock", None));
    step_until_done(&runtime, &names);
}

/// A task's name, and its handle if the program waits for it.
type Names = HashMap<TaskId, (&'static str, Option<JoinHandle<()>>)>;

/// The say_after program: Task A sleeps 2 s, Task B 1 s, started together.
fn spawn_say_afters(runtime: &Runtime) -> Names {
    let start = runtime.now();
    let mut names = Names::new();
    for (name, delay) in [("A", 2), ("B", 1)] {
        let task = runtime.spawn(say_after(name, Duration::from_secs(delay), start));
        names.insert(task.id(), (name, Some(task)));
    }
    names
}

async fn say_after(name: &'static str, delay: Duration, start: Instant) {
    println!("      {name}: sleeping {} s", delay.as_secs());
    sleep(delay).await;
    println!("      {name}: done at t = {}", support::secs(now() - start));
}

/// Runs one turn at a time until A and B are done, printing each report.
fn step_until_done(runtime: &Runtime, names: &Names) {
    let start = runtime.now();
    let done = || {
        names
            .values()
            .all(|(_, task)| task.as_ref().is_none_or(JoinHandle::is_finished))
    };
    let mut turn = 0;
    while !done() {
        turn += 1;
        println!("  turn {turn} (t = {}):", support::secs(runtime.now() - start));
        let report = runtime.run_once();
        print_report(&report, names);
    }
}

fn print_report(report: &TurnReport, names: &Names) {
    let name = |id: &TaskId| names.get(id).map_or("?", |(name, _)| name);
    match report.waited {
        Some(waited) => println!("    → nothing was ready: looked outward and waited {waited:?}"),
        None if report.looked => println!("    → looked outward without waiting"),
        None => {}
    }
    if report.timers_fired > 0 {
        println!("    → timers fired: {}", report.timers_fired);
    }
    let ran: Vec<String> = report
        .ran
        .iter()
        .map(|ran| match ran {
            Ran::Task(id) => format!("task {}", name(id)),
            Ran::Callback(id) => format!("{id}"),
            _ => "the block_on future".to_string(),
        })
        .collect();
    println!("    → ran: {}", ran.join(", "));
    for (id, cause) in &report.events_woke {
        println!(
            "    → woke {} by {} (so it ran in this turn)",
            name(id),
            describe(*cause, names)
        );
    }
    for (id, cause) in &report.ran_woke {
        println!(
            "    → woke {} by {} (it runs next turn)",
            name(id),
            describe(*cause, names)
        );
    }
}

fn describe(cause: WakeCause, names: &Names) -> String {
    match cause {
        WakeCause::Timer => "its timer".to_string(),
        WakeCause::Task(id) => format!("task {}", names.get(&id).map_or("?", |(name, _)| name)),
        WakeCause::Spawn => "its spawn".to_string(),
        other => format!("{other:?}"),
    }
}

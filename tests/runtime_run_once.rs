//! `Runtime::run_once`: exactly one loop turn, and an exact report of what it did, for a
//! scripted program on the virtual clock.

mod support;

use std::time::Duration;

use evloop::record::WakeCause;
use evloop::time::sleep;
use evloop::{Ran, Runtime, TurnReport, call_soon, yield_now};
use support::{Log, virtual_runtime};

type Wakes = Vec<(evloop::TaskId, WakeCause)>;

/// A report's looks, waits, runs and wakes, to compare with an expected tuple in one assert.
fn parts(turn: &TurnReport) -> (bool, Option<Duration>, Vec<Ran>, Wakes, Wakes) {
    (
        turn.looked,
        turn.waited,
        turn.ran.clone(),
        turn.events_woke.clone(),
        turn.ran_woke.clone(),
    )
}

#[test]
fn each_turn_reports_what_ran_what_it_woke_and_what_the_clock_did() {
    let rt = virtual_runtime();
    let log = Log::new();
    let l = log.clone();
    let sleeper = rt.spawn(async move {
        sleep(Duration::from_millis(10)).await;
        l.push("sleeper woke");
        yield_now().await;
        l.push("sleeper done");
    });
    let quick = rt.spawn(async {});
    let (s, q) = (sleeper.id(), quick.id());

    // Turn 1: work is ready, so no look outward; both first steps run. The sleeper parks.
    let turn = rt.run_once();
    assert_eq!(
        parts(&turn),
        (false, None, vec![Ran::Task(s), Ran::Task(q)], vec![], vec![])
    );
    assert_eq!((turn.timers_fired, turn.io_polls, turn.io_events), (0, 0, 0));
    assert!(quick.is_finished());

    // Turn 2: nothing is ready: the clock jumps 10 ms, the timer fires and wakes the sleeper,
    // which runs and then wakes itself (yield_now) for the next turn.
    let turn = rt.run_once();
    assert_eq!(
        parts(&turn),
        (
            true,
            Some(Duration::from_millis(10)),
            vec![Ran::Task(s)],
            vec![(s, WakeCause::Timer)],
            vec![(s, WakeCause::Task(s))]
        )
    );
    assert_eq!(turn.timers_fired, 1);
    assert_eq!(turn.io_polls, 0, "no socket and no wait: the loop does not ask the OS");
    assert_eq!(log.take(), ["sleeper woke"]);

    // Turn 3: it is ready again; it finishes.
    let turn = rt.run_once();
    assert_eq!(parts(&turn), (false, None, vec![Ran::Task(s)], vec![], vec![]));
    assert_eq!(log.take(), ["sleeper done"]);
    assert!(sleeper.is_finished());
    assert_eq!(rt.stats().tasks, 0);
}

#[test]
fn a_callback_queued_by_a_task_runs_in_the_next_turn_and_is_reported_by_id() {
    let rt = virtual_runtime();
    let log = Log::new();
    let l = log.clone();
    let task = rt.spawn(async move {
        call_soon(move || l.push("callback ran"));
    });
    let turn = rt.run_once();
    assert_eq!(turn.ran, [Ran::Task(task.id())]);
    let turn = rt.run_once();
    assert!(matches!(turn.ran.as_slice(), [Ran::Callback(_)]), "{turn:?}");
    assert_eq!(log.take(), ["callback ran"]);
}

#[test]
fn a_busy_loop_looks_outward_without_waiting_once_every_event_interval_polls() {
    let rt = Runtime::builder().virtual_clock().event_interval(2).build().unwrap();
    let spinner = rt.spawn(async {
        loop {
            yield_now().await;
        }
    });
    let looks: Vec<(bool, Option<Duration>)> = (0..5)
        .map(|_| {
            let turn = rt.run_once();
            (turn.looked, turn.waited)
        })
        .collect();
    // Polls since the last look: 1 after turn 1, 2 after turn 2 (look at turn 3), and so on.
    assert_eq!(
        looks,
        [(false, None), (false, None), (true, None), (false, None), (true, None)]
    );
    spinner.cancel();
    let turn = rt.run_once();
    assert_eq!(
        turn.ran,
        [Ran::Task(spinner.id())],
        "the cancelled task's drop is its last step"
    );
    assert_eq!(rt.stats().tasks, 0);
}

#[test]
fn run_once_counts_in_stats_like_any_turn() {
    let rt = virtual_runtime();
    let before = rt.stats();
    let task = rt.spawn(sleep(Duration::from_millis(1)));
    rt.run_once();
    rt.run_once();
    assert!(task.is_finished());
    let after = rt.stats();
    assert_eq!(after.turns - before.turns, 2);
    assert_eq!(after.polls - before.polls, 2);
    assert_eq!(after.timers_fired - before.timers_fired, 1);
}

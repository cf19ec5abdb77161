//! The order in which the loop runs things: exact traces within and across turns.

mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use evloop::{call_soon, spawn, yield_now};
use support::{Log, virtual_runtime};

#[test]
fn callbacks_and_task_steps_share_one_fifo_queue() {
    let log = Log::new();
    let l = log.clone();
    evloop::run(async move {
        let (a, b, c) = (l.clone(), l.clone(), l.clone());
        call_soon(move || a.push("callback 1"));
        let task = spawn(async move {
            b.push("task step 1");
            yield_now().await;
            b.push("task step 2");
        });
        call_soon(move || c.push("callback 2"));
        l.push("main before await");
        task.await.unwrap();
        l.push("main after await");
    });
    assert_eq!(
        log.take(),
        [
            "main before await",
            "callback 1",
            "task step 1",
            "callback 2",
            "task step 2",
            "main after await"
        ]
    );
}

#[test]
fn work_made_ready_during_a_turn_waits_for_the_next_turn() {
    let log = Log::new();
    let l = log.clone();
    evloop::run(async move {
        let (a, b) = (l.clone(), l.clone());
        call_soon(move || {
            a.push("A (turn 1)");
            let c = a.clone();
            call_soon(move || c.push("C (turn 2, queued by A)"));
        });
        call_soon(move || b.push("B (turn 1)"));
        // Main itself runs again only after everything queued before its yield.
        yield_now().await;
        yield_now().await;
        l.push("main");
    });
    assert_eq!(
        log.take(),
        ["A (turn 1)", "B (turn 1)", "C (turn 2, queued by A)", "main"]
    );
}

#[test]
fn tasks_yielding_in_turn_interleave_round_robin() {
    let log = Log::new();
    let l = log.clone();
    evloop::run(async move {
        let tasks: Vec<_> = ["a", "b", "c"]
            .into_iter()
            .map(|name| {
                let l = l.clone();
                spawn(async move {
                    for step in 0..3 {
                        l.push(format!("{name}{step}"));
                        yield_now().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(log.take(), ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]);
}

#[test]
fn a_task_woken_many_times_in_one_turn_is_polled_once() {
    let polls = Rc::new(Cell::new(0));
    let p = polls.clone();
    evloop::run(async move {
        let waker_slot = Rc::new(std::cell::RefCell::new(None));
        let slot = waker_slot.clone();
        let done = Rc::new(Cell::new(false));
        let d = done.clone();
        let task = spawn(std::future::poll_fn(move |cx| {
            p.set(p.get() + 1);
            if d.get() {
                return Poll::Ready(());
            }
            *slot.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }));
        yield_now().await; // the task's first poll
        let waker: std::task::Waker = waker_slot.borrow_mut().take().unwrap();
        done.set(true);
        waker.wake_by_ref();
        waker.wake_by_ref();
        let clone = waker.clone();
        clone.wake(); // a clone woken by value
        waker.wake();
        task.await.unwrap();
    });
    assert_eq!(polls.get(), 2, "one poll to park, one after the four wakes");
}

#[test]
fn a_self_waking_task_cannot_starve_timers_or_other_tasks() {
    let spins = Rc::new(Cell::new(0u64));
    let s = spins.clone();
    let rt = evloop::Runtime::new().unwrap();
    rt.block_on(async move {
        let spinner = spawn(async move {
            loop {
                s.set(s.get() + 1);
                yield_now().await;
            }
        });
        // A timer on the real clock still fires while the spinner never stops being ready.
        evloop::time::sleep(Duration::from_millis(5)).await;
        let other = spawn(async { 7 });
        assert_eq!(other.await.unwrap(), 7);
        spinner.cancel();
    });
    assert!(spins.get() > 0);
}

#[test]
fn nested_block_on_panics_with_an_explanation() {
    let result = std::panic::catch_unwind(|| {
        evloop::run(async {
            evloop::run(async {});
        })
    });
    let payload = result.expect_err("nested block_on must panic");
    let message = support::panic_text(&*payload);
    assert!(
        message.contains("cannot call block_on while an evloop loop is already running"),
        "{message}"
    );
    assert!(
        message.contains("spawn the future"),
        "the message says what to do instead: {message}"
    );
    // The thread is usable again afterwards.
    assert_eq!(evloop::run(async { 5 }), 5);
}

#[test]
fn spawn_outside_a_loop_panics_with_an_explanation() {
    let payload = std::panic::catch_unwind(|| {
        drop(spawn(async {}));
    })
    .expect_err("no loop is running");
    let message = support::panic_text(&*payload);
    assert!(message.contains("inside a running evloop loop"), "{message}");
}

#[test]
fn tasks_survive_between_block_on_calls_and_run_again() {
    let rt = virtual_runtime();
    let log = Log::new();
    let l = log.clone();
    let handle = rt.spawn(async move {
        l.push("started");
        evloop::time::sleep(Duration::from_secs(1)).await;
        l.push("woke");
        9
    });
    rt.block_on(async { yield_now().await });
    assert_eq!(log.snapshot(), ["started"]);
    assert_eq!(rt.stats().tasks, 1);
    assert_eq!(rt.block_on(handle).unwrap(), 9);
    assert_eq!(log.take(), ["started", "woke"]);
    assert_eq!(rt.stats().tasks, 0);
    assert_eq!(rt.stats().timers, 0);
}

#[test]
fn callback_handles_cancel_until_the_callback_runs() {
    let log = Log::new();
    let l = log.clone();
    evloop::run(async move {
        let (a, b) = (l.clone(), l.clone());
        let first = call_soon(move || a.push("first"));
        let second = call_soon(move || b.push("second"));
        assert!(second.is_pending());
        assert!(second.cancel(), "cancel before it ran");
        assert!(!second.cancel(), "a second cancel does nothing");
        yield_now().await;
        assert!(!first.is_pending());
        assert!(!first.cancel(), "too late: it ran");
    });
    assert_eq!(log.take(), ["first"]);
}

#[test]
fn block_on_returns_borrowed_results() {
    let rt = evloop::Runtime::new().unwrap();
    let mut local = vec![1, 2];
    let borrowed = &mut local;
    rt.block_on(async {
        yield_now().await;
        borrowed.push(3);
    });
    assert_eq!(local, [1, 2, 3]);
}

#[test]
fn task_ids_and_names_are_reported() {
    evloop::run(async {
        let named = evloop::spawn_named("fetcher", async { evloop::current_id() });
        let id = named.id();
        assert_eq!(named.await.unwrap(), Some(id));
        assert_eq!(evloop::current_id(), None, "block_on's future is not a task");
        assert!(id.to_string().starts_with("task#"));
    });
}

//! Timers fire at their deadline to the microsecond, not on a millisecond grid: the wheel's
//! 1 µs ticks on a virtual clock, and the reactor's alarm (a timerfd) on a real one, which
//! costs no system call per insert or cancel and at most one per blocking wait.

mod support;

use std::time::{Duration, Instant};

use evloop::time::{advance, now, sleep, sleep_until};
use evloop::{Runtime, spawn, spawn_blocking, yield_now};
use support::Log;

fn virtual_runtime() -> Runtime {
    Runtime::builder().virtual_clock().build().expect("runtime")
}

fn paused_runtime() -> Runtime {
    Runtime::builder().start_paused(true).build().expect("runtime")
}

#[test]
fn a_timer_300_us_out_fires_at_exactly_300_us_on_a_virtual_clock() {
    let rt = virtual_runtime();
    let woke = rt.block_on(async {
        let start = now();
        sleep(Duration::from_micros(300)).await;
        now() - start
    });
    assert_eq!(woke, Duration::from_micros(300));
}

#[test]
fn a_timer_never_fires_a_microsecond_early() {
    let rt = paused_runtime();
    rt.block_on(async {
        let start = now();
        let sleeper = spawn(async move {
            sleep(Duration::from_micros(300)).await;
            now() - start
        });
        yield_now().await; // the sleeper registers its timer
        advance(Duration::from_micros(299)).await;
        assert!(!sleeper.is_finished(), "fired at 299 µs, before its deadline");
        advance(Duration::from_micros(1)).await;
        assert!(sleeper.is_finished(), "did not fire at its deadline");
        assert_eq!(sleeper.await.expect("sleeper"), Duration::from_micros(300));
    });
}

#[test]
fn a_deadline_between_two_microseconds_fires_at_the_later_one() {
    let rt = paused_runtime();
    rt.block_on(async {
        let start = now();
        let sleeper = spawn(sleep_until(start + Duration::from_nanos(300_500)));
        yield_now().await;
        advance(Duration::from_micros(300)).await;
        assert!(!sleeper.is_finished(), "fired before its deadline, 500 ns early");
        advance(Duration::from_micros(1)).await;
        assert!(sleeper.is_finished(), "not fired by the end of its microsecond");
    });
}

#[test]
fn timers_within_one_millisecond_fire_in_deadline_order_each_at_its_own_time() {
    let rt = virtual_runtime();
    let log = Log::new();
    let l = log.clone();
    rt.block_on(async move {
        let start = now();
        let mut sleepers = Vec::new();
        for (name, micros) in [("d", 900), ("a", 100), ("c", 450), ("b1", 300), ("b2", 300)] {
            let l = l.clone();
            sleepers.push(spawn(async move {
                sleep(Duration::from_micros(micros)).await;
                l.push(format!("{name} at {} µs", (now() - start).as_micros()));
            }));
        }
        for sleeper in sleepers {
            sleeper.await.expect("sleeper");
        }
    });
    assert_eq!(
        log.take(),
        [
            "a at 100 µs",
            "b1 at 300 µs",
            "b2 at 300 µs",
            "c at 450 µs",
            "d at 900 µs"
        ],
        "deadline order, equal deadlines in insertion order, each at its exact time"
    );
}

#[test]
fn an_idle_virtual_clock_jumps_straight_to_a_far_deadline() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let start = now();
        sleep(Duration::from_millis(1234)).await;
        assert_eq!(now() - start, Duration::from_millis(1234));
    });
    assert_eq!(rt.stats().timers_fired, 1);
}

/// Real clock: inserting and cancelling timers makes no system call (the alarm is not armed,
/// and no look at I/O is added), and a blocking wait for a timer arms the alarm once.
#[test]
fn inserting_and_cancelling_timers_costs_no_system_call_and_a_wait_arms_the_alarm_once() {
    let rt = Runtime::new().expect("runtime");
    rt.block_on(async {
        let before = evloop::stats();
        // Miri interprets every step: a few rounds there check the same thing.
        let rounds = if cfg!(miri) { 10 } else { 1_000 };
        for _ in 0..rounds {
            let mut sleeps: Vec<_> = (1..=10).map(|s| Box::pin(sleep(Duration::from_secs(s)))).collect();
            std::future::poll_fn(|cx| {
                for sleep in &mut sleeps {
                    assert!(sleep.as_mut().poll(cx).is_pending());
                }
                std::task::Poll::Ready(())
            })
            .await;
            drop(sleeps);
        }
        let after = evloop::stats();
        assert_eq!(
            after.alarm_sets, before.alarm_sets,
            "an insert or a cancel armed the alarm"
        );
        assert_eq!(after.io_polls, before.io_polls, "an insert or a cancel looked at I/O");

        let deadline = Instant::now() + Duration::from_micros(300);
        sleep_until(deadline).await;
        assert!(Instant::now() >= deadline, "woke before the deadline");
        let woke = evloop::stats();
        if cfg!(all(target_os = "linux", not(miri))) {
            assert_eq!(
                woke.alarm_sets - after.alarm_sets,
                1,
                "one timerfd_settime for the wait"
            );
        }
        assert!(woke.alarm_sets - after.alarm_sets <= woke.io_polls - after.io_polls);
    });
}

/// Real clock: a loop woken again and again while only a far timer is pending (here by blocking
/// jobs finishing) never arms the alarm: a deadline more than `ALARM_HORIZON` (2 ms) away is
/// waited for in whole milliseconds, so a timeout that never fires (an HTTP request's) costs no
/// system call. (That an armed deadline is not re-armed is `alarm.rs`'s unit test.)
#[test]
fn a_far_deadline_arms_no_alarm_however_often_the_loop_blocks() {
    let rt = Runtime::new().expect("runtime");
    rt.block_on(async {
        let pending = spawn(sleep(Duration::from_secs(60)));
        yield_now().await; // its timer is registered
        let before = evloop::stats();
        for _ in 0..5 {
            spawn_blocking(|| std::thread::sleep(Duration::from_millis(1)))
                .await
                .expect("blocking job");
        }
        let after = evloop::stats();
        // Not asserted under Miri, whose emulated threads and epoll interleave differently.
        if !cfg!(miri) {
            assert!(
                after.io_polls - before.io_polls >= 5,
                "the loop blocked while each job ran"
            );
        }
        assert_eq!(
            after.alarm_sets - before.alarm_sets,
            0,
            "a deadline a minute away armed the alarm"
        );
        pending.cancel();
    });
}

/// Real clock: a timer 20 ms away is waited for in two steps, whole milliseconds up to a
/// millisecond or two before it, then the alarm for the rest: it fires at or after its
/// deadline, and the alarm is armed at most once.
#[test]
fn a_far_timer_is_approached_in_milliseconds_then_hit_with_the_alarm() {
    let rt = Runtime::new().expect("runtime");
    rt.block_on(async {
        let before = evloop::stats();
        let deadline = Instant::now() + Duration::from_millis(20);
        sleep_until(deadline).await;
        assert!(Instant::now() >= deadline, "woke before the deadline");
        let after = evloop::stats();
        assert!(
            after.alarm_sets - before.alarm_sets <= 1,
            "armed {} times for one deadline",
            after.alarm_sets - before.alarm_sets
        );
        assert!(after.alarm_sets - before.alarm_sets <= after.io_polls - before.io_polls);
    });
}

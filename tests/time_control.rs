//! Moving a virtual clock by hand: `time::pause`, `resume`, `advance` and
//! `Builder::start_paused`, with tokio's semantics.

mod support;

use std::time::Duration;

use evloop::time::{advance, is_paused, now, pause, resume, sleep};
use evloop::{Runtime, call_later, spawn, yield_now};
use support::{Log, virtual_runtime};

fn paused_runtime() -> Runtime {
    Runtime::builder().start_paused(true).build().expect("runtime")
}

#[test]
fn advance_fires_the_timers_due_on_the_way_in_deadline_order_and_no_later_one() {
    let rt = paused_runtime();
    let log = Log::new();
    let l = log.clone();
    rt.block_on(async move {
        let start = now();
        for delay in [30u64, 10, 20, 50] {
            let l = l.clone();
            drop(spawn(async move {
                sleep(Duration::from_millis(delay)).await;
                l.push(format!("{delay} ms sleeper woke at {} ms", (now() - start).as_millis()));
            })); // detached: the log says when it ran
        }
        let l2 = l.clone();
        call_later(Duration::from_millis(25), move || l2.push("callback at 25 ms"));
        yield_now().await; // the sleepers register their timers
        advance(Duration::from_millis(40)).await;
        l.push(format!("advance returned at {} ms", (now() - start).as_millis()));
        assert_eq!(
            now() - start,
            Duration::from_millis(40),
            "exactly the duration asked for"
        );
    });
    assert_eq!(
        log.take(),
        [
            "10 ms sleeper woke at 40 ms",
            "20 ms sleeper woke at 40 ms",
            "callback at 25 ms",
            "30 ms sleeper woke at 40 ms",
            "advance returned at 40 ms",
        ],
        "every timer due by 40 ms ran before advance returned, in deadline order; the 50 ms one did not"
    );
    assert_eq!(rt.stats().timers, 1, "the 50 ms sleeper still waits");
}

#[test]
fn a_task_that_sleeps_again_after_an_advance_starts_from_the_new_time() {
    let rt = paused_runtime();
    rt.block_on(async {
        let start = now();
        let twice = spawn(async move {
            sleep(Duration::from_millis(10)).await;
            sleep(Duration::from_millis(10)).await;
            now() - start
        });
        yield_now().await;
        advance(Duration::from_millis(15)).await;
        assert!(!twice.is_finished(), "its second sleep ends at 25 ms, not 20");
        advance(Duration::from_millis(10)).await;
        assert_eq!(twice.await.unwrap(), Duration::from_millis(25));
    });
}

#[test]
fn a_paused_clock_does_not_jump_when_the_loop_is_idle() {
    let rt = paused_runtime();
    let task = rt.spawn(sleep(Duration::from_secs(1)));
    let start = rt.now();
    let first = rt.run_ready();
    assert_eq!(first.ran, 1, "the sleeper's first step");
    for _ in 0..3 {
        let idle = rt.run_ready();
        assert_eq!(idle.ran, 0);
        assert_eq!(idle.timeout, None, "only I/O or another thread can make anything ready");
    }
    assert_eq!(rt.now(), start, "time stood still");
    assert!(!task.is_finished());
}

#[test]
fn pause_and_resume_switch_auto_advance_off_and_on() {
    let rt = virtual_runtime();
    rt.block_on(async {
        assert!(!is_paused());
        let start = now();
        pause();
        assert!(is_paused());
        let sleeper = spawn(sleep(Duration::from_millis(100)));
        yield_now().await;
        advance(Duration::from_millis(60)).await;
        assert!(!sleeper.is_finished());
        resume();
        assert!(!is_paused());
        sleeper.await.unwrap(); // the idle loop jumps the rest of the way
        assert_eq!(now() - start, Duration::from_millis(100));
    });
}

#[test]
fn a_paused_idle_loop_waits_for_another_thread_as_a_real_loop_would() {
    let rt = paused_runtime();
    let remote = rt.remote();
    rt.block_on(async move {
        let start = now();
        let helper = std::thread::spawn(move || remote.call_soon_threadsafe(resume));
        // Nothing else can run: the loop blocks in epoll_wait (it does not jump) until the
        // helper's call arrives through the inbox, whenever that is.
        sleep(Duration::from_secs(3600)).await;
        assert!(
            !is_paused(),
            "the sleep ended only after the other thread resumed the clock"
        );
        assert_eq!(now() - start, Duration::from_secs(3600));
        helper.join().unwrap();
    });
}

#[test]
fn advance_past_every_representable_instant_stops_far_out_and_fires_everything() {
    let rt = paused_runtime();
    rt.block_on(async {
        let far = spawn(sleep(Duration::from_secs(86_400 * 365)));
        yield_now().await;
        advance(Duration::MAX).await;
        assert!(
            far.is_finished(),
            "a year is well inside the ~30 years advance stops at"
        );
        advance(Duration::MAX).await; // and again: no overflow
    });
}

#[test]
#[should_panic(expected = "need a virtual clock")]
fn advance_on_a_real_clock_is_refused_with_a_clear_message() {
    let rt = Runtime::new().unwrap();
    rt.block_on(advance(Duration::from_millis(1)));
}

#[test]
#[should_panic(expected = "need a virtual clock")]
fn pause_on_a_real_clock_is_refused_with_a_clear_message() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async { pause() });
}

//! Timers on the virtual clock: every trace is exact and the same on every run.

mod support;

use std::time::Duration;

use evloop::time::{MissedTickBehavior, interval, now, sleep, sleep_until, timeout};
use evloop::{call_later, spawn, yield_now};
use support::{DropProbe, Log, virtual_runtime};

/// Milliseconds since `start` on the loop's clock.
fn ms_since(start: std::time::Instant) -> u128 {
    (now() - start).as_millis()
}

#[test]
fn sleepers_wake_in_deadline_order_at_their_exact_virtual_times() {
    let rt = virtual_runtime();
    let log = Log::new();
    let l = log.clone();
    rt.block_on(async move {
        let start = now();
        let tasks: Vec<_> = [3000u64, 1000, 2000, 1000, 65_000, 4_200_000]
            .into_iter()
            .enumerate()
            .map(|(i, delay)| {
                let l = l.clone();
                spawn(async move {
                    sleep(Duration::from_millis(delay)).await;
                    l.push(format!("t{i} woke at {} ms", ms_since(start)));
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(
        log.take(),
        [
            "t1 woke at 1000 ms",
            "t3 woke at 1000 ms",
            "t2 woke at 2000 ms",
            "t0 woke at 3000 ms",
            "t4 woke at 65000 ms",
            "t5 woke at 4200000 ms",
        ]
    );
}

#[test]
fn a_mixed_schedule_of_tasks_and_callbacks_has_an_exact_trace() {
    let run = || {
        let rt = virtual_runtime();
        let log = Log::new();
        let l = log.clone();
        rt.block_on(async move {
            let start = now();
            let (a, b, c) = (l.clone(), l.clone(), l.clone());
            call_later(Duration::from_millis(1500), move || {
                a.push(format!("{} callback A", ms_since(start)))
            });
            let cancelled = call_later(Duration::from_millis(1000), move || b.push("never".to_string()));
            let worker = spawn(async move {
                for step in 0..3 {
                    sleep(Duration::from_millis(700)).await;
                    c.push(format!("{} worker step {step}", ms_since(start)));
                }
            });
            sleep(Duration::from_millis(500)).await;
            assert!(cancelled.cancel());
            l.push(format!("{} main cancelled the 1000 ms callback", ms_since(start)));
            worker.await.unwrap();
            l.push(format!("{} main done", ms_since(start)));
        });
        log.take()
    };
    let first = run();
    assert_eq!(
        first,
        [
            "500 main cancelled the 1000 ms callback",
            "700 worker step 0",
            "1400 worker step 1",
            "1500 callback A",
            "2100 worker step 2",
            "2100 main done",
        ]
    );
    assert_eq!(run(), first, "the same schedule on every run");
}

#[test]
fn equal_deadlines_fire_in_registration_order() {
    let rt = virtual_runtime();
    let log = Log::new();
    let l = log.clone();
    rt.block_on(async move {
        let deadline = now() + Duration::from_millis(250);
        let tasks: Vec<_> = (0..5)
            .map(|i| {
                let l = l.clone();
                spawn(async move {
                    sleep_until(deadline).await;
                    l.push(format!("{i}"));
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(log.take(), ["0", "1", "2", "3", "4"]);
}

#[test]
fn an_hour_of_virtual_sleep_takes_no_real_time() {
    let rt = virtual_runtime();
    let real = std::time::Instant::now();
    let slept = rt.block_on(async {
        let start = now();
        sleep(Duration::from_secs(3600)).await;
        now() - start
    });
    assert_eq!(slept, Duration::from_secs(3600));
    assert!(real.elapsed() < Duration::from_secs(1));
}

#[test]
fn deadlines_beyond_the_wheel_range_still_fire_on_time() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let start = now();
        // 2^36 ms is about 2.2 years: the wheel's top level. Go past it.
        let three_years = Duration::from_secs(3 * 365 * 86_400);
        sleep(three_years).await;
        assert_eq!(now() - start, three_years);
        // "Forever" saturates at ~30 years rather than overflowing.
        let forever = spawn(sleep(Duration::MAX));
        yield_now().await;
        assert_eq!(evloop::stats().timers, 1);
        forever.cancel();
        let _ = forever.await;
        assert_eq!(evloop::stats().timers, 0);
    });
}

#[test]
fn timeout_returns_the_value_when_the_future_wins() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let start = now();
        let fast = timeout(Duration::from_secs(1), async {
            sleep(Duration::from_millis(500)).await;
            "done"
        })
        .await;
        assert_eq!(fast, Ok("done"));
        assert_eq!(ms_since(start), 500);
        assert_eq!(evloop::stats().timers, 0, "the losing timeout timer was removed");
        // Ready at once wins even against a zero timeout.
        assert_eq!(timeout(Duration::ZERO, async { 1 }).await, Ok(1));
    });
}

#[test]
fn timeout_drops_the_inner_future_when_time_runs_out() {
    let rt = virtual_runtime();
    let probe = DropProbe::new();
    let p = probe.clone();
    rt.block_on(async move {
        let start = now();
        let guard = p.guard();
        let slow = timeout(Duration::from_secs(1), async move {
            let _held = guard;
            sleep(Duration::from_secs(3)).await;
            "too late"
        })
        .await;
        let error = slow.unwrap_err();
        assert_eq!(ms_since(start), 1000);
        assert_eq!(p.drops(), 1, "the inner future was dropped when the timeout fired");
        assert!(error.to_string().contains("deadline has elapsed"));
        assert_eq!(evloop::stats().timers, 0, "the inner sleep left the wheel");
    });
    assert_eq!(probe.drops(), 1);
}

#[test]
fn call_later_cancelled_after_firing_reports_false() {
    let rt = virtual_runtime();
    let log = Log::new();
    let l = log.clone();
    rt.block_on(async move {
        let h = call_later(Duration::from_millis(10), move || l.push("fired"));
        assert_eq!(evloop::stats().timers, 1);
        sleep(Duration::from_millis(20)).await;
        assert!(!h.cancel());
        assert!(!h.is_pending());
    });
    assert_eq!(log.take(), ["fired"]);
}

#[test]
fn a_sleep_dropped_without_being_polled_never_touches_the_wheel() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let unpolled = sleep(Duration::from_secs(5));
        assert_eq!(evloop::stats().timers, 0);
        drop(unpolled);
        let mut polled = std::pin::pin!(sleep(Duration::from_secs(5)));
        let poll = std::future::poll_fn(|cx| std::task::Poll::Ready(polled.as_mut().poll(cx).is_pending())).await;
        assert!(poll);
        assert_eq!(evloop::stats().timers, 1);
    });
    assert_eq!(rt.stats().timers, 0, "the polled sleep removed its entry when dropped");
}

/// Ticks of a 1 s interval whose owner stalls for 3.5 s after the first tick.
fn ticks_after_a_stall(behavior: MissedTickBehavior) -> Vec<(u128, u128)> {
    let rt = virtual_runtime();
    rt.block_on(async move {
        let start = now();
        let mut ticker = interval(Duration::from_secs(1));
        ticker.set_missed_tick_behavior(behavior);
        let mut seen = Vec::new();
        for i in 0..5 {
            let scheduled = ticker.tick().await;
            seen.push(((scheduled - start).as_millis(), ms_since(start)));
            if i == 0 {
                sleep(Duration::from_millis(3500)).await;
            }
        }
        seen
    })
}

#[test]
fn interval_burst_catches_up_every_missed_tick() {
    assert_eq!(
        ticks_after_a_stall(MissedTickBehavior::Burst),
        [(0, 0), (1000, 3500), (2000, 3500), (3000, 3500), (4000, 4000)]
    );
}

#[test]
fn interval_skip_keeps_the_original_cadence() {
    assert_eq!(
        ticks_after_a_stall(MissedTickBehavior::Skip),
        [(0, 0), (1000, 3500), (4000, 4000), (5000, 5000), (6000, 6000)]
    );
}

#[test]
fn interval_delay_restarts_the_schedule_from_the_late_tick() {
    assert_eq!(
        ticks_after_a_stall(MissedTickBehavior::Delay),
        [(0, 0), (1000, 3500), (4500, 4500), (5500, 5500), (6500, 6500)]
    );
}

#[test]
fn reset_moves_a_sleep_and_its_wheel_entry() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let start = now();
        let mut s = std::pin::pin!(sleep(Duration::from_secs(10)));
        let pending = std::future::poll_fn(|cx| std::task::Poll::Ready(s.as_mut().poll(cx).is_pending())).await;
        assert!(pending);
        s.as_mut().get_mut().reset(start + Duration::from_secs(2));
        assert_eq!(evloop::stats().timers, 0, "reset removed the old entry");
        s.await;
        assert_eq!(ms_since(start), 2000);
    });
}

use std::future::Future;

//! The smaller time APIs: call_at, interval_at, Interval::reset, Sleep::deadline/is_elapsed,
//! timeout_at. All on the virtual clock, so every instant below is exact.

mod support;

use std::time::Duration;

use evloop::time::{interval_at, now, sleep, sleep_until, timeout_at};
use support::{Log, virtual_runtime};

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

#[test]
fn call_at_runs_at_its_instant_in_deadline_order_and_a_past_instant_runs_next_turn() {
    let rt = virtual_runtime();
    let log = Log::new();
    let l = log.clone();
    rt.block_on(async move {
        let start = now();
        for (at, name) in [(300u64, "c"), (100, "a"), (200, "b")] {
            let l = l.clone();
            evloop::call_at(start + Duration::from_millis(at), move || {
                l.push(format!("{name} at {} ms", ms(now() - start)));
            });
        }
        let l2 = l.clone();
        let past = start.checked_sub(Duration::from_secs(1)).unwrap_or(start);
        evloop::call_at(past, move || l2.push("past at 0 ms".to_string()));
        sleep(Duration::from_millis(400)).await;
    });
    assert_eq!(
        log.take(),
        ["past at 0 ms", "a at 100 ms", "b at 200 ms", "c at 300 ms"]
    );
}

#[test]
fn interval_at_starts_at_its_instant_and_reset_restarts_the_schedule() {
    let rt = virtual_runtime();
    let ticks = rt.block_on(async {
        let start = now();
        let mut ticker = interval_at(start + Duration::from_millis(500), Duration::from_secs(1));
        assert_eq!(ticker.period(), Duration::from_secs(1));
        let mut ticks = Vec::new();
        for _ in 0..2 {
            ticker.tick().await;
            ticks.push(ms(now() - start));
        }
        sleep(Duration::from_millis(300)).await; // now 1800 ms
        ticker.reset(); // next tick one period from now: 2800 ms
        ticker.tick().await;
        ticks.push(ms(now() - start));
        ticks
    });
    assert_eq!(ticks, [500, 1500, 2800]);
}

#[test]
fn a_sleep_knows_its_deadline_and_whether_it_has_passed() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let start = now();
        let until = sleep_until(start + Duration::from_millis(50));
        assert_eq!(until.deadline(), Some(start + Duration::from_millis(50)));
        assert!(!until.is_elapsed());
        let lazy = sleep(Duration::from_millis(50));
        assert_eq!(
            lazy.deadline(),
            None,
            "a relative sleep fixes its deadline at the first poll"
        );
        assert!(sleep(Duration::ZERO).is_elapsed());
        until.await;
        assert!(sleep_until(start + Duration::from_millis(50)).is_elapsed());
    });
}

#[test]
fn timeout_at_uses_an_absolute_deadline() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let start = now();
        let deadline = start + Duration::from_millis(250);
        let late = timeout_at(deadline, sleep(Duration::from_secs(1))).await;
        assert!(late.is_err());
        assert_eq!(ms(now() - start), 250);
        // The same deadline, already passed: a future that is ready at once still wins.
        assert_eq!(timeout_at(deadline, async { 7 }).await, Ok(7));
        assert!(timeout_at(deadline, sleep(Duration::from_millis(1))).await.is_err());
        assert_eq!(ms(now() - start), 250, "an expired deadline fails without waiting");
    });
}

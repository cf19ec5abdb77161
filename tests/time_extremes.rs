//! Every duration the public API takes, walked with `Duration::ZERO` and `Duration::MAX`.
//!
//! The rule (DESIGN.md §5): a duration is a delay from now, and a deadline that an `Instant`
//! cannot represent saturates at "about 30 years from now", which is as good as never. Zero
//! means "due at once" (a timer still completes in the loop's next turn, never inside the
//! call). The one duration refused is `interval`'s zero period, a busy loop, with a clear panic.
//! Nothing else panics, at the first tick or any later one.

#[path = "support/script_server.rs"]
mod script_server;
mod support;

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::time::Duration;

use evloop::http::{Client, ClientConfig, RetryPolicy, with_retry};
use evloop::time::{MissedTickBehavior, interval, interval_at, now, sleep, sleep_until, timeout, timeout_at};
use evloop::{Builder, Either, call_at, call_later, select, spawn};
use script_server::{ScriptServer, answers, ok};
use support::{panic_text, virtual_runtime};

const EXTREMES: [Duration; 2] = [Duration::ZERO, Duration::MAX];
const FAR: Duration = Duration::from_secs(86_400 * 365 * 29);

/// Whether `future` is still pending after an hour of virtual time.
async fn pending_for_an_hour<F: std::future::Future>(future: F) -> bool {
    matches!(
        select(future, sleep(Duration::from_secs(3600))).await,
        Either::Right(())
    )
}

#[test]
fn sleep_zero_is_due_at_once_and_sleep_max_is_never() {
    virtual_runtime().block_on(async {
        let start = now();
        sleep(Duration::ZERO).await;
        assert!(now() - start < Duration::from_millis(2));
        assert!(pending_for_an_hour(sleep(Duration::MAX)).await);
        assert!(pending_for_an_hour(sleep_until(start + FAR)).await);
        assert_eq!(evloop::stats().timers, 0, "the losing sleeps left the wheel");
    });
}

#[test]
fn sleep_max_completes_only_when_the_virtual_clock_has_jumped_the_thirty_years() {
    virtual_runtime().block_on(async {
        let start = now();
        sleep(Duration::MAX).await;
        assert!(now() - start >= FAR);
    });
}

#[test]
fn timeout_and_timeout_at_accept_both_extremes() {
    virtual_runtime().block_on(async {
        for limit in EXTREMES {
            assert_eq!(
                timeout(limit, async { 7 }).await,
                Ok(7),
                "a ready future wins, even at zero"
            );
        }
        assert!(timeout(Duration::ZERO, sleep(Duration::from_millis(1))).await.is_err());
        assert_eq!(timeout(Duration::MAX, sleep(Duration::from_millis(5))).await, Ok(()));
        assert_eq!(timeout_at(now() + FAR, sleep(Duration::from_millis(5))).await, Ok(()));
        assert_eq!(evloop::stats().timers, 0);
    });
}

#[test]
fn interval_with_the_longest_period_ticks_once_then_never_at_any_tick_or_reset() {
    for behavior in [
        MissedTickBehavior::Burst,
        MissedTickBehavior::Delay,
        MissedTickBehavior::Skip,
    ] {
        virtual_runtime().block_on(async {
            let mut every = interval(Duration::MAX);
            every.set_missed_tick_behavior(behavior);
            every.tick().await;
            assert!(
                pending_for_an_hour(every.tick()).await,
                "{behavior:?}: the second tick is 30 years out"
            );
            every.reset();
            assert!(
                pending_for_an_hour(every.tick()).await,
                "{behavior:?}: so is the one after a reset"
            );
            let mut late = interval_at(now(), Duration::MAX);
            late.tick().await;
            assert!(pending_for_an_hour(late.tick()).await);
        });
    }
}

#[test]
fn interval_refuses_a_zero_period_with_a_clear_panic() {
    let refused = catch_unwind(AssertUnwindSafe(|| {
        virtual_runtime().block_on(async { interval(Duration::ZERO) })
    }));
    let message = panic_text(&*refused.expect_err("a zero period is refused"));
    assert!(message.contains("the period must be non-zero"), "{message}");
}

#[test]
fn call_later_and_call_at_accept_both_extremes() {
    virtual_runtime().block_on(async {
        let ran = Rc::new(Cell::new(0));
        let soon = ran.clone();
        call_later(Duration::ZERO, move || soon.set(soon.get() + 1));
        let never = ran.clone();
        let far = call_later(Duration::MAX, move || never.set(never.get() + 100));
        let never_at = ran.clone();
        let far_at = call_at(now() + FAR, move || never_at.set(never_at.get() + 100));
        sleep(Duration::from_secs(3600)).await;
        assert_eq!(ran.get(), 1, "the zero delay ran, the far ones did not");
        assert!(far.cancel() && far_at.cancel());
        assert_eq!(evloop::stats().timers, 0);
    });
}

#[test]
fn the_builders_durations_accept_both_extremes() {
    for limit in EXTREMES {
        let runtime = Builder::new()
            .virtual_clock()
            .slow_poll_threshold(Some(limit))
            .blocking_idle_timeout(limit)
            .build()
            .unwrap();
        let sum = runtime.block_on(async { evloop::spawn_blocking(|| 2 + 2).await.unwrap() });
        assert_eq!(sum, 4);
        drop(runtime); // the pool's idle thread, waiting with this timeout, is told to exit
    }
}

#[test]
fn every_client_timeout_accepts_both_extremes() {
    script_server::run(async {
        for limit in EXTREMES {
            let server = ScriptServer::repeat(answers([ok("hi")]));
            let client = Client::with_config(ClientConfig {
                total_timeout: Some(limit),
                connect_timeout: Some(limit),
                read_timeout: Some(limit),
                idle_timeout: limit,
                pool_timeout: Some(limit),
                ..ClientConfig::default()
            });
            let first = client.get(&server.url("/")).send().await;
            let second = client.get(&server.url("/")).timeout(Some(limit)).send().await;
            if limit.is_zero() {
                // Zero: the deadline has passed before the first byte; a timeout error, no panic.
                for result in [first, second] {
                    let error = result.expect_err("a zero timeout expires");
                    assert!(error.is_timeout(), "{error}");
                }
            } else {
                assert_eq!(first.unwrap().text().await.unwrap(), "hi");
                assert_eq!(second.unwrap().text().await.unwrap(), "hi");
            }
            drop(client);
            server.shutdown().await;
        }
    });
}

#[test]
fn a_retry_policy_with_the_longest_delays_backs_off_without_panicking() {
    let policy = RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::MAX,
        max_delay: Duration::MAX,
        jitter_seed: Some(1),
        ..RetryPolicy::default()
    };
    assert_eq!(policy.backoff(0), Duration::MAX);
    assert_eq!(policy.backoff(40), Duration::MAX);
    virtual_runtime().block_on(async {
        let attempts = Rc::new(Cell::new(0));
        let counted = attempts.clone();
        let retrying = spawn(with_retry(policy, move |_| {
            counted.set(counted.get() + 1);
            async {
                Err::<(), _>(
                    evloop::http::Client::new()
                        .get("http://127.0.0.1:1/")
                        .send()
                        .await
                        .unwrap_err(),
                )
            }
        }));
        sleep(Duration::from_secs(3600)).await;
        assert_eq!(attempts.get(), 1, "the retry waits (saturated) instead of panicking");
        retrying.cancel();
    });
    let zero = RetryPolicy {
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        ..RetryPolicy::default()
    };
    assert_eq!(zero.backoff(5), Duration::ZERO);
}

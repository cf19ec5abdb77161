//! `interval`: the periodic task of the article
//! "Python异步编程实战:Asyncio、多线程与多进程在高并发场景下的应用" (Python asynchronous programming in
//! practice: asyncio, multithreading and multiprocessing in high-concurrency scenarios), section
//! "Asyncio在实际应用中的最佳实践" (asyncio best practices in real applications), part
//! "2. 异步任务调度" (scheduling async tasks): its `TaskScheduler.periodic_task`, `while True:
//! await callback(); await asyncio.sleep(interval)`, here
//! with a fixed cadence and a written-down policy for ticks that were missed.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::time::{Sleep, sleep_until};
use crate::timer::deadline_after;

/// What an [`Interval`] does when the loop (or the job) was busy past one or more ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up, then continue on the original
    /// schedule (a "catch-up" counter: the number of ticks always matches elapsed time).
    Burst,
    /// Forget the schedule: the next tick comes one full period after the late one fired.
    Delay,
    /// Drop the missed ticks and fire at the next point of the original schedule. The
    /// default: a job that runs every 2 s keeps its cadence after a stall, without a burst of
    /// catch-up runs (which is rarely what a periodic job wants).
    #[default]
    Skip,
}

/// Yields at a fixed period. Created by [`interval`] or [`interval_at`].
#[derive(Debug)]
pub struct Interval {
    /// The timer for the next tick.
    sleep: Sleep,
    /// When the next tick is due, on the original schedule.
    next: Instant,
    /// Time between ticks.
    period: Duration,
    /// The catch-up policy.
    missed: MissedTickBehavior,
}

/// An interval whose first tick completes immediately and the following ones every `period`.
///
/// # Examples
///
/// The articles' periodic job (`while True: await job(); await asyncio.sleep(p)`), on a fixed
/// cadence:
///
/// ```
/// use std::time::Duration;
///
/// let runtime = evloop::Builder::new().virtual_clock().build()?;
/// let ticks = runtime.block_on(async {
///     let start = evloop::time::now();
///     let mut every = evloop::time::interval(Duration::from_millis(100));
///     let mut ticks = Vec::new();
///     for _ in 0..3 {
///         every.tick().await;
///         ticks.push((evloop::time::now() - start).as_millis());
///     }
///     ticks
/// });
/// assert_eq!(ticks, [0, 100, 200]);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
/// If `period` is zero (a zero period would be a busy loop).
pub fn interval(period: Duration) -> Interval {
    interval_at(crate::time::now(), period)
}

/// An interval whose first tick is at `start` and the following ones every `period`.
///
/// # Panics
/// If `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "evloop::time::interval: the period must be non-zero");
    Interval {
        sleep: sleep_until(start),
        next: start,
        period,
        missed: MissedTickBehavior::default(),
    }
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    ///
    /// # Cancel safety
    /// Dropping a pending `tick()` loses nothing: the next call waits for the same tick.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// The poll behind [`tick`](Self::tick), for hand-written futures.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.next;
        let now = crate::time::now();
        // Every sum saturates (`deadline_after`): a period of `Duration::MAX` means "never again".
        self.next = match self.missed {
            MissedTickBehavior::Burst => deadline_after(scheduled, self.period),
            MissedTickBehavior::Delay => deadline_after(now, self.period),
            MissedTickBehavior::Skip => {
                let next = deadline_after(scheduled, self.period);
                if next <= now {
                    // Whole periods missed: jump to the first schedule point after `now`.
                    let behind = now.duration_since(next).as_nanos() / self.period.as_nanos();
                    let skip = u32::try_from(behind + 1).unwrap_or(u32::MAX);
                    deadline_after(next, self.period.saturating_mul(skip))
                } else {
                    next
                }
            }
        };
        self.sleep.reset(self.next);
        Poll::Ready(scheduled)
    }

    /// Sets the policy for missed ticks (default [`MissedTickBehavior::Skip`]).
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.next = deadline_after(crate::time::now(), self.period);
        self.sleep.reset(self.next);
    }
}

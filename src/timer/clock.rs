//! The loop's clock: real or virtual, and the conversion between `Instant`s and wheel ticks.
//!
//! The timer wheel counts whole ticks of 1 µs from the moment the runtime was built (its
//! *origin*). Converting a deadline to a tick rounds **up**, and the wheel only fires a tick
//! once the clock has fully passed it, so a timer can be late by up to one tick (a microsecond)
//! plus the time the loop takes to notice, but never early.
//!
//! Why a microsecond: tokio and libuv count milliseconds, which makes the average timer half a
//! millisecond late before the loop even wakes. A finer tick costs nothing per insert or cancel
//! (the same digit arithmetic on a `u64`), and only moves a far timer down one or two more
//! levels on its way to firing; DESIGN.md §5 has the measurements.
//!
//! A **virtual** clock does not read the system clock at all. Time stands still while tasks
//! run; when the loop has nothing ready and is only waiting for timers, it jumps straight to the
//! next deadline. A program that sleeps for an hour finishes in milliseconds and prints the same
//! schedule on every run, which is what tests and teaching runs want (tokio calls this a paused
//! clock with auto-advance).

use std::cell::Cell;
use std::time::{Duration, Instant};

/// `now + delay`, saturating at a deadline about 30 years out (an `Instant` cannot represent
/// arbitrary futures; "30 years" is what tokio uses too, and it is as good as never).
pub(crate) fn deadline_after(now: Instant, delay: Duration) -> Instant {
    const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);
    now.checked_add(delay.min(FAR_FUTURE)).unwrap_or(now + FAR_FUTURE)
}

/// Nanoseconds in one wheel tick (1 µs).
const NANOS_PER_TICK: u64 = 1_000;
/// Ticks in one second.
const TICKS_PER_SEC: u64 = 1_000_000;

/// The instant `tick` begins, as a duration since the origin.
fn tick_start(tick: u64) -> Duration {
    Duration::from_micros(tick)
}

/// Where the loop's time comes from.
#[derive(Debug)]
pub(crate) struct Clock {
    /// Tick 0. Every `Instant` the loop hands out is at or after it.
    origin: Instant,
    /// `Some` for a virtual clock: how far time has been advanced since `origin`.
    virtual_elapsed: Option<Cell<Duration>>,
    /// Virtual clock only: whether the loop may jump time to the next deadline when it is idle
    /// (on by default; `time::pause` turns it off, and then only `time::advance` moves time).
    auto_advance: Cell<bool>,
}

impl Clock {
    /// A clock that reads the system's monotonic clock.
    pub(crate) fn real() -> Clock {
        Clock {
            origin: Instant::now(),
            virtual_elapsed: None,
            auto_advance: Cell::new(false),
        }
    }

    /// A clock that only moves when the loop advances it.
    pub(crate) fn virtual_clock() -> Clock {
        Clock {
            origin: Instant::now(),
            virtual_elapsed: Some(Cell::new(Duration::ZERO)),
            auto_advance: Cell::new(true),
        }
    }

    pub(crate) fn is_virtual(&self) -> bool {
        self.virtual_elapsed.is_some()
    }

    /// Whether an idle loop may jump this clock to the next deadline: a virtual clock that is
    /// not paused.
    pub(crate) fn auto_advances(&self) -> bool {
        self.is_virtual() && self.auto_advance.get()
    }

    /// Virtual clock only: lets an idle loop jump time (`true`) or not (`false`, paused).
    /// Returns `false`, changing nothing, on a real clock.
    pub(crate) fn set_auto_advance(&self, on: bool) -> bool {
        if self.is_virtual() {
            self.auto_advance.set(on);
        }
        self.is_virtual()
    }

    /// Virtual clock only: moves time forward to `to` exactly (not rounded to a tick, unlike
    /// the loop's jumps). Never moves backwards.
    pub(crate) fn advance_to(&self, to: Instant) {
        if let Some(elapsed) = &self.virtual_elapsed {
            let target = to.saturating_duration_since(self.origin);
            if target > elapsed.get() {
                elapsed.set(target);
            }
        }
    }

    /// Tick 0's instant.
    pub(crate) fn origin(&self) -> Instant {
        self.origin
    }

    /// Nanoseconds from the origin to the start of `tick` (saturating).
    pub(crate) fn nanos_of_tick(tick: u64) -> u64 {
        tick.saturating_mul(NANOS_PER_TICK)
    }

    /// The current time.
    pub(crate) fn now(&self) -> Instant {
        match &self.virtual_elapsed {
            None => Instant::now(),
            Some(elapsed) => self.origin + elapsed.get(),
        }
    }

    /// The tick a deadline falls in, rounded up: the timer fires once that tick has passed.
    ///
    /// Computed from whole seconds and the sub-second nanoseconds separately, in `u64`:
    /// `Duration::as_nanos` would need 128-bit division, several times slower, on the path of
    /// every `sleep`.
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.origin);
        let sub = u64::from(since.subsec_nanos()).div_ceil(NANOS_PER_TICK);
        since.as_secs().saturating_mul(TICKS_PER_SEC).saturating_add(sub)
    }

    /// The last tick that has fully passed at `now`.
    pub(crate) fn tick_at(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.origin);
        let sub = u64::from(since.subsec_nanos()) / NANOS_PER_TICK;
        since.as_secs().saturating_mul(TICKS_PER_SEC).saturating_add(sub)
    }

    /// Whole milliseconds from the origin to `now`, for the trace log's messages.
    pub(crate) fn millis_at(&self, now: Instant) -> u64 {
        self.tick_at(now) / (TICKS_PER_SEC / 1_000)
    }

    /// How long from `now` until `tick` has passed (zero if it already has).
    pub(crate) fn until_tick(&self, tick: u64, now: Instant) -> Duration {
        tick_start(tick).saturating_sub(now.saturating_duration_since(self.origin))
    }

    /// The instant `tick` begins: once the clock reads it, `tick` has passed. Saturates at the
    /// latest instant an `Instant` can hold (tick `u64::MAX` is some 580,000 years out).
    pub(crate) fn tick_instant(&self, tick: u64) -> Instant {
        let since = tick_start(tick);
        self.origin
            .checked_add(since)
            .unwrap_or_else(|| deadline_after(self.origin, since))
    }

    /// Virtual clock only: moves time forward to the start of `tick`. Never moves backwards.
    pub(crate) fn advance_to_tick(&self, tick: u64) {
        if let Some(elapsed) = &self.virtual_elapsed {
            let target = tick_start(tick);
            if target > elapsed.get() {
                elapsed.set(target);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_and_now_rounds_down() {
        let clock = Clock::virtual_clock();
        let o = clock.origin;
        assert_eq!(clock.deadline_tick(o), 0);
        assert_eq!(clock.deadline_tick(o + Duration::from_nanos(1)), 1);
        assert_eq!(clock.deadline_tick(o + Duration::from_micros(1)), 1);
        assert_eq!(clock.deadline_tick(o + Duration::from_nanos(1001)), 2);
        assert_eq!(clock.deadline_tick(o + Duration::from_micros(300)), 300);
        assert_eq!(clock.tick_at(o + Duration::from_nanos(1999)), 1);
        assert_eq!(clock.tick_at(o + Duration::from_micros(2)), 2);
    }

    #[test]
    fn a_timer_whose_tick_has_passed_is_never_early() {
        let clock = Clock::virtual_clock();
        let o = clock.origin;
        for nanos in [0u64, 1, 999, 1000, 1001, 299_999, 300_000, 300_001, 123_456_789] {
            let deadline = o + Duration::from_nanos(nanos);
            let tick = clock.deadline_tick(deadline);
            // The earliest moment the loop can see `tick` as passed:
            let earliest = clock.tick_instant(tick);
            assert_eq!(clock.tick_at(earliest), tick);
            assert!(
                earliest >= deadline,
                "tick {tick} passes before the deadline at {nanos} ns"
            );
            assert!(earliest - deadline < Duration::from_micros(1), "more than a tick late");
        }
    }

    #[test]
    fn the_virtual_clock_only_moves_forward_when_told() {
        let clock = Clock::virtual_clock();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        clock.advance_to_tick(1500);
        assert_eq!(clock.now() - start, Duration::from_micros(1500));
        clock.advance_to_tick(10);
        assert_eq!(clock.now() - start, Duration::from_micros(1500));
        assert_eq!(clock.until_tick(2000, clock.now()), Duration::from_micros(500));
        assert_eq!(clock.until_tick(1000, clock.now()), Duration::ZERO);
    }

    #[test]
    fn whole_seconds_and_far_futures_convert_without_overflow() {
        let clock = Clock::virtual_clock();
        let o = clock.origin;
        assert_eq!(clock.deadline_tick(o + Duration::new(5, 0)), 5_000_000);
        assert_eq!(clock.deadline_tick(o + Duration::new(5, 1)), 5_000_001);
        assert_eq!(clock.tick_at(o + Duration::new(5, 999_999_999)), 5_999_999);
        let thirty_years = Duration::from_secs(86_400 * 365 * 30);
        assert_eq!(clock.deadline_tick(o + thirty_years), thirty_years.as_micros() as u64);
        assert_eq!(
            clock.tick_instant(clock.deadline_tick(o + thirty_years)),
            o + thirty_years
        );
        assert!(
            clock.tick_instant(u64::MAX) >= o + thirty_years,
            "saturates, never wraps"
        );
    }

    #[test]
    fn deadlines_before_the_origin_are_tick_zero() {
        let clock = Clock::real();
        let before = clock.origin.checked_sub(Duration::from_secs(1)).unwrap_or(clock.origin);
        assert_eq!(clock.deadline_tick(before), 0);
    }
}

//! Timers: the hierarchical wheel that orders them, the clock that measures them, and the seam
//! between the two. Read in this order:
//!
//! 1. `level.rs`: ticks, the six levels of 64 slots, which level and slot a deadline goes to;
//! 2. `wheel.rs`: the wheel around those levels (Varghese & Lauck, "Hashed and Hierarchical
//!    Timing Wheels", 1987), a pure data structure over `u64` ticks with O(1) insert and cancel;
//! 3. `clock.rs`: real or virtual time, and `Instant`s turned into ticks (deadlines round *up*,
//!    so that no timer fires early);
//! 4. this file: [`Timers`], which turns "sleep until 12:00:01.5" into "fire this value at tick
//!    1_500_001", and tells the loop until when it may block before the next timer (the
//!    reactor's alarm is armed for that instant: `reactor/alarm.rs`).
//!
//! Nothing here knows the loop: what a fired timer does (wake a future, queue a callback) is the
//! runtime's `TimerAction`, stored here as an opaque `T`. The public side (`sleep`, `timeout`,
//! `interval`) is `time/`, above the runtime.

use std::time::{Duration, Instant};

pub(crate) mod clock;
pub(crate) mod level;
pub(crate) mod wheel;

use self::clock::Clock;
pub(crate) use self::clock::deadline_after;
use self::wheel::{TimerKey, Wheel};

/// A loop's pending timers, each holding a `T` to hand back when it fires.
pub(crate) struct Timers<T> {
    /// Pending timers by deadline tick.
    pub(crate) wheel: Wheel<T>,
    /// Real or virtual time, and the tick conversion.
    pub(crate) clock: Clock,
}

impl<T> Timers<T> {
    pub(crate) fn new(clock: Clock) -> Timers<T> {
        Timers {
            wheel: Wheel::new(),
            clock,
        }
    }

    /// The loop's current time.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Registers a timer for `deadline`, or hands `action` back if that tick has already been
    /// processed (the deadline has passed: nothing to wait for).
    pub(crate) fn insert(&mut self, deadline: Instant, action: T) -> Result<TimerKey, T> {
        let tick = self.clock.deadline_tick(deadline);
        if tick <= self.wheel.elapsed() {
            return Err(action);
        }
        Ok(self.wheel.insert(tick, action))
    }

    /// Fires every timer due at `now` into `fired`; returns `now`'s tick.
    pub(crate) fn advance(&mut self, now: Instant, fired: &mut Vec<T>) -> u64 {
        let tick = self.clock.tick_at(now);
        self.wheel.advance(tick, fired);
        tick
    }

    /// How long the loop may sleep before the wheel needs attention, or `None` if no timer is
    /// pending. On a virtual clock the loop never sleeps for a timer; see `jump_to_next`.
    pub(crate) fn time_to_next(&self, now: Instant) -> Option<Duration> {
        let tick = self.wheel.next_expiration()?;
        Some(self.clock.until_tick(tick, now))
    }

    /// The instant the wheel next needs attention (its exact next deadline, or a cascade point
    /// before it), or `None` if no timer is pending: what the reactor's alarm is armed for.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let tick = self.wheel.next_expiration()?;
        Some(self.clock.tick_instant(tick))
    }

    /// Virtual clock only: moves time to the next wheel event. Returns whether time moved.
    pub(crate) fn jump_to_next(&self) -> bool {
        match self.wheel.next_expiration() {
            Some(tick) if self.clock.is_virtual() => {
                self.clock.advance_to_tick(tick);
                true
            }
            _ => false,
        }
    }
}

//! The loop's timers: the wheel plus the clock, and what a fired timer does.
//!
//! The wheel (`wheel.rs`) is a pure data structure over integer ticks; the clock (`clock.rs`)
//! turns `Instant`s into ticks. This file is the seam between them and the loop: it turns
//! "sleep until 12:00:01.5" into "wake this waker at tick 1502", and tells the loop how long it
//! may block in `epoll_wait` before the next timer is due.

use std::task::Waker;
use std::time::{Duration, Instant};

use crate::callback::CallbackId;
use crate::time::clock::Clock;
use crate::time::wheel::{TimerKey, Wheel};

/// What happens when a timer fires.
pub(crate) enum TimerAction {
    /// Wake a future (a `Sleep`, and through it a task).
    Wake(Waker),
    /// Queue a `call_later` callback.
    Callback(CallbackId),
}

/// The loop's timer state.
pub(crate) struct Timers {
    /// Pending timers by deadline tick.
    pub(crate) wheel: Wheel<TimerAction>,
    /// Real or virtual time, and the tick conversion.
    pub(crate) clock: Clock,
}

impl Timers {
    pub(crate) fn new(clock: Clock) -> Timers {
        Timers {
            wheel: Wheel::new(),
            clock,
        }
    }

    /// The loop's current time.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Registers a timer for `deadline`, or returns `None` if that tick has already been
    /// processed (the deadline has passed: nothing to wait for).
    pub(crate) fn insert(&mut self, deadline: Instant, action: TimerAction) -> Result<TimerKey, TimerAction> {
        let tick = self.clock.deadline_tick(deadline);
        if tick <= self.wheel.elapsed() {
            return Err(action);
        }
        Ok(self.wheel.insert(tick, action))
    }

    /// Fires every timer due at `now` into `fired`.
    pub(crate) fn advance(&mut self, now: Instant, fired: &mut Vec<TimerAction>) {
        let tick = self.clock.tick_at(now);
        self.wheel.advance(tick, fired);
    }

    /// How long the loop may sleep before the wheel needs attention, or `None` if no timer is
    /// pending. On a virtual clock the loop never sleeps for a timer; see `jump_to_next`.
    pub(crate) fn time_to_next(&self, now: Instant) -> Option<Duration> {
        let tick = self.wheel.next_expiration()?;
        Some(self.clock.until_tick(tick, now))
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

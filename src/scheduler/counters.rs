//! The loop's running totals: turns, polls, wakes by cause, I/O events, timers fired.
//!
//! Read first: `mod.rs` (the wake causes, [`Cause`]).
//!
//! These are the numbers behind `Stats` (`runtime/stats.rs`), and the reason they can stay on
//! always: each is one `Cell<u64>` add on a path the loop takes anyway (a wake is counted where
//! it is queued, a poll where it runs, events and timers where `check_events` already has them
//! in a buffer). No clock read, no branch beyond the ones already there. tokio's
//! `RuntimeMetrics` (`poll_count`, `park_count`, per-worker counters) and libuv's
//! `uv_metrics_info` (`loop_count`, `events`) keep the same kind of totals, for the same
//! reason: "is the loop spinning, waiting or drowning?" is answered by rates of these.

use std::cell::Cell;

use crate::scheduler::Cause;
use crate::task::vitals::Woken;

/// Totals since the loop was built.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Loop turns (ready snapshots run, including empty ones).
    pub(crate) turns: Cell<u64>,
    /// Task polls (a cancelled task's drop counts too: it is its last step).
    pub(crate) polls: Cell<u64>,
    /// Callbacks run.
    pub(crate) callbacks: Cell<u64>,
    /// Tasks queued, by what queued them, indexed by [`cause_index`].
    pub(crate) wakes: [Cell<u64>; 6],
    /// I/O readiness events `epoll_wait` returned (the loop's own eventfd included).
    pub(crate) io_events: Cell<u64>,
    /// Timers that fired (sleepers woken and `call_later`s queued).
    pub(crate) timers_fired: Cell<u64>,
}

impl Counters {
    /// Adds `n` to a counter.
    #[inline]
    pub(crate) fn add(counter: &Cell<u64>, n: u64) {
        counter.set(counter.get().wrapping_add(n));
    }

    /// Counts a task queued because of `cause`.
    #[inline]
    pub(crate) fn woke(&self, cause: Cause) {
        Counters::add(&self.wakes[cause_index(cause)], 1);
    }
}

/// The slot of [`Counters::wakes`] for a cause: spawn, task, callback, timer, I/O, remote.
#[inline]
pub(crate) fn cause_index(cause: Cause) -> usize {
    match cause {
        Cause::Spawn => 0,
        Cause::Task(_) => 1,
        Cause::Callback => 2,
        Cause::Timer => 3,
        Cause::Io { .. } => 4,
        Cause::Remote => 5,
    }
}

impl From<Cause> for Woken {
    #[inline]
    fn from(cause: Cause) -> Woken {
        match cause {
            Cause::Spawn => Woken::Spawn,
            Cause::Task(id) => Woken::Task(id),
            Cause::Callback => Woken::Callback,
            Cause::Timer => Woken::Timer,
            Cause::Io { .. } => Woken::Io,
            Cause::Remote => Woken::Remote,
        }
    }
}

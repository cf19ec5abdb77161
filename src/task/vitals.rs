//! A task's vital signs: what the task dump (`evloop::all_tasks()`) says about one task beyond
//! its id and state. How often it was polled and for how long, when it last parked and on
//! what, and what last woke it.
//!
//! Read first: `header.rs` (the vitals are a field of every task's header) and `waits_on.rs`
//! (where the "what it waits on" note comes from).
//!
//! asyncio's `python -m asyncio ps` and `Task.get_stack()` answer "where is each task stuck?";
//! tokio-console answers it with per-task poll counts and busy/idle times. Both need a few
//! numbers per task that are kept up to date while the loop runs, cheaply enough to stay on
//! always. So every one of these is a plain `Cell` write on a path the loop takes anyway: the
//! poll counter and the parked note after each poll (`Core::run_task`), the wake cause when the
//! task is queued (`Scheduler::schedule_local`). Only the time polled needs the clock, and it
//! is added only when the loop times polls anyway (tracing, slow-poll warnings:
//! `runtime/observe.rs`) on the real clock; otherwise it stays zero.
//!
//! # Invariant
//! Like the rest of the header's `Cell`s, touched only on the thread running the task's loop.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::task::TaskId;
use crate::waits_on::Parked;

/// What woke a task last; the task core's copy of the scheduler's wake cause (the scheduler
/// stands a floor above and converts its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Woken {
    /// Just spawned, or woken by code outside any task.
    Spawn,
    /// Woken while this task was being polled (possibly itself).
    Task(TaskId),
    /// Woken by a callback or the `block_on` future.
    Callback,
    /// Woken by a timer firing.
    Timer,
    /// Woken by an I/O readiness event.
    Io,
    /// Woken from another thread.
    Remote,
}

/// The counters and notes of one task.
pub(crate) struct Vitals {
    /// How many times its future was polled.
    polls: Cell<u64>,
    /// The time spent in those polls, in nanoseconds, summed over the polls that were timed
    /// (see the module docs: zero unless the loop was timing polls).
    time_polled: Cell<u64>,
    /// When it last returned `Pending`, on the loop's clock as of the loop's last look outward
    /// (so reading it costs no clock read per poll). `None` before its first poll.
    parked_at: Cell<Option<Instant>>,
    /// What it said it waits on when it last returned `Pending` (`None`: it did not say).
    note: Cell<Option<Parked>>,
    /// Whether `note` holds one, so that a poll that left no note after one that left none
    /// (a `yield_now` loop) does not move the whole note in and out.
    noted: Cell<bool>,
    /// What queued it last.
    last_wake: Cell<Woken>,
}

impl std::fmt::Debug for Vitals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vitals")
            .field("polls", &self.polls())
            .field("last_park", &self.last_park())
            .field("last_wake", &self.last_wake())
            .finish_non_exhaustive()
    }
}

impl Vitals {
    /// A task not yet polled.
    pub(crate) const fn new() -> Vitals {
        Vitals {
            polls: Cell::new(0),
            time_polled: Cell::new(0),
            parked_at: Cell::new(None),
            note: Cell::new(None),
            noted: Cell::new(false),
            last_wake: Cell::new(Woken::Spawn),
        }
    }

    /// A poll returned `Pending` at about `at`, leaving `note` (or none: a future that does
    /// not say what it waits on).
    #[inline]
    pub(crate) fn parked(&self, at: Instant, note: Option<Parked>) {
        self.polls.set(self.polls.get() + 1);
        self.parked_at.set(Some(at));
        if note.is_some() || self.noted.get() {
            self.noted.set(note.is_some());
            drop(self.note.replace(note));
        }
    }

    /// A poll returned `Ready` (or the task was cancelled): its last step. The task leaves the
    /// loop's slab right after, so nobody reads its note again.
    #[inline]
    pub(crate) fn finished(&self) {
        self.polls.set(self.polls.get() + 1);
    }

    /// The task was queued because of `cause`.
    #[inline]
    pub(crate) fn woken(&self, cause: Woken) {
        self.last_wake.set(cause);
    }

    /// Adds one timed poll's duration.
    pub(crate) fn add_time_polled(&self, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.time_polled.set(self.time_polled.get().saturating_add(nanos));
    }

    /// How many times it was polled.
    pub(crate) fn polls(&self) -> u64 {
        self.polls.get()
    }

    /// The time spent in its timed polls.
    pub(crate) fn time_polled(&self) -> Duration {
        Duration::from_nanos(self.time_polled.get())
    }

    /// When it last parked and on what; `None` before its first poll.
    pub(crate) fn last_park(&self) -> Option<(Instant, Option<Parked>)> {
        let at = self.parked_at.get()?;
        let note = self.note.take();
        self.note.set(note.clone());
        Some((at, note))
    }

    /// What queued it last.
    pub(crate) fn last_wake(&self) -> Woken {
        self.last_wake.get()
    }
}

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
//! `runtime/observe.rs`) on the real clock, so it is not kept here but in a side table on the
//! loop (`Core::time_polled`), which stays empty otherwise.
//!
//! **Small on purpose.** Every parked task carries these, so they are packed (DESIGN.md §3 draws
//! the header): a `u32` poll count, the park time as nanoseconds since the loop's epoch rather
//! than an `Option<Instant>`, the note in its sixteen-byte kept form (`waits_on::Kept`), and the
//! last wake cause folded into one `u64` (a task id, or a small number for the other causes: a
//! task id's generation is never 0, so the two never meet). 48 bytes (44 and padding), where
//! the first version's `u64`s, `Instant` and `Parked` took 88.
//!
//! # Invariant
//! Like the rest of the header's `Cell`s, touched only on the thread running the task's loop.

use std::cell::Cell;
use std::time::Instant;

use crate::slots::Key;
use crate::task::TaskId;
use crate::waits_on::{Kept, Line, Parked};

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

impl Woken {
    /// Folded into one integer: a task's id as its key's bits (whose high half, the generation,
    /// is never 0), every other cause a number below 2^32.
    #[inline]
    fn to_bits(self) -> u64 {
        match self {
            Woken::Spawn => 0,
            Woken::Callback => 1,
            Woken::Timer => 2,
            Woken::Io => 3,
            Woken::Remote => 4,
            Woken::Task(id) => id.key().to_bits(),
        }
    }

    /// The cause [`to_bits`](Self::to_bits) folded.
    fn from_bits(bits: u64) -> Woken {
        match bits {
            0 => Woken::Spawn,
            1 => Woken::Callback,
            2 => Woken::Timer,
            3 => Woken::Io,
            4 => Woken::Remote,
            _ => Woken::Task(TaskId::new(Key::from_bits(bits))),
        }
    }
}

/// "Never parked", in [`Vitals::parked_at`].
const NEVER: u64 = u64::MAX;

/// The counters and notes of one task.
pub(crate) struct Vitals {
    /// When it last returned `Pending`, in nanoseconds since the loop's epoch, as of the loop's
    /// last look outward (so keeping it costs no clock read per poll); [`NEVER`] before its
    /// first poll.
    parked_at: Cell<u64>,
    /// What it said it waits on when it last returned `Pending` (`Kept::Nothing`: it did not).
    note: Cell<Kept>,
    /// The line of a waiter's note (`None` for every other note): what keeps its place right.
    line: Cell<Option<Line>>,
    /// What queued it last, folded by [`Woken::to_bits`].
    last_wake: Cell<u64>,
    /// How many times its future was polled (saturating: four billion polls read as that).
    polls: Cell<u32>,
}

impl std::fmt::Debug for Vitals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vitals")
            .field("polls", &self.polls())
            .field("parked_at", &self.parked_at.get())
            .field("note", &self.note.get())
            .field("last_wake", &self.last_wake())
            .finish_non_exhaustive()
    }
}

impl Vitals {
    /// A task not yet polled.
    pub(crate) const fn new() -> Vitals {
        Vitals {
            parked_at: Cell::new(NEVER),
            note: Cell::new(Kept::Nothing),
            line: Cell::new(None),
            last_wake: Cell::new(0),
            polls: Cell::new(0),
        }
    }

    /// A poll returned `Pending` at `at` (nanoseconds since the loop's `epoch`), leaving `note`.
    #[inline]
    pub(crate) fn parked(&self, at: u64, note: Parked, epoch: Instant) {
        self.count_park(at);
        let (kept, line) = Kept::new(note, epoch);
        self.note.set(kept);
        drop(self.line.replace(line));
    }

    /// A poll returned `Pending` at `at` without saying what it waits on (a `yield_now`, a
    /// hand-written future).
    #[inline]
    pub(crate) fn parked_silently(&self, at: u64) {
        self.count_park(at);
        // A poll that said nothing after one that said nothing (a `yield_now` loop) writes
        // nothing more.
        if !matches!(self.note.get(), Kept::Nothing) {
            self.note.set(Kept::Nothing);
            drop(self.line.take());
        }
    }

    /// What every `Pending` records, whatever the note: one more poll, and when.
    #[inline]
    fn count_park(&self, at: u64) {
        self.polls.set(self.polls.get().saturating_add(1));
        self.parked_at.set(at);
    }

    /// A poll returned `Ready` (or the task was cancelled): its last step. The task leaves the
    /// loop's slab right after, so nobody reads its note again.
    #[inline]
    pub(crate) fn finished(&self) {
        self.polls.set(self.polls.get().saturating_add(1));
    }

    /// The task was queued because of `cause`.
    #[inline]
    pub(crate) fn woken(&self, cause: Woken) {
        self.last_wake.set(cause.to_bits());
    }

    /// How many times it was polled.
    pub(crate) fn polls(&self) -> u64 {
        u64::from(self.polls.get())
    }

    /// When it last parked and on what, the times measured from the loop's `epoch`; `None`
    /// before its first poll.
    pub(crate) fn last_park(&self, epoch: Instant) -> Option<(Instant, Option<Parked>)> {
        let at = self.parked_at.get();
        if at == NEVER {
            return None;
        }
        let line = self.line.take();
        let note = self.note.get().parked(line.clone(), epoch);
        self.line.set(line);
        Some((epoch + std::time::Duration::from_nanos(at), note))
    }

    /// What queued it last.
    pub(crate) fn last_wake(&self) -> Woken {
        Woken::from_bits(self.last_wake.get())
    }
}

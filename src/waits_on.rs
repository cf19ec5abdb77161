//! "What is this task waiting for?": the note a parked future leaves for the task dump.
//!
//! Read first: nothing; this is floor 1, a thread-local and a plain enum.
//!
//! A task does not know what it awaits: it only sees its future return `Pending`. The thing
//! that *does* know is the primitive that stored the task's waker: a `Sleep` inserting into
//! the wheel, an `IoSource` parking on one direction of a socket, a semaphore queueing a
//! waiter, a `JoinHandle` keeping the join waker. So each of them, on the poll where it returns
//! `Pending`, writes one [`Parked`] note here ([`note`]). The runtime clears the note before it
//! polls a task and takes it afterwards; if the task returned `Pending`, the note goes into the
//! task's header (`task/vitals.rs`), where `evloop::all_tasks()` reads it. This is the idea of
//! asyncio's `Task.get_stack()` (which asks the coroutine where it is suspended), turned
//! around: Rust futures have no frames to walk, so the leaf futures speak up instead.
//!
//! **Why a thread-local.** The primitives stand on floor 1 and must not see the runtime (and
//! `sync/` works without any loop, polled by hand). A thread-local that the runtime clears and
//! reads around each poll is the smallest hook that lets them say something without naming
//! anyone: one store per park, nothing when no loop is running (the note is simply
//! overwritten, or never read).
//!
//! **The first note of a poll wins.** A task awaiting `timeout(d, sem.acquire())` polls the
//! acquire first, then the timer: the acquire is what it is really waiting for, so the first
//! note is kept and later ones in the same poll are ignored. A primitive built on another (a
//! `Lock` on a semaphore, a queue's `put` on its room semaphore) renames the note its inner
//! future left with [`relabel`], keeping the place in line.

use std::cell::Cell;
use std::time::Instant;

use crate::slots::Key;

/// What one parked future said it waits on. Plain data, `Copy`, so that storing it costs a
/// few word writes and no allocation.
///
/// A "place in line" is 1 for the waiter that will be served next. It is the place when the
/// future last parked: if waiters ahead of it leave later, the number is not updated until the
/// task is polled again (the dump cannot reach the primitive's queue, which it does not own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parked {
    /// A `Sleep` (and through it `timeout`, `interval`) until this deadline, on its loop's clock.
    Timer { deadline: Instant },
    /// An I/O source (its reactor key and its file descriptor) in one direction.
    Io { source: u64, fd: i32, write: bool },
    /// A semaphore's waiter, asking for `wanted` permits.
    Semaphore { place: usize, wanted: usize },
    /// A `Lock`'s waiter.
    Lock { place: usize },
    /// A queue's `get`, waiting for an item.
    QueueGet { place: usize },
    /// A queue's `put`, waiting for room.
    QueuePut { place: usize },
    /// An `Event`'s waiter (all of them are woken together).
    Event,
    /// A `Condition`'s waiter.
    Condition { place: usize },
    /// Another task's `JoinHandle` (the task's key).
    Task { task: Key },
}

thread_local! {
    /// The note of the future being polled now, if one was left.
    static NOTE: Cell<Option<Parked>> = const { Cell::new(None) };
}

/// Says what the future being polled now is waiting on. Call it on the poll that returns
/// `Pending` after storing the task's waker; only the first note of a poll is kept.
#[inline]
pub(crate) fn note(parked: Parked) {
    NOTE.with(|slot| {
        if slot.get().is_none() {
            slot.set(Some(parked));
        }
    });
}

/// Renames the note a future built on this one left (a semaphore waiter that is really a
/// `Lock`'s), keeping its place in line: `rename` sees the note and returns the new one.
#[inline]
pub(crate) fn relabel(rename: impl FnOnce(Parked) -> Parked) {
    NOTE.with(|slot| {
        if let Some(parked) = slot.get() {
            slot.set(Some(rename(parked)));
        }
    });
}

/// Takes the note (leaving none): the runtime calls it before a task's poll, to forget a note
/// left by a callback or the `block_on` future, and after it, to keep what the task said.
#[inline]
pub(crate) fn take() -> Option<Parked> {
    NOTE.with(Cell::take)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_note_of_a_poll_is_kept_and_taking_it_clears_it() {
        let _ = take();
        note(Parked::Event);
        note(Parked::Lock { place: 2 });
        assert_eq!(take(), Some(Parked::Event));
        assert_eq!(take(), None);
    }

    #[test]
    fn relabel_renames_a_note_and_does_nothing_without_one() {
        let _ = take();
        relabel(|_| Parked::Event);
        assert_eq!(take(), None);
        note(Parked::Semaphore { place: 3, wanted: 1 });
        relabel(|parked| match parked {
            Parked::Semaphore { place, .. } => Parked::Lock { place },
            other => other,
        });
        assert_eq!(take(), Some(Parked::Lock { place: 3 }));
    }
}

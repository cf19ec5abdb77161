//! "What is this task waiting for?": the note a parked future leaves for the task dump.
//!
//! Read first: nothing; this is floor 1, a thread-local and a plain enum.
//!
//! A task does not know what it awaits: it only sees its future return `Pending`. The thing
//! that *does* know is the primitive that stored the task's waker: a `Sleep` inserting into
//! the wheel, an `IoSource` parking on one direction of a socket, a semaphore queueing a
//! waiter, a `JoinHandle` keeping the join waker. So each of them, on the poll where it returns
//! `Pending`, writes one [`Parked`] note here ([`note`]). The runtime takes the note after every
//! poll (of a task, and of the `block_on` future and callbacks, which are nobody's wait, so that
//! their notes never reach a task) and clears it when a loop starts running on the thread; if
//! a task returned `Pending`, its note goes into its header (`task/vitals.rs`), where
//! `evloop::all_tasks()` reads it. This is the idea of
//! asyncio's `Task.get_stack()` (which asks the coroutine where it is suspended), turned
//! around: Rust futures have no frames to walk, so the leaf futures speak up instead.
//!
//! **Why a thread-local.** The primitives stand on floor 1 and must not see the runtime (and
//! `sync/` works without any loop, polled by hand). A thread-local that the runtime reads after
//! each poll is the smallest hook that lets them say something without naming anyone: one
//! store per park, one take per poll. With no loop running, a note is simply never read.
//!
//! **A place in line that stays right.** A waiter's place changes after it parks, as the
//! waiters ahead of it are served, and nobody polls it meanwhile. So the note does not keep a
//! number but a [`Place`]: the place it had when it parked (found by walking the queue), and a
//! handle on its queue's count of waiters that left from the *front* (a [`Line`], one shared
//! atomic counter per queue, bumped by `sync/waiters.rs`). Its place now is the first minus
//! the front departures since. That is exact, except that a waiter ahead of it that is
//! cancelled (leaves from the middle) is still counted until the task is polled again.
//!
//! **The first note of a poll wins.** A task awaiting `timeout(d, sem.acquire())` polls the
//! acquire first, then the timer: the acquire is what it is really waiting for, so the first
//! note is kept and later ones in the same poll are ignored. A primitive built on another (a
//! `Lock` on a semaphore, a queue's `put` on its room semaphore) renames the note its inner
//! future left with [`relabel`], keeping the place in line.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::slots::Key;

/// One queue's count of waiters that left it from the front (served, or cancelled while first
/// in line), shared with the notes of its waiters. Atomic only so that the primitives stay
/// `Send`; it is only ever touched on one thread at a time, with relaxed ordering.
#[derive(Debug, Clone, Default)]
pub(crate) struct Line(Arc<AtomicU64>);

impl Line {
    /// A waiter left from the front.
    pub(crate) fn left_front(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// A waiter's place now, which was `place` when it parked.
    pub(crate) fn place(&self, place: usize) -> Place {
        Place {
            line: self.clone(),
            spot: Spot {
                at_park: u32::try_from(place).unwrap_or(u32::MAX),
                // Only differences are taken, so the low 32 bits are enough (wrapping).
                departures_at_park: self.0.load(Ordering::Relaxed) as u32,
            },
        }
    }
}

/// A waiter's place in line, 1 for the next to be served (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct Place {
    /// Its queue's front departures.
    line: Line,
    /// Where it stood when it parked.
    spot: Spot,
}

/// The plain-data half of a [`Place`]. (`u32`s keep a note, and so every task header, small.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spot {
    /// Its place when it parked.
    at_park: u32,
    /// The queue's front departures then, wrapping.
    departures_at_park: u32,
}

impl Place {
    /// The place now: never below 1 (a waiter whose turn came is woken, not parked).
    pub(crate) fn now(&self) -> usize {
        let departures = self.line.0.load(Ordering::Relaxed) as u32;
        let since = departures.wrapping_sub(self.spot.departures_at_park);
        self.spot.at_park.saturating_sub(since).max(1) as usize
    }
}

/// What one parked future said it waits on: plain data (a waiter's [`Place`] holds one counted
/// reference), so that leaving a note costs a few word writes and no allocation.
#[derive(Debug, Clone)]
pub(crate) enum Parked {
    /// A `Sleep` (and through it `timeout`, `interval`) until this deadline, on its loop's clock.
    Timer { deadline: Instant },
    /// An I/O source (its reactor key and its file descriptor) in one direction.
    Io { source: u64, fd: i32, write: bool },
    /// A semaphore's waiter, asking for `wanted` permits.
    Semaphore { place: Place, wanted: usize },
    /// A `Lock`'s waiter.
    Lock { place: Place },
    /// A queue's `get`, waiting for an item.
    QueueGet { place: Place },
    /// A queue's `put`, waiting for room.
    QueuePut { place: Place },
    /// An `Event`'s waiter (all of them are woken together).
    Event,
    /// A `Condition`'s waiter.
    Condition { place: Place },
    /// Another task's `JoinHandle` (the task's key).
    Task { task: Key },
}

/// A note as a task's header keeps it (`task/vitals.rs`): sixteen bytes of plain data, a
/// deadline as nanoseconds since the loop's epoch (see [`Kept::new`]) and counts as `u32`s,
/// where [`Parked`] takes 32 with an `Instant` and `usize`s. A waiter's [`Line`] is kept apart,
/// as in the thread-local. Every parked task carries one of these, so its size is the task's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    /// The task said nothing (a `yield_now`, a hand-written future).
    Nothing,
    /// A timer, due this many nanoseconds after the loop's epoch.
    Timer { deadline: u64 },
    /// An I/O source in one direction.
    Io { source: u64, fd: i32, write: bool },
    /// A semaphore's waiter (permits beyond `u32::MAX` are kept as `u32::MAX`).
    Semaphore { spot: Spot, wanted: u32 },
    /// A `Lock`'s waiter.
    Lock { spot: Spot },
    /// A queue's `get`.
    QueueGet { spot: Spot },
    /// A queue's `put`.
    QueuePut { spot: Spot },
    /// An `Event`'s waiter.
    Event,
    /// A `Condition`'s waiter.
    Condition { spot: Spot },
    /// Another task's `JoinHandle`.
    Task { task: Key },
}

impl Kept {
    /// The kept form of `parked`, its deadline (if any) measured from `epoch`: the loop's own
    /// start, which no deadline a task can park on precedes (a deadline already past completes
    /// the sleep instead). An instant before it would count as the epoch itself.
    pub(crate) fn new(parked: Parked, epoch: Instant) -> (Kept, Option<Line>) {
        let kept = match parked {
            Parked::Timer { deadline } => Kept::Timer {
                deadline: nanos_since(epoch, deadline),
            },
            Parked::Io { source, fd, write } => Kept::Io { source, fd, write },
            Parked::Semaphore { place, wanted } => {
                let wanted = u32::try_from(wanted).unwrap_or(u32::MAX);
                return (
                    Kept::Semaphore {
                        spot: place.spot,
                        wanted,
                    },
                    Some(place.line),
                );
            }
            Parked::Lock { place } => return (Kept::Lock { spot: place.spot }, Some(place.line)),
            Parked::QueueGet { place } => return (Kept::QueueGet { spot: place.spot }, Some(place.line)),
            Parked::QueuePut { place } => return (Kept::QueuePut { spot: place.spot }, Some(place.line)),
            Parked::Event => Kept::Event,
            Parked::Condition { place } => return (Kept::Condition { spot: place.spot }, Some(place.line)),
            Parked::Task { task } => Kept::Task { task },
        };
        (kept, None)
    }

    /// The note back as a [`Parked`], with its waiter's `line` (none: a fresh line, so the
    /// place is the one it had when it parked), its deadline an instant again.
    pub(crate) fn parked(self, line: Option<Line>, epoch: Instant) -> Option<Parked> {
        let place = |spot| Place {
            line: line.clone().unwrap_or_default(),
            spot,
        };
        Some(match self {
            Kept::Nothing => return None,
            Kept::Timer { deadline } => Parked::Timer {
                deadline: epoch + Duration::from_nanos(deadline),
            },
            Kept::Io { source, fd, write } => Parked::Io { source, fd, write },
            Kept::Semaphore { spot, wanted } => Parked::Semaphore {
                place: place(spot),
                wanted: wanted as usize,
            },
            Kept::Lock { spot } => Parked::Lock { place: place(spot) },
            Kept::QueueGet { spot } => Parked::QueueGet { place: place(spot) },
            Kept::QueuePut { spot } => Parked::QueuePut { place: place(spot) },
            Kept::Event => Parked::Event,
            Kept::Condition { spot } => Parked::Condition { place: place(spot) },
            Kept::Task { task } => Parked::Task { task },
        })
    }
}

/// `at` as nanoseconds after `epoch` (0 if before it; `u64::MAX` nanoseconds is 584 years).
#[inline]
pub(crate) fn nanos_since(epoch: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch).as_nanos()).unwrap_or(u64::MAX)
}

/// How a note sits in the thread-local: everything but a waiter's [`Line`], which is kept
/// apart. So the thread-local of the common notes (a timer, a socket, a join) is plain `Copy`
/// data, whose accesses compile to a few moves; a `Drop` type in a thread-local costs a
/// destructor-state check on every access, which measured as ~35 instructions per note.
#[derive(Clone, Copy)]
enum Note {
    Timer { deadline: Instant },
    Io { source: u64, fd: i32, write: bool },
    Semaphore { spot: Spot, wanted: usize },
    Lock { spot: Spot },
    QueueGet { spot: Spot },
    QueuePut { spot: Spot },
    Event,
    Condition { spot: Spot },
    Task { task: Key },
}

thread_local! {
    /// The note of the future being polled now, if one was left (but its line: `LINE`).
    static NOTE: Cell<Option<Note>> = const { Cell::new(None) };
    /// The line of a waiter's note; touched only for those.
    static LINE: Cell<Option<Line>> = const { Cell::new(None) };
}

/// Says what the future being polled now is waiting on. Call it on the poll that returns
/// `Pending` after storing the task's waker; only the first note of a poll is kept.
#[inline]
pub(crate) fn note(parked: Parked) {
    if NOTE.with(|slot| slot.get().is_some()) {
        return;
    }
    let (note, line) = split(parked);
    NOTE.with(|slot| slot.set(Some(note)));
    if let Some(line) = line {
        LINE.with(|slot| slot.set(Some(line)));
    }
}

/// Renames the note a future built on this one left (a semaphore waiter that is really a
/// `Lock`'s), keeping its place in line: `rename` sees the note and returns the new one.
pub(crate) fn relabel(rename: impl FnOnce(Parked) -> Parked) {
    if let Some(parked) = take() {
        note(rename(parked));
    }
}

/// Takes the note (leaving none): the runtime calls it after every poll, to keep what a task
/// said and to forget what the `block_on` future or a callback said.
#[inline]
pub(crate) fn take() -> Option<Parked> {
    let note = NOTE.with(Cell::take)?;
    Some(join(note))
}

/// A note, as the thread-local keeps it.
fn split(parked: Parked) -> (Note, Option<Line>) {
    match parked {
        Parked::Timer { deadline } => (Note::Timer { deadline }, None),
        Parked::Io { source, fd, write } => (Note::Io { source, fd, write }, None),
        Parked::Semaphore { place, wanted } => (
            Note::Semaphore {
                spot: place.spot,
                wanted,
            },
            Some(place.line),
        ),
        Parked::Lock { place } => (Note::Lock { spot: place.spot }, Some(place.line)),
        Parked::QueueGet { place } => (Note::QueueGet { spot: place.spot }, Some(place.line)),
        Parked::QueuePut { place } => (Note::QueuePut { spot: place.spot }, Some(place.line)),
        Parked::Event => (Note::Event, None),
        Parked::Condition { place } => (Note::Condition { spot: place.spot }, Some(place.line)),
        Parked::Task { task } => (Note::Task { task }, None),
    }
}

/// A note back in one piece; a waiter's line is taken from `LINE`.
#[inline]
fn join(note: Note) -> Parked {
    let place = |spot| Place {
        line: LINE.with(Cell::take).unwrap_or_default(),
        spot,
    };
    match note {
        Note::Timer { deadline } => Parked::Timer { deadline },
        Note::Io { source, fd, write } => Parked::Io { source, fd, write },
        Note::Semaphore { spot, wanted } => Parked::Semaphore {
            place: place(spot),
            wanted,
        },
        Note::Lock { spot } => Parked::Lock { place: place(spot) },
        Note::QueueGet { spot } => Parked::QueueGet { place: place(spot) },
        Note::QueuePut { spot } => Parked::QueuePut { place: place(spot) },
        Note::Event => Parked::Event,
        Note::Condition { spot } => Parked::Condition { place: place(spot) },
        Note::Task { task } => Parked::Task { task },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A note's kind and, for a waiter, its place now.
    fn seen(parked: Option<Parked>) -> Option<(&'static str, usize)> {
        parked.map(|parked| match parked {
            Parked::Event => ("event", 0),
            Parked::Lock { place } => ("lock", place.now()),
            Parked::Semaphore { place, .. } => ("semaphore", place.now()),
            _ => ("other", 0),
        })
    }

    #[test]
    fn the_first_note_of_a_poll_is_kept_and_taking_it_clears_it() {
        let _ = take();
        let line = Line::default();
        note(Parked::Event);
        note(Parked::Lock { place: line.place(2) });
        assert_eq!(seen(take()), Some(("event", 0)));
        assert_eq!(seen(take()), None);
    }

    #[test]
    fn relabel_renames_a_note_and_does_nothing_without_one() {
        let _ = take();
        relabel(|_| Parked::Event);
        assert_eq!(seen(take()), None);
        let line = Line::default();
        note(Parked::Semaphore {
            place: line.place(3),
            wanted: 1,
        });
        relabel(|parked| match parked {
            Parked::Semaphore { place, .. } => Parked::Lock { place },
            other => other,
        });
        assert_eq!(seen(take()), Some(("lock", 3)));
    }

    #[test]
    fn a_place_moves_up_as_waiters_leave_from_the_front_and_never_below_one() {
        let line = Line::default();
        line.left_front(); // before this waiter parked: not counted
        let place = line.place(3);
        assert_eq!(place.now(), 3);
        line.left_front();
        assert_eq!(place.now(), 2);
        line.left_front();
        line.left_front();
        assert_eq!(place.now(), 1);
    }
}

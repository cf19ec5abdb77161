//! The ready queue, and how a wake gets onto it, from this thread or from another.
//!
//! asyncio keeps one deque, `_ready`, of callbacks; a task's next step is just another
//! callback on it. evloop does the same with [`Runnable`]s: a task id, a callback id, or the
//! `block_on` future. One FIFO for all of them is what makes their relative order match
//! asyncio's: `call_soon(a); spawn(b); call_soon(c)` runs a, b, c.
//!
//! **Same-thread wake** (the common case: a timer, an I/O event, another task). The task's
//! hook (`runtime/wake.rs`) sees that the task belongs to the loop running on this thread and
//! calls [`Scheduler::schedule_local`], which flips the task's QUEUED flag and pushes its id. No
//! lock, no allocation, and a second wake of a queued task does nothing.
//!
//! **Wake from another thread.** The waker cannot touch the loop's queue (it is not
//! thread-safe, on purpose), so the hook sends the id through the loop's [`Inbox`]
//! (`inbox.rs`), and the loop replays it here as a same-thread wake when it next checks for
//! events. The generation in the id makes a late wake of a finished task harmless.
//!
//! The scheduler also owns the live tasks (a generational slab of task references,
//! `slots.rs`), and this folder holds the store of pending callbacks (`callbacks.rs`, which the
//! loop core keeps beside the scheduler). None of it knows the thread-local "current loop", the
//! clock or I/O.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use crate::reactor::{Direction, IoKey};
use crate::slots::{Key, Slots};
use crate::task::TaskId;
use crate::task::header::Header;
use crate::task::raw::RawTask;

pub(crate) mod callbacks;
pub(crate) mod counters;
pub(crate) mod inbox;

pub use callbacks::CallbackId;
pub(crate) use callbacks::Callbacks;
pub(crate) use counters::Counters;
pub(crate) use inbox::{Inbox, LoopId, Message};

/// The ready queue's capacity at the start, and the least it shrinks back to.
const READY_CAPACITY: usize = 64;
/// The capacity past which an emptied ready queue gives its memory back (`trim_ready`):
/// 4,096 slots, 64 KiB; below that, keeping it costs less than growing it again.
const TRIM_ABOVE: usize = 4096;

/// One unit of work on the ready queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Runnable {
    /// Poll this task.
    Task(TaskId),
    /// Run this callback (`call_soon`, or a `call_later` whose time came).
    Callback(CallbackId),
    /// Poll the future given to `block_on`.
    Main,
}

/// A [`Runnable`] packed into eight bytes, as the ready queue holds it (the enum takes sixteen:
/// a million tasks queued at once are then 8 MiB of queue, not 16). `Main` is 0, which no key
/// is (a key's generation is never 0, `slots.rs`); a task is its id's key; a callback is its
/// id's key with bit 31 set, a bit no key has (a slab's index stays below 2^31).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Queued(u64);

/// The bit that tells a queued callback from a queued task.
const CALLBACK_BIT: u64 = 1 << 31;

impl From<Runnable> for Queued {
    #[inline]
    fn from(runnable: Runnable) -> Queued {
        match runnable {
            Runnable::Main => Queued(0),
            Runnable::Task(id) => Queued(id.key().to_bits()),
            Runnable::Callback(id) => Queued(id.number() | CALLBACK_BIT),
        }
    }
}

impl Queued {
    /// What was queued.
    #[inline]
    pub(crate) fn runnable(self) -> Runnable {
        if self.0 == 0 {
            Runnable::Main
        } else if self.0 & CALLBACK_BIT != 0 {
            Runnable::Callback(CallbackId::from_number(self.0 & !CALLBACK_BIT))
        } else {
            Runnable::Task(TaskId::new(Key::from_bits(self.0)))
        }
    }
}

/// Why the task about to be queued was woken, for the trace log and the recorder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// Spawned, or woken by code outside any task.
    Spawn,
    /// Woken while this task was being polled.
    Task(TaskId),
    /// Woken by a callback or the `block_on` future.
    Callback,
    /// Woken by a timer firing.
    Timer,
    /// Woken by an I/O readiness event: this half of this source became ready.
    Io {
        /// The registration that became ready.
        source: IoKey,
        /// Which half.
        direction: Direction,
    },
    /// Woken from another thread.
    Remote,
}

/// The loop-thread half of scheduling: the ready queue and the live tasks.
pub(crate) struct Scheduler {
    /// Work to run, in FIFO order. A turn runs the items present when it starts.
    pub(crate) ready: RefCell<VecDeque<Queued>>,
    /// The live tasks, each owning a reference to its allocation; a task's id is its key here.
    pub(crate) tasks: RefCell<Slots<RawTask>>,
    /// Whether `Runnable::Main` is on the ready queue (the `block_on` future has no header to
    /// keep this flag in).
    main_queued: Cell<bool>,
    /// The task being polled, for `current_id` and for trace causes.
    current: Cell<Option<TaskId>>,
    /// What is waking tasks right now (a timer, I/O, the running task…), for the trace log.
    cause: Cell<Cause>,
    /// Whether trace logging is on for this turn (looked up once per turn, not per wake).
    pub(crate) tracing: Cell<bool>,
    /// Running totals for `Stats` (`counters.rs`).
    pub(crate) counters: Counters,
}

impl Scheduler {
    pub(crate) fn new() -> Scheduler {
        Scheduler {
            ready: RefCell::new(VecDeque::with_capacity(READY_CAPACITY)),
            tasks: RefCell::new(Slots::new()),
            main_queued: Cell::new(false),
            current: Cell::new(None),
            cause: Cell::new(Cause::Spawn),
            tracing: Cell::new(false),
            counters: Counters::default(),
        }
    }

    /// Edge 1 of the life cycle for a task on this loop: queue it unless it is queued already.
    /// Returns whether it was queued now (the caller traces the wake then).
    #[inline]
    pub(crate) fn schedule_local(&self, header: &Header) -> bool {
        let mut state = header.state.get();
        let queue = state.schedule();
        if queue {
            header.state.set(state);
            let cause = self.cause.get();
            header.vitals.woken(cause.into());
            self.counters.woke(cause);
            self.ready.borrow_mut().push_back(Runnable::Task(header.id).into());
        }
        queue
    }

    /// Queues a task just spawned: a wake whose cause is the spawn, whoever spawned it.
    pub(crate) fn schedule_spawned(&self, header: &Header) -> bool {
        let cause = self.cause.replace(Cause::Spawn);
        let queued = self.schedule_local(header);
        self.cause.set(cause);
        queued
    }

    /// Queues the `block_on` future unless it is queued already; returns whether it was.
    pub(crate) fn schedule_main(&self) -> bool {
        let queue = !self.main_queued.replace(true);
        if queue {
            self.ready.borrow_mut().push_back(Runnable::Main.into());
        }
        queue
    }

    /// Queues a callback that is due (`call_soon`, or a `call_later` whose timer fired).
    pub(crate) fn schedule_callback(&self, id: CallbackId) {
        self.ready.borrow_mut().push_back(Runnable::Callback(id).into());
    }

    /// Pops the next runnable. Popping `Main` clears its queued flag.
    #[inline]
    pub(crate) fn pop(&self) -> Option<Runnable> {
        let next = self.ready.borrow_mut().pop_front().map(Queued::runnable);
        if next == Some(Runnable::Main) {
            self.main_queued.set(false);
        }
        next
    }

    /// Gives back the ready queue's memory after a burst: a million spawns at once grow it to a
    /// million slots (16 MiB), which a `VecDeque` would keep for good, although the tasks soon
    /// park and leave it. Called at each look outward (`check_events`, off the per-poll path: a
    /// check in `pop` cost 14 instructions per yield); an empty queue grown past [`TRIM_ABOVE`]
    /// shrinks back to [`READY_CAPACITY`]. It copies nothing (the queue is empty), and growing
    /// again costs what the burst's growth cost, a constant share of the burst.
    pub(crate) fn trim_ready(&self) {
        let mut ready = self.ready.borrow_mut();
        if ready.capacity() > TRIM_ABOVE && ready.is_empty() {
            ready.shrink_to(READY_CAPACITY);
        }
    }

    /// How many runnables are waiting.
    #[inline]
    pub(crate) fn ready_len(&self) -> usize {
        self.ready.borrow().len()
    }

    /// The task being polled right now, if any.
    pub(crate) fn current(&self) -> Option<TaskId> {
        self.current.get()
    }

    /// Records the task being polled (and thus the cause of any wake during its poll).
    pub(crate) fn set_current(&self, id: Option<TaskId>) {
        self.current.set(id);
        self.cause.set(id.map_or(Cause::Callback, Cause::Task));
    }

    /// What is waking tasks now.
    pub(crate) fn cause(&self) -> Cause {
        self.cause.get()
    }

    /// Records what is waking tasks from now on.
    pub(crate) fn set_cause(&self, cause: Cause) {
        self.cause.set(cause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_runnable_is_eight_bytes_and_unpacks_to_what_was_queued() {
        assert_eq!(std::mem::size_of::<Queued>(), 8);
        assert_eq!(std::mem::size_of::<Runnable>(), 16, "what packing saves");
        // Keys at the edges: the first slot of the first generation, the last index a slab
        // hands out, and the largest generation.
        let keys = [
            (1_u64 << 32),
            (1 << 32) | ((1 << 31) - 1),
            (u64::from(u32::MAX) << 32) | 7,
        ];
        for bits in keys {
            let task = Runnable::Task(TaskId::new(Key::from_bits(bits)));
            let callback = Runnable::Callback(CallbackId::from_number(bits));
            assert_eq!(Queued::from(task).runnable(), task);
            assert_eq!(Queued::from(callback).runnable(), callback);
            assert_ne!(Queued::from(task), Queued::from(callback));
        }
        assert_eq!(Queued::from(Runnable::Main).runnable(), Runnable::Main);
    }

    #[test]
    fn an_emptied_ready_queue_gives_back_what_a_burst_grew_and_a_small_one_keeps_its_slots() {
        let sched = Scheduler::new();
        for _ in 0..10_000 {
            sched.ready.borrow_mut().push_back(Runnable::Main.into());
        }
        sched.trim_ready();
        assert_eq!(sched.ready_len(), 10_000, "a queue still in use is left alone");
        assert!(sched.ready.borrow().capacity() >= 10_000);
        while sched.pop().is_some() {}
        sched.trim_ready();
        assert!(sched.ready.borrow().capacity() < TRIM_ABOVE);
        // Below the threshold, an emptied queue keeps its capacity.
        for _ in 0..1_000 {
            sched.ready.borrow_mut().push_back(Runnable::Main.into());
        }
        while sched.pop().is_some() {}
        let kept = sched.ready.borrow().capacity();
        sched.trim_ready();
        assert_eq!(sched.ready.borrow().capacity(), kept);
    }
}

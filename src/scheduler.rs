//! The ready queue, and how a wake gets onto it, from this thread or from another.
//!
//! asyncio keeps one deque, `_ready`, of callbacks; a task's next step is just another
//! callback on it. evloop does the same with [`Runnable`]s: a task id, a callback id, or the
//! `block_on` future. One FIFO for all of them is what makes their relative order match
//! asyncio's: `call_soon(a); spawn(b); call_soon(c)` runs a, b, c.
//!
//! **Same-thread wake** (the common case: a timer, an I/O event, another task). The waker
//! points at the task's header; [`wake_task`] sees that the task belongs to the loop running on
//! this thread, flips the task's QUEUED flag and pushes its id. No lock, no allocation, and a
//! second wake of a queued task does nothing.
//!
//! **Wake from another thread.** The waker cannot touch the loop's queue (it is not
//! thread-safe, on purpose), so it pushes the id into [`Shared`]'s mutex-protected inbox and,
//! if the inbox was empty, pokes the loop's `mio::Waker` so a loop asleep in `epoll_wait`
//! returns. The loop drains the inbox when it next checks for events and replays each entry as
//! a same-thread wake. The generation in the id makes a late wake of a finished task harmless.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::callback::CallbackId;
use crate::task::TaskId;
use crate::task::raw::Header;
use crate::task::slab::TaskSlab;

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

/// What another thread can ask of the loop.
pub(crate) enum Remote {
    /// A task's waker was woken on another thread.
    Wake(TaskId),
    /// The `block_on` future's waker was woken on another thread.
    Main,
    /// `call_soon_threadsafe`.
    Call(Box<dyn FnOnce() + Send>),
}

/// The part of a loop that other threads may touch. Everything in it is `Sync`.
pub(crate) struct Shared {
    /// Requests from other threads, in arrival order.
    inbox: Mutex<Vec<Remote>>,
    /// Set when the inbox went from empty to non-empty: the loop's cheap "anything to drain?"
    /// check, so that a busy loop does not take the mutex every time it looks for events.
    pending: AtomicBool,
    /// Interrupts the loop's `epoll_wait` (an eventfd on Linux).
    waker: mio::Waker,
    /// The runtime was dropped: later requests are discarded instead of piling up.
    closed: AtomicBool,
}

impl Shared {
    pub(crate) fn new(waker: mio::Waker) -> Shared {
        Shared {
            inbox: Mutex::new(Vec::new()),
            pending: AtomicBool::new(false),
            waker,
            closed: AtomicBool::new(false),
        }
    }

    /// Queues a request from any thread and makes sure the loop will see it.
    pub(crate) fn send(&self, request: Remote) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        let was_empty = {
            let mut inbox = self.inbox.lock().unwrap_or_else(PoisonError::into_inner);
            let was_empty = inbox.is_empty();
            inbox.push(request);
            was_empty
        };
        // Only the first request after a drain pays for the system call; the loop takes
        // everything in the inbox at once.
        if was_empty {
            self.pending.store(true, Ordering::Release);
            if let Err(e) = self.waker.wake() {
                log::error!(target: "evloop", "could not wake the loop from another thread: {e}");
            }
        }
    }

    /// Moves every queued request into `out`. Cheap when nothing is pending.
    pub(crate) fn drain(&self, out: &mut Vec<Remote>) {
        if !self.pending.swap(false, Ordering::Acquire) {
            return;
        }
        let mut inbox = self.inbox.lock().unwrap_or_else(PoisonError::into_inner);
        out.append(&mut inbox);
    }

    /// Stops accepting requests and drops those not yet drained.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let leftovers = std::mem::take(&mut *self.inbox.lock().unwrap_or_else(PoisonError::into_inner));
        drop(leftovers);
    }
}

/// Why the task about to be queued was woken, for the trace log.
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
    /// Woken by an I/O readiness event.
    Io,
    /// Woken from another thread.
    Remote,
}

/// The loop-thread half of scheduling: the ready queue and the live tasks.
pub(crate) struct Scheduler {
    /// Work to run, in FIFO order. A turn runs the items present when it starts.
    pub(crate) ready: RefCell<VecDeque<Runnable>>,
    /// The live tasks, each owning a reference to its allocation.
    pub(crate) tasks: RefCell<TaskSlab>,
    /// Whether `Runnable::Main` is on the ready queue (the `block_on` future has no header to
    /// keep this flag in).
    main_queued: Cell<bool>,
    /// The task being polled, for `task::current_id` and for trace causes.
    current: Cell<Option<TaskId>>,
    /// What is waking tasks right now (a timer, I/O, the running task…), for the trace log.
    cause: Cell<Cause>,
    /// Whether trace logging is on for this turn (looked up once per turn, not per wake).
    pub(crate) tracing: Cell<bool>,
}

impl Scheduler {
    pub(crate) fn new() -> Scheduler {
        Scheduler {
            ready: RefCell::new(VecDeque::with_capacity(64)),
            tasks: RefCell::new(TaskSlab::new()),
            main_queued: Cell::new(false),
            current: Cell::new(None),
            cause: Cell::new(Cause::Spawn),
            tracing: Cell::new(false),
        }
    }

    /// Edge 1 of the life cycle for a task on this loop: queue it unless it is queued already.
    pub(crate) fn schedule_local(&self, header: &Header) {
        let mut state = header.state.get();
        if state.schedule() {
            header.state.set(state);
            if self.tracing.get() {
                crate::trace::woken(header.id, self.cause.get());
            }
            self.ready.borrow_mut().push_back(Runnable::Task(header.id));
        }
    }

    /// Queues a task that was just spawned (its trace line says "spawn", not "woken").
    pub(crate) fn schedule_spawned(&self, header: &Header) {
        let mut state = header.state.get();
        if state.schedule() {
            header.state.set(state);
            self.ready.borrow_mut().push_back(Runnable::Task(header.id));
        }
    }

    /// Queues the `block_on` future unless it is queued already.
    pub(crate) fn schedule_main(&self) {
        if !self.main_queued.replace(true) {
            if self.tracing.get() {
                crate::trace::main_woken(self.cause.get());
            }
            self.ready.borrow_mut().push_back(Runnable::Main);
        }
    }

    /// Queues a task by id (a wake that came through the inbox); stale ids are ignored.
    pub(crate) fn schedule_id(&self, id: TaskId) {
        let tasks = self.tasks.borrow();
        if let Some(task) = tasks.get(id) {
            self.schedule_local(task.header());
        }
    }

    /// Pops the next runnable. Popping `Main` clears its queued flag.
    pub(crate) fn pop(&self) -> Option<Runnable> {
        let next = self.ready.borrow_mut().pop_front();
        if next == Some(Runnable::Main) {
            self.main_queued.set(false);
        }
        next
    }

    /// How many runnables are waiting.
    pub(crate) fn ready_len(&self) -> usize {
        self.ready.borrow().len()
    }

    pub(crate) fn current(&self) -> Option<TaskId> {
        self.current.get()
    }

    /// Records the task being polled (and thus the cause of any wake during its poll).
    pub(crate) fn set_current(&self, id: Option<TaskId>) {
        self.current.set(id);
        self.cause.set(id.map_or(Cause::Callback, Cause::Task));
    }

    /// Records what is waking tasks from now on.
    pub(crate) fn set_cause(&self, cause: Cause) {
        self.cause.set(cause);
    }
}

/// The `wake` of every task waker (see `task::raw`).
pub(crate) fn wake_task(header: &Header) {
    let local = crate::context::try_with_core(|core| {
        if Arc::ptr_eq(&core.shared, &header.shared) {
            core.sched.schedule_local(header);
            true
        } else {
            false
        }
    });
    if local != Some(true) {
        header.shared.send(Remote::Wake(header.id));
    }
}

/// The `wake` of the `block_on` future's waker.
pub(crate) fn wake_main(shared: &Shared) {
    let local = crate::context::try_with_core(|core| {
        if std::ptr::eq(Arc::as_ptr(&core.shared), shared) {
            core.sched.schedule_main();
            true
        } else {
            false
        }
    });
    if local != Some(true) {
        shared.send(Remote::Main);
    }
}

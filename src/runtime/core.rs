//! `Core`: everything one loop owns, and how it runs one task step or one callback.
//!
//! The loop is single-threaded, so each part sits in its own `RefCell` and every method takes
//! `&self`. The rule that keeps the `RefCell`s from ever panicking with "already borrowed":
//! **collect, release, then act.** A borrow is held only to read or update one structure; it
//! is dropped before polling a future, running a callback, waking a waker or dropping anything
//! that might run user code (a destructor can call back into the loop).
//!
//! **Unsafe code.** `run_task` polls a task through an uncounted alias of the slab's reference
//! (no atomic add and sub per poll), sound because only `complete` removes the slab entry and it
//! runs after the poll; and it calls the task's `poll`, whose contract the state machine keeps
//! (DESIGN.md §11).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use crate::exception::{ExceptionContext, ExceptionHandler};
use crate::reactor::Reactor;
use crate::record::TaskEnd;
use crate::runtime::stats::Stats;
use crate::scheduler::{CallbackId, Callbacks, Counters, Inbox, LoopId, Message, Scheduler};
use crate::task::header::Header;
use crate::task::raw::RawTask;
use crate::task::state::Start;
use crate::task::{JoinError, JoinHandle, TaskId};
use crate::thread_pool::BlockingPool;
use crate::timer::Timers;
use crate::waits_on;

pub(crate) use crate::runtime::timer_action::TimerAction;

/// Settings fixed when the runtime is built (see `Builder`).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Most task polls and callbacks between two checks for I/O and timers while work is ready.
    pub(crate) event_interval: u32,
    /// A poll or callback running longer than this logs a warning (`None`: never).
    pub(crate) slow_poll_threshold: Option<Duration>,
    /// Most threads the blocking pool may start.
    pub(crate) max_blocking_threads: usize,
    /// How long an idle blocking thread waits for work before it exits.
    pub(crate) blocking_idle_timeout: Duration,
    /// Whether `spawn` inside the loop polls the new task at once, until its first await
    /// (`Builder::eager_tasks`, asyncio's `eager_task_factory`; `eager.rs`).
    pub(crate) eager_tasks: bool,
}

/// A task's way back to its loop (its `Schedule` hook, implemented in `wake.rs`): the loop's
/// inbox, which also identifies the loop.
pub(crate) struct LoopHandle {
    /// The loop the task belongs to. Compared with the running loop to pick the same-thread
    /// path; used to reach the loop from any other thread.
    pub(crate) inbox: Arc<Inbox>,
}

/// Buffers reused every turn, so that checking for events allocates nothing once warm.
#[derive(Default)]
pub(crate) struct Scratch {
    pub(crate) wakers: Vec<crate::reactor::IoWake>,
    pub(crate) fired: Vec<TimerAction>,
    pub(crate) messages: Vec<Message>,
}

impl Scratch {
    /// Whether no buffer holds an allocation (what `Default` makes).
    pub(crate) fn is_unallocated(&self) -> bool {
        self.wakers.capacity() == 0 && self.fired.capacity() == 0 && self.messages.capacity() == 0
    }
}

/// One loop's state.
pub(crate) struct Core {
    /// The part other threads can reach (the inbox and its `mio::Waker`); also what identifies
    /// this loop to a task's hook.
    pub(crate) inbox: Arc<Inbox>,
    /// The `block_on` future's waker: one per loop, which every `block_on` polls with (so a
    /// timer can tell it from any other waker: `loop_timers.rs`).
    pub(crate) main_waker: Waker,
    /// Ready queue and live tasks.
    pub(crate) sched: Scheduler,
    /// Pending `call_soon`/`call_later` callbacks.
    pub(crate) callbacks: RefCell<Callbacks>,
    /// The timer wheel and the clock.
    pub(crate) timers: RefCell<Timers<TimerAction>>,
    /// The wakers of sleeps polled with a waker other than their own task's, each named by its
    /// timer's action (`loop_timers.rs`); nearly always empty.
    pub(crate) timer_wakers: RefCell<slab::Slab<Waker>>,
    /// The I/O poller.
    pub(crate) reactor: RefCell<Reactor>,
    /// `spawn_blocking`'s threads, started lazily.
    pub(crate) blocking: BlockingPool,
    /// Blocking jobs whose results the loop still awaits; while any is running, a virtual clock
    /// must not jump ahead (the job takes real time).
    pub(crate) blocking_in_flight: Cell<usize>,
    /// Where unretrieved task panics and callback panics are reported.
    pub(crate) handler: ExceptionHandler,
    /// Names given with `spawn_named`; most tasks have none and cost nothing here.
    pub(crate) names: RefCell<IdMap<Rc<str>>>,
    /// The name of the last named task to complete, kept so that the log line written just
    /// after its final poll (a slow-poll warning, a trace) can still name it.
    pub(crate) last_completed_name: RefCell<Option<(TaskId, Rc<str>)>>,
    /// Builder settings.
    pub(crate) config: Config,
    /// Reused buffers for `check_events`.
    pub(crate) scratch: RefCell<Scratch>,
    /// Task polls and callbacks run since I/O and timers were last checked.
    pub(crate) polls_since_check: Cell<u32>,
    /// `epoll_wait` calls so far (`Stats::io_polls`).
    pub(crate) io_polls: Cell<u64>,
    /// Socket operations the task being polled may still complete before it must yield
    /// ([`IO_BUDGET`] at the start of each poll).
    pub(crate) io_budget: Cell<u32>,
    /// The recorder, while recording (`record.rs`); `None`, one word every hook checks, when off.
    pub(crate) recorder: Option<Box<crate::record::Recording>>,
    /// The loop's time at its last look outward (`check_events`), in nanoseconds since
    /// [`epoch`](Self::epoch): when a task that parks now parked, for the task dump, without a
    /// clock read per poll. Exact on a virtual clock; on a real one, early by at most the time
    /// since that look (one batch of polls). Kept to the microsecond when it is the wheel's tick.
    pub(crate) looked_at: Cell<u64>,
    /// The loop's clock's origin, its tick 0: the task dump's times are kept in every task's header
    /// as nanoseconds since this (eight bytes where an `Option<Instant>` takes sixteen).
    pub(crate) epoch: Instant,
    /// The task dump's "time polled", per task, for the tasks whose polls the loop timed (only
    /// with trace logging or slow-poll warnings on a real clock: `observe.rs`). Kept here rather
    /// than in every task's header because it is empty otherwise, which is nearly always.
    pub(crate) time_polled: RefCell<IdMap<Duration>>,
}

/// A map keyed by task id, hashed with [`IdHasher`]: the `names` and `time_polled` tables.
pub(crate) type IdMap<V> = HashMap<TaskId, V, BuildHasherDefault<IdHasher>>;

/// The hasher of the task-id maps ([`IdMap`]). Their keys are task ids the loop itself hands out (a slab index
/// and a generation), never chosen by a peer, so the flooding attack std's randomly keyed SipHash
/// defends against cannot happen here; a fixed multiply-and-rotate (rustc's FxHash) is enough,
/// and it keeps std's random-key machinery (a `getrandom` call, SipHash) out of every program.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// How many socket operations one poll of a task may complete before the next one reports
/// `Pending` (having woken the task): the cooperative budget. Without it, a task looping on a
/// socket that is always ready (a flood of incoming data, or an `accept` that keeps failing with
/// "too many open files") would never yield, and no other task (not even the one that would
/// close a file descriptor) would run again. 128 is tokio's budget per task poll.
pub(crate) const IO_BUDGET: u32 = 128;

impl Core {
    /// Spawns a task, eagerly if the builder said so (`Builder::eager_tasks`).
    #[inline]
    pub(crate) fn spawn<F>(&self, future: F, name: Option<String>) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_with(future, name, self.config.eager_tasks)
    }

    /// Spawns a task: queued to run in a later turn, or, if `eager`, polled right here until
    /// its first await (`run_eagerly`, in `eager.rs`), and only queued if it woke itself.
    #[inline]
    pub(crate) fn spawn_with<F>(&self, future: F, name: Option<String>, eager: bool) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let handle = {
            let mut tasks = self.sched.tasks.borrow_mut();
            let id = TaskId::new(tasks.vacant_key());
            let hook = LoopHandle {
                inbox: self.inbox.clone(),
            };
            let (owner, handle) = RawTask::allocate(future, id, hook);
            let key = tasks.insert(owner);
            debug_assert_eq!(key, id.key(), "a task is stored under the id it was given");
            handle
        };
        let id = handle.header().id;
        if let Some(name) = name {
            self.names.borrow_mut().insert(id, name.into());
        }
        if self.sched.tracing.get() {
            crate::trace::spawned(id, self.task_name(id).as_deref(), self.sched.current());
        }
        if self.recorder.is_some() {
            self.record_spawn(id, self.task_name(id));
        }
        if !eager {
            // Queued without a "woken" trace line: the spawn line above says why it is ready.
            let _queued = self.sched.schedule_spawned(handle.header());
        }
        let handle = JoinHandle::new(handle);
        if eager {
            self.run_eagerly(id);
        }
        handle
    }

    /// The name given at spawn, if any.
    pub(crate) fn task_name(&self, id: TaskId) -> Option<Rc<str>> {
        if let Some(name) = self.names.borrow().get(&id) {
            return Some(name.clone());
        }
        self.last_completed_name
            .borrow()
            .as_ref()
            .filter(|(done, _)| *done == id)
            .map(|(_, name)| name.clone())
    }

    /// Runs one step of a task: poll it, or drop it if it was cancelled.
    pub(crate) fn run_task(&self, id: TaskId) {
        let task = {
            let tasks = self.sched.tasks.borrow();
            match tasks.get(id.key()) {
                // SAFETY (of `alias`): the slab entry lives until `complete` removes it below,
                // or until runtime shutdown, which cannot happen while a task runs.
                Some(task) => unsafe { task.alias() },
                None => return,
            }
        };
        let header = task.header();
        let mut state = header.state.get();
        let start = state.start_poll();
        header.state.set(state);
        // Usually none; the task that spawned this one, when it runs eagerly (`eager.rs`).
        let previous = self.sched.current();
        match start {
            Start::Skip => {}
            Start::Cancel => {
                if self.sched.tracing.get() {
                    crate::trace::cancelled(id);
                }
                // Wakes from the future's destructors, and of its JoinHandle, are this task's.
                self.sched.set_current(Some(id));
                task.cancel_future();
                if self.recorder.is_some() {
                    self.record_end(id, TaskEnd::Cancelled);
                }
                header.vitals.finished();
                Counters::add(&self.sched.counters.polls, 1);
                self.complete(id);
                self.sched.set_current(previous);
            }
            Start::Poll => {
                self.sched.set_current(Some(id));
                self.io_budget.set(IO_BUDGET);
                let waker = task.waker_ref();
                let mut cx = Context::from_waker(&waker);
                // SAFETY: `start_poll` said Poll, and the scheduler never polls a task inside
                // its own poll (an eager spawn polls a *new* task inside another's: `eager.rs`).
                let done = unsafe { task.poll(&mut cx) }.is_ready();
                let note = waits_on::take();
                let mut state = header.state.get();
                state.finish_poll();
                header.state.set(state);
                Counters::add(&self.sched.counters.polls, 1);
                if done {
                    if self.recorder.is_some() {
                        let how = if task.is_panic() {
                            TaskEnd::Panicked
                        } else {
                            TaskEnd::Returned
                        };
                        self.record_end(id, how);
                    }
                    header.vitals.finished();
                    self.complete(id);
                } else {
                    // Branch on the note here, not inside `parked`: passed on whole, a `None` was
                    // copied as 32 bytes right after `take` wrote its one-byte tag, a store the
                    // copy's wide loads could not forward from (about 3.5 ns a yield, measured).
                    match note {
                        None => header.vitals.parked_silently(self.looked_at.get()),
                        Some(note) => header.vitals.parked(self.looked_at.get(), note, self.epoch),
                    }
                }
                self.sched.set_current(previous);
            }
        }
    }

    /// Drops a task's future now, wherever it is parked, and completes it (runtime shutdown).
    pub(crate) fn cancel_now(&self, id: TaskId) {
        let task = self.sched.tasks.borrow().get(id.key()).cloned();
        if let Some(task) = task {
            task.cancel_future();
            if self.recorder.is_some() {
                self.record_end(id, TaskEnd::Cancelled);
            }
            self.complete(id);
        }
    }

    /// Edge 4: the future is gone. Remove the task, wake its `JoinHandle`, or, with nobody
    /// to receive it, drop the output or report the panic.
    pub(crate) fn complete(&self, id: TaskId) {
        let Some(task) = self.sched.tasks.borrow_mut().remove(id.key()) else {
            return;
        };
        let header = task.header();
        let mut state = header.state.get();
        state.complete();
        header.state.set(state);
        // Most tasks have no name: skip the hashing then (it showed up in spawn-heavy profiles).
        let name = {
            let mut names = self.names.borrow_mut();
            if names.is_empty() { None } else { names.remove(&id) }
        };
        if !self.time_polled.borrow().is_empty() {
            self.time_polled.borrow_mut().remove(&id);
        }
        if let Some(name) = &name {
            *self.last_completed_name.borrow_mut() = Some((id, name.clone()));
        }
        if self.sched.tracing.get() {
            crate::trace::completed(id, name.as_deref());
        }
        if let Some(waker) = header.join_waker.take() {
            crate::waking::wake(waker);
        }
        if !state.has_join_interest() {
            match task.take_error() {
                Some(error) if error.is_panic() => self.report_task_error(&error, name.as_deref()),
                _ => task.drop_contents(),
            }
        }
    }

    /// Runs a callback unless it was cancelled; a panic is caught and reported.
    pub(crate) fn run_callback(&self, id: CallbackId) {
        let Some(f) = self.callbacks.borrow_mut().take(id) else {
            return;
        };
        self.sched.set_current(None);
        Counters::add(&self.sched.counters.callbacks, 1);
        if self.sched.tracing.get() {
            crate::trace::callback(id);
        }
        let outcome = catch_unwind(AssertUnwindSafe(f));
        // A callback is nobody's wait: forget what a primitive it polled said (`waits_on.rs`).
        drop(waits_on::take());
        if let Err(payload) = outcome {
            let message = crate::task::error::panic_message(&*payload);
            self.handler.report(&ExceptionContext {
                message: "Exception in callback",
                callback: Some(id),
                task: None,
                task_name: None,
                panic_message: Some(message),
            });
        }
    }

    pub(crate) fn call_soon(&self, f: Box<dyn FnOnce()>) -> CallbackId {
        let id = self.callbacks.borrow_mut().insert(f);
        self.sched.schedule_callback(id);
        id
    }

    pub(crate) fn call_at(&self, when: Instant, f: Box<dyn FnOnce()>) -> CallbackId {
        let id = self.callbacks.borrow_mut().insert(f);
        let inserted = self.timers.borrow_mut().insert(when, TimerAction::callback(id));
        match inserted {
            Ok(key) => self.callbacks.borrow_mut().set_timer(id, key),
            Err(_already_due) => self.sched.schedule_callback(id),
        }
        id
    }

    pub(crate) fn cancel_callback(&self, id: CallbackId) -> bool {
        let removed = self.callbacks.borrow_mut().cancel(id);
        let Some((f, timer)) = removed else { return false };
        if let Some(key) = timer {
            self.remove_timer(key);
        }
        drop(f);
        true
    }

    /// A task panicked and nobody will read its `JoinHandle`.
    pub(crate) fn report_task_error(&self, error: &JoinError, name: Option<&str>) {
        self.handler.report(&ExceptionContext {
            message: "Task exception was never retrieved",
            task: error.id(),
            task_name: name,
            callback: None,
            panic_message: error.panic_message(),
        });
    }

    /// A waker of one of this loop's tasks fired on the loop's own thread: queue the task
    /// (edge 1 of the life cycle), tracing why.
    #[inline]
    pub(crate) fn wake_local(&self, header: &Header) {
        if self.sched.schedule_local(header) {
            if self.sched.tracing.get() {
                crate::trace::woken(header.id, self.sched.cause());
            }
            if self.recorder.is_some() {
                self.record_wake(header.id);
            }
        }
    }

    /// A wake that came through the inbox: the task may be gone since (a stale id is ignored).
    /// Clears the task's "remote wake in flight" flag first, so that a wake from another thread
    /// arriving from now on sends a message of its own.
    pub(crate) fn wake_by_id(&self, id: TaskId) {
        let tasks = self.sched.tasks.borrow();
        if let Some(task) = tasks.get(id.key()) {
            task.header()
                .remote_wake
                .swap(false, std::sync::atomic::Ordering::AcqRel);
            self.wake_local(task.header());
        }
    }

    /// The `block_on` future's waker fired on the loop's own thread.
    pub(crate) fn wake_main(&self) {
        if self.sched.schedule_main() && self.sched.tracing.get() {
            crate::trace::main_woken(self.sched.cause());
        }
    }

    /// Spends one unit of the running poll's I/O budget; `false` once it is spent (the caller
    /// must then wake the task and report `Pending`).
    #[inline]
    pub(crate) fn spend_io_budget(&self) -> bool {
        let left = self.io_budget.get();
        self.io_budget.set(left.saturating_sub(1));
        left > 0
    }

    /// Which loop this is.
    pub(crate) fn id(&self) -> LoopId {
        self.inbox.id()
    }

    /// Reports, through the exception handler, every waker that panicked while this loop woke
    /// it (`waking.rs`). Cheap when none did.
    #[inline]
    pub(crate) fn report_waker_panics(&self) {
        if crate::waking::any_parked() {
            self.report_parked_panics();
        }
    }

    /// [`report_waker_panics`](Self::report_waker_panics)'s rare half, out of line.
    #[cold]
    fn report_parked_panics(&self) {
        for payload in crate::waking::take() {
            self.handler.report(&ExceptionContext {
                message: "A waker panicked when woken",
                task: None,
                task_name: None,
                callback: None,
                panic_message: Some(crate::task::error::panic_message(&*payload)),
            });
        }
    }

    /// Counts of what the loop holds.
    pub(crate) fn stats(&self) -> Stats {
        Stats {
            tasks: self.sched.tasks.borrow().len(),
            timers: self.timers.borrow().wheel.len(),
            io_sources: self.reactor.borrow().len(),
            ready: self.sched.ready_len(),
            blocking_threads: self.blocking.threads(),
            io_polls: self.io_polls.get(),
            alarm_sets: self.reactor.borrow().alarm_sets(),
            ..Stats::counted(&self.sched.counters)
        }
    }
}

//! The runtime: `Runtime`, its `Builder`, and the loop that `block_on` turns.
//!
//! # One turn of the loop
//!
//! ```text
//!  block_on(main) ──► ┌──────────────────────────────────────────────────────────────────┐
//!                     │ 1. check events, if the ready queue is empty (then block) or if   │
//!                     │    `event_interval` polls ran since the last check (no blocking): │
//!                     │      epoll_wait ─► wake I/O waiters                               │
//!                     │      drain the cross-thread inbox ─► queue those wakes            │
//!                     │      advance the wheel to now ─► wake sleepers, queue callbacks   │
//!                     │ 2. run the snapshot: exactly the runnables queued *now*, in FIFO  │
//!                     │    order; whatever they wake or spawn waits for the next turn     │
//!                     └──────────────────────────────────────── repeat until main is done ┘
//! ```
//!
//! This is asyncio's `BaseEventLoop._run_once`, with one change. asyncio calls `select` on
//! every turn (with a zero timeout when work is ready), which costs one system call per turn
//! even for a loop that is only passing control between tasks. evloop checks for events at the
//! start of a turn only when nothing is ready (it must block anyway) or once at least
//! `event_interval` polls (default **61**) ran since the last check. So a task that wakes itself
//! forever (or a `yield_now` loop) still lets I/O and timers in at least every 61 polls, and a
//! busy loop pays one `epoll_wait` per 61 task steps instead of one per step. 61 is tokio's
//! `event_interval` (a prime, so it does not fall into step with periodic workloads); our
//! measurements of other values are in DESIGN.md.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::blocking::BlockingPool;
use crate::callback::Callbacks;
use crate::exception::ExceptionContext;
use crate::reactor::Reactor;
use crate::scheduler::{Runnable, Scheduler, Shared};
use crate::task::JoinHandle;
use crate::time::clock::Clock;
use crate::time::driver::Timers;

pub(crate) mod core;
mod events;

use self::core::Config;
pub(crate) use self::core::Core;

/// Configures a [`Runtime`].
#[derive(Debug, Clone)]
pub struct Builder {
    config: Config,
    virtual_clock: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// The default configuration: real clock, `event_interval` 61, slow-poll warnings at 100 ms.
    pub fn new() -> Builder {
        Builder {
            config: Config {
                event_interval: 61,
                slow_poll_threshold: Some(Duration::from_millis(100)),
                max_blocking_threads: 16,
                blocking_idle_timeout: Duration::from_secs(10),
            },
            virtual_clock: false,
        }
    }

    /// How many task polls and callbacks may run, while work is ready, before the loop checks
    /// for I/O and timers again (default 61; minimum 1). Lower: fairer to I/O, more system
    /// calls. Higher: fewer system calls, later I/O under load.
    pub fn event_interval(mut self, polls: u32) -> Builder {
        self.config.event_interval = polls.max(1);
        self
    }

    /// Logs a warning naming the task or callback whenever one poll runs longer than this
    /// (default 100 ms, asyncio's `slow_callback_duration` in debug mode); `None` disables it.
    /// Polls are only timed while the `log` crate has warnings enabled, so with logging off it
    /// costs nothing.
    pub fn slow_poll_threshold(mut self, threshold: Option<Duration>) -> Builder {
        self.config.slow_poll_threshold = threshold;
        self
    }

    /// Runs the loop on a virtual clock: time stands still while tasks run, and jumps to the
    /// next timer's deadline whenever the loop would otherwise wait for it. Sleeps take no real
    /// time and every run prints the same schedule. I/O and blocking jobs still take real time;
    /// the clock does not jump while a `spawn_blocking` job is running.
    ///
    /// Beware of real sockets to *other processes*: when every task waits, the loop takes one
    /// non-blocking look at I/O and then jumps time, so `timeout(5 s, read from a server that
    /// answers in 50 real ms)` times out at once (tokio's paused clock behaves the same). Sockets
    /// whose peer runs on the same loop are fine: the peer's reply is written before the loop
    /// goes idle. Use the real clock to talk to outside servers.
    pub fn virtual_clock(self) -> Builder {
        self.with_virtual_clock(true)
    }

    /// The virtual clock when `on` (see [`virtual_clock`](Self::virtual_clock)), the real one
    /// otherwise: for programs that take the choice as a flag, such as a `--virtual` switch.
    pub fn with_virtual_clock(mut self, on: bool) -> Builder {
        self.virtual_clock = on;
        self
    }

    /// Most threads `spawn_blocking` may run at once (default 16; minimum 1).
    pub fn max_blocking_threads(mut self, threads: usize) -> Builder {
        self.config.max_blocking_threads = threads.max(1);
        self
    }

    /// How long an idle blocking thread waits for another job before exiting (default 10 s).
    pub fn blocking_idle_timeout(mut self, timeout: Duration) -> Builder {
        self.config.blocking_idle_timeout = timeout;
        self
    }

    /// Creates the runtime: one `epoll` instance and one eventfd. No thread is started.
    ///
    /// # Errors
    /// If the OS refuses to create the poller (out of file descriptors, say).
    pub fn build(self) -> io::Result<Runtime> {
        let reactor = Reactor::new()?;
        let shared = Arc::new(Shared::new(reactor.new_waker()?));
        let clock = if self.virtual_clock {
            Clock::virtual_clock()
        } else {
            Clock::real()
        };
        let core = Core {
            shared,
            sched: Scheduler::new(),
            callbacks: RefCell::new(Callbacks::new()),
            timers: RefCell::new(Timers::new(clock)),
            reactor: RefCell::new(reactor),
            blocking: BlockingPool::new(self.config.max_blocking_threads, self.config.blocking_idle_timeout),
            blocking_in_flight: Cell::new(0),
            handler: RefCell::new(None),
            names: RefCell::new(HashMap::new()),
            last_completed_name: RefCell::new(None),
            config: self.config,
            scratch: RefCell::default(),
            polls_since_check: Cell::new(0),
            io_polls: Cell::new(0),
        };
        Ok(Runtime { core: Box::new(core) })
    }
}

/// An event loop. Build one with [`Runtime::new`] or [`Builder`], or let [`run`](crate::run)
/// do it for you.
///
/// Tasks spawned on a runtime live as long as it does: they run whenever some `block_on` is
/// turning the loop, and dropping the runtime cancels the ones still alive (their futures are
/// dropped, so their destructors run).
pub struct Runtime {
    /// Boxed so its address stays fixed while the thread-local context points at it.
    core: Box<Core>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("stats", &self.stats()).finish()
    }
}

/// Counts of what a loop holds, for tests and leak checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Live tasks (spawned, not yet complete).
    pub tasks: usize,
    /// Pending timers in the wheel (sleeps, timeouts, `call_later`s).
    pub timers: usize,
    /// Sockets registered with the reactor.
    pub io_sources: usize,
    /// Runnables on the ready queue.
    pub ready: usize,
    /// Threads the blocking pool has running.
    pub blocking_threads: usize,
    /// How many times the loop has looked for I/O (one `epoll_wait` each) since it was built.
    pub io_polls: u64,
}

impl Runtime {
    /// A runtime with the default configuration.
    ///
    /// # Errors
    /// If the OS refuses to create the poller.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure one.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs the loop until `future` completes, and returns its output (asyncio's
    /// `loop.run_until_complete`). The future may borrow from the caller; tasks it spawns keep
    /// running in later `block_on` calls, until the runtime is dropped.
    ///
    /// # Panics
    /// If a loop is already running on this thread (`block_on` inside `block_on`: the outer
    /// loop would freeze), and if `future` itself panics.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let core = &*self.core;
        let _enter = crate::context::enter(core);
        let mut future = pin!(future);
        let waker = crate::task::raw::main_waker(&core.shared);
        let mut cx = Context::from_waker(&waker);
        core.sched.schedule_main();
        loop {
            // 1. Look outward, when it is time to (see the module docs).
            let ready = core.sched.ready_len();
            if ready == 0 || core.polls_since_check.get() >= core.config.event_interval {
                core.check_events(ready == 0);
            }
            // 2. Run exactly what is ready now.
            let observe = crate::trace::Observer::for_turn(core);
            let snapshot = core.sched.ready_len();
            for _ in 0..snapshot {
                let Some(next) = core.sched.pop() else { break };
                let started = observe.start();
                match next {
                    Runnable::Main => {
                        core.sched.set_current(None);
                        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                            observe.finish(core, next, started);
                            return output;
                        }
                    }
                    Runnable::Task(id) => core.run_task(id),
                    Runnable::Callback(id) => core.run_callback(id),
                }
                observe.finish(core, next, started);
            }
            let polls = u32::try_from(snapshot).unwrap_or(u32::MAX);
            core.polls_since_check
                .set(core.polls_since_check.get().saturating_add(polls));
        }
    }

    /// Spawns a task on this runtime from outside it; it starts at the next `block_on`.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let _enter = crate::context::enter_unchecked(&self.core);
        self.core.spawn(future, None)
    }

    /// Replaces the handler for errors nobody else will see: a panic in a task whose
    /// `JoinHandle` was dropped (or dropped unread), and a panic in a callback (asyncio's
    /// `loop.set_exception_handler`). The default logs them with `log::error!`.
    pub fn set_exception_handler(&self, handler: impl Fn(&ExceptionContext<'_>) + 'static) {
        *self.core.handler.borrow_mut() = Some(std::rc::Rc::new(handler));
    }

    /// Counts of live tasks, timers, sockets and so on.
    pub fn stats(&self) -> Stats {
        self.core.stats()
    }

    /// A `Send + Sync` handle for scheduling callbacks on this loop from other threads.
    pub fn remote(&self) -> crate::Remote {
        crate::Remote {
            shared: self.core.shared.clone(),
        }
    }

    /// The loop's current time (virtual or real).
    pub fn now(&self) -> Instant {
        self.core.timers.borrow().now()
    }
}

impl Core {
    pub(crate) fn stats(&self) -> Stats {
        Stats {
            tasks: self.sched.tasks.borrow().len(),
            timers: self.timers.borrow().wheel.len(),
            io_sources: self.reactor.borrow().len(),
            ready: self.sched.ready_len(),
            blocking_threads: self.blocking.threads(),
            io_polls: self.io_polls.get(),
        }
    }
}

impl Drop for Runtime {
    /// Shuts the loop down: every live task is cancelled (its future dropped, destructors
    /// run, with this loop current so they can still deregister timers and sockets), pending
    /// callbacks are dropped unrun, and later wakes from other threads are ignored.
    fn drop(&mut self) {
        let core = &*self.core;
        let _enter = crate::context::enter_unchecked(core);
        core.shared.close();
        // Destructors may spawn or cancel other tasks; keep going until none is left.
        loop {
            let ids = core.sched.tasks.borrow().ids();
            if ids.is_empty() {
                break;
            }
            for id in ids {
                let task = core.sched.tasks.borrow().get(id).map(|t| {
                    // SAFETY (of `alias`): the slab entry is only removed by `complete` below.
                    unsafe { t.alias() }
                });
                if let Some(task) = task {
                    task.cancel_future();
                    core.complete(id);
                }
            }
        }
        let callbacks = core.callbacks.borrow_mut().drain();
        drop(callbacks);
        core.sched.ready.borrow_mut().clear();
        let timers = std::mem::replace(&mut core.timers.borrow_mut().wheel, crate::time::wheel::Wheel::new());
        drop(timers);
        let wakers = core.reactor.borrow_mut().take_wakers();
        drop(wakers);
        core.blocking.shutdown();
    }
}

/// Reports a panic whose `JoinHandle` was dropped unread (asyncio logs "Task exception was
/// never retrieved" when such a task is garbage collected).
pub(crate) fn report_unretrieved(error: crate::task::JoinError) {
    let reported = crate::context::try_with_core(|core| {
        let name = core.task_name(error.id());
        core.report_task_error(&error, name.as_deref());
    });
    if reported.is_none() {
        log::error!(target: "evloop", "Task exception was never retrieved: {error}");
    }
}

//! The runtime: `Runtime`, its `Builder`, and `block_on`, which turns the loop until a future
//! completes (asyncio's `asyncio.run` and `loop.run_until_complete`).
//!
//! This floor puts the parts below it together (the scheduler, the timers, the reactor, the
//! thread pool, the exception handler: each a store that knows nothing of the others) and is
//! the only one that sets the thread-local "current loop". Read its files in this order:
//!
//! 1. `core.rs`: `Core`, everything one loop owns, and how it runs one task step or callback;
//! 2. `turn.rs`: one turn of the loop, step by step (the diagram is there);
//! 3. `wake.rs`: how a wake reaches the loop, from this thread or another (the task's hook);
//! 4. `context.rs`: the thread-local through which `spawn`, `sleep` and the rest find the loop;
//! 5. this file: `Builder`, `Runtime` and `block_on`; then `observe.rs` (trace and slow-poll
//!    timing), `stats.rs` and `remote.rs`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::pin;

use std::task::Context;
use std::time::{Duration, Instant};

use crate::exception::{ExceptionContext, ExceptionHandler};
use crate::reactor::Reactor;
use crate::scheduler::{Callbacks, Inbox, Scheduler};
use crate::task::{JoinHandle, TaskId};
use crate::thread_pool::BlockingPool;
use crate::timer::Timers;
use crate::timer::clock::Clock;

pub(crate) mod context;
pub(crate) mod core;
pub(crate) mod dump;
mod eager;
mod loop_timers;
mod observe;
mod record;
mod remote;
mod stats;
mod step;
mod timer_action;
mod turn;
mod wake;

use self::core::{Config, Core};
pub use self::dump::{TaskDump, TaskInfo, TaskState, WaitsOn};
pub use self::remote::Remote;
pub use self::stats::{Stats, Wakes};
pub use self::step::{Ran, TurnReport};
use self::turn::Check;
use self::wake::MainWaker;

/// Configures a [`Runtime`].
///
/// # Examples
///
/// A virtual clock: an hour of sleeping takes no real time, and the loop's clock says an hour
/// passed.
///
/// ```
/// use std::time::Duration;
///
/// let runtime = evloop::Builder::new().virtual_clock().event_interval(31).build()?;
/// let slept = runtime.block_on(async {
///     let start = evloop::time::now();
///     evloop::time::sleep(Duration::from_secs(3600)).await;
///     evloop::time::now() - start
/// });
/// assert!(slept >= Duration::from_secs(3600));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    config: Config,
    virtual_clock: bool,
    /// Recording on or off, and its cap (`record.rs`).
    record: self::record::RecordConfig,
    /// Start with the virtual clock's auto-advance off (`start_paused`).
    paused: bool,
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
                eager_tasks: false,
            },
            virtual_clock: false,
            record: self::record::RecordConfig::default(),
            paused: false,
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
    /// goes idle, as long as the writer sets [`TcpStream::set_nodelay`]; without it, Nagle's
    /// algorithm may hold a small write back until the previous one is acknowledged, which a
    /// delayed ACK can take tens of real milliseconds to do, and the clock jumps past it. Use the
    /// real clock to talk to outside servers.
    ///
    /// [`TcpStream::set_nodelay`]: crate::net::TcpStream::set_nodelay
    pub fn virtual_clock(self) -> Builder {
        self.with_virtual_clock(true)
    }

    /// The virtual clock when `on` (see [`virtual_clock`](Self::virtual_clock)), the real one
    /// otherwise: for programs that take the choice as a flag, such as a `--virtual` switch.
    pub fn with_virtual_clock(mut self, on: bool) -> Builder {
        self.virtual_clock = on;
        self
    }

    /// Runs the loop on a virtual clock that starts paused (tokio's `start_paused`): time
    /// moves only when a task calls [`time::advance`](crate::time::advance), or after
    /// [`time::resume`](crate::time::resume). `false` only turns the pause off: it does not
    /// switch a virtual clock back to the real one.
    ///
    /// A paused loop with nothing to run does not jump to the next timer: it waits for I/O or
    /// another thread, so a program whose every task sleeps waits forever. See
    /// [`time::pause`](crate::time::pause).
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.paused = paused;
        if paused {
            self.virtual_clock = true;
        }
        self
    }

    /// Makes every `spawn` inside the loop eager (asyncio 3.12's `eager_task_factory`): the new
    /// task is polled at once, inside `spawn`, until its first await; if it completes there it
    /// is never queued. Default off. [`Runtime::spawn`], from outside the loop, is never eager
    /// (no loop is turning to poll it on). For one task at a time, see
    /// [`spawn_eager`](crate::spawn_eager).
    #[doc(alias = "eager_task_factory")]
    pub fn eager_tasks(mut self, eager: bool) -> Builder {
        self.config.eager_tasks = eager;
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
        let inbox = Inbox::new(reactor.new_waker()?);
        let clock = if self.virtual_clock {
            Clock::virtual_clock()
        } else {
            Clock::real()
        };
        let recorder = self.record.recording(clock.now(), self.virtual_clock);
        clock.set_auto_advance(!self.paused);
        let core = Core {
            main_waker: MainWaker::waker(&inbox),
            inbox,
            sched: Scheduler::new(),
            callbacks: RefCell::new(Callbacks::new()),
            looked_at: Cell::new(0),
            epoch: clock.origin(),
            time_polled: RefCell::new(HashMap::default()),
            timer_wakers: RefCell::new(slab::Slab::new()),
            timers: RefCell::new(Timers::new(clock)),
            reactor: RefCell::new(reactor),
            blocking: BlockingPool::new(self.config.max_blocking_threads, self.config.blocking_idle_timeout),
            blocking_in_flight: Cell::new(0),
            handler: ExceptionHandler::default(),
            names: RefCell::new(HashMap::default()),
            last_completed_name: RefCell::new(None),
            config: self.config,
            scratch: RefCell::default(),
            polls_since_check: Cell::new(0),
            io_polls: Cell::new(0),
            io_budget: Cell::new(self::core::IO_BUDGET),
            recorder,
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
///
/// # Examples
///
/// A task spawned from outside starts at the next `block_on`, and outlives it:
///
/// ```
/// let runtime = evloop::Runtime::new()?;
/// let task = runtime.spawn(async { 6 * 7 });
/// assert_eq!(runtime.block_on(task).unwrap(), 42);
/// assert_eq!(runtime.block_on(async { evloop::stats().tasks }), 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[doc(alias = "event_loop")]
#[doc(alias = "new_event_loop")]
#[doc(alias = "get_event_loop")]
pub struct Runtime {
    /// Boxed so its address stays fixed while the thread-local context points at it.
    core: Box<Core>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("stats", &self.stats()).finish()
    }
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
    #[doc(alias = "run_until_complete")]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let core = &*self.core;
        let _enter = context::enter(core);
        let mut future = pin!(future);
        let mut cx = Context::from_waker(&core.main_waker);
        if core.recorder.is_some() {
            core.record_entry();
        }
        core.wake_main();
        loop {
            if let Some(output) = core.turn(|| future.as_mut().poll(&mut cx)) {
                return output;
            }
        }
    }

    /// Spawns a task on this runtime from outside it; it starts at the next `block_on`.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let _enter = context::enter_unchecked(&self.core);
        self.core.spawn_with(future, None, false)
    }

    /// Replaces the handler for errors nobody else will see: a panic in a task whose
    /// `JoinHandle` was dropped (or dropped unread), and a panic in a callback (asyncio's
    /// `loop.set_exception_handler`). The default logs them with `log::error!`.
    pub fn set_exception_handler(&self, handler: impl Fn(&ExceptionContext<'_>) + 'static) {
        self.core.handler.set(handler);
    }

    /// Counts of live tasks, timers, sockets and so on.
    pub fn stats(&self) -> Stats {
        self.core.stats()
    }

    /// A `Send + Sync` handle for scheduling callbacks on this loop from other threads.
    pub fn remote(&self) -> Remote {
        Remote::new(self.core.inbox.clone())
    }

    /// The loop's current time (virtual or real).
    pub fn now(&self) -> Instant {
        self.core.timers.borrow().now()
    }

    /// Runs what is ready now, without ever blocking, for a host program that drives evloop
    /// from its own event loop (a GUI toolkit's, another reactor's, a game loop).
    ///
    /// One call is one turn with a zero timeout: collect I/O events, wakes from other threads
    /// and due timers, then run the tasks and callbacks that are ready, once each. The host
    /// watches the loop's descriptor ([`as_raw_fd`](std::os::fd::AsRawFd::as_raw_fd), readable
    /// whenever an I/O event or a wake from another thread is pending) and calls this again
    /// when the descriptor is readable or [`RunReady::timeout`] has passed, whichever is first.
    /// On a virtual clock, time jumps to the next deadline here when nothing is ready, as it
    /// does in an idle `block_on`.
    ///
    /// # Examples
    /// ```
    /// use std::os::fd::AsRawFd;
    /// let runtime = evloop::Runtime::new()?;
    /// let task = runtime.spawn(async { evloop::time::sleep(std::time::Duration::from_millis(5)).await; 7 });
    /// let fd = runtime.as_raw_fd(); // a host would add this to its own poll set
    /// assert!(fd >= 0);
    /// while !task.is_finished() {
    ///     let ran = runtime.run_ready();
    ///     // A host would now wait on `fd` for at most `ran.timeout`; here, simply sleep.
    ///     if let Some(wait) = ran.timeout {
    ///         std::thread::sleep(wait);
    ///     }
    /// }
    /// assert_eq!(runtime.block_on(task).unwrap(), 7);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    /// Inside a running loop on this thread (the same rule as `block_on`).
    pub fn run_ready(&self) -> RunReady {
        let core = &*self.core;
        let _enter = context::enter(core);
        if core.recorder.is_some() {
            core.record_entry();
            core.record_turn();
        }
        core.check_events(Check::Host);
        // On a virtual clock, one jump may only reach a cascade point of the wheel (an entry
        // moving down a level, `timer/wheel.rs`): jump again until something is ready, so that
        // the host never sees a turn that did nothing while time could move.
        while core.sched.ready_len() == 0 && core.idle_virtual_clock_can_jump() {
            core.check_events(Check::Host);
        }
        let ran = core.sched.ready_len();
        let done: Option<()> = core.run_snapshot(|| std::task::Poll::Pending);
        debug_assert!(done.is_none(), "run_ready has no main future");
        let timeout = if core.sched.ready_len() > 0 {
            Some(Duration::ZERO)
        } else {
            let timers = core.timers.borrow();
            if timers.wheel.is_empty() {
                None
            } else if timers.clock.auto_advances() {
                // The next call jumps to the deadline.
                Some(Duration::ZERO)
            } else if timers.clock.is_virtual() {
                // Paused: only `time::advance` (or I/O, or another thread) makes anything ready.
                None
            } else {
                timers.time_to_next(timers.now())
            }
        };
        RunReady { ran, timeout }
    }
}

/// What one [`Runtime::run_ready`] did, and when the host should call it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunReady {
    /// How many tasks and callbacks ran.
    pub ran: usize,
    /// The longest the host may wait before calling again if the loop's descriptor stays
    /// quiet: zero when work is already ready, the time to the next timer, or `None` when only
    /// I/O or another thread can make anything ready.
    pub timeout: Option<Duration>,
}

impl std::os::fd::AsRawFd for Runtime {
    /// The loop's poller (an epoll descriptor on Linux): readable whenever an I/O event or a
    /// wake from another thread is pending. For [`Runtime::run_ready`]'s host loop; reading
    /// from it or closing it would break the runtime.
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.core.reactor.borrow().poll_fd()
    }
}

impl Drop for Runtime {
    /// Shuts the loop down: every live task is cancelled (its future dropped, destructors
    /// run, with this loop current so they can still deregister timers and sockets), pending
    /// callbacks are dropped unrun, and later wakes from other threads are ignored.
    fn drop(&mut self) {
        let core = &*self.core;
        let _enter = context::enter_unchecked(core);
        core.inbox.close();
        // Destructors may spawn or cancel other tasks; keep going until none is left.
        loop {
            let keys = core.sched.tasks.borrow().keys();
            if keys.is_empty() {
                break;
            }
            for key in keys {
                core.cancel_now(TaskId::new(key));
            }
        }
        let callbacks = core.callbacks.borrow_mut().drain();
        drop(callbacks);
        core.sched.ready.borrow_mut().clear();
        let timers = std::mem::replace(&mut core.timers.borrow_mut().wheel, crate::timer::wheel::Wheel::new());
        drop(timers);
        let timer_wakers = std::mem::take(&mut *core.timer_wakers.borrow_mut());
        drop(timer_wakers);
        let wakers = core.reactor.borrow_mut().take_wakers();
        drop(wakers);
        core.report_waker_panics();
        core.blocking.shutdown();
    }
}

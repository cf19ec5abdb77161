//! A loop you can step and a clock you can move: `Runtime::run_once` runs exactly one turn and
//! says what it did; `time::pause`, `resume` and `advance` drive a virtual clock by hand.
//!
//! Read first: `turn.rs` (one turn: look outward, then run the ready snapshot). This file also
//! holds `Runtime::run_once`, the public door to it.
//!
//! **One turn, reported.** `run_once` is the turn `block_on` runs, without a `block_on` future:
//! the same two steps (`Core::look_if_due`, `Core::run_snapshot`), with a look at the ready
//! queue between them and after them, and the loop's counters read before and after. Nothing
//! on the hot path records anything for it: what ran is the snapshot, read off the queue
//! before it runs; what was woken, and by what, is whatever the turn put on the queue, each
//! task with the wake cause its header keeps anyway (`task/vitals.rs`). So an example can print
//! a program turn by turn (`examples/step_by_step.rs`), the way asyncio's debug mode logs
//! `_run_once`.
//!
//! **A clock moved by hand.** tokio's `time::pause` / `advance` for tests: a virtual clock
//! normally jumps to the next deadline whenever the loop is idle ("auto-advance"). Paused, it
//! does not: an idle loop then waits in `epoll_wait` for I/O or a wake from another thread, as a
//! real loop with no timers would, and only [`Core::advance_clock`] moves time: it sets the clock
//! forward by exactly the given duration and fires, in deadline order, every timer due on the
//! way (their tasks are queued; they run in the following turns).

use std::task::Poll;
use std::time::Duration;

use crate::record::WakeCause;
use crate::runtime::core::{Core, TimerAction};
use crate::runtime::dump::wake_cause;
use crate::runtime::turn::Check;
use crate::scheduler::{CallbackId, Runnable};
use crate::task::TaskId;

/// What ran in a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ran {
    /// A task's step (or, if it was cancelled, the drop of its future).
    Task(TaskId),
    /// A callback (`call_soon`, `call_later`, `call_soon_threadsafe`).
    Callback(CallbackId),
    /// The future of an earlier `block_on`, woken after it returned (nothing to poll now).
    Main,
}

/// What one [`Runtime::run_once`](crate::Runtime::run_once) did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TurnReport {
    /// Whether the turn looked outward (I/O, other threads, timers) before running: always when
    /// nothing was ready, and once every `event_interval` polls otherwise.
    pub looked: bool,
    /// If it looked with nothing ready, how far the loop's clock moved meanwhile: the time it
    /// blocked in `epoll_wait` (real clock) or the jump to the next deadline (virtual clock).
    /// `None` if it did not wait.
    pub waited: Option<Duration>,
    /// What ran, in order (the ready snapshot).
    pub ran: Vec<Ran>,
    /// Tasks that looking outward woke (a timer, I/O, another thread), and by what: they ran
    /// in this turn.
    pub events_woke: Vec<(TaskId, WakeCause)>,
    /// Tasks that what ran woke or spawned, and by what: they run in the next turn.
    pub ran_woke: Vec<(TaskId, WakeCause)>,
    /// Timers that fired.
    pub timers_fired: u64,
    /// `epoll_wait` calls (0 or 1).
    pub io_polls: u64,
    /// I/O events they returned.
    pub io_events: u64,
}

impl From<Runnable> for Ran {
    fn from(runnable: Runnable) -> Ran {
        match runnable {
            Runnable::Task(id) => Ran::Task(id),
            Runnable::Callback(id) => Ran::Callback(id),
            Runnable::Main => Ran::Main,
        }
    }
}

impl crate::Runtime {
    /// Runs exactly one turn of the loop, and says what it did: what ran, what was woken and by
    /// what, how many timers fired and I/O events came, and whether (and how long, on the
    /// loop's clock) it waited.
    ///
    /// It is the turn `block_on` runs: if something is ready, it runs the ready snapshot (after
    /// a non-blocking look outward once every `event_interval` polls); if nothing is, it first
    /// waits for I/O, another thread or the next timer, and so **it may block**. On a virtual
    /// clock it jumps to the next deadline instead (past the wheel's internal cascade points,
    /// as [`run_ready`](Self::run_ready) does); on a paused one it does not jump, and with
    /// no I/O and no other thread to wake it, it blocks forever (the same as `block_on` would;
    /// check [`Stats::timers`](crate::Stats::timers) and [`Stats::ready`](crate::Stats::ready) first, or use [`run_ready`](Self::run_ready),
    /// which never blocks).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::Ran;
    ///
    /// let runtime = evloop::Runtime::builder().virtual_clock().build()?;
    /// let task = runtime.spawn(evloop::time::sleep(Duration::from_millis(50)));
    /// let first = runtime.run_once(); // the task's first step: it parks on its timer
    /// assert_eq!(first.ran, [Ran::Task(task.id())]);
    /// let second = runtime.run_once(); // idle: the clock jumps, the timer fires, the task ends
    /// assert_eq!(second.waited, Some(Duration::from_millis(50)));
    /// assert_eq!(second.timers_fired, 1);
    /// assert!(task.is_finished());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    /// Inside a running loop on this thread (the same rule as `block_on`).
    #[doc(alias = "_run_once")]
    pub fn run_once(&self) -> TurnReport {
        let core = &*self.core;
        let _enter = crate::runtime::context::enter(core);
        core.run_once()
    }
}

impl Core {
    /// One turn, reported (see the module docs).
    pub(crate) fn run_once(&self) -> TurnReport {
        let before = self.stats();
        let queued_before = self.sched.ready_len();
        let started = self.timers.borrow().now();
        let looked = self.look_if_due();
        if looked == Some(Check::Idle) {
            // A virtual clock's jump may only reach a cascade point of the wheel (an entry
            // moving down a level, `timer/wheel.rs`): jump on until something is ready, as
            // `run_ready` does, so a report never shows a turn that waited and ran nothing
            // while time could move.
            while self.sched.ready_len() == 0 && self.idle_virtual_clock_can_jump() {
                self.check_events(Check::Idle);
            }
        }
        let waited = (looked == Some(Check::Idle)).then(|| self.timers.borrow().now() - started);
        let ran: Vec<Ran> = self
            .sched
            .ready
            .borrow()
            .iter()
            .map(|r| Ran::from(r.runnable()))
            .collect();
        let events_woke = self.queued_tasks(queued_before);
        let done: Option<()> = self.run_snapshot(|| Poll::Pending);
        debug_assert!(done.is_none(), "run_once has no block_on future");
        let ran_woke = self.queued_tasks(0);
        let after = self.stats();
        TurnReport {
            looked: looked.is_some(),
            waited,
            ran,
            events_woke,
            ran_woke,
            timers_fired: after.timers_fired - before.timers_fired,
            io_polls: after.io_polls - before.io_polls,
            io_events: after.io_events - before.io_events,
        }
    }

    /// The tasks on the ready queue from position `from` on, with what queued them.
    fn queued_tasks(&self, from: usize) -> Vec<(TaskId, WakeCause)> {
        let ready = self.sched.ready.borrow();
        let tasks = self.sched.tasks.borrow();
        ready
            .iter()
            .skip(from)
            .filter_map(|queued| match queued.runnable() {
                Runnable::Task(id) => {
                    let vitals = &tasks.get(id.key())?.header().vitals;
                    let note = vitals.last_park(self.epoch).and_then(|(_, note)| note);
                    Some((id, wake_cause(vitals.last_wake(), note)))
                }
                _ => None,
            })
            .collect()
    }

    /// Moves a virtual clock forward by `by` and fires every timer due by then, in deadline
    /// order (`time::advance`).
    ///
    /// # Panics
    /// On a real clock, which cannot be moved.
    pub(crate) fn advance_clock(&self, by: Duration) {
        let mut fired: Vec<TimerAction> = Vec::new();
        {
            let mut timers = self.timers.borrow_mut();
            if !timers.clock.is_virtual() {
                drop(timers);
                panic!("{REAL_CLOCK}");
            }
            let target = crate::timer::deadline_after(timers.now(), by);
            timers.clock.advance_to(target);
            timers.advance(target, &mut fired);
        }
        let cause = self.sched.cause();
        self.fire(&mut fired);
        self.sched.set_cause(cause);
    }

    /// Turns a virtual clock's auto-advance off (`paused`) or on (`time::pause`, `resume`).
    ///
    /// # Panics
    /// On a real clock.
    pub(crate) fn set_paused(&self, paused: bool) {
        if !self.timers.borrow().clock.set_auto_advance(!paused) {
            panic!("{REAL_CLOCK}");
        }
    }

    /// Whether the loop's clock is virtual and paused.
    pub(crate) fn is_paused(&self) -> bool {
        let timers = self.timers.borrow();
        timers.clock.is_virtual() && !timers.clock.auto_advances()
    }
}

/// The panic for moving or pausing a real clock.
const REAL_CLOCK: &str = "evloop: time::pause, time::resume and time::advance need a virtual clock, and this \
loop runs on the real one: build the runtime with Builder::virtual_clock() or Builder::start_paused(true)";

//! Seeing the schedule: the `evloop` log target, and the slow-poll warning.
//!
//! Run any example with `RUST_LOG=evloop=trace` to watch the loop turn: every spawn, every
//! wake and what caused it (a timer, I/O, another task, another thread), every poll and how
//! long it took, every `epoll_wait` and its timeout, every virtual-clock jump.
//!
//! **Cost when off.** Whether tracing is on is looked up once per turn (one load of `log`'s
//! global maximum level, which is `Off` when no logger is installed), not per wake. Poll timing
//! needs a clock read per poll (tens of nanoseconds, more than a whole task switch), so it only
//! happens while someone could see the result: when tracing is on, or when warnings are enabled
//! and a slow-poll threshold is set. With no logger installed, nothing here runs at all.

use std::time::{Duration, Instant};

use log::{Level, LevelFilter};

use crate::callback::CallbackId;
use crate::runtime::Core;
use crate::scheduler::{Cause, Runnable};
use crate::task::TaskId;

const TARGET: &str = "evloop";

/// Per-turn decision about what to measure and log.
pub(crate) struct Observer {
    /// Trace every poll.
    trace: bool,
    /// Warn about polls longer than this.
    slow: Option<Duration>,
}

impl Observer {
    /// Looks up, once for the coming turn, whether anything is to be timed or logged.
    pub(crate) fn for_turn(core: &Core) -> Observer {
        let max = log::max_level();
        let trace = max >= LevelFilter::Trace && log::log_enabled!(target: TARGET, Level::Trace);
        core.sched.tracing.set(trace);
        let slow = if max >= LevelFilter::Warn {
            core.config.slow_poll_threshold
        } else {
            None
        };
        Observer { trace, slow }
    }

    /// Called before each poll: the start time, if this turn measures.
    #[inline]
    pub(crate) fn start(&self) -> Option<Instant> {
        if self.trace || self.slow.is_some() {
            Some(Instant::now())
        } else {
            None
        }
    }

    /// Called after each poll: logs it, and warns if it blocked the loop too long. The check
    /// for "not measuring" stays inline; the rest is out of line, off the hot path.
    #[inline]
    pub(crate) fn finish(&self, core: &Core, what: Runnable, started: Option<Instant>) {
        if let Some(started) = started {
            self.report(core, what, started);
        }
    }

    #[cold]
    #[inline(never)]
    fn report(&self, core: &Core, what: Runnable, started: Instant) {
        let took = started.elapsed();
        if self.trace {
            log::trace!(target: TARGET, "ran {} in {took:?}", describe(core, what));
        }
        if let Some(limit) = self.slow
            && took >= limit
        {
            log::warn!(target: TARGET, "{} blocked the loop for {} ms", describe(core, what), took.as_millis());
        }
    }
}

fn describe(core: &Core, what: Runnable) -> String {
    match what {
        Runnable::Main => "the block_on future".to_string(),
        Runnable::Callback(id) => format!("{id}"),
        Runnable::Task(id) => match core.task_name(id) {
            Some(name) => format!("{id} ({name:?})"),
            None => format!("{id}"),
        },
    }
}

pub(crate) fn spawned(id: TaskId, name: Option<&str>, parent: Option<TaskId>) {
    match parent {
        Some(parent) => log::trace!(target: TARGET, "spawn {id} {:?} from {parent}", name.unwrap_or("")),
        None => log::trace!(target: TARGET, "spawn {id} {:?}", name.unwrap_or("")),
    }
}

pub(crate) fn woken(id: TaskId, cause: Cause) {
    log::trace!(target: TARGET, "queue {id}: {}", why(cause));
}

pub(crate) fn main_woken(cause: Cause) {
    log::trace!(target: TARGET, "queue the block_on future: {}", why(cause));
}

fn why(cause: Cause) -> String {
    match cause {
        Cause::Spawn => "woken from outside any task or callback".to_string(),
        Cause::Task(by) => format!("woken by {by}"),
        Cause::Callback => "woken by a callback or the block_on future".to_string(),
        Cause::Timer => "woken by a timer".to_string(),
        Cause::Io => "woken by I/O readiness".to_string(),
        Cause::Remote => "woken from another thread".to_string(),
    }
}

pub(crate) fn completed(id: TaskId, name: Option<&str>) {
    log::trace!(target: TARGET, "complete {id} {:?}", name.unwrap_or(""));
}

pub(crate) fn cancelled(id: TaskId) {
    log::trace!(target: TARGET, "cancel {id}: dropping its future instead of polling it");
}

pub(crate) fn callback(id: CallbackId) {
    log::trace!(target: TARGET, "run {id}");
}

pub(crate) fn polling_io(timeout: Option<Duration>) {
    match timeout {
        Some(t) if t.is_zero() => log::trace!(target: TARGET, "check I/O without blocking"),
        Some(t) => log::trace!(target: TARGET, "block in epoll_wait for up to {t:?} (next timer)"),
        None => log::trace!(target: TARGET, "block in epoll_wait until I/O or a wake (no timers)"),
    }
}

pub(crate) fn virtual_jump(ms_since_start: u64) {
    log::trace!(target: TARGET, "virtual clock jumps to the next timer: now {ms_since_start} ms after the loop was built");
}

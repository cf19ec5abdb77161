//! When the loop writes its trace lines, and the slow-poll warning (asyncio's debug-mode
//! "Executing <Task…> took 0.153 seconds"). The lines themselves are formatted by `trace.rs`.
//!
//! **Cost when off.** Whether tracing is on is looked up once per turn (one load of `log`'s
//! global maximum level, which is `Off` when no logger is installed), not per wake. Poll timing
//! needs a clock read per poll (tens of nanoseconds, more than a whole task switch), so it only
//! happens while someone could see the result: when tracing is on, or when warnings are enabled
//! and a slow-poll threshold is set. With no logger installed, nothing here runs at all.
//!
//! The recorder (`record.rs`) hears of each poll here too: its start and, on a real clock, its
//! duration. With recording off as well, each poll costs one test of one flag. A
//! timed task poll also adds to that task's "time polled" in the task dump.

use std::time::{Duration, Instant};

use log::{Level, LevelFilter};

use crate::runtime::core::Core;
use crate::scheduler::Runnable;
use crate::trace::TARGET;

/// Per-turn decision about what to measure and log.
pub(crate) struct Observer {
    /// Trace every poll.
    trace: bool,
    /// Warn about polls longer than this.
    slow: Option<Duration>,
    /// Tell the recorder about every poll.
    record: bool,
    /// Any of the three: the one flag the poll path tests.
    watch: bool,
}

impl Observer {
    /// Looks up, once for the coming turn, whether anything is to be timed or logged. The
    /// common answer, nothing (no logger at warning level or finer, no recorder), is two loads
    /// and stays inline; it was an out-of-line call of 19 instructions a turn, which a `yield_now`
    /// loop pays on every poll.
    #[inline]
    pub(crate) fn for_turn(core: &Core) -> Observer {
        if log::max_level() < LevelFilter::Warn && core.recorder.is_none() {
            core.sched.tracing.set(false);
            return Observer {
                trace: false,
                slow: None,
                record: false,
                watch: false,
            };
        }
        Observer::looked_up(core)
    }

    /// [`for_turn`](Self::for_turn) when a logger or the recorder might want this turn.
    #[cold]
    #[inline(never)]
    fn looked_up(core: &Core) -> Observer {
        let max = log::max_level();
        let trace = max >= LevelFilter::Trace && log::log_enabled!(target: TARGET, Level::Trace);
        core.sched.tracing.set(trace);
        let slow = if max >= LevelFilter::Warn {
            core.config.slow_poll_threshold
        } else {
            None
        };
        let record = core.recorder.is_some();
        Observer {
            trace,
            slow,
            record,
            watch: trace || slow.is_some() || record,
        }
    }

    /// Called before each poll: the start time, if this turn times polls for the log (the
    /// recorder keeps its own time, `record.rs`).
    #[inline]
    pub(crate) fn start(&self, core: &Core, what: Runnable) -> Option<Instant> {
        if self.watch { self.begin(core, what) } else { None }
    }

    #[cold]
    #[inline(never)]
    fn begin(&self, core: &Core, what: Runnable) -> Option<Instant> {
        if self.record {
            core.record_poll_start(what);
        }
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
        if self.watch {
            self.report(core, what, started);
        }
    }

    #[cold]
    #[inline(never)]
    fn report(&self, core: &Core, what: Runnable, started: Option<Instant>) {
        if self.record {
            core.record_poll_end();
        }
        let Some(started) = started else { return };
        let took = started.elapsed();
        // The task dump's "time polled" (`Core::time_polled`): only polls timed here count, and
        // only on the real clock (on a virtual one a poll takes no time, as in the record).
        if let Runnable::Task(id) = what
            && !core.timers.borrow().clock.is_virtual()
            && core.sched.tasks.borrow().contains(id.key())
        {
            let mut table = core.time_polled.borrow_mut();
            let total = table.entry(id).or_default();
            *total = total.saturating_add(took);
        }
        if self.trace {
            log::trace!(target: TARGET, "ran {} in {took:?}", describe(core, what));
        }
        if let Some(limit) = self.slow
            && took >= limit
        {
            // In whole milliseconds as a `u64` (584 million years), not `as_millis`'s `u128`, whose
            // formatting would add 1.3 KB to every program (scripts/footprint.sh).
            let ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
            log::warn!(target: TARGET, "{} blocked the loop for {ms} ms", describe(core, what));
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

//! `Stats`: counts of what a loop holds, and totals of what it has done.
//!
//! The totals (turns, polls, wakes by cause, `epoll_wait`s and their events, timers fired) are
//! kept by the scheduler (`scheduler/counters.rs`), one `Cell` add each on paths the loop takes
//! anyway, so they are always on. Rates of them answer "is the loop spinning, waiting or
//! drowning?", as tokio's `RuntimeMetrics` and libuv's `uv_metrics_info` do.

use crate::scheduler::Counters;

/// Counts of what a loop holds, for tests and leak checks, and totals of what it has done since
/// it was built.
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
    /// How many times the loop armed its timer alarm (one `timerfd_settime` each) so that a
    /// blocking wait ends at a timer's deadline to the microsecond: at most one per blocking
    /// `io_polls`, and none for a wait whose deadline is already armed. Always 0 off Linux.
    pub alarm_sets: u64,
    /// Loop turns run (each runs the ready snapshot once; an idle turn may run nothing).
    pub turns: u64,
    /// Task polls (a cancelled task's final drop counts as one).
    pub polls: u64,
    /// Callbacks run (`call_soon`, `call_later`, `call_soon_threadsafe`).
    pub callbacks: u64,
    /// Tasks queued to run, by what queued them.
    pub wakes: Wakes,
    /// I/O readiness events the `epoll_wait`s returned (the loop's own wake-up eventfd
    /// included).
    pub io_events: u64,
    /// Timers that fired: sleepers woken and `call_later` callbacks queued.
    pub timers_fired: u64,
}

/// Tasks queued, by cause (see [`Stats::wakes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Wakes {
    /// Just spawned (or woken by code outside any task).
    pub spawn: u64,
    /// Woken by a task, during its poll.
    pub task: u64,
    /// Woken by a callback or the `block_on` future.
    pub callback: u64,
    /// Woken by a timer.
    pub timer: u64,
    /// Woken by an I/O event.
    pub io: u64,
    /// Woken from another thread.
    pub remote: u64,
}

impl Wakes {
    /// All wakes, whatever their cause.
    pub fn total(&self) -> u64 {
        self.spawn + self.task + self.callback + self.timer + self.io + self.remote
    }
}

impl Stats {
    /// The totals part, read from the scheduler's counters (the holdings are zero here; the
    /// caller fills them in).
    pub(crate) fn counted(counters: &Counters) -> Stats {
        let wake = |i: usize| counters.wakes[i].get();
        Stats {
            tasks: 0,
            timers: 0,
            io_sources: 0,
            ready: 0,
            blocking_threads: 0,
            io_polls: 0,
            alarm_sets: 0,
            turns: counters.turns.get(),
            polls: counters.polls.get(),
            callbacks: counters.callbacks.get(),
            wakes: Wakes {
                spawn: wake(0),
                task: wake(1),
                callback: wake(2),
                timer: wake(3),
                io: wake(4),
                remote: wake(5),
            },
            io_events: counters.io_events.get(),
            timers_fired: counters.timers_fired.get(),
        }
    }
}

//! `Stats`: counts of what a loop holds.

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

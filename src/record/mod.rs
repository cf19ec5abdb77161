//! The record of a run: what the loop's recorder keeps, and the pictures drawn from it.
//!
//! A learner who wants to see the schedule needs more than log lines: which task ran when, for
//! how long, who woke it and why, where the loop slept in `epoll_wait`. With recording switched
//! on (`Builder::record`, or `EVLOOP_RECORD=1` in the environment, read when the runtime is
//! built, as asyncio reads `PYTHONASYNCIODEBUG`), the loop appends one [`Event`] per thing that
//! happens; [`Runtime::take_record`](crate::Runtime::take_record) hands them over as a
//! [`Record`], plain data that the renderers in this module turn into pictures.
//!
//! Times are nanoseconds on the loop's own clock since the runtime was built. On a virtual clock
//! that clock only moves when the loop jumps to a timer, so a poll takes no time at all and the
//! record of a program is the same, byte for byte, from run to run.
//!
//! This file is the data model only: no loop, no thread-local. The recorder that fills it lives
//! in the runtime; the renderers beside this file read it.

use crate::TaskId;

mod clock;
mod entry;
mod recorder;
pub(crate) use clock::monotonic_ns;
pub(crate) use entry::Entry;
pub use recorder::{DEFAULT_CAP, ENV_VAR, EnvError, EnvSetting, parse_env};
pub(crate) use recorder::{Recorder, Recording};

/// Everything recorded since recording started (or since the last `take_record`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Record {
    /// Whether times are on a virtual clock (deterministic) or the real one.
    pub virtual_clock: bool,
    /// Every event kept, in the order it happened (so `at` never decreases).
    pub events: Vec<Event>,
    /// How many events were not kept because the cap was reached: never silent, the pictures
    /// say so too.
    pub dropped: u64,
    /// The cap: the most events the recorder keeps before it starts counting drops.
    pub cap: usize,
}

/// One thing that happened, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When it happened (for a poll or a wait: when it started), in nanoseconds on the loop's
    /// clock since the runtime was built. On the real clock the recorder reads the time once per
    /// poll, so an event inside a poll (a spawn, a wake, an end) carries the poll's start, and a
    /// [`What::Blocking`], recorded when its result reaches the loop, is placed at the time the
    /// job started on its thread.
    pub at: u64,
    /// What happened.
    pub what: What,
}

/// The kinds of event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum What {
    /// A loop turn began (the number counts from 0).
    Turn {
        /// Which turn.
        number: u64,
    },
    /// A task was spawned.
    Spawn {
        /// The new task.
        task: TaskId,
        /// Its name, if it was given one (`spawn_named`).
        name: Option<String>,
        /// The task that spawned it, if a task did (not a callback or the `block_on` future).
        by: Option<TaskId>,
    },
    /// A task or callback ran, or the `block_on` future was polled.
    Poll {
        /// What ran.
        subject: Subject,
        /// How long it ran, in nanoseconds (0 on a virtual clock: its time does not move
        /// during a poll).
        took: u64,
    },
    /// A task was woken and queued to run.
    Wake {
        /// The woken task.
        task: TaskId,
        /// Who or what woke it.
        cause: WakeCause,
    },
    /// The loop asked the OS for I/O events (`epoll_wait`).
    IoWait {
        /// The timeout it passed, in nanoseconds; `None` to wait without limit.
        timeout: Option<u64>,
        /// How many events came back.
        events: u32,
        /// How long the call took, in nanoseconds.
        took: u64,
    },
    /// Timers fired in one advance of the wheel.
    TimersFired {
        /// How many.
        count: u32,
    },
    /// A virtual clock jumped forward to the next deadline, because nothing else could run.
    ClockJump {
        /// The new time, in nanoseconds since the runtime was built.
        to: u64,
    },
    /// A job ran on the blocking pool (`spawn_blocking`), on one of its threads.
    Blocking {
        /// The pool thread, numbered from 0 in the order the threads started (a thread that
        /// exits after idling frees no number: the next one started gets a new one).
        thread: u32,
        /// How long it ran, in nanoseconds of real time (the pool's threads have no virtual
        /// clock; 0 on a virtual-clock runtime, to keep its record deterministic).
        took: u64,
        /// The task waiting for it.
        task: Option<TaskId>,
    },
    /// A task ended.
    End {
        /// The task.
        task: TaskId,
        /// How.
        how: TaskEnd,
    },
}

/// What a [`What::Poll`] ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subject {
    /// A task.
    Task(TaskId),
    /// A callback (`call_soon`, `call_later`), by its number.
    Callback(u64),
    /// The future given to `block_on`.
    Main,
}

/// Why a task was woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WakeCause {
    /// It was just spawned, or code outside any task woke it.
    Spawn,
    /// Another task (or itself) woke it while being polled.
    Task(TaskId),
    /// A callback, or the `block_on` future, woke it.
    Callback,
    /// A timer fired.
    Timer,
    /// A socket or descriptor became ready.
    Io {
        /// The registration's number in the reactor (stable for the life of the socket).
        source: u64,
        /// Which half became ready.
        direction: Direction,
    },
    /// Another thread woke it (a blocking job finishing, a `Remote`, a waker sent away).
    Remote,
}

/// A half of a socket, for [`WakeCause::Io`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Readable (or accept-able).
    Read,
    /// Writable (or connected).
    Write,
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskEnd {
    /// Its future returned.
    Returned,
    /// It was cancelled (or its runtime shut down).
    Cancelled,
    /// It panicked.
    Panicked,
}

// The pictures: one shared layout (the time axis and the rows), three renderers.
mod axis;
mod chrome;
mod gantt;
mod palette;
#[cfg(test)]
mod sample;
mod schedule;
mod svg;

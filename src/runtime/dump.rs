//! The task dump: every live task, its state, what it waits on, for how long, and what woke it
//! last (asyncio's `asyncio.all_tasks()` and `python -m asyncio ps`).
//!
//! Read first: `waits_on.rs` (how a parked future says what it waits on) and `task/vitals.rs`
//! (the per-task counters the dump reads).
//!
//! A dump is plain data, taken in one go on the loop's thread: [`Core::dump`] walks the task
//! slab and copies each task's header fields into a [`TaskInfo`]. Nothing is kept alive, no
//! future is touched. It can be asked for three ways: from code running on the loop (a task, a
//! callback: `evloop::all_tasks()`), from the thread that owns the runtime between `block_on`
//! calls (`Runtime::dump`), and from any other thread while the loop runs (`Remote::dump`,
//! which sends the request through the inbox as a `Message::Call` and blocks on the answer,
//! as `Remote::spawn`'s handle does). Its `Display` is a table, one line per task.
//!
//! `Runtime::dump` is here too, beside the type it returns.
//!
//! What it cannot show: a future that does not say what it waits on (a hand-written future, a
//! oneshot channel) shows as [`WaitsOn::Unknown`]; and a place in line is the place when the
//! task last parked (see `waits_on.rs`).

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::record::{Direction, WakeCause};
use crate::runtime::core::Core;
use crate::scheduler::{Inbox, Message};
use crate::task::TaskId;
use crate::task::vitals::Woken;
use crate::waits_on::Parked;

/// Every live task of one loop, at one moment (asyncio's `all_tasks()`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::{TaskState, WaitsOn};
///
/// let runtime = evloop::Runtime::builder().virtual_clock().build()?;
/// runtime.block_on(async {
///     let sleeper = evloop::spawn_named("sleeper", evloop::time::sleep(Duration::from_secs(5)));
///     evloop::yield_now().await; // let it park
///     let dump = evloop::all_tasks();
///     let info = dump.task(sleeper.id()).expect("it is alive");
///     assert_eq!(info.state, TaskState::Parked);
///     assert!(matches!(info.waits_on, Some(WaitsOn::Timer { .. })));
///     println!("{dump}"); // a table, like `python -m asyncio ps`
///     sleeper.cancel();
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[doc(alias = "all_tasks")]
#[doc(alias = "asyncio ps")]
pub struct TaskDump {
    /// When the dump was taken, on the loop's clock.
    pub at: Instant,
    /// The live tasks, in slab order (roughly: oldest slot first).
    pub tasks: Vec<TaskInfo>,
}

/// One task in a [`TaskDump`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskInfo {
    /// Its id.
    pub id: TaskId,
    /// Its name, if it was spawned with one (`spawn_named`).
    pub name: Option<String>,
    /// Where it is in its life.
    pub state: TaskState,
    /// What it is parked on; `None` unless [`state`](Self::state) is `Parked`.
    pub waits_on: Option<WaitsOn>,
    /// How long it has been parked, on the loop's clock (measured from the loop's last look
    /// outward before it parked: exact on a virtual clock, within one batch of polls on a real
    /// one); `None` unless parked.
    pub parked_for: Option<Duration>,
    /// What queued it last ([`WakeCause::Spawn`] if it never waited).
    pub last_wake: WakeCause,
    /// How many times it was polled.
    pub polls: u64,
    /// Time spent in its polls, summed over the polls the loop timed: zero unless trace
    /// logging or slow-poll warnings were on (a clock read per poll costs more than a task
    /// switch, so it is not taken otherwise; DESIGN.md §10), and zero on a virtual clock, where
    /// a poll takes no time (so a dump is the same from run to run).
    pub time_polled: Duration,
}

/// Where a task is in its life, as a dump sees it. A finished task leaves the loop's slab at
/// once, so a dump never lists one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskState {
    /// Being polled now (the caller of `all_tasks`, or a task that spawned it eagerly).
    Running,
    /// On the ready queue, to be polled this turn or the next.
    Ready,
    /// Waiting for something to wake it.
    Parked,
    /// Cancelled; its future is dropped when the loop reaches it.
    Cancelling,
}

/// What a parked task waits on: the last thing that stored its waker and said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitsOn {
    /// A timer: `sleep`, `timeout`, `interval`.
    Timer {
        /// When it fires, on the loop's clock.
        deadline: Instant,
    },
    /// An I/O source (socket, pipe, descriptor) becoming ready in one direction.
    Io {
        /// Its registration's number in the loop's reactor.
        source: u64,
        /// Its file descriptor.
        fd: i32,
        /// Which half.
        direction: Direction,
    },
    /// Permits of a `Semaphore`.
    Semaphore {
        /// 1 for the next waiter to be served (as of when it parked).
        place_in_line: usize,
        /// How many permits it asked for.
        permits: usize,
    },
    /// A `Lock`.
    Lock {
        /// 1 for the next waiter to be served (as of when it parked).
        place_in_line: usize,
    },
    /// An item from a `Queue` (`get`).
    QueueGet {
        /// 1 for the next waiter to be served (as of when it parked).
        place_in_line: usize,
    },
    /// Room in a bounded `Queue` (`put`).
    QueuePut {
        /// 1 for the next waiter to be served (as of when it parked).
        place_in_line: usize,
    },
    /// An `Event` to be set (every waiter is woken at once).
    Event,
    /// A `Condition` to be notified.
    Condition {
        /// 1 for the next waiter to be notified (as of when it parked).
        place_in_line: usize,
    },
    /// Another task to finish (its `JoinHandle`).
    Task {
        /// The awaited task.
        task: TaskId,
    },
    /// Something that does not say (a hand-written future, a oneshot channel, `yield_now`).
    Unknown,
}

impl TaskDump {
    /// The entry of one task, if it is alive.
    pub fn task(&self, id: TaskId) -> Option<&TaskInfo> {
        self.tasks.iter().find(|info| info.id == id)
    }
}

impl crate::Runtime {
    /// Every live task of this loop: its state, what it waits on, for how long (asyncio's
    /// `all_tasks()`; see [`TaskDump`]). For the thread that owns the runtime, between
    /// `block_on` calls; inside the loop use [`all_tasks`](crate::all_tasks), from another
    /// thread [`Remote::dump`](crate::Remote::dump).
    #[doc(alias = "all_tasks")]
    pub fn dump(&self) -> TaskDump {
        self.core.dump()
    }
}

impl Core {
    /// Every live task, now.
    pub(crate) fn dump(&self) -> TaskDump {
        let at = self.timers.borrow().now();
        let keys = self.sched.tasks.borrow().keys();
        let mut tasks = Vec::with_capacity(keys.len());
        for key in keys {
            let id = TaskId::new(key);
            let Some(task) = self.sched.tasks.borrow().get(key).cloned() else {
                continue;
            };
            let header = task.header();
            let flags = header.state.get();
            let vitals = &header.vitals;
            let state = if flags.is_running() {
                TaskState::Running
            } else if flags.is_cancelled() {
                TaskState::Cancelling
            } else if flags.is_queued() {
                TaskState::Ready
            } else {
                TaskState::Parked
            };
            let park = vitals.last_park(self.epoch);
            let note = park.as_ref().and_then(|(_, note)| note.clone());
            let (waits_on, parked_for) = match (state, park) {
                (TaskState::Parked, Some((since, note))) => (
                    Some(note.map_or(WaitsOn::Unknown, waits_on)),
                    Some(at.saturating_duration_since(since)),
                ),
                (TaskState::Parked, None) => (Some(WaitsOn::Unknown), None),
                _ => (None, None),
            };
            tasks.push(TaskInfo {
                id,
                name: self.task_name(id).map(|name| name.to_string()),
                state,
                waits_on,
                parked_for,
                last_wake: wake_cause(vitals.last_wake(), note),
                polls: vitals.polls(),
                time_polled: self.time_polled.borrow().get(&id).copied().unwrap_or_default(),
            });
        }
        TaskDump { at, tasks }
    }
}

/// The public form of a parked note.
fn waits_on(note: Parked) -> WaitsOn {
    match note {
        Parked::Timer { deadline } => WaitsOn::Timer { deadline },
        Parked::Io { source, fd, write } => WaitsOn::Io {
            source,
            fd,
            direction: if write { Direction::Write } else { Direction::Read },
        },
        Parked::Semaphore { place, wanted } => WaitsOn::Semaphore {
            place_in_line: place.now(),
            permits: wanted,
        },
        Parked::Lock { place } => WaitsOn::Lock {
            place_in_line: place.now(),
        },
        Parked::QueueGet { place } => WaitsOn::QueueGet {
            place_in_line: place.now(),
        },
        Parked::QueuePut { place } => WaitsOn::QueuePut {
            place_in_line: place.now(),
        },
        Parked::Event => WaitsOn::Event,
        Parked::Condition { place } => WaitsOn::Condition {
            place_in_line: place.now(),
        },
        Parked::Task { task } => WaitsOn::Task {
            task: TaskId::new(task),
        },
    }
}

/// The public form of a wake cause. An I/O wake names the source the task was parked on;
/// `u64::MAX` if its note named something else (a `select` whose first branch was a timer).
pub(crate) fn wake_cause(woken: Woken, note: Option<Parked>) -> WakeCause {
    match woken {
        Woken::Spawn => WakeCause::Spawn,
        Woken::Task(id) => WakeCause::Task(id),
        Woken::Callback => WakeCause::Callback,
        Woken::Timer => WakeCause::Timer,
        Woken::Remote => WakeCause::Remote,
        Woken::Io => match note {
            Some(Parked::Io { source, write, .. }) => WakeCause::Io {
                source,
                direction: if write { Direction::Write } else { Direction::Read },
            },
            _ => WakeCause::Io {
                source: u64::MAX,
                direction: Direction::Read,
            },
        },
    }
}

/// Asks the loop behind `inbox` for a dump from another thread, and waits at most `timeout`
/// (`None`: without limit) for the answer. `None` if the loop is gone, or did not answer.
pub(crate) fn request(inbox: &Inbox, timeout: Option<Duration>) -> Option<TaskDump> {
    if crate::runtime::context::try_with_core(|_| ()).is_some() {
        panic!(
            "Remote::dump called on the thread of a running evloop loop, which would block it (and \
             its own loop could never answer): call evloop::all_tasks() there instead"
        );
    }
    let answer = Arc::new(Answer::default());
    let reply = Reply(answer.clone());
    inbox.send(Message::Call(Box::new(move || {
        let dump = crate::runtime::context::try_with_core(Core::dump);
        reply.send(dump);
    })));
    answer.wait(timeout)
}

/// Where the loop puts its answer: `Some(answer)` once it came (`Some(None)`: the request was
/// dropped unanswered, the loop is gone).
#[derive(Default)]
struct Answer {
    slot: Mutex<Option<Option<TaskDump>>>,
    done: Condvar,
}

impl Answer {
    fn wait(&self, timeout: Option<Duration>) -> Option<TaskDump> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(answer) = slot.take() {
                return answer;
            }
            slot = match deadline {
                None => self.done.wait(slot).unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.checked_duration_since(Instant::now())?;
                    self.done
                        .wait_timeout(slot, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

/// The loop's end of an [`Answer`]. Dropped unsent (the runtime dropped the request unrun),
/// it answers "none", so the asking thread never waits for a loop that is gone.
struct Reply(Arc<Answer>);

impl Reply {
    fn send(self, dump: Option<TaskDump>) {
        let mut slot = self.0.slot.lock().unwrap_or_else(PoisonError::into_inner);
        *slot = Some(dump);
        self.0.done.notify_all();
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        let mut slot = self.0.slot.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(None);
            self.0.done.notify_all();
        }
    }
}

impl fmt::Display for TaskDump {
    /// A table, one line per task, like `python -m asyncio ps`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<12} {:<14} {:<10} {:<34} {:>10} {:<14} {:>6} {:>11}",
            "task", "name", "state", "waits on", "parked for", "last woken by", "polls", "time polled"
        )?;
        for info in &self.tasks {
            let name = info
                .name
                .as_deref()
                .map_or_else(|| "-".to_string(), |n| format!("{n:?}"));
            let waits = info.waits_on.map_or_else(|| "-".to_string(), |w| describe(w, self.at));
            let parked = info.parked_for.map_or_else(|| "-".to_string(), |d| format!("{d:?}"));
            writeln!(
                f,
                "{:<12} {:<14} {:<10} {:<34} {:>10} {:<14} {:>6} {:>11}",
                info.id.to_string(),
                name,
                format!("{:?}", info.state).to_lowercase(),
                waits,
                parked,
                cause(info.last_wake),
                info.polls,
                format!("{:?}", info.time_polled),
            )?;
        }
        Ok(())
    }
}

/// One "waits on" cell of the table.
fn describe(waits: WaitsOn, now: Instant) -> String {
    match waits {
        WaitsOn::Timer { deadline } => format!("timer, due in {:?}", deadline.saturating_duration_since(now)),
        WaitsOn::Io { fd, direction, .. } => format!("fd {fd} to be {}", readiness(direction)),
        WaitsOn::Semaphore { place_in_line, permits } => {
            format!("semaphore ({permits} permit), #{place_in_line} in line")
        }
        WaitsOn::Lock { place_in_line } => format!("lock, #{place_in_line} in line"),
        WaitsOn::QueueGet { place_in_line } => format!("queue get, #{place_in_line} in line"),
        WaitsOn::QueuePut { place_in_line } => format!("queue put, #{place_in_line} in line"),
        WaitsOn::Event => "event".to_string(),
        WaitsOn::Condition { place_in_line } => format!("condition, #{place_in_line} in line"),
        WaitsOn::Task { task } => format!("{task} to finish"),
        WaitsOn::Unknown => "(unknown)".to_string(),
    }
}

fn readiness(direction: Direction) -> &'static str {
    match direction {
        Direction::Read => "readable",
        Direction::Write => "writable",
    }
}

/// One "last woken by" cell of the table.
fn cause(cause: WakeCause) -> String {
    match cause {
        WakeCause::Spawn => "spawn".to_string(),
        WakeCause::Task(id) => id.to_string(),
        WakeCause::Callback => "callback".to_string(),
        WakeCause::Timer => "timer".to_string(),
        WakeCause::Io { direction, .. } => format!("io ({})", readiness(direction)),
        WakeCause::Remote => "other thread".to_string(),
    }
}

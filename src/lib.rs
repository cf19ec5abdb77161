//! # evloop: an event loop built from first principles
//!
//! Python's asyncio made "event loop, callbacks, coroutines, tasks" famous. evloop rebuilds
//! those ideas in small, readable Rust on top of `mio`: a hand-written reactor, its own
//! `Waker`, a task slab, a hierarchical timer wheel, and the coordination primitives.
//!
//! ```
//! use std::time::Duration;
//!
//! let answer = evloop::run(async {
//!     let task = evloop::spawn(async {
//!         evloop::time::sleep(Duration::from_millis(10)).await;
//!         42
//!     });
//!     task.await.unwrap()
//! });
//! assert_eq!(answer, 42);
//! ```
//!
//! ## A tour of the source, from the ground floor up
//!
//! Each floor uses only the floors below it; DESIGN.md §1 draws them. Read in this order:
//!
//! | floor | what                                   | asyncio                                   | file                         |
//! |-------|----------------------------------------|-------------------------------------------|------------------------------|
//! | 1     | generational keys, linked lists, waking a batch |                                  | `slots.rs`, `list.rs`, `waking.rs` |
//! | 1     | timers: levels, wheel, clock           | the `_scheduled` heap                     | `timer/`                     |
//! | 1     | the reactor: which sockets are ready   | `selectors`                               | `reactor/`                   |
//! | 1     | what a parked future waits on (the note) | `Task.get_stack()`                      | `waits_on.rs`                |
//! | 2     | task state: the life cycle             | `Task._state`                             | `task/state.rs`, `task/id.rs` |
//! | 2     | the task cell, its hook and waker      | (CPython's C `Task` object)               | `task/schedule.rs`, `task/header.rs`, `task/raw.rs`, `task/waker.rs` |
//! | 2     | join: awaiting, cancelling a task      | `Task`, `Task.cancel()`                   | `task/join.rs`, `task/error.rs` |
//! | 2     | a task's vital signs for the dump      | `python -m asyncio ps`                    | `task/vitals.rs`             |
//! | 3     | scheduler: ready queue, inbox, callbacks | the `_ready` deque, `call_soon_threadsafe` | `scheduler/`               |
//! | 3     | exception handler, thread pool, trace  | `call_exception_handler`, the executor    | `exception.rs`, `thread_pool.rs`, `trace.rs` |
//! | 4     | the loop core                          | `BaseEventLoop`                           | `runtime/core.rs`            |
//! | 4     | one turn                               | `_run_once`                               | `runtime/turn.rs`            |
//! | 4     | wakes, the current loop                | `get_running_loop()`                      | `runtime/wake.rs`, `runtime/context.rs` |
//! | 4     | `block_on`: [`run`], [`Runtime`], [`Builder`] | `asyncio.run`, `run_until_complete` | `runtime/mod.rs`             |
//! | 4     | the task dump: [`all_tasks`], [`TaskDump`] | `all_tasks()`, `python -m asyncio ps` | `runtime/dump.rs`            |
//! | 4     | one turn reported, the clock moved: [`Runtime::run_once`], [`time::advance`] | `_run_once` | `runtime/step.rs`, `time/control.rs` |
//! | 4     | eager task start: [`spawn_eager`]      | `eager_task_factory`                      | `runtime/eager.rs`, `eager.rs` |
//! | 5     | the ambient API: [`spawn`], [`call_soon`], [`time::sleep`], [`spawn_blocking`], [`stats`] | `create_task`, `call_soon`, `sleep`, `to_thread` | `spawn.rs`, `callback.rs`, `time/`, `blocking.rs`, `current.rs`, `io/source.rs` |
//! | 6     | coordination: [`sync`], [`gather`], [`TaskGroup`] | `Lock`, `Queue`, `gather`, `TaskGroup` | `sync/`, `combinators/`, `group.rs` |
//! | 6     | sockets and HTTP: [`net`], [`http`]    | `open_connection`, aiohttp                | `net/`, `http/`              |
//! | 6     | any descriptor: [`io::AsyncFd`], [`io::add_reader`] | `add_reader`, `add_writer` | `io/fd.rs`, `io/watch.rs`, `io/sys.rs` |
//! | 6     | subprocesses: [`process`]              | `create_subprocess_exec`                  | `process/`                   |
//! | 6     | byte streams: [`io`] (buffered reader and writer, lines, limits) | `StreamReader`, `StreamWriter` | `io/` |
//!
//! The `sync` primitives stand on floor 1 (the list, `waking.rs` and the std `Waker` only) and are exported
//! on floor 6 beside the combinators that use them. DESIGN.md, at the root of the repository, is
//! the long form of this table.

#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms, unreachable_pub)]
#![deny(unsafe_op_in_unsafe_fn)]

// Floor 1: pure pieces.
mod list;
mod reactor;
mod slots;
mod timer;
mod waits_on;
mod waking;

// Floor 2: the task core.
mod task;

// Floor 3: the loop's parts, each a store that knows nothing of the thread-local.
mod exception;
pub mod record;
mod scheduler;
mod thread_pool;
mod trace;

// Floor 4: the runtime core.
mod runtime;

// Floor 5: the ambient API, the only files that find the running loop through the thread-local.
mod blocking;
mod callback;
mod current;
mod eager;
mod remote_spawn;
mod spawn;
pub mod time;

// Floor 6: composition.
mod combinators;
mod group;
pub mod http;
pub mod io;
pub mod net;
pub mod process;
pub mod signal;
pub mod sync;

pub use blocking::spawn_blocking;
pub use callback::{CallbackHandle, CallbackId, call_at, call_later, call_soon};
pub use combinators::{AsCompleted, Either, ReturnWhen, Waited, as_completed, gather, gather_all, race, select, wait};
pub use current::{all_tasks, current_id, set_exception_handler, stats, take_record};
pub use eager::spawn_eager;
pub use exception::ExceptionContext;
pub use group::{Failure, GroupError, TaskGroup};
pub use remote_spawn::RemoteHandle;
pub use runtime::{
    Builder, Ran, Remote, RunReady, Runtime, Stats, TaskDump, TaskInfo, TaskState, TurnReport, WaitsOn, Wakes,
};
pub use spawn::{YieldNow, shield, spawn, spawn_named, yield_now};
pub use task::{JoinError, JoinHandle, TaskId};

use std::future::Future;

/// Runs `future` to completion on a new runtime and returns its output (asyncio's
/// `asyncio.run`). Tasks still alive when it completes are cancelled (their futures dropped).
///
/// # Examples
///
/// ```
/// let greeting = evloop::run(async {
///     let name = evloop::spawn(async { "world" });
///     format!("hello, {}", name.await.unwrap())
/// });
/// assert_eq!(greeting, "hello, world");
/// ```
///
/// # Panics
/// If the OS refuses to create the poller, if called inside a running loop, or if `future`
/// panics.
pub fn run<F: Future>(future: F) -> F::Output {
    let runtime = Runtime::new().expect("evloop::run: could not create the I/O poller");
    runtime.block_on(future)
}

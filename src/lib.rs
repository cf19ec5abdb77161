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
//! ## A tour of the source, in reading order
//!
//! | asyncio                               | evloop                              | file                      |
//! |---------------------------------------|-------------------------------------|---------------------------|
//! | `asyncio.run`, `run_until_complete`   | [`run`], [`Runtime::block_on`]      | `runtime/mod.rs`          |
//! | one turn: `_run_once`                 | `Core::check_events` + the snapshot | `runtime/events.rs`       |
//! | `get_running_loop()`                  | the thread-local current loop       | `context.rs`              |
//! | the `_ready` deque, `call_soon_threadsafe` | ready queue, inbox             | `scheduler.rs`            |
//! | `create_task`, `Task`                 | [`spawn`], [`JoinHandle`]           | `task/`                   |
//! | `Task.cancel()`                       | [`JoinHandle::cancel`]              | `task/join.rs`, `task/state.rs` |
//! | (CPython's C `Task` object)           | one allocation + our `Waker`        | `task/raw.rs`             |
//! | `call_soon`, `call_later`, `call_at`  | [`call_soon`], [`call_later`], [`call_at`] | `callback.rs`      |
//! | `asyncio.sleep`, `wait_for`           | [`time::sleep`], [`time::timeout`]  | `time/`                   |
//! | `selectors` + `_selector.select()`    | the reactor                         | `reactor/`                |
//! | `open_connection`, `start_server`     | [`net::TcpStream`], [`net::TcpListener`] | `net/`               |
//! | `run_in_executor`, `to_thread`        | [`spawn_blocking`]                  | `blocking.rs`             |
//! | `set_exception_handler`               | [`set_exception_handler`]           | `exception.rs`            |
//! | debug mode's slow-callback warning    | the `evloop` log target             | `trace.rs`                |
//!
//! DESIGN.md, at the root of the repository, is the long form of this table.

#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms, unreachable_pub)]
#![deny(unsafe_op_in_unsafe_fn)]

mod blocking;
mod callback;
mod combinators;
mod context;
mod exception;
mod group;
mod reactor;
mod runtime;
mod scheduler;
mod task;
mod trace;

pub mod http;
pub mod net;
pub mod sync;
pub mod time;

pub use blocking::spawn_blocking;
pub use callback::{CallbackHandle, CallbackId, call_at, call_later, call_soon};
pub use combinators::{AsCompleted, Either, ReturnWhen, Waited, as_completed, gather, gather_all, race, select, wait};
pub use exception::{ExceptionContext, set_exception_handler};
pub use group::{Failure, GroupError, TaskGroup};
pub use runtime::{Builder, Runtime, Stats};
pub use task::{JoinError, JoinHandle, TaskId, YieldNow, current_id, spawn, spawn_named, yield_now};

use std::future::Future;
use std::sync::Arc;

/// Runs `future` to completion on a new runtime and returns its output (asyncio's
/// `asyncio.run`). Tasks still alive when it completes are cancelled (their futures dropped).
///
/// # Panics
/// If the OS refuses to create the poller, if called inside a running loop, or if `future`
/// panics.
pub fn run<F: Future>(future: F) -> F::Output {
    let runtime = Runtime::new().expect("evloop::run: could not create the I/O poller");
    runtime.block_on(future)
}

/// Protects `future` from the cancellation of whoever awaits it (asyncio's `shield`): the
/// future runs as its own task, and only the returned handle belongs to the caller. If the
/// awaiting task is cancelled, the handle is dropped, which detaches the task, and it runs on.
/// Cancel it explicitly with [`JoinHandle::cancel`] if it must stop.
///
/// # Panics
/// Outside a running evloop loop.
pub fn shield<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn(future)
}

/// Counts of what the running loop holds (see [`Stats`]).
///
/// # Panics
/// Outside a running evloop loop.
pub fn stats() -> Stats {
    context::with_core(|core| core.stats())
}

/// A handle for reaching a loop from any thread (`Send + Sync`), made by [`Runtime::remote`].
#[derive(Clone)]
pub struct Remote {
    shared: Arc<scheduler::Shared>,
}

impl Remote {
    /// Schedules `f` to run on the loop's thread at its next turn (asyncio's
    /// `loop.call_soon_threadsafe`). Wakes the loop if it is asleep. Does nothing once the
    /// runtime has been dropped.
    pub fn call_soon_threadsafe(&self, f: impl FnOnce() + Send + 'static) {
        self.shared.send(scheduler::Remote::Call(Box::new(f)));
    }
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").finish_non_exhaustive()
    }
}

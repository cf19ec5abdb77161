//! Tasks: asyncio's `create_task`, in Rust.
//!
//! A *task* is a future the loop owns and drives to completion. [`spawn`] moves a future into
//! one heap allocation (see `raw`), stores a counted reference in the loop's task slab (see
//! `slab`), schedules it, and returns a [`JoinHandle`] to await or cancel it. The loop polls the
//! task whenever something wakes it; its life cycle is in `state`.
//!
//! Tasks never leave the loop's thread, so they need not be `Send`: an `Rc` or a `RefCell`
//! can live across an `.await`, as in Python.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) mod join;
pub(crate) mod raw;
pub(crate) mod slab;
pub(crate) mod state;

pub use join::{JoinError, JoinHandle};

/// Names a task: a slot in the loop's task slab plus a generation, so that an id of a finished
/// task never names the task that later reuses the slot. Printed as `task#<slot>.<generation>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskId(u64);

impl TaskId {
    pub(crate) const fn new(index: u32, generation: u32) -> TaskId {
        TaskId(((generation as u64) << 32) | index as u64)
    }

    pub(crate) const fn index(self) -> u32 {
        self.0 as u32
    }

    const fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task#{}.{}", self.index(), self.generation())
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Spawns a task on the current loop (asyncio's `create_task`).
///
/// The task starts running at the loop's next turn, whether or not anyone awaits the returned
/// handle; dropping the handle detaches it.
///
/// # Panics
/// If called outside a running evloop runtime (there is no loop to run the task on).
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    crate::context::with_core(|core| core.spawn(future, None))
}

/// Like [`spawn`], giving the task a name that appears in the loop's logs and errors
/// (asyncio's `create_task(coro, name=...)`).
///
/// # Panics
/// If called outside a running evloop runtime.
pub fn spawn_named<F>(name: impl Into<String>, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let name = name.into();
    crate::context::with_core(|core| core.spawn(future, Some(name)))
}

/// The id of the task being polled right now, if the caller is inside a task.
pub fn current_id() -> Option<TaskId> {
    crate::context::try_with_core(|core| core.sched.current()).flatten()
}

/// Gives up the rest of this turn: the task goes to the back of the ready queue and runs again
/// next turn, after everything that was already ready (asyncio's `await asyncio.sleep(0)`).
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct YieldNow {
    /// Set by the first poll: the second poll (next turn) completes.
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

//! The hook through which a task reaches whoever schedules it.
//!
//! # What to know first
//!
//! The task core (this folder) is a floor *below* the scheduler and the runtime: it must not
//! name them, or a reader could not understand a task without first understanding the whole
//! loop. Yet a task has to call up in two places:
//!
//! 1. its **waker** fired (on this thread or any other), or its `JoinHandle` asked to cancel it:
//!    someone must put it on a ready queue;
//! 2. it **panicked and nobody will ever read the panic** (its `JoinHandle` was dropped), or its
//!    unread output panicked while being dropped: someone must report it, as asyncio reports
//!    "Task exception was never retrieved".
//!
//! So the caller of [`RawTask::allocate`](crate::task::raw::RawTask::allocate) hands each task
//! a value implementing [`Schedule`], stored in the task's own allocation; the task's vtable
//! gets functions that call it. The task core only ever sees the trait. The runtime
//! implements it (`runtime/wake.rs`): same-thread wakes go straight onto the ready queue, other
//! threads' through the loop's inbox.
//!
//! Read with: smol-rs/async-task, whose `spawn(future, schedule)` takes the schedule function
//! the same way, and tokio's `runtime/task/mod.rs` (its `Schedule` trait).

use std::any::Any;

use crate::task::error::JoinError;
use crate::task::header::Header;
use crate::task::id::TaskId;

/// Whoever runs a task: told when the task must be queued, and handed what nobody else will see.
///
/// `Send + Sync` because a waker may be woken, and the value reached, from any thread.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// The task must be polled (again), or dropped if it was cancelled: queue it. Called from
    /// whichever thread woke it. Queuing a task that is already queued must do nothing.
    fn schedule(&self, task: &Header);

    /// A panic of this task that no `JoinHandle` will collect. Called on the loop's thread.
    fn unretrieved(&self, error: JoinError);

    /// The task's output, which nobody read, panicked while being dropped. Called on the
    /// loop's thread.
    fn output_drop_panicked(&self, task: TaskId, payload: Box<dyn Any + Send>);
}

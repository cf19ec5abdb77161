//! `JoinHandle`: asyncio's `Task` object seen from outside.
//!
//! Awaiting a handle gives the task's output, or a [`JoinError`] saying the task was cancelled
//! or panicked. Dropping the handle *detaches* the task: it keeps running (asyncio semantics:
//! a task does not need anyone to await it), and its output is dropped when it completes. A
//! panic that nobody collects goes to the loop's exception handler, like asyncio's "Task
//! exception was never retrieved".
//!
//! **Unsafe code.** One block: reading the output as a `T`, sound because a `JoinHandle<T>` is
//! only ever made by `spawn` for a future whose output is `T` (DESIGN.md §11).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::error::JoinError;
use crate::task::id::TaskId;
use crate::task::raw::RawTask;
use crate::waits_on::{self, Parked};

/// An owned permission to await (or cancel) a spawned task.
///
/// Created by [`spawn`](crate::spawn). Awaiting it yields `Ok(output)` or a [`JoinError`].
/// Dropping it detaches the task, which runs on.
///
/// # Examples
///
/// Await one task, cancel another (its future is dropped where it is parked):
///
/// ```
/// use std::time::Duration;
///
/// evloop::run(async {
///     let quick = evloop::spawn(async { "done" });
///     let slow = evloop::spawn(async {
///         evloop::time::sleep(Duration::from_secs(60)).await;
///         "never"
///     });
///     assert_eq!(quick.await.unwrap(), "done");
///     assert!(slow.cancel());
///     let error = slow.await.unwrap_err();
///     assert!(error.is_cancelled());
/// });
/// ```
#[doc(alias = "Task")]
#[must_use = "dropping a JoinHandle detaches the task; call `drop(handle)` to say that is intended"]
pub struct JoinHandle<T> {
    raw: RawTask,
    /// The handle reads a `T` out of the task, and is tied to the loop's thread.
    _output: PhantomData<(T, *const ())>,
}

// A handle never pins the output it will hand over, so it can be moved freely whatever `T` is.
impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    /// The task's id, as it appears in the loop's logs.
    pub fn id(&self) -> TaskId {
        self.raw.header().id
    }

    /// Whether the task has completed (returned, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.get().is_complete()
    }

    /// Cancels the task (asyncio's `Task.cancel()`).
    ///
    /// The task is scheduled, and when the loop reaches it, its future is dropped at the await
    /// point where it is parked instead of being polled: its destructors run, which is the
    /// Rust counterpart of an `except CancelledError:` cleanup block. Awaiting the handle then
    /// gives `Err(JoinError)` with [`JoinError::is_cancelled`]. The task is never polled again.
    ///
    /// Cancelling a completed task does nothing, and returns `false`; so does a second cancel.
    pub fn cancel(&self) -> bool {
        let header = self.raw.header();
        let mut state = header.state.get();
        let must_schedule = state.cancel();
        header.state.set(state);
        if must_schedule {
            self.raw.schedule();
        }
        must_schedule
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let header = self.raw.header();
        if header.state.get().is_complete() {
            // SAFETY: a `JoinHandle<T>` is only created by `spawn` for a future whose output
            // is `T`.
            return match unsafe { self.raw.take_output::<T>() } {
                Some(result) => Poll::Ready(result),
                None => panic!("JoinHandle polled again after it already returned the task's output"),
            };
        }
        // Keep the newest waker: the awaiting task may have moved between polls.
        let old = header.join_waker.take();
        match old {
            Some(w) if w.will_wake(cx.waker()) => header.join_waker.set(Some(w)),
            _ => header.join_waker.set(Some(cx.waker().clone())),
        }
        waits_on::note(Parked::Task { task: header.id.key() });
        Poll::Pending
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let header = self.raw.header();
        let mut state = header.state.get();
        let completed = state.drop_join_interest();
        header.state.set(state);
        drop(header.join_waker.take());
        if completed {
            // The task finished but nobody read its output. A panic still deserves a report.
            match self.raw.take_error() {
                Some(error) if error.is_panic() => self.raw.unretrieved(error),
                _ => self.raw.drop_contents(),
            }
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}

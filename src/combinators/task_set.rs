//! `TaskSet`: tasks spawned together, collected in the order they finish.
//!
//! Read first: [`crate::spawn`] and [`JoinHandle`]. The spawning combinators (`gather`,
//! `gather_all`, `wait`, `as_completed`) and [`TaskGroup`](crate::TaskGroup) are all this one
//! mechanism plus a policy for what to do with each outcome (tokio's `JoinSet` is the same idea).
//!
//! Polling every handle on each wake would make collecting n tasks cost O(n²) polls. Instead
//! each task carries a [`Report`] guard: when the task's future finishes, panics (unwinding
//! drops the guard) or is cancelled (its future is dropped), the guard pushes the task's index
//! onto a shared [`Finished`] list and wakes the collector, which then polls exactly that one
//! handle. Dropping the set cancels whatever it has not collected, so no task outlives the
//! combinator that spawned it.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::task::{JoinError, JoinHandle};

/// Indices of finished tasks, in the order they finished, and who to tell.
#[derive(Default)]
struct Finished {
    order: VecDeque<usize>,
    waker: Option<Waker>,
}

/// Pushes its task's index onto the finished list when dropped: at the end of the task's
/// future, when it panics (unwinding drops it), or when it is cancelled.
struct Report {
    index: usize,
    finished: Rc<RefCell<Finished>>,
}

impl Drop for Report {
    fn drop(&mut self) {
        let waker = {
            let mut finished = self.finished.borrow_mut();
            finished.order.push_back(self.index);
            finished.waker.take()
        };
        if let Some(waker) = waker {
            crate::waking::wake(waker);
        }
    }
}

/// Tasks spawned together, whose results can be collected in the order they finish.
pub(crate) struct TaskSet<T> {
    /// Handles by index; `None` once collected.
    handles: Vec<Option<JoinHandle<T>>>,
    /// Shared with every task's `Report`.
    finished: Rc<RefCell<Finished>>,
    /// Spawned but not yet collected.
    outstanding: usize,
}

impl<T> TaskSet<T> {
    /// How many tasks have not been collected yet. (No `'static` bound, unlike the rest, so
    /// that `Debug` impls over any `T` can report it.)
    pub(crate) fn outstanding(&self) -> usize {
        self.outstanding
    }
}

impl<T: 'static> TaskSet<T> {
    pub(crate) fn new() -> TaskSet<T> {
        TaskSet {
            handles: Vec::new(),
            finished: Rc::default(),
            outstanding: 0,
        }
    }

    /// Spawns every future, in order: task `i` is `futures[i]`.
    pub(crate) fn spawn_all<F: Future<Output = T> + 'static>(futures: impl IntoIterator<Item = F>) -> TaskSet<T> {
        let mut set = TaskSet::new();
        for future in futures {
            set.spawn(future);
        }
        set
    }

    /// Spawns `future` as the next task of the set and returns its index.
    pub(crate) fn spawn<F: Future<Output = T> + 'static>(&mut self, future: F) -> usize {
        let index = self.handles.len();
        let report = Report {
            index,
            finished: self.finished.clone(),
        };
        self.handles.push(Some(crate::spawn(async move {
            let _report = report;
            future.await
        })));
        self.outstanding += 1;
        index
    }

    /// Waits for the next task to finish and returns its index and outcome; `None` when every
    /// task has been collected.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, Result<T, JoinError>)>> {
        loop {
            if self.outstanding == 0 {
                return Poll::Ready(None);
            }
            let next = self.finished.borrow_mut().order.pop_front();
            let Some(index) = next else {
                self.finished.borrow_mut().waker = Some(cx.waker().clone());
                return Poll::Pending;
            };
            let Some(handle) = self.handles[index].as_mut() else {
                continue;
            };
            // The report fires inside the task's last poll, before the loop marks the task
            // complete; by the time this collector runs, it is.
            match Pin::new(handle).poll(cx) {
                Poll::Ready(outcome) => {
                    self.handles[index] = None;
                    self.outstanding -= 1;
                    return Poll::Ready(Some((index, outcome)));
                }
                Poll::Pending => self.finished.borrow_mut().order.push_front(index),
            }
        }
    }

    /// Waits for the next task to finish (see [`poll_next`](Self::poll_next)).
    pub(crate) async fn next(&mut self) -> Option<(usize, Result<T, JoinError>)> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    /// Cancels every task not yet collected.
    pub(crate) fn cancel_all(&self) {
        for handle in self.handles.iter().flatten() {
            handle.cancel();
        }
    }

    /// Cancels the rest and waits until every one of them is gone (its cleanup has run).
    pub(crate) async fn shutdown(&mut self) {
        self.cancel_all();
        while self.next().await.is_some() {}
    }

    /// Hands over the handles of the tasks not yet collected, with their indices.
    pub(crate) fn into_pending(mut self) -> Vec<(usize, JoinHandle<T>)> {
        std::mem::take(&mut self.handles)
            .into_iter()
            .enumerate()
            .filter_map(|(i, h)| h.map(|h| (i, h)))
            .collect()
    }
}

impl<T> Drop for TaskSet<T> {
    /// Dropping an unfinished set cancels its tasks: no task outlives the combinator that
    /// spawned it, unless handed out by `wait` as pending.
    fn drop(&mut self) {
        for handle in self.handles.iter().flatten() {
            handle.cancel();
        }
    }
}

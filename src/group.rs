//! `TaskGroup`: structured concurrency (asyncio 3.11's `TaskGroup`, Trio's nursery).
//!
//! Tasks spawned into a group belong to it: [`TaskGroup::join`] waits for all of them, the
//! first failure (an `Err` output or a panic) cancels the others, and every failure is
//! reported together, like asyncio's `ExceptionGroup`. A group that is dropped cancels whatever
//! is still running, so leaving the scope never leaves a task behind: cancelled tasks are never
//! polled again, and their futures are dropped at the loop's next turn.
//!
//! Group tasks return `Result<(), E>`; values they compute travel through whatever the caller
//! shares with them (an `Rc<RefCell<…>>`, a channel), as with a Trio nursery. The group is a
//! cheap handle: clone it into a task to let that task spawn siblings.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::rc::Rc;

use crate::combinators::task_set::TaskSet;
use crate::task::JoinError;

/// A set of tasks that succeed or fail together. Clones are handles to the same group.
///
/// # Examples
///
/// Three tasks that all succeed; their results travel through shared state (asyncio's
/// `async with asyncio.TaskGroup() as tg: tg.create_task(...)`):
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use evloop::TaskGroup;
///
/// let squares = evloop::run(async {
///     let (group, squares) = (TaskGroup::<String>::new(), Rc::new(RefCell::new(Vec::new())));
///     for n in 1..=3 {
///         let squares = squares.clone();
///         group.spawn(async move {
///             squares.borrow_mut().push(n * n);
///             Ok(())
///         });
///     }
///     group.join().await.expect("no task failed");
///     squares.take()
/// });
/// assert_eq!(squares, [1, 4, 9]);
/// ```
pub struct TaskGroup<E> {
    inner: Rc<Inner<E>>,
}

impl<E> Clone for TaskGroup<E> {
    fn clone(&self) -> Self {
        TaskGroup {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<E> {
    /// The group's tasks and their completion order.
    set: RefCell<TaskSet<Result<(), E>>>,
    /// Failures collected so far, in the order they happened.
    failures: RefCell<Vec<Failure<E>>>,
    /// Set by the first failure: the rest were cancelled, and later spawns are cancelled too.
    failed: Cell<bool>,
}

/// One task's failure inside a [`GroupError`].
pub enum Failure<E> {
    /// The task returned `Err`.
    Error {
        /// The task's position in spawn order.
        index: usize,
        /// What it returned.
        error: E,
    },
    /// The task panicked.
    Panic {
        /// The task's position in spawn order.
        index: usize,
        /// The panic, with its message.
        error: JoinError,
    },
}

/// Every failure of a [`TaskGroup`] (asyncio's `ExceptionGroup`).
#[doc(alias = "ExceptionGroup")]
pub struct GroupError<E> {
    /// The failures in the order they happened; the first one caused the cancellation.
    pub failures: Vec<Failure<E>>,
}

impl<E: 'static> Default for TaskGroup<E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<E: 'static> TaskGroup<E> {
    /// An empty group.
    pub fn new() -> TaskGroup<E> {
        let inner = Inner {
            set: RefCell::new(TaskSet::new()),
            failures: RefCell::new(Vec::new()),
            failed: Cell::new(false),
        };
        TaskGroup { inner: Rc::new(inner) }
    }

    /// Spawns a task into the group (asyncio's `tg.create_task`). If the group has already
    /// failed, the task is cancelled at once (it never runs), as asyncio refuses new tasks in a
    /// failing group.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    #[doc(alias = "create_task")]
    pub fn spawn<F>(&self, future: F)
    where
        F: Future<Output = Result<(), E>> + 'static,
    {
        let mut set = self.inner.set.borrow_mut();
        set.spawn(future);
        if self.inner.failed.get() {
            set.cancel_all();
        }
    }

    /// Waits for every task. On the first failure the others are cancelled, and once all are
    /// gone the failures are returned together.
    ///
    /// # Errors
    /// A [`GroupError`] listing every task that returned `Err` or panicked.
    ///
    /// Tasks spawned while `join` waits (by the group's own tasks, through a clone) are waited
    /// for too.
    ///
    /// # Cancel safety
    /// Dropping the `join` future before it completes cancels every task of the group still
    /// running, and the group refuses new tasks from then on, as cancelling the body of
    /// asyncio's `async with TaskGroup()` does. So `timeout(d, group.join())` cancels the whole
    /// group at the deadline, and no member (not even one holding a clone of the group) is left
    /// running behind a cancelled scope.
    ///
    /// # Examples
    ///
    /// The first failure cancels its sibling at once, so `join` returns after 10 ms, not 60 s,
    /// with the failure listed (asyncio raises an `ExceptionGroup`):
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::{Failure, TaskGroup};
    ///
    /// let runtime = evloop::Builder::new().virtual_clock().build().expect("a poller");
    /// let (error, elapsed) = runtime.block_on(async {
    ///     let (start, group) = (evloop::time::now(), TaskGroup::new());
    ///     group.spawn(async {
    ///         evloop::time::sleep(Duration::from_millis(10)).await;
    ///         Err("bad input")
    ///     });
    ///     group.spawn(async {
    ///         evloop::time::sleep(Duration::from_secs(60)).await; // cancelled at 10 ms
    ///         Ok(())
    ///     });
    ///     let error = group.join().await.expect_err("one task failed");
    ///     (error, evloop::time::now() - start)
    /// });
    /// assert_eq!(elapsed, Duration::from_millis(10));
    /// assert!(matches!(error.failures[..], [Failure::Error { index: 0, error: "bad input" }]));
    /// ```
    pub async fn join(&self) -> Result<(), GroupError<E>> {
        let inner = &*self.inner;
        let mut scope = CancelUnlessFinished { inner, finished: false };
        loop {
            // The borrow lasts one poll, never across the await: tasks may spawn meanwhile.
            let next = std::future::poll_fn(|cx| inner.set.borrow_mut().poll_next(cx)).await;
            let Some((index, outcome)) = next else { break };
            let failure = match outcome {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(Failure::Error { index, error }),
                Err(error) if error.is_panic() => Some(Failure::Panic { index, error }),
                // Cancelled by the group itself after an earlier failure: not a failure.
                Err(_cancelled) => None,
            };
            if let Some(failure) = failure {
                inner.failures.borrow_mut().push(failure);
                if !inner.failed.replace(true) {
                    inner.set.borrow().cancel_all();
                }
            }
        }
        scope.finished = true;
        let failures = std::mem::take(&mut *inner.failures.borrow_mut());
        if failures.is_empty() {
            Ok(())
        } else {
            Err(GroupError { failures })
        }
    }
}

/// Cancels the group's tasks when `join` is dropped before it finished (see its cancel safety).
struct CancelUnlessFinished<'a, E: 'static> {
    inner: &'a Inner<E>,
    /// Set once `join` has seen every task end: nothing is left to cancel.
    finished: bool,
}

impl<E: 'static> Drop for CancelUnlessFinished<'_, E> {
    fn drop(&mut self) {
        if !self.finished {
            self.inner.failed.set(true);
            self.inner.set.borrow().cancel_all();
        }
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("failed", &self.inner.failed.get())
            .finish_non_exhaustive()
    }
}

impl<E: fmt::Debug> fmt::Debug for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error { index, error } => write!(f, "group task [{index}] returned Err({error:?})"),
            Failure::Panic { index, error } => write!(f, "group task [{index}] ({error})"),
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.failures).finish()
    }
}

impl<E: fmt::Debug> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} task(s) of the group failed: ", self.failures.len())?;
        for (i, failure) in self.failures.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{failure:?}")?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug> std::error::Error for GroupError<E> {}

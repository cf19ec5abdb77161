//! Running many futures at once: asyncio's `gather`, `wait`, `as_completed`, and a `select`.
//!
//! Read first: `task_set.rs`, the mechanism under the spawning half of this file.
//!
//! `gather`, `gather_all`, `wait` and `as_completed` spawn each future as a task (as asyncio
//! wraps each coroutine in a `Task`), so they run concurrently and a panic in one is caught
//! like any task's. Their results are collected through a [`TaskSet`]: each task carries a small
//! guard that, when the task's future finishes or is dropped, records the task's index on a
//! shared list and wakes the collector. The collector then polls exactly that one `JoinHandle`,
//! so gathering n tasks costs O(n) polls, not O(n²). Each function here is only a policy over
//! that set: which outcomes to keep, and when to stop.
//!
//! [`select`] and [`race`] do not spawn: they poll their futures in place and drop the losers
//! the moment one wins. Use them for "whichever comes first", and the spawning ones for "all of
//! these, concurrently".

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use crate::task::{JoinError, JoinHandle};

pub(crate) mod task_set;

use task_set::TaskSet;

/// Runs every future concurrently as a task and returns their outputs in input order, or the
/// first error (asyncio's `gather`, fail-fast). When one fails, the others are cancelled and
/// awaited (their cleanup has run when this returns).
///
/// A panic in one of the futures also cancels the others, then resumes unwinding in the caller.
///
/// # Cancel safety
/// Dropping the returned future cancels every task it spawned.
///
/// # Panics
/// Outside a running evloop loop; and re-raises a panic from any of the futures.
///
/// # Examples
///
/// Three fetches at once (asyncio's `await asyncio.gather(*aws)`): the outputs come back in
/// input order, and the whole takes as long as the slowest, not the sum:
///
/// ```
/// use std::time::Duration;
///
/// let runtime = evloop::Builder::new().virtual_clock().build().expect("a poller");
/// let (pages, elapsed) = runtime.block_on(async {
///     let start = evloop::time::now();
///     let fetches = [30, 10, 20].map(|ms| async move {
///         evloop::time::sleep(Duration::from_millis(ms)).await;
///         Ok::<_, String>(format!("page after {ms} ms"))
///     });
///     (evloop::gather(fetches).await, evloop::time::now() - start)
/// });
/// assert_eq!(pages.expect("none failed"), ["page after 30 ms", "page after 10 ms", "page after 20 ms"]);
/// assert_eq!(elapsed, Duration::from_millis(30));
/// ```
pub async fn gather<I, F, T, E>(futures: I) -> Result<Vec<T>, E>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + 'static,
    T: 'static,
    E: 'static,
{
    let mut set = TaskSet::spawn_all(futures);
    let mut outputs: Vec<Option<T>> = (0..set.outstanding()).map(|_| None).collect();
    while let Some((index, outcome)) = set.next().await {
        match outcome {
            Ok(Ok(value)) => outputs[index] = Some(value),
            Ok(Err(error)) => {
                set.shutdown().await;
                return Err(error);
            }
            Err(join_error) => {
                set.shutdown().await;
                match join_error.try_into_panic() {
                    Ok(payload) => std::panic::resume_unwind(payload),
                    Err(cancelled) => unreachable!("gather's tasks are private, yet {cancelled} was cancelled"),
                }
            }
        }
    }
    Ok(outputs
        .into_iter()
        .map(|o| o.expect("every task reported exactly once"))
        .collect())
}

/// Runs every future concurrently as a task and returns every outcome in input order, never
/// failing early (asyncio's `gather(..., return_exceptions=True)`): a panicked task's slot holds
/// its `JoinError`.
///
/// # Cancel safety
/// Dropping the returned future cancels every task it spawned.
///
/// # Panics
/// Outside a running evloop loop.
///
/// # Examples
///
/// Nothing stops early: one job returns an error and another panics, and every outcome comes
/// back in its place. The outer `Result` is the task's own: `Err(JoinError)` for the panic.
///
/// ```
/// let outcomes = evloop::run(async {
///     let jobs = (1..=3).map(|n| async move {
///         match n {
///             1 => Ok(10),
///             2 => Err(format!("job {n} refused")),
///             _ => panic!("job {n} broke"),
///         }
///     });
///     evloop::gather_all(jobs).await
/// });
/// assert_eq!(*outcomes[0].as_ref().expect("ran to the end"), Ok(10));
/// assert_eq!(*outcomes[1].as_ref().expect("ran to the end"), Err("job 2 refused".to_string()));
/// let panicked = outcomes[2].as_ref().expect_err("it panicked");
/// assert_eq!(panicked.panic_message(), Some("job 3 broke"));
/// ```
#[doc(alias = "return_exceptions")]
pub async fn gather_all<I, F>(futures: I) -> Vec<Result<F::Output, JoinError>>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: 'static,
{
    let mut set = TaskSet::spawn_all(futures);
    let mut outcomes: Vec<Option<Result<F::Output, JoinError>>> = (0..set.outstanding()).map(|_| None).collect();
    while let Some((index, outcome)) = set.next().await {
        outcomes[index] = Some(outcome);
    }
    outcomes
        .into_iter()
        .map(|o| o.expect("every task reported exactly once"))
        .collect()
}

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(alias = "return_when")]
pub enum ReturnWhen {
    /// As soon as any task finishes.
    #[doc(alias = "FIRST_COMPLETED")]
    FirstCompleted,
    /// As soon as any task ends with a `JoinError` (a panic), or when all have finished.
    /// Tasks that report failure through a `Result` output count as completed, as an asyncio
    /// task that *returns* an error value would; use [`gather`] to stop at the first `Err`.
    #[doc(alias = "FIRST_EXCEPTION")]
    FirstException,
    /// When every task has finished.
    #[doc(alias = "ALL_COMPLETED")]
    AllCompleted,
}

/// What [`wait`] returns: the tasks that finished, and the ones still running.
pub struct Waited<T> {
    /// Finished tasks, in the order they finished: (input index, outcome).
    pub done: Vec<(usize, Result<T, JoinError>)>,
    /// Tasks still running: (input index, handle). They keep running; drop or cancel them.
    pub pending: Vec<(usize, JoinHandle<T>)>,
}

impl<T> fmt::Debug for Waited<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let done: Vec<usize> = self.done.iter().map(|(i, _)| *i).collect();
        let pending: Vec<usize> = self.pending.iter().map(|(i, _)| *i).collect();
        f.debug_struct("Waited")
            .field("done", &done)
            .field("pending", &pending)
            .finish()
    }
}

/// Runs every future as a task and waits until `when` is satisfied (asyncio's `wait`). Unlike
/// `gather`, nothing is cancelled: the unfinished tasks come back as handles.
///
/// # Cancel safety
/// Dropping the returned future before it completes cancels every task it spawned.
///
/// # Panics
/// Outside a running evloop loop.
///
/// # Examples
///
/// Return as soon as one task is done and keep the others (asyncio's
/// `done, pending = await asyncio.wait(aws, return_when=FIRST_COMPLETED)`):
///
/// ```
/// use std::time::Duration;
/// use evloop::ReturnWhen;
///
/// let runtime = evloop::Builder::new().virtual_clock().build().expect("a poller");
/// runtime.block_on(async {
///     let jobs = [30, 10, 20].map(|ms| async move {
///         evloop::time::sleep(Duration::from_millis(ms)).await;
///         ms
///     });
///     let waited = evloop::wait(jobs, ReturnWhen::FirstCompleted).await;
///     let (index, outcome) = &waited.done[0];
///     assert_eq!((waited.done.len(), *index, outcome.as_ref().ok()), (1, 1, Some(&10)));
///     let pending: Vec<usize> = waited.pending.iter().map(|(index, _)| *index).collect();
///     assert_eq!(pending, [0, 2]); // still running: await them, or cancel them
///     for (_, handle) in waited.pending {
///         assert!(handle.await.is_ok());
///     }
/// });
/// ```
pub async fn wait<I, F>(futures: I, when: ReturnWhen) -> Waited<F::Output>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: 'static,
{
    let mut set = TaskSet::spawn_all(futures);
    let mut done = Vec::new();
    while let Some((index, outcome)) = set.next().await {
        let stop = match when {
            ReturnWhen::FirstCompleted => true,
            ReturnWhen::FirstException => outcome.is_err(),
            ReturnWhen::AllCompleted => false,
        };
        done.push((index, outcome));
        if stop {
            break;
        }
    }
    Waited {
        done,
        pending: set.into_pending(),
    }
}

/// Yields outcomes in the order their tasks finish (asyncio's `as_completed`).
pub struct AsCompleted<T> {
    set: TaskSet<T>,
}

/// Runs every future as a task; [`AsCompleted::next`] yields `(input index, outcome)` in
/// completion order.
///
/// # Panics
/// Outside a running evloop loop.
///
/// # Examples
///
/// Handle each result as soon as it is ready (asyncio's `for aw in asyncio.as_completed(aws)`):
///
/// ```
/// use std::time::Duration;
///
/// let runtime = evloop::Builder::new().virtual_clock().build().expect("a poller");
/// let order = runtime.block_on(async {
///     let mut finished = evloop::as_completed([30, 10, 20].map(|ms| async move {
///         evloop::time::sleep(Duration::from_millis(ms)).await;
///         ms
///     }));
///     let mut order = Vec::new();
///     while let Some((index, outcome)) = finished.next().await {
///         order.push((index, outcome.expect("no panic")));
///     }
///     order
/// });
/// assert_eq!(order, [(1, 10), (2, 20), (0, 30)]);
/// ```
pub fn as_completed<I, F>(futures: I) -> AsCompleted<F::Output>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: 'static,
{
    AsCompleted {
        set: TaskSet::spawn_all(futures),
    }
}

impl<T: 'static> AsCompleted<T> {
    /// The next task to finish, or `None` when all have been yielded.
    ///
    /// # Cancel safety
    /// Cancel-safe: an outcome is only taken when this returns it.
    pub async fn next(&mut self) -> Option<(usize, Result<T, JoinError>)> {
        self.set.next().await
    }

    /// How many outcomes are still to come.
    pub fn remaining(&self) -> usize {
        self.set.outstanding()
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.set.outstanding())
            .finish()
    }
}

/// Which side of a [`select`] finished first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Either<A, B> {
    /// The first future won.
    Left(A),
    /// The second future won.
    Right(B),
}

/// Polls two futures in place and returns the output of whichever finishes first; the other is
/// dropped at once (its cleanup runs then). If both are ready on the same poll, the first wins.
///
/// # Cancel safety
/// The loser is dropped: it is exactly as cancel-safe as its own docs say.
///
/// # Examples
///
/// The same file from two mirrors; the slower request is dropped the moment the faster one
/// answers:
///
/// ```
/// use std::time::Duration;
/// use evloop::{Either, select};
///
/// async fn fetch(mirror: &str, ms: u64) -> String {
///     evloop::time::sleep(Duration::from_millis(ms)).await;
///     format!("file from {mirror}")
/// }
///
/// let runtime = evloop::Builder::new().virtual_clock().build().expect("a poller");
/// let (winner, elapsed) = runtime.block_on(async {
///     let start = evloop::time::now();
///     let winner = select(fetch("mirror-a", 30), fetch("mirror-b", 10)).await;
///     (winner, evloop::time::now() - start)
/// });
/// assert_eq!(winner, Either::Right("file from mirror-b".to_string()));
/// assert_eq!(elapsed, Duration::from_millis(10));
/// ```
pub async fn select<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(out));
        }
        b.as_mut().poll(cx).map(Either::Right)
    })
    .await
}

/// Polls every future in place and returns the index and output of the first to finish; the
/// others are dropped at once. Ties go to the lowest index.
///
/// Each wake polls every future still in the race, so this suits a handful of competitors
/// (a request and its timeout, a few mirrors); for many, spawn them and use [`as_completed`].
///
/// # Panics
/// If `futures` is empty (there would be no winner to wait for).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let runtime = evloop::Builder::new().virtual_clock().build().expect("a poller");
/// let winner = runtime.block_on(evloop::race([30, 10, 20].map(|ms| async move {
///     evloop::time::sleep(Duration::from_millis(ms)).await;
///     format!("answer after {ms} ms")
/// })));
/// assert_eq!(winner, (1, "answer after 10 ms".to_string()));
/// ```
pub async fn race<I, F>(futures: I) -> (usize, F::Output)
where
    I: IntoIterator<Item = F>,
    F: Future,
{
    let mut racers: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    assert!(!racers.is_empty(), "evloop::race needs at least one future");
    poll_fn(|cx| {
        for (index, racer) in racers.iter_mut().enumerate() {
            if let Poll::Ready(out) = racer.as_mut().poll(cx) {
                return Poll::Ready((index, out));
            }
        }
        Poll::Pending
    })
    .await
}

//! Spawning: asyncio's `create_task`, and `yield_now` (asyncio's `await asyncio.sleep(0)`).
//!
//! A *task* is a future the loop owns and drives to completion. [`spawn`] finds the running loop
//! through the thread-local (`runtime/context.rs`), which moves the future into one heap
//! allocation (`task/raw.rs`), stores a counted reference in its task slab, queues it, and
//! returns a [`JoinHandle`] to await or cancel it. The loop polls the task whenever something
//! wakes it; its life cycle is in `task/state.rs`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::runtime::context;
use crate::task::JoinHandle;

/// Spawns a task on the current loop (asyncio's `create_task`).
///
/// The task starts running at the loop's next turn, whether or not anyone awaits the returned
/// handle; dropping the handle detaches it.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let tasks: Vec<_> = (1..=3).map(|n| evloop::spawn(async move { n * 10 })).collect();
///     let mut results = Vec::new();
///     for task in tasks {
///         results.push(task.await.unwrap());
///     }
///     assert_eq!(results, [10, 20, 30]);
/// });
/// ```
///
/// # Panics
/// If called outside a running evloop runtime (there is no loop to run the task on).
#[doc(alias = "create_task")]
#[doc(alias = "ensure_future")]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    context::with_core(|core| core.spawn(future, None))
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
    context::with_core(|core| core.spawn(future, Some(name)))
}

/// Protects `future` from the cancellation of whoever awaits it (asyncio's `shield`): the
/// future runs as its own task, and only the returned handle belongs to the caller. If the
/// awaiting task is cancelled, the handle is dropped, which detaches the task, and it runs on.
/// Cancel it explicitly with [`JoinHandle::cancel`] if it must stop.
///
/// # Examples
///
/// The outer task is cancelled; the shielded work still finishes:
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// evloop::run(async {
///     let done = Rc::new(Cell::new(false));
///     let flag = done.clone();
///     let outer = evloop::spawn(async move {
///         evloop::shield(async move {
///             evloop::time::sleep(Duration::from_millis(5)).await;
///             flag.set(true);
///         })
///         .await
///     });
///     evloop::yield_now().await; // let `outer` start the shielded task
///     outer.cancel();
///     assert!(outer.await.unwrap_err().is_cancelled());
///     evloop::time::sleep(Duration::from_millis(20)).await;
///     assert!(done.get(), "the shielded task ran on");
/// });
/// ```
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

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

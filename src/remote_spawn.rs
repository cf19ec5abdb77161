//! `Remote::spawn`: a task submitted to a loop from any thread, with a handle that thread can
//! block on or await (asyncio's `asyncio.run_coroutine_threadsafe(coro, loop)`, which returns a
//! `concurrent.futures.Future`).
//!
//! A loop's tasks live on its own thread and are not `Send`, so another thread cannot create
//! one directly. It sends the loop a *closure that builds the future* instead, through the same
//! inbox as `call_soon_threadsafe`; the loop runs the closure as a callback, and the callback
//! spawns two tasks:
//!
//! ```text
//!   other thread                          the loop's thread
//!   ────────────                          ─────────────────
//!   Remote::spawn(make) ── Message::Call ──► callback: spawn(async { make().await })   (the task)
//!        │                                            spawn(Forward { its JoinHandle })
//!        ▼                                                       │ awaits the task, then
//!   RemoteHandle ◄──── Shared (Mutex + Condvar) ◄── finish(result) ┘
//!   .wait() blocks on the Condvar; .await parks on the stored Waker; .cancel() sets a flag
//!   and wakes Forward, which calls JoinHandle::cancel on the loop's thread.
//! ```
//!
//! The future is built on the loop's thread, so it may hold `Rc`s and evloop sockets; only the
//! closure and the output cross threads, and they must be `Send`. Every path ends in exactly one
//! `finish`: the task's output, its panic, its cancellation, or, when the loop shuts down before
//! the callback runs, `JoinError::never_started` (the dropped closure's guard sends it).
//!
//! Production runtimes: tokio's `Handle::spawn` puts a `Send` future straight into a shared
//! queue (its tasks may move between threads); asyncio wraps the coroutine in a task the same
//! way and chains it to the `concurrent.futures.Future` with callbacks.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::runtime::Remote;
use crate::task::{JoinError, JoinHandle};

impl Remote {
    /// Runs the future `make` builds as a task on this loop, from any thread, and returns a
    /// handle that thread can [`wait`](RemoteHandle::wait) on or await (asyncio's
    /// `run_coroutine_threadsafe`).
    ///
    /// `make` runs on the loop's thread at its next turn, so the future itself need not be
    /// `Send`; a panic in `make` or in the future reaches the handle as
    /// [`JoinError::is_panic`]. If the runtime is dropped before the task finishes (or before
    /// it starts), the handle gives a cancelled [`JoinError`].
    ///
    /// # Examples
    /// ```
    /// let runtime = evloop::Runtime::new()?;
    /// let remote = runtime.remote();
    /// let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    /// let worker = std::thread::spawn(move || {
    ///     // On another thread: submit work to the loop and block until it is done.
    ///     let sum = remote.spawn(|| async { 40 + 2 }).wait().expect("not cancelled");
    ///     stop_tx.send(()).unwrap();
    ///     sum
    /// });
    /// // The loop's thread runs the loop until the worker is done.
    /// runtime.block_on(async {
    ///     while stop_rx.try_recv().is_err() {
    ///         evloop::time::sleep(std::time::Duration::from_millis(1)).await;
    ///     }
    /// });
    /// assert_eq!(worker.join().unwrap(), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(alias = "run_coroutine_threadsafe")]
    pub fn spawn<F, Fut>(&self, make: F) -> RemoteHandle<Fut::Output>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let shared = Arc::new(Shared::new());
        let submit = Submit {
            shared: Some(shared.clone()),
        };
        self.call_soon_threadsafe(move || submit.start(make));
        RemoteHandle { shared }
    }

    /// [`spawn`](Self::spawn) for a future that is already built (and so must be `Send`).
    pub fn spawn_future<Fut>(&self, future: Fut) -> RemoteHandle<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.spawn(move || future)
    }
}

/// A task submitted with [`Remote::spawn`], seen from any thread: block on it with
/// [`wait`](Self::wait), await it (from any executor), or [`cancel`](Self::cancel) it.
///
/// Dropping the handle detaches the task: it runs on, and its output is dropped (as with a
/// dropped `concurrent.futures.Future`).
#[must_use = "a RemoteHandle does nothing unless waited on or awaited; dropping it detaches the task"]
pub struct RemoteHandle<T> {
    shared: Arc<Shared<T>>,
}

impl<T> RemoteHandle<T> {
    /// Blocks the calling thread until the task finishes, and returns its output.
    ///
    /// # Errors
    /// A [`JoinError`]: the task panicked, was cancelled, or its loop shut down first.
    ///
    /// # Panics
    /// On the thread of a running loop (its own, which could then never run the task, or any
    /// other, which would freeze): await the handle there instead.
    pub fn wait(self) -> Result<T, JoinError> {
        refuse_inside_a_loop("wait");
        let mut state = self.shared.lock();
        loop {
            if let Some(result) = state.result.take() {
                return result;
            }
            state = self.shared.done.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// [`wait`](Self::wait), for at most `timeout`: `None` if the task is still running then
    /// (the handle stays usable). A timeout too large for the clock waits without limit.
    ///
    /// # Panics
    /// As [`wait`](Self::wait).
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<Result<T, JoinError>> {
        refuse_inside_a_loop("wait_timeout");
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.shared.lock();
        loop {
            if let Some(result) = state.result.take() {
                return Some(result);
            }
            let left = match deadline {
                Some(deadline) => deadline.checked_duration_since(Instant::now())?,
                None => Duration::MAX,
            };
            state = match self.shared.done.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Whether the task has finished (and its result not yet taken).
    pub fn is_finished(&self) -> bool {
        self.shared.lock().result.is_some()
    }

    /// Asks the loop to cancel the task (asyncio's `future.cancel()` on the returned future).
    /// The cancellation happens on the loop's thread at its next turn, as
    /// [`JoinHandle::cancel`] would; the handle then gives a cancelled [`JoinError`], unless the
    /// task finished first. Cancelling twice, or after the end, does nothing.
    pub fn cancel(&self) {
        let forwarder = {
            let mut state = self.shared.lock();
            state.cancel = true;
            state.forwarder.take()
        };
        if let Some(waker) = forwarder {
            waker.wake();
        }
    }
}

impl<T> Future for RemoteHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.shared.lock();
        match state.result.take() {
            Some(result) => Poll::Ready(result),
            None if state.finished => panic!("RemoteHandle polled again after it returned the task's output"),
            None => {
                state.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> std::fmt::Debug for RemoteHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteHandle")
            .field("finished", &self.shared.lock().finished)
            .finish()
    }
}

/// Blocking on a task from the thread of a running loop freezes that loop (its own could then
/// never run the task): refuse with a message that says what to do instead.
#[track_caller]
fn refuse_inside_a_loop(what: &str) {
    if crate::runtime::context::try_with_core(|_| ()).is_some() {
        panic!(
            "RemoteHandle::{what} called on the thread of a running evloop loop, which would block it \
             (and its own loop could never run the task): `.await` the handle there instead"
        );
    }
}

/// What the handle and the loop share.
struct Shared<T> {
    state: Mutex<State<T>>,
    /// Signalled once, when `state.result` is set: what `wait` blocks on.
    done: Condvar,
}

struct State<T> {
    /// The task's result, from `finish` until the handle takes it.
    result: Option<Result<T, JoinError>>,
    /// Set by `finish`: a second `finish` is ignored, and a poll after the result was taken
    /// is a bug in the caller.
    finished: bool,
    /// The task awaiting the handle, if it is awaited.
    waiter: Option<Waker>,
    /// The loop-side `Forward` task, so that `cancel` can wake it.
    forwarder: Option<Waker>,
    /// `cancel` was called: `Forward` cancels the task when it next runs.
    cancel: bool,
}

impl<T> Shared<T> {
    fn new() -> Shared<T> {
        Shared {
            state: Mutex::new(State {
                result: None,
                finished: false,
                waiter: None,
                forwarder: None,
                cancel: false,
            }),
            done: Condvar::new(),
        }
    }

    /// The lock; a panic elsewhere while it was held leaves the state usable (every update is
    /// a single assignment).
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the result (the first one only) and wakes whoever waits, after unlocking.
    fn finish(&self, result: Result<T, JoinError>) {
        let waiter = {
            let mut state = self.lock();
            if state.finished {
                return;
            }
            state.finished = true;
            state.result = Some(result);
            state.forwarder = None;
            state.waiter.take()
        };
        self.done.notify_all();
        if let Some(waker) = waiter {
            waker.wake();
        }
    }
}

/// The closure's cargo on its way to the loop. If it is dropped unrun (the loop shut down
/// first), the handle hears so.
struct Submit<T> {
    shared: Option<Arc<Shared<T>>>,
}

impl<T: 'static> Submit<T> {
    /// On the loop's thread: spawn the task and the task that forwards its result.
    fn start<F, Fut>(mut self, make: F)
    where
        F: FnOnce() -> Fut + 'static,
        Fut: Future<Output = T> + 'static,
    {
        let shared = self.shared.take().expect("Submit::start runs once");
        // `make` runs inside the task, so that its panic is the task's panic.
        let task = crate::spawn(async move { make().await });
        // Detached: `Forward` ends by itself, once the task has.
        drop(crate::spawn(Forward { task, shared }));
    }
}

impl<T> Drop for Submit<T> {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.finish(Err(JoinError::never_started()));
        }
    }
}

/// The loop-side task that waits for the submitted task and hands its result over, and passes
/// a remote `cancel` on to it.
struct Forward<T> {
    task: JoinHandle<T>,
    shared: Arc<Shared<T>>,
}

impl<T> Future for Forward<T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let cancel = {
            let mut state = self.shared.lock();
            state.forwarder = Some(cx.waker().clone());
            std::mem::take(&mut state.cancel)
        };
        if cancel {
            self.task.cancel();
        }
        match Pin::new(&mut self.task).poll(cx) {
            Poll::Ready(result) => {
                self.shared.finish(result);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for Forward<T> {
    /// Dropped unfinished: the runtime is shutting down (it cancels every task).
    fn drop(&mut self) {
        self.shared.finish(Err(JoinError::cancelled(self.task.id())));
    }
}

//! `spawn_eager`: a task that starts running inside the call that spawns it (asyncio 3.12's
//! `eager_task_factory`, one task at a time). The mechanism and its re-entrancy rules are in
//! `runtime/eager.rs`; `Builder::eager_tasks` makes every `spawn` inside the loop eager.

use std::future::Future;

use crate::runtime::context;
use crate::task::JoinHandle;

/// Spawns a task and polls it at once, until its first await, before returning (asyncio's
/// `eager_task_factory`). If it completes in that first poll it is never queued at all, and the
/// handle is already finished; otherwise it continues like any task, when what it awaits wakes
/// it.
///
/// The difference from [`spawn`](crate::spawn) is the order: the new task's first step runs
/// before the rest of the caller's step, not after it. A panic in that first step is the
/// task's, as usual: its handle reports it (or the exception handler, if the handle is
/// dropped); the caller does not see it.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let order = Rc::new(RefCell::new(Vec::new()));
/// evloop::run({
///     let order = order.clone();
///     async move {
///         let log = order.clone();
///         let task = evloop::spawn_eager(async move {
///             log.borrow_mut().push("child starts");
///             42
///         });
///         order.borrow_mut().push("parent goes on");
///         assert!(task.is_finished(), "it completed inside spawn_eager");
///         assert_eq!(task.await.unwrap(), 42);
///     }
/// });
/// assert_eq!(*order.borrow(), ["child starts", "parent goes on"]);
/// ```
///
/// # Panics
/// If called outside a running evloop runtime.
#[doc(alias = "eager_task_factory")]
#[doc(alias = "eager_start")]
pub fn spawn_eager<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    context::with_core(|core| core.spawn_with(future, None, true))
}

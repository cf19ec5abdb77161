//! The running loop, asked from code that runs on it: asyncio's `get_running_loop()` and
//! `current_task()`, for what they are used for most (the loop's counts, its exception handler,
//! the running task's id).

use crate::exception::ExceptionContext;
use crate::runtime::{Stats, TaskDump, context};
use crate::task::TaskId;

/// The id of the task being polled right now, if the caller is inside a task (asyncio's
/// `current_task()`).
#[doc(alias = "current_task")]
pub fn current_id() -> Option<TaskId> {
    context::try_with_core(|core| core.sched.current()).flatten()
}

/// Counts of what the running loop holds (see [`Stats`]).
///
/// # Panics
/// Outside a running evloop loop.
pub fn stats() -> Stats {
    context::with_core(|core| core.stats())
}

/// Every live task of the running loop, with its state, what it waits on and for how long
/// (asyncio's `asyncio.all_tasks()`, and what `python -m asyncio ps` prints: `println!("{}",
/// evloop::all_tasks())` prints the same kind of table). Works from a task, a callback or the
/// `block_on` future; see [`TaskDump`] for an example.
///
/// # Panics
/// Outside a running evloop loop.
#[doc(alias = "asyncio ps")]
pub fn all_tasks() -> TaskDump {
    context::with_core(|core| core.dump())
}

/// Sets the running loop's exception handler (see [`Runtime::set_exception_handler`]).
///
/// [`Runtime::set_exception_handler`]: crate::Runtime::set_exception_handler
///
/// # Panics
/// Outside a running evloop loop.
pub fn set_exception_handler(handler: impl Fn(&ExceptionContext<'_>) + 'static) {
    context::with_core(|core| core.handler.set(handler));
}

/// Everything the running loop has recorded so far (see [`Runtime::take_record`]), for code
/// inside the loop; `None` when recording is off or outside a running loop.
///
/// # Examples
/// ```
/// let runtime = evloop::Runtime::builder().virtual_clock().record(true).build()?;
/// let record = runtime.block_on(async {
///     evloop::spawn(async {}).await.unwrap();
///     evloop::take_record()
/// });
/// assert!(record.unwrap().events.len() > 3);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// [`Runtime::take_record`]: crate::Runtime::take_record
pub fn take_record() -> Option<crate::record::Record> {
    context::try_with_core(|core| core.take_record()).flatten()
}

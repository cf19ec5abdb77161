//! The loop's exception handler: where errors go that nobody else will ever see.
//!
//! In asyncio, an exception in a callback, or in a task whose result is never retrieved, is
//! passed to `loop.call_exception_handler(context)`; the default logs it ("Task exception was
//! never retrieved"), and `loop.set_exception_handler` replaces it. evloop does the same with
//! panics: a task's panic is caught and stored for its `JoinHandle`; only when there is no
//! handle to receive it (detached, or dropped unread) does it come here.

use std::fmt;
use std::rc::Rc;

use crate::callback::CallbackId;
use crate::task::TaskId;

/// The handler type stored by the loop.
pub(crate) type Handler = Rc<dyn Fn(&ExceptionContext<'_>)>;

/// What went wrong, passed to the exception handler (asyncio's `context` dict).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ExceptionContext<'a> {
    /// A one-line description, e.g. `"Task exception was never retrieved"`.
    pub message: &'a str,
    /// The task that panicked, if it was a task.
    pub task: Option<TaskId>,
    /// That task's name, if it was given one.
    pub task_name: Option<&'a str>,
    /// The callback that panicked, if it was a callback.
    pub callback: Option<CallbackId>,
    /// The panic message, when the payload was a string.
    pub panic_message: Option<&'a str>,
}

impl fmt::Display for ExceptionContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)?;
        if let Some(task) = self.task {
            write!(f, ": {task}")?;
            if let Some(name) = self.task_name {
                write!(f, " ({name:?})")?;
            }
        }
        if let Some(callback) = self.callback {
            write!(f, ": {callback}")?;
        }
        if let Some(message) = self.panic_message {
            write!(f, " panicked: {message}")?;
        }
        Ok(())
    }
}

/// What happens when no handler was set: one `log::error!` line.
pub(crate) fn default_handler(context: &ExceptionContext<'_>) {
    log::error!(target: "evloop", "{context}");
}

/// Sets the running loop's exception handler (see [`Runtime::set_exception_handler`]).
///
/// [`Runtime::set_exception_handler`]: crate::Runtime::set_exception_handler
///
/// # Panics
/// Outside a running evloop loop.
pub fn set_exception_handler(handler: impl Fn(&ExceptionContext<'_>) + 'static) {
    crate::context::with_core(|core| *core.handler.borrow_mut() = Some(Rc::new(handler)));
}

//! The loop's exception handler: where errors go that nobody else will ever see.
//!
//! In asyncio, an exception in a callback, or in a task whose result is never retrieved, is
//! passed to `loop.call_exception_handler(context)`; the default logs it ("Task exception was
//! never retrieved"), and `loop.set_exception_handler` replaces it. evloop does the same with
//! panics: a task's panic is caught and stored for its `JoinHandle`; only when there is no
//! handle to receive it (detached, or dropped unread) does it come here.
//!
//! This file is the store: the handler a loop holds, and how a report reaches it. It knows
//! nothing of the running loop; `set_exception_handler` (in `current.rs`) finds the loop and
//! puts a handler here.

use std::cell::RefCell;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use crate::scheduler::CallbackId;
use crate::task::TaskId;

/// A handler as the loop stores it: shared, so that a report can call it while the handler is
/// being replaced.
type Handler = Rc<dyn Fn(&ExceptionContext<'_>)>;

/// A loop's exception handler: the user's, or the default that logs.
#[derive(Default)]
pub(crate) struct ExceptionHandler {
    /// `None` until the user sets one.
    handler: RefCell<Option<Handler>>,
}

impl ExceptionHandler {
    /// Replaces the handler.
    pub(crate) fn set(&self, handler: impl Fn(&ExceptionContext<'_>) + 'static) {
        *self.handler.borrow_mut() = Some(Rc::new(handler));
    }

    /// Calls the handler (or logs, by default). A panicking handler is logged too: the loop
    /// must survive its own error reporting. The handler may replace itself meanwhile: the
    /// borrow is released before it is called.
    pub(crate) fn report(&self, context: &ExceptionContext<'_>) {
        let handler = self.handler.borrow().clone();
        match handler {
            None => default_handler(context),
            Some(handler) => {
                if catch_unwind(AssertUnwindSafe(|| handler(context))).is_err() {
                    log::error!(target: "evloop", "the exception handler panicked while handling: {context}");
                }
            }
        }
    }
}

/// What went wrong, passed to the exception handler (asyncio's `context` dict).
#[doc(alias = "call_exception_handler")]
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
fn default_handler(context: &ExceptionContext<'_>) {
    log::error!(target: "evloop", "{context}");
}

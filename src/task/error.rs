//! `JoinError`: why a task produced no output. It was cancelled, or it panicked; a panic's
//! payload travels inside, so the awaiting side can read its message or re-raise it.

use std::any::Any;
use std::fmt;

use crate::task::id::TaskId;

/// Why a task produced no output: it was cancelled, or it panicked (asyncio raises
/// `CancelledError`, or the task's own exception, from `await task`).
#[doc(alias = "CancelledError")]
pub struct JoinError {
    /// The task; `None` for a task that was never created (a `Remote::spawn` whose loop shut
    /// down before it could start it).
    id: Option<TaskId>,
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panicked(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> JoinError {
        JoinError {
            id: Some(id),
            repr: Repr::Cancelled,
        }
    }

    /// A task submitted from another thread that its loop never created: the loop shut down
    /// first. It counts as cancelled, as the runtime's shutdown cancels every live task.
    pub(crate) fn never_started() -> JoinError {
        JoinError {
            id: None,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panicked(id: TaskId, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id: Some(id),
            repr: Repr::Panicked(payload),
        }
    }

    /// The task this error came from; `None` only for a task submitted with
    /// [`Remote::spawn`](crate::Remote::spawn) whose loop shut down before it was created.
    pub fn id(&self) -> Option<TaskId> {
        self.id
    }

    /// Whether the task was cancelled (`JoinHandle::cancel`, or the runtime shutting down).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panicked(_))
    }

    /// The panic message, when the task panicked with a string (as `panic!` does).
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panicked(payload) => Some(panic_message(&**payload)),
            Repr::Cancelled => None,
        }
    }

    /// The panic payload, to re-raise with `std::panic::resume_unwind`.
    ///
    /// # Errors
    /// Gives the error back if the task was cancelled rather than panicked.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panicked(payload) => Ok(payload),
            Repr::Cancelled => Err(self),
        }
    }
}

/// The text of a panic payload: `panic!("...")` payloads are `&str` or `String`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(a panic payload that is not a string)"
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.id) {
            (Repr::Cancelled, Some(id)) => write!(f, "{id} was cancelled"),
            (Repr::Cancelled, None) => write!(
                f,
                "a task sent from another thread was cancelled: its loop shut down first"
            ),
            (Repr::Panicked(payload), id) => write!(f, "{} panicked: {}", Task(id), panic_message(&**payload)),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({})", Task(self.id)),
            Repr::Panicked(payload) => write!(
                f,
                "JoinError::Panicked({}, {:?})",
                Task(self.id),
                panic_message(&**payload)
            ),
        }
    }
}

impl std::error::Error for JoinError {}

/// A task id for messages, or what stands in for one when there was no task.
struct Task(Option<TaskId>);

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => fmt::Display::fmt(&id, f),
            None => f.write_str("a task never started"),
        }
    }
}

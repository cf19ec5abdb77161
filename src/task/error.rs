//! `JoinError`: why a task produced no output. It was cancelled, or it panicked; a panic's
//! payload travels inside, so the awaiting side can read its message or re-raise it.

use std::any::Any;
use std::fmt;

use crate::slots::Key;
use crate::task::id::TaskId;

/// Why a task produced no output: it was cancelled, or it panicked (asyncio raises
/// `CancelledError`, or the task's own exception, from `await task`).
#[doc(alias = "CancelledError")]
pub struct JoinError {
    /// The task; a placeholder when `cause` says the task was never created.
    id: TaskId,
    /// `None` for a cancelled task, the common case, which allocates nothing. Anything else is
    /// boxed, so that the field is one word: a finished task's cell holds a
    /// `Result<Output, JoinError>`, and at 16 bytes (not 32) a task whose future and output are
    /// small fits a 120-byte cell, which glibc's allocator serves from its cheap fast bins.
    cause: Option<Box<Cause>>,
}

enum Cause {
    /// A task submitted from another thread that its loop never created.
    NeverStarted,
    Panicked(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> JoinError {
        JoinError { id, cause: None }
    }

    /// A task submitted from another thread that its loop never created: the loop shut down
    /// first. It counts as cancelled, as the runtime's shutdown cancels every live task.
    pub(crate) fn never_started() -> JoinError {
        JoinError {
            id: TaskId::new(Key::from_bits(0)),
            cause: Some(Box::new(Cause::NeverStarted)),
        }
    }

    pub(crate) fn panicked(id: TaskId, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id,
            cause: Some(Box::new(Cause::Panicked(payload))),
        }
    }

    /// The task this error came from; `None` only for a task submitted with
    /// [`Remote::spawn`](crate::Remote::spawn) whose loop shut down before it was created.
    pub fn id(&self) -> Option<TaskId> {
        match self.cause.as_deref() {
            Some(Cause::NeverStarted) => None,
            _ => Some(self.id),
        }
    }

    /// The panic payload, if the task panicked.
    fn payload(&self) -> Option<&(dyn Any + Send + 'static)> {
        match self.cause.as_deref() {
            Some(Cause::Panicked(payload)) => Some(&**payload),
            _ => None,
        }
    }

    /// Whether the task was cancelled (`JoinHandle::cancel`, or the runtime shutting down).
    pub fn is_cancelled(&self) -> bool {
        !self.is_panic()
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        self.payload().is_some()
    }

    /// The panic message, when the task panicked with a string (as `panic!` does).
    pub fn panic_message(&self) -> Option<&str> {
        self.payload().map(panic_message)
    }

    /// The panic payload, to re-raise with `std::panic::resume_unwind`.
    ///
    /// # Errors
    /// Gives the error back if the task was cancelled rather than panicked.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.cause {
            Some(cause) => match *cause {
                Cause::Panicked(payload) => Ok(payload),
                Cause::NeverStarted => Err(JoinError {
                    id: self.id,
                    cause: Some(cause),
                }),
            },
            None => Err(self),
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
        match (self.payload(), self.id()) {
            (None, Some(id)) => write!(f, "{id} was cancelled"),
            (None, None) => write!(
                f,
                "a task sent from another thread was cancelled: its loop shut down first"
            ),
            (Some(payload), id) => write!(f, "{} panicked: {}", Task(id), panic_message(payload)),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.payload() {
            None => write!(f, "JoinError::Cancelled({})", Task(self.id())),
            Some(payload) => write!(
                f,
                "JoinError::Panicked({}, {:?})",
                Task(self.id()),
                panic_message(payload)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> TaskId {
        TaskId::new(Key::from_bits((3 << 32) | 7))
    }

    #[test]
    fn each_kind_answers_for_itself() {
        let cancelled = JoinError::cancelled(id());
        assert!(cancelled.is_cancelled() && !cancelled.is_panic());
        assert_eq!(cancelled.id(), Some(id()));
        assert_eq!(cancelled.panic_message(), None);
        assert_eq!(cancelled.to_string(), "task#7.3 was cancelled");

        let never = JoinError::never_started();
        assert!(never.is_cancelled() && !never.is_panic());
        assert_eq!(never.id(), None, "a task never created has no id");
        let never = never.try_into_panic().unwrap_err();
        assert_eq!(never.id(), None, "given back whole");
        assert!(never.to_string().contains("its loop shut down first"), "{never}");

        let panicked = JoinError::panicked(id(), Box::new("boom"));
        assert!(panicked.is_panic() && !panicked.is_cancelled());
        assert_eq!(panicked.panic_message(), Some("boom"));
        assert_eq!(format!("{panicked:?}"), "JoinError::Panicked(task#7.3, \"boom\")");
        let payload = panicked.try_into_panic().unwrap();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    }
}

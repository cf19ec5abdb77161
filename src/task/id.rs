//! `TaskId`: the name of a task, as logs, errors and `current_id` show it.

use std::fmt;

use crate::slots::Key;

/// Names a task: its slot in the loop's task slab plus a generation (`slots.rs`), so that the id
/// of a finished task never names the task that later reuses the slot. Printed as
/// `task#<slot>.<generation>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskId(Key);

impl TaskId {
    /// The id of the task stored under `key` in the loop's task slab.
    pub(crate) const fn new(key: Key) -> TaskId {
        TaskId(key)
    }

    /// The slab key, to find the task again.
    pub(crate) const fn key(self) -> Key {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task#{}.{}", self.0.index(), self.0.generation())
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

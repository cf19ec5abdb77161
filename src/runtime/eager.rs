//! Eager task start: the new task runs inside `spawn`, until its first await (asyncio 3.12's
//! `eager_task_factory`).
//!
//! Read first: `core.rs` (`Core::spawn_with`, `Core::run_task`).
//!
//! Normally `spawn` only queues the task, and it first runs in a later turn of the loop. An
//! eager spawn polls it at once, in the spawner's own call: a task that completes without ever
//! waiting (a cache hit, a channel that already holds a value) is then done before `spawn`
//! returns, without ever touching the ready queue, and one that must wait has already
//! registered its timer, socket or waiter. asyncio added this in 3.12 for exactly that case
//! (a task per request whose answer is usually cached). The price is the order: the new
//! task's first step runs *before* the rest of the spawner's step instead of after it, which
//! `examples/eager_start.rs` prints side by side.
//!
//! **Re-entrancy.** An eager spawn inside a task's poll polls another task inside the first
//! one's poll. That is sound here because nothing is borrowed across a poll (the RefCell rule,
//! `core.rs`): `run_task` holds the task slab only to look the task up, and it saves and
//! restores what the scheduler calls "the current task" (so wakes after the nested poll are
//! again blamed on the spawner). What is per-poll state of the *spawner* is saved around the
//! nested poll here: its I/O budget, the wake cause, and the note its futures may have left
//! about what they wait on (`waits_on.rs`). A task never polls *itself* re-entrantly: the new
//! task is not the running one. A panic in the eager first poll is caught like any task's
//! (`RawTask::poll`) and goes to the new task's `JoinHandle`, or to the exception handler if
//! nobody holds it.

use crate::runtime::core::Core;
use crate::task::TaskId;
use crate::waits_on;

impl Core {
    /// Polls the just-spawned task `id` now, saving and restoring what belongs to the poll
    /// that spawned it.
    pub(crate) fn run_eagerly(&self, id: TaskId) {
        let note = waits_on::take();
        let budget = self.io_budget.get();
        let cause = self.sched.cause();
        self.run_task(id);
        self.sched.set_cause(cause);
        self.io_budget.set(budget);
        if let Some(note) = note {
            waits_on::note(note);
        }
    }
}

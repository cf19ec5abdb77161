//! The task life cycle: five flags and the named transitions between them.
//!
//! A task is always in exactly one of these situations:
//!
//! ```text
//!                 spawn
//!                   │
//!                   ▼   (1) schedule                (2) start_poll
//!   ┌──────────► Idle ────────────────► Queued ──────────────────► Running
//!   │                                   ▲   │                         │
//!   │         (3) finish_poll: Pending  │   │ (5) start_poll sees     │ (4) complete:
//!   └───────────────────────────────────┼───┼──── CANCELLED ──┐       │     Ready / panicked
//!                                       │   │                 ▼       ▼
//!             (1) schedule while Running┘   └──────────► Complete ◄───┘
//! ```
//!
//! 1. [`State::schedule`]: a waker fired. Sets QUEUED unless the task is already queued or
//!    complete; the caller pushes the id on the ready queue only when it returns `true`, so a
//!    task is never queued twice. Waking a *running* task (a task that wakes itself, as
//!    `yield_now` does) queues it for the next turn.
//! 2. [`State::start_poll`]: the scheduler popped the id. Clears QUEUED; says whether to poll
//!    the future or, if the task was cancelled meanwhile, to drop it instead.
//! 3. [`State::finish_poll`] with a pending future: back to Idle (or Queued, if it woke itself).
//! 4. [`State::complete`]: the future returned `Ready`, panicked, or was dropped by
//!    cancellation. Nothing ever polls it again.
//! 5. [`State::cancel`]: `JoinHandle::cancel()` sets CANCELLED and asks for the task to be
//!    scheduled, so the scheduler (not the caller) drops the future at its parked await point.
//!
//! Separately, JOIN_INTEREST records whether a `JoinHandle` still exists: when it does not,
//! the output is dropped as soon as the task completes and a panic goes to the loop's
//! exception handler instead of a handle.
//!
//! These flags are plain `u8` bits in a `Cell`: they are only ever touched on the loop's own
//! thread (wakes from other threads travel through the loop's inbox), so no atomics are needed.
//! Compare smol's `async-task` (`src/state.rs`), whose flags must be atomic because its tasks
//! can be woken and run on any thread.

/// The task id is on the ready queue and will be popped in a later turn (or this one).
const QUEUED: u8 = 1 << 0;
/// The scheduler is inside the future's `poll` right now.
const RUNNING: u8 = 1 << 1;
/// The future is gone: it returned, panicked, or was dropped by cancellation.
const COMPLETE: u8 = 1 << 2;
/// `cancel()` was called; the next `start_poll` drops the future instead of polling it.
const CANCELLED: u8 = 1 << 3;
/// A `JoinHandle` for the task is alive and may still collect the output.
const JOIN_INTEREST: u8 = 1 << 4;

/// What the scheduler must do with a task it has just popped from the ready queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// Poll the future.
    Poll,
    /// Drop the future: the task was cancelled while it waited.
    Cancel,
    /// Nothing: the task already completed (a stale queue entry).
    Skip,
}

/// The life-cycle flags of one task. See the module docs for the diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct State(u8);

impl State {
    /// A freshly spawned task: idle, with a `JoinHandle` about to be handed out.
    pub(crate) const fn new() -> State {
        State(JOIN_INTEREST)
    }

    /// Edge 1: a wake. Returns `true` if the caller must push the task on the ready queue.
    #[must_use]
    pub(crate) fn schedule(&mut self) -> bool {
        if self.0 & (QUEUED | COMPLETE) != 0 {
            return false;
        }
        self.0 |= QUEUED;
        true
    }

    /// Edge 2: the scheduler popped the task. Returns what to do with it.
    #[must_use]
    pub(crate) fn start_poll(&mut self) -> Start {
        self.0 &= !QUEUED;
        if self.0 & COMPLETE != 0 {
            Start::Skip
        } else if self.0 & CANCELLED != 0 {
            Start::Cancel
        } else {
            self.0 |= RUNNING;
            Start::Poll
        }
    }

    /// Edge 3: `poll` returned `Pending`. The task stays queued if it woke itself meanwhile.
    pub(crate) fn finish_poll(&mut self) {
        self.0 &= !RUNNING;
    }

    /// Edge 4: the future is gone for good.
    pub(crate) fn complete(&mut self) {
        self.0 = (self.0 & JOIN_INTEREST) | COMPLETE;
    }

    /// Edge 5: a cancel request. Returns `true` if the caller must schedule the task so the
    /// scheduler can drop its future; `false` if it is complete or already cancelled.
    #[must_use]
    pub(crate) fn cancel(&mut self) -> bool {
        if self.0 & (COMPLETE | CANCELLED) != 0 {
            return false;
        }
        self.0 |= CANCELLED;
        true
    }

    /// The `JoinHandle` was dropped. Returns `true` if the task is already complete, in which
    /// case the output waiting in the task is now nobody's and must be dropped by the caller.
    #[must_use]
    pub(crate) fn drop_join_interest(&mut self) -> bool {
        self.0 &= !JOIN_INTEREST;
        self.0 & COMPLETE != 0
    }

    /// Whether the future is gone (returned, panicked or cancelled).
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }

    /// Whether a `JoinHandle` is still alive to receive the output.
    pub(crate) fn has_join_interest(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }

    /// Whether the task is on the ready queue (for the task dump).
    pub(crate) fn is_queued(self) -> bool {
        self.0 & QUEUED != 0
    }

    /// Whether the scheduler is inside the task's poll (for the task dump).
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }

    /// Whether it was cancelled and waits to be dropped (for the task dump).
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_queued_once_however_often_it_is_woken() {
        let mut s = State::new();
        assert!(s.schedule());
        assert!(!s.schedule());
        assert_eq!(s.start_poll(), Start::Poll);
        // Woken while running (yield_now): queued again, exactly once.
        assert!(s.schedule());
        assert!(!s.schedule());
        s.finish_poll();
        assert_eq!(s.start_poll(), Start::Poll);
    }

    #[test]
    fn a_complete_task_is_never_queued_or_cancelled() {
        let mut s = State::new();
        s.complete();
        assert!(!s.schedule());
        assert!(!s.cancel());
        assert!(s.is_complete());
        assert!(s.has_join_interest());
        assert!(s.drop_join_interest());
    }

    #[test]
    fn cancel_turns_the_next_poll_into_a_drop() {
        let mut s = State::new();
        assert!(s.cancel());
        assert!(!s.cancel(), "a second cancel asks for nothing");
        assert!(s.schedule());
        assert_eq!(s.start_poll(), Start::Cancel);
        s.complete();
        assert_eq!(s.start_poll(), Start::Skip);
    }

    #[test]
    fn dropping_the_handle_before_completion_leaves_nothing_to_drop() {
        let mut s = State::new();
        assert!(!s.drop_join_interest());
        assert!(!s.has_join_interest());
        s.complete();
        assert!(!s.has_join_interest());
    }
}

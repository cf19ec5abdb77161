//! The task core: one allocation per spawned future, its life cycle, its waker, and the handle
//! that awaits it. Read in this order:
//!
//! 1. `state.rs`: the life cycle, five flags and the named transitions between them;
//! 2. `id.rs`: how a task is named (a generational slab key);
//! 3. `schedule.rs`: the hook through which a task reaches whoever runs it;
//! 4. `header.rs`, then `raw.rs`: the allocation (header, hook, the future and then its
//!    output) and its reference count; `contents.rs`, the future-then-output union at its end;
//!    `waker.rs`, the waker that points at it;
//! 5. `join.rs` and `error.rs`: the `JoinHandle` that awaits or cancels a task, and why a task
//!    produced no output.
//!
//! This floor knows nothing of the loop: not the scheduler, not the runtime, not the thread-local
//! "current loop". Spawning (`spawn.rs`, above the runtime) allocates a task with the runtime's
//! hook, stores one reference in the loop's task slab, and hands the other to a `JoinHandle`.
//!
//! Tasks never leave the loop's thread, so they need not be `Send`: an `Rc` or a `RefCell`
//! can live across an `.await`, as in Python.

pub(crate) mod contents;
pub(crate) mod error;
pub(crate) mod header;
pub(crate) mod id;
pub(crate) mod join;
pub(crate) mod raw;
pub(crate) mod schedule;
pub(crate) mod state;
pub(crate) mod vitals;
pub(crate) mod waker;

pub use error::JoinError;
pub use id::TaskId;
pub use join::JoinHandle;

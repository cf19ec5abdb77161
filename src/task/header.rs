//! The header at the front of every task allocation: what the rest of the loop sees of a task,
//! whatever its future's type.
//!
//! The header is type-erased: it does not know the future's type, nor the type of the hook it
//! was given. Its [`Vtable`] does: a table of functions monomorphised for one future type and
//! one hook type, filled in by `raw.rs` when the task is allocated. The allocation itself and
//! the reference count's rules are in `raw.rs`, the waker in `waker.rs`.
//!
//! **Unsafe code.** Only the vtable's `unsafe fn` pointer types: calling them is `raw.rs`'s and
//! `waker.rs`'s business, under the contract written on [`Vtable`] (DESIGN.md §11).

use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32};
use std::task::{Context, Poll, Waker};

use crate::task::contents::Stage;
use crate::task::error::JoinError;
use crate::task::id::TaskId;
use crate::task::state::State;
use crate::task::vitals::Vitals;

/// The type-erased front of every task allocation.
///
/// # Invariant
/// `refs`, `vtable` and `id` may be read from any thread that holds a reference (a waker).
/// `state` and `join_waker` are only touched on the thread that runs the loop the task belongs
/// to; the [`Schedule`] hook takes wakes from other threads elsewhere (the runtime's: through
/// the loop's inbox).
pub(crate) struct Header {
    /// Live references: the slab entry, the `JoinHandle`, and every waker clone. The cell is
    /// freed when this reaches zero, on whichever thread drops the last one. Four bytes, not
    /// eight: more than 2^31 live references to one task can only be a leak, and `increment`
    /// stops the process before the count could wrap (as `Arc` does at `isize::MAX`).
    pub(super) refs: AtomicU32,
    /// The functions that know the concrete future type behind this header.
    pub(super) vtable: &'static Vtable,
    /// Slab index plus generation: how the loop finds the task, and how a stale id is told apart.
    pub(crate) id: TaskId,
    /// Life-cycle flags; see `task::state`.
    pub(crate) state: Cell<State>,
    /// A wake from another thread is on its way to the loop (a message in its inbox): further
    /// wakes from other threads need send nothing until the loop has replayed it, which clears
    /// this. It bounds the inbox to one message per task however often other threads wake it.
    /// (It fits in the padding beside `state`: the header does not grow.)
    ///
    /// # Invariant
    /// Set only by a remote wake that then sends the message; cleared only by the loop, before it
    /// queues the task. Both are read-modify-writes with acquire and release, so whatever a
    /// coalesced waker did before its wake happens before the loop queues (and polls) the task.
    pub(crate) remote_wake: AtomicBool,
    /// Which field of the cell's contents holds a value (`contents.rs`): the tag an enum would
    /// keep beside the future, kept here in the header's padding instead, so the cell is 8 bytes
    /// smaller whenever the future's size is a multiple of 8.
    pub(super) stage: Cell<Stage>,
    /// The waker of whoever awaits the `JoinHandle`, woken when the task completes.
    pub(crate) join_waker: Cell<Option<Waker>>,
    /// Poll count, last wake and what it waits on, for the task dump (`vitals.rs`). 48 bytes;
    /// with them the header is 88 (DESIGN.md §3 draws it).
    pub(crate) vitals: Vitals,
}

/// Functions monomorphised for one future type and one hook type, reached through the header.
///
/// # Safety
/// Every function takes the `Header` pointer of a live cell of the types it was made for (the
/// pointer that filled in this vtable), from a caller holding one counted reference. All but
/// `schedule` must run on the loop's thread, with no other access to the cell's contents under
/// way; `take_output` also needs a pointer to an `Option<Result<F::Output, JoinError>>`, and
/// `dealloc` runs once, after the last reference is gone. `raw.rs` documents each one.
pub(super) struct Vtable {
    pub(super) schedule: unsafe fn(NonNull<Header>),
    pub(super) unretrieved: unsafe fn(NonNull<Header>, JoinError),
    pub(super) poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<()>,
    pub(super) cancel: unsafe fn(NonNull<Header>),
    pub(super) take_output: unsafe fn(NonNull<Header>, *mut ()),
    pub(super) take_error: unsafe fn(NonNull<Header>) -> Option<JoinError>,
    pub(super) is_panic: unsafe fn(NonNull<Header>) -> bool,
    pub(super) drop_contents: unsafe fn(NonNull<Header>),
    pub(super) dealloc: unsafe fn(NonNull<Header>),
}

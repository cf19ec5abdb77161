//! The waker of a task: a `std::task::Waker` whose data pointer is the task's `Header`.
//!
//! A [`std::task::Waker`] is a data pointer plus a table of four functions (clone, wake,
//! wake_by_ref, drop). Ours puts the `Header` address in the data pointer and gives each waker
//! one counted reference to the task (`raw.rs`), so cloning a waker is one atomic increment,
//! dropping one a decrement, and waking is a call through the task's vtable to its `Schedule`
//! hook. No allocation, no lock, and it works from any thread.
//!
//! The loop polls a task with a *borrowed* waker ([`RawTask::waker_ref`]), built from the
//! slab's reference without touching the count; only a future that keeps the waker (clones it)
//! pays the increment.
//!
//! **Unsafe code.** The four vtable functions, each with a `# Safety` contract: a waker's data
//! pointer is a live `Header` whose count the waker holds (DESIGN.md §11).
//!
//! Read with: the `RawWakerVTable` docs in `std::task`, and smol-rs/async-task `src/raw.rs`.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use crate::task::TaskId;
use crate::task::header::Header;
use crate::task::raw::{RawTask, increment, release};

impl RawTask {
    /// A waker borrowed from this reference: building it touches no counter.
    pub(crate) fn waker_ref(&self) -> WakerRef<'_> {
        let raw = RawWaker::new(self.ptr.as_ptr().cast(), &TASK_WAKER);
        // SAFETY: `TASK_WAKER` upholds the `RawWaker` contract for a `Header` pointer, and the
        // `ManuallyDrop` keeps this uncounted waker from decrementing the count on drop.
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(raw) });
        WakerRef {
            waker,
            _task: PhantomData,
        }
    }
}

impl RawTask {
    /// Whether `waker` is a waker of this very task (not merely of a task with the same id,
    /// which another loop may have).
    pub(crate) fn is_woken_by(&self, waker: &TaskWaker) -> bool {
        self.ptr == waker.header
    }
}

/// What a waker says of the task it wakes, when it is a task's waker: see [`task_of`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct TaskWaker {
    /// The task's id, on whichever loop it belongs to.
    pub(crate) id: TaskId,
    /// Its cell, to tell it from another loop's task with the same id.
    header: NonNull<Header>,
}

/// The task `waker` wakes, if it is a task's waker (ours, not the `block_on` future's or a
/// combinator's). The timer wheel keeps a task's id instead of a clone of its waker when a
/// sleep is polled with the waker of a task of its own loop (`runtime/loop_timers.rs`).
pub(crate) fn task_of(waker: &Waker) -> Option<TaskWaker> {
    if !std::ptr::eq(waker.vtable(), &TASK_WAKER) {
        return None;
    }
    // `TASK_WAKER` wakers always carry a non-null `Header` pointer.
    let header = NonNull::new(waker.data() as *mut Header)?;
    // SAFETY: a `TASK_WAKER` waker holds (or borrows) a count of the task, so its header is
    // alive while `waker` is borrowed, and `id` is immutable (any thread may read it).
    let id = unsafe { header.as_ref() }.id;
    Some(TaskWaker { id, header })
}

/// A waker that borrows a task's reference instead of owning one.
pub(crate) struct WakerRef<'a> {
    waker: ManuallyDrop<Waker>,
    _task: PhantomData<&'a RawTask>,
}

impl std::ops::Deref for WakerRef<'_> {
    type Target = Waker;
    fn deref(&self) -> &Waker {
        &self.waker
    }
}

/// Wakers for tasks: the data pointer is the task's `Header`, and each waker owns one count.
static TASK_WAKER: RawWakerVTable = RawWakerVTable::new(task_clone, task_wake, task_wake_by_ref, task_drop);

/// The waker's `clone`: one more counted reference.
///
/// # Safety
/// `data` is a live `Header` pointer whose count the waker being cloned holds or borrows.
unsafe fn task_clone(data: *const ()) -> RawWaker {
    // SAFETY: every `TASK_WAKER` waker carries a non-null pointer to a live `Header`, alive
    // because the waker being cloned holds (or borrows) a count.
    unsafe { increment(NonNull::new_unchecked(data as *mut Header)) };
    RawWaker::new(data, &TASK_WAKER)
}

/// The waker's `wake`: schedules the task and gives the waker's count back.
///
/// # Safety
/// `data` is a live `Header` pointer whose count this waker owns.
unsafe fn task_wake(data: *const ()) {
    // SAFETY: `wake` consumes the waker: wake through it, then give its count back.
    unsafe {
        task_wake_by_ref(data);
        task_drop(data);
    }
}

/// The waker's `wake_by_ref`: schedules the task through its hook.
///
/// # Safety
/// As for [`task_clone`].
unsafe fn task_wake_by_ref(data: *const ()) {
    // SAFETY: the waker holds a count (or borrows one), so the header is alive.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    // SAFETY: as above; the vtable's `schedule` only needs a live cell.
    unsafe { (ptr.as_ref().vtable.schedule)(ptr) }
}

/// The waker's `drop`: gives the waker's count back.
///
/// # Safety
/// As for [`task_wake`].
unsafe fn task_drop(data: *const ()) {
    // SAFETY: the waker owned one count, given back once here.
    unsafe { release(NonNull::new_unchecked(data as *mut Header)) }
}

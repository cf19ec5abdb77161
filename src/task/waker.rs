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

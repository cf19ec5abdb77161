//! The one allocation behind every task, and the hand-written waker that points at it.
//!
//! This is the only file in evloop with `unsafe` code. Everything here exists to make two
//! things cheap: spawning (one heap allocation per task) and waking (no lock, no allocation).
//!
//! A spawned future lives in a [`TaskCell`]: a [`Header`] followed by the future's
//! [`Stage`]. The header is what the rest of the runtime sees; it is type-erased, and a small
//! [`Vtable`] of monomorphised functions knows the real type of the stage behind it.
//!
//! ```text
//!   TaskCell<F> (one Box)                      who holds a reference (Header::refs)
//!   ┌─────────────────────────────┐
//!   │ Header                      │ ◄───────── the task slab      (until the task completes)
//!   │   refs, vtable, id, shared  │ ◄───────── the JoinHandle     (until it is dropped)
//!   │   state, join_waker         │ ◄───────── every Waker clone  (anywhere, any thread)
//!   ├─────────────────────────────┤
//!   │ Stage<F>: Running(F)        │   the future, pinned in place until it completes,
//!   │         | Finished(output)  │   then its output (or JoinError) in the same bytes,
//!   │         | Consumed          │   then nothing
//!   └─────────────────────────────┘
//! ```
//!
//! A [`std::task::Waker`] is a data pointer plus a table of four functions. Ours puts the
//! `Header` address in the data pointer, so cloning a waker is one atomic increment and waking
//! is a flag check and a push onto the ready queue (see `scheduler::wake_task`). The reference
//! count is atomic because wakers are `Send`: a clone may be dropped on another thread, and the
//! last one to go frees the cell. Everything else in the header that is not immutable is only
//! touched on the loop's thread, which is why `state` and `join_waker` are plain `Cell`s.
//!
//! Read with: smol-rs/async-task `src/raw.rs` (the same idea for multi-threaded executors),
//! and the `RawWakerVTable` docs in `std::task`.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering, fence};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use crate::scheduler::Shared;
use crate::task::TaskId;
use crate::task::join::JoinError;
use crate::task::state::State;

/// The type-erased front of every task allocation.
///
/// # Invariant
/// `refs`, `vtable`, `id` and `shared` may be read from any thread that holds a reference
/// (a waker). `state` and `join_waker` are only touched on the thread that runs the loop the
/// task belongs to; wakes from other threads never read them but go through `shared`'s inbox.
pub(crate) struct Header {
    /// Live references: the slab entry, the `JoinHandle`, and every waker clone. The cell is
    /// freed when this reaches zero, on whichever thread drops the last one.
    refs: AtomicUsize,
    /// The functions that know the concrete future type behind this header.
    vtable: &'static Vtable,
    /// Slab index plus generation: how the loop finds the task, and how a stale id is told apart.
    pub(crate) id: TaskId,
    /// The loop the task belongs to. A wake compares it with the current loop to pick the
    /// lock-free same-thread path, and uses it to reach the inbox from any other thread.
    pub(crate) shared: Arc<Shared>,
    /// Life-cycle flags; see `task::state`.
    pub(crate) state: Cell<State>,
    /// The waker of whoever awaits the `JoinHandle`, woken when the task completes.
    pub(crate) join_waker: Cell<Option<Waker>>,
}

/// What a task allocation holds after its header.
enum Stage<F: Future> {
    /// The future, pinned in place: it is never moved until it is dropped.
    Running(F),
    /// Its result, waiting for the `JoinHandle` to take it.
    Finished(Result<F::Output, JoinError>),
    /// Taken, dropped, or never to be read.
    Consumed,
}

/// The allocation itself. `repr(C)` puts the header first, so a `*mut TaskCell<F>` and a
/// `*mut Header` are the same address.
#[repr(C)]
struct TaskCell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// Functions monomorphised for one future type, reached through the header.
struct Vtable {
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<()>,
    cancel: unsafe fn(NonNull<Header>),
    take_output: unsafe fn(NonNull<Header>, *mut ()),
    take_error: unsafe fn(NonNull<Header>) -> Option<JoinError>,
    drop_stage: unsafe fn(NonNull<Header>),
    dealloc: unsafe fn(NonNull<Header>),
}

/// An owned, counted reference to a task allocation. Not `Send`: only the loop's thread holds
/// these (the slab entry and the `JoinHandle`); other threads only ever hold wakers.
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
    _not_send: PhantomData<*const ()>,
}

impl RawTask {
    /// Allocates a task holding `future`, returning two counted references: one for the
    /// task slab, one for the `JoinHandle` (counting both at once saves an atomic add).
    pub(crate) fn allocate<F: Future + 'static>(future: F, id: TaskId, shared: Arc<Shared>) -> (RawTask, RawTask) {
        let cell = Box::new(TaskCell {
            header: Header {
                refs: AtomicUsize::new(2),
                vtable: vtable::<F>(),
                id,
                shared,
                state: Cell::new(State::new()),
                join_waker: Cell::new(None),
            },
            stage: UnsafeCell::new(Stage::Running(future)),
        });
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        (
            RawTask {
                ptr,
                _not_send: PhantomData,
            },
            RawTask {
                ptr,
                _not_send: PhantomData,
            },
        )
    }

    /// An uncounted copy of this reference, for the scheduler to poll a task without touching
    /// the atomic count on every step.
    ///
    /// # Safety
    /// The copy must not outlive `self`'s reference: the caller guarantees the original is not
    /// released while the copy is in use.
    pub(crate) unsafe fn alias(&self) -> ManuallyDrop<RawTask> {
        ManuallyDrop::new(RawTask {
            ptr: self.ptr,
            _not_send: PhantomData,
        })
    }

    /// The task's header.
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: we hold a counted reference, so the allocation is alive.
        unsafe { self.ptr.as_ref() }
    }

    /// Polls the future once, catching a panic. Returns `Ready` once the stage is `Finished`
    /// (with the output, or a `JoinError` carrying the panic).
    ///
    /// # Safety
    /// Only the scheduler calls this, on the loop's thread, for a task whose `start_poll`
    /// returned `Start::Poll`; it is never re-entered for the same task.
    pub(crate) unsafe fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: forwarded from this function's contract.
        unsafe { (self.header().vtable.poll)(self.ptr, cx) }
    }

    /// Drops the future in place (cancellation) and records `JoinError::Cancelled`.
    /// Does nothing if the future is already gone.
    pub(crate) fn cancel_future(&self) {
        // SAFETY: `RawTask` is only held on the loop's thread, and the scheduler never calls
        // this while the future is being polled (`start_poll` returned `Start::Cancel`).
        unsafe { (self.header().vtable.cancel)(self.ptr) }
    }

    /// Takes the output if the task finished and nobody took it yet.
    ///
    /// # Safety
    /// `T` must be the output type of the future this task was created with.
    pub(crate) unsafe fn take_output<T>(&self) -> Option<Result<T, JoinError>> {
        let mut out: Option<Result<T, JoinError>> = None;
        // SAFETY: the caller guarantees `T` matches, so `out` has the type the vtable writes.
        unsafe { (self.header().vtable.take_output)(self.ptr, (&raw mut out).cast()) };
        out
    }

    /// Takes the `JoinError` out of a finished task, leaving its other outputs alone.
    pub(crate) fn take_error(&self) -> Option<JoinError> {
        // SAFETY: loop's thread only (`RawTask` is not `Send`); the stage is not being polled.
        unsafe { (self.header().vtable.take_error)(self.ptr) }
    }

    /// Drops whatever the stage holds (an unwanted output).
    pub(crate) fn drop_stage(&self) {
        // SAFETY: as for `take_error`.
        unsafe { (self.header().vtable.drop_stage)(self.ptr) }
    }

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

impl Drop for RawTask {
    fn drop(&mut self) {
        // SAFETY: this `RawTask` owns one counted reference, given back exactly once here.
        unsafe { release(self.ptr) }
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

/// Adds one counted reference.
///
/// # Safety
/// The caller holds (or borrows) a counted reference to `ptr`, so the header is alive.
unsafe fn increment(ptr: NonNull<Header>) {
    // SAFETY: per the contract, the header is alive.
    let old = unsafe { ptr.as_ref() }.refs.fetch_add(1, Ordering::Relaxed);
    // Like `Arc`: a count this large means clones are being leaked in a loop; wrapping around
    // would free the task while references remain, so stop the process instead.
    if old > isize::MAX as usize {
        std::process::abort();
    }
}

/// Gives back one counted reference, freeing the cell if it was the last.
///
/// # Safety
/// The caller owns one counted reference to `ptr` and does not use it afterwards.
unsafe fn release(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header alive until the decrement.
    let header = unsafe { ptr.as_ref() };
    if header.refs.fetch_sub(1, Ordering::Release) != 1 {
        return;
    }
    // Pairs with the `Release` above on other threads: everything they did with the task
    // happens before we free it.
    fence(Ordering::Acquire);
    // SAFETY: that was the last reference; nobody else can reach the cell.
    unsafe { (header.vtable.dealloc)(ptr) }
}

fn vtable<F: Future + 'static>() -> &'static Vtable {
    // A constant per `F`, promoted to a `'static` by the compiler.
    trait HasVtable {
        const VTABLE: Vtable;
    }
    impl<F: Future + 'static> HasVtable for F {
        const VTABLE: Vtable = Vtable {
            poll: poll::<F>,
            cancel: cancel::<F>,
            take_output: take_output::<F>,
            take_error: take_error::<F>,
            drop_stage: drop_stage::<F>,
            dealloc: dealloc::<F>,
        };
    }
    &<F as HasVtable>::VTABLE
}

/// The stage of the cell behind `ptr`.
///
/// # Safety
/// `ptr` heads a live `TaskCell<F>`, and the caller has exclusive access to its stage (the
/// loop's thread, outside any other borrow of it).
unsafe fn stage<'a, F: Future>(ptr: NonNull<Header>) -> &'a mut Stage<F> {
    let cell = ptr.cast::<TaskCell<F>>().as_ptr();
    // SAFETY: per the contract, the cell is alive and nobody else touches the stage now.
    unsafe { &mut *(*cell).stage.get() }
}

/// Drops the stage in place, catching a panicking destructor, then stores `next`.
/// Dropping in place (rather than moving the old value out) is what keeps a pinned future
/// from ever being moved.
fn replace_stage<F: Future>(stage: &mut Stage<F>, next: Stage<F>) -> Result<(), Box<dyn Any + Send>> {
    let slot: *mut Stage<F> = stage;
    // SAFETY: `slot` is valid and exclusively ours; after `drop_in_place` (which completes
    // even if a destructor panics, dropping the remaining fields while unwinding) the old
    // value is gone and `ptr::write` stores the new one without reading the old bytes.
    unsafe {
        let dropped = catch_unwind(AssertUnwindSafe(|| ptr::drop_in_place(slot)));
        ptr::write(slot, next);
        dropped
    }
}

unsafe fn poll<F: Future>(ptr: NonNull<Header>, cx: &mut Context<'_>) -> Poll<()> {
    // SAFETY: forwarded from `RawTask::poll`'s contract.
    let stage = unsafe { stage::<F>(ptr) };
    let Stage::Running(future) = stage else {
        return Poll::Ready(());
    };
    // SAFETY: the future lives inside the heap cell and is only ever dropped in place there,
    // never moved, so pinning it is sound.
    let future = unsafe { Pin::new_unchecked(future) };
    let result = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
        Ok(Poll::Pending) => return Poll::Pending,
        Ok(Poll::Ready(output)) => Ok(output),
        Err(payload) => Err(payload),
    };
    // SAFETY: the header is alive while the scheduler polls it.
    let id = unsafe { ptr.as_ref() }.id;
    let finished = match result {
        Ok(output) => Ok(output),
        Err(payload) => Err(JoinError::panicked(id, payload)),
    };
    // The future is done; drop it now (its destructors may panic too: that also counts).
    let mut outcome = Stage::Finished(finished);
    if let Err(payload) = replace_stage(stage, Stage::Consumed) {
        outcome = Stage::Finished(Err(JoinError::panicked(id, payload)));
    }
    let _ = replace_stage(stage, outcome);
    Poll::Ready(())
}

unsafe fn cancel<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from `RawTask::cancel_future`.
    let stage = unsafe { stage::<F>(ptr) };
    if !matches!(stage, Stage::Running(_)) {
        return;
    }
    // SAFETY: the header is alive while we hold a reference.
    let id = unsafe { ptr.as_ref() }.id;
    let outcome = match replace_stage(stage, Stage::Consumed) {
        Ok(()) => Err(JoinError::cancelled(id)),
        Err(payload) => Err(JoinError::panicked(id, payload)),
    };
    let _ = replace_stage(stage, Stage::Finished(outcome));
}

unsafe fn take_output<F: Future>(ptr: NonNull<Header>, dst: *mut ()) {
    // SAFETY: forwarded from `RawTask::take_output`.
    let stage = unsafe { stage::<F>(ptr) };
    if !matches!(stage, Stage::Finished(_)) {
        return;
    }
    // Moving out is fine: a `Finished` stage holds no pinned future.
    if let Stage::Finished(result) = std::mem::replace(stage, Stage::Consumed) {
        // SAFETY: the caller promised `dst` points to an `Option<Result<F::Output, JoinError>>`.
        unsafe { *dst.cast::<Option<Result<F::Output, JoinError>>>() = Some(result) };
    }
}

unsafe fn take_error<F: Future>(ptr: NonNull<Header>) -> Option<JoinError> {
    // SAFETY: forwarded from `RawTask::take_error`.
    let stage = unsafe { stage::<F>(ptr) };
    if !matches!(stage, Stage::Finished(Err(_))) {
        return None;
    }
    match std::mem::replace(stage, Stage::Consumed) {
        Stage::Finished(Err(error)) => Some(error),
        _ => None,
    }
}

unsafe fn drop_stage<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from `RawTask::drop_stage`.
    let stage = unsafe { stage::<F>(ptr) };
    // An output's destructor that panics is reported like any other dropped panic: the loop
    // keeps running. There is no one left to hand it to.
    if let Err(payload) = replace_stage(stage, Stage::Consumed) {
        log::error!(target: "evloop", "dropping a task's output panicked: {}", crate::task::join::panic_message(&*payload));
    }
}

unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: called once, by `release`, after the last reference is gone; the pointer came
    // from `Box::leak` of a `TaskCell<F>` in `RawTask::new`.
    drop(unsafe { Box::from_raw(ptr.cast::<TaskCell<F>>().as_ptr()) });
}

// ---------------------------------------------------------------------------------------------
// The waker vtables.

/// Wakers for tasks: the data pointer is the task's `Header`, and each waker owns one count.
static TASK_WAKER: RawWakerVTable = RawWakerVTable::new(task_clone, task_wake, task_wake_by_ref, task_drop);

unsafe fn task_clone(data: *const ()) -> RawWaker {
    // SAFETY: every `TASK_WAKER` waker carries a non-null pointer to a live `Header`, alive
    // because the waker being cloned holds (or borrows) a count.
    unsafe { increment(NonNull::new_unchecked(data as *mut Header)) };
    RawWaker::new(data, &TASK_WAKER)
}

unsafe fn task_wake(data: *const ()) {
    // SAFETY: `wake` consumes the waker: wake through it, then give its count back.
    unsafe {
        task_wake_by_ref(data);
        task_drop(data);
    }
}

unsafe fn task_wake_by_ref(data: *const ()) {
    // SAFETY: the waker holds a count (or borrows one), so the header is alive.
    let header = unsafe { &*(data as *const Header) };
    crate::scheduler::wake_task(header);
}

unsafe fn task_drop(data: *const ()) {
    // SAFETY: the waker owned one count, given back once here.
    unsafe { release(NonNull::new_unchecked(data as *mut Header)) }
}

/// Wakers for the future passed to `block_on`, which is not a task (it lives on the caller's
/// stack and may borrow from it). The data pointer is an `Arc<Shared>` count.
static MAIN_WAKER: RawWakerVTable = RawWakerVTable::new(main_clone, main_wake, main_wake_by_ref, main_drop);

/// A waker for the `block_on` future of the loop behind `shared`.
pub(crate) fn main_waker(shared: &Arc<Shared>) -> Waker {
    let data = Arc::into_raw(shared.clone()).cast::<()>();
    // SAFETY: `MAIN_WAKER` upholds the contract for a pointer from `Arc::into_raw`.
    unsafe { Waker::from_raw(RawWaker::new(data, &MAIN_WAKER)) }
}

unsafe fn main_clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` came from `Arc::into_raw` and its count is still held by the waker.
    unsafe { Arc::increment_strong_count(data.cast::<Shared>()) };
    RawWaker::new(data, &MAIN_WAKER)
}

unsafe fn main_wake(data: *const ()) {
    // SAFETY: consumes the waker's count after waking.
    unsafe {
        main_wake_by_ref(data);
        main_drop(data);
    }
}

unsafe fn main_wake_by_ref(data: *const ()) {
    // SAFETY: the waker's count keeps the `Shared` alive.
    let shared = unsafe { &*data.cast::<Shared>() };
    crate::scheduler::wake_main(shared);
}

unsafe fn main_drop(data: *const ()) {
    // SAFETY: gives back the count this waker owned.
    unsafe { Arc::decrement_strong_count(data.cast::<Shared>()) };
}

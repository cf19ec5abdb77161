//! The one allocation behind every task, and its reference count.
//!
//! **Unsafe code.** Most of evloop's `unsafe` is here: the type-erased cell, its vtable's
//! functions and the count (DESIGN.md §11 lists every file that has any, with its invariants).
//! Everything here exists to make two things cheap: spawning (one heap allocation per task) and
//! waking (no lock, no allocation).
//!
//! A spawned future lives in a [`TaskCell`]: a [`Header`], the [`Schedule`] hook it was given,
//! and the future's [`Contents`]. The header is what the rest of the runtime sees; it is
//! type-erased, and a small [`Vtable`] of monomorphised functions knows the real types behind
//! it.
//!
//! ```text
//!   TaskCell<F, S> (one Box)                   who holds a reference (Header::refs)
//!   ┌─────────────────────────────┐
//!   │ Header                      │ ◄───────── the task slab      (until the task completes)
//!   │   refs, vtable, id          │ ◄───────── the JoinHandle     (until it is dropped)
//!   │   state, join_waker, vitals │ ◄───────── every Waker clone  (anywhere, any thread)
//!   ├─────────────────────────────┤
//!   │ S: Schedule                 │   the hook to whoever runs the task (`schedule.rs`)
//!   ├─────────────────────────────┤
//!   │ Contents<F>: Running(F)     │   the future, pinned in place until it completes,
//!   │            | Finished(out)  │   then its output (or JoinError) in the same bytes,
//!   │            | Consumed       │   then nothing
//!   └─────────────────────────────┘
//! ```
//!
//! The contents are a `union` whose tag is the header's `stage` byte (`contents.rs` says why);
//! this file only ever reaches them through `Contents`' methods, with that stage.
//!
//! Every waker of the task holds one counted reference too (`waker.rs`). The reference count
//! is atomic because wakers are `Send`: a clone may be dropped on another thread, and the last
//! one to go frees the cell. Everything else in the header that is not immutable is only
//! touched on the loop's thread, which is why `state` and `join_waker` are plain `Cell`s.
//!
//! Read with: smol-rs/async-task `src/raw.rs` (the same idea for multi-threaded executors),
//! and the `RawWakerVTable` docs in `std::task`.

use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::task::{Context, Poll};

use crate::task::contents::{Contents, Stage};
use crate::task::error::JoinError;
use crate::task::header::{Header, Vtable};
use crate::task::id::TaskId;
use crate::task::schedule::Schedule;
use crate::task::state::State;
use crate::task::vitals::Vitals;

/// The allocation itself. `repr(C)` puts the header first, so a `*mut TaskCell<F, S>` and a
/// `*mut Header` are the same address.
#[repr(C)]
struct TaskCell<F: Future, S> {
    header: Header,
    /// Whoever runs the task; immutable, so any thread holding a waker may call it.
    scheduler: S,
    contents: UnsafeCell<Contents<F>>,
}

impl<F: Future, S> Drop for TaskCell<F, S> {
    /// Drops whatever the contents still hold when the last reference goes (usually nothing:
    /// the loop consumes a task's contents before it lets go of it).
    fn drop(&mut self) {
        // SAFETY: `&mut self`: nobody else can reach the contents, and the stage describes them.
        let _ = unsafe { self.contents.get_mut().drop_in_place(&self.header.stage) };
    }
}

/// An owned, counted reference to a task allocation. Not `Send`: only the loop's thread holds
/// these (the slab entry and the `JoinHandle`); other threads only ever hold wakers.
pub(crate) struct RawTask {
    pub(super) ptr: NonNull<Header>,
    _not_send: PhantomData<*const ()>,
}

impl RawTask {
    /// Allocates a task holding `future`, run by `scheduler`, returning two counted references:
    /// one for the task slab, one for the `JoinHandle` (counting both at once saves an atomic add).
    pub(crate) fn allocate<F, S>(future: F, id: TaskId, scheduler: S) -> (RawTask, RawTask)
    where
        F: Future + 'static,
        S: Schedule,
    {
        let cell = Box::new(TaskCell {
            header: Header {
                refs: AtomicU32::new(2),
                vtable: vtable::<F, S>(),
                id,
                state: Cell::new(State::new()),
                remote_wake: AtomicBool::new(false),
                stage: Cell::new(Stage::Running),
                join_waker: Cell::new(None),
                vitals: Vitals::new(),
            },
            scheduler,
            contents: UnsafeCell::new(Contents::new(future)),
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

    /// Asks the task's hook to queue it (a cancel request, say).
    pub(crate) fn schedule(&self) {
        // SAFETY: we hold a counted reference, so the cell and its hook are alive.
        unsafe { (self.header().vtable.schedule)(self.ptr) }
    }

    /// Hands a panic nobody will collect to the task's hook.
    pub(crate) fn unretrieved(&self, error: JoinError) {
        // SAFETY: as for `schedule`.
        unsafe { (self.header().vtable.unretrieved)(self.ptr, error) }
    }

    /// Polls the future once, catching a panic. Returns `Ready` once the contents are `Finished`
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
        // SAFETY: loop's thread only (`RawTask` is not `Send`); the contents are not being polled.
        unsafe { (self.header().vtable.take_error)(self.ptr) }
    }

    /// Whether the task finished by panicking (its contents hold a panic's `JoinError`), for
    /// the recorder; it looks without taking anything.
    pub(crate) fn is_panic(&self) -> bool {
        // SAFETY: as for `take_error`.
        unsafe { (self.header().vtable.is_panic)(self.ptr) }
    }

    /// Drops whatever the contents hold (an unwanted output).
    pub(crate) fn drop_contents(&self) {
        // SAFETY: as for `take_error`.
        unsafe { (self.header().vtable.drop_contents)(self.ptr) }
    }
}

impl Clone for RawTask {
    /// Another counted reference to the same task.
    fn clone(&self) -> RawTask {
        // SAFETY: we hold a counted reference, so the header is alive.
        unsafe { increment(self.ptr) };
        RawTask {
            ptr: self.ptr,
            _not_send: PhantomData,
        }
    }
}

impl Drop for RawTask {
    fn drop(&mut self) {
        // SAFETY: this `RawTask` owns one counted reference, given back exactly once here.
        unsafe { release(self.ptr) }
    }
}

/// Adds one counted reference.
///
/// # Safety
/// The caller holds (or borrows) a counted reference to `ptr`, so the header is alive.
pub(super) unsafe fn increment(ptr: NonNull<Header>) {
    // SAFETY: per the contract, the header is alive.
    let old = unsafe { ptr.as_ref() }.refs.fetch_add(1, Ordering::Relaxed);
    // Like `Arc`: a count this large means clones are being leaked in a loop; wrapping around
    // would free the task while references remain, so stop the process instead. (Threads that
    // each add one before any of them sees the check can push it at most their number past
    // 2^31, far below the 2^32 at which it would wrap.)
    if old > i32::MAX as u32 {
        std::process::abort();
    }
}

/// Gives back one counted reference, freeing the cell if it was the last.
///
/// # Safety
/// The caller owns one counted reference to `ptr` and does not use it afterwards.
pub(super) unsafe fn release(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header alive until the decrement.
    let header = unsafe { ptr.as_ref() };
    if header.refs.fetch_sub(1, Ordering::Release) != 1 {
        return;
    }
    // Pairs with the `Release` above on other threads: everything they did with the task
    // happens before we free it. An acquire *load* of the count rather than an acquire fence:
    // the same guarantee (it reads the last decrement, so it synchronises with every earlier
    // one), at the cost of one load on the path that frees, and ThreadSanitizer understands
    // it, while it ignores fences and would report the free as racing with the other threads'
    // last use (std's `Arc` does the same under TSan).
    header.refs.load(Ordering::Acquire);
    // SAFETY: that was the last reference; nobody else can reach the cell.
    unsafe { (header.vtable.dealloc)(ptr) }
}

fn vtable<F: Future + 'static, S: Schedule>() -> &'static Vtable {
    // A constant per `(F, S)`, promoted to a `'static` by the compiler.
    struct Of<F, S>(PhantomData<(F, S)>);
    impl<F: Future + 'static, S: Schedule> Of<F, S> {
        const VTABLE: Vtable = Vtable {
            schedule: schedule::<F, S>,
            unretrieved: unretrieved::<F, S>,
            poll: poll::<F, S>,
            cancel: cancel::<F, S>,
            take_output: take_output::<F, S>,
            take_error: take_error::<F, S>,
            is_panic: is_panic::<F, S>,
            drop_contents: drop_contents::<F, S>,
            dealloc: dealloc::<F, S>,
        };
    }
    &Of::<F, S>::VTABLE
}

/// The contents of the cell behind `ptr`, with the header's stage that says what they hold.
///
/// # Safety
/// `ptr` heads a live `TaskCell<F, S>`, and the caller has exclusive access to its contents (the
/// loop's thread, outside any other borrow of them).
unsafe fn contents<'a, F: Future, S>(ptr: NonNull<Header>) -> (&'a Cell<Stage>, &'a mut Contents<F>) {
    let cell = ptr.cast::<TaskCell<F, S>>().as_ptr();
    // SAFETY: per the contract, the cell is alive and nobody else touches the contents now;
    // the stage is a `Cell` in the header, which other threads never touch.
    unsafe { (&(*cell).header.stage, &mut *(*cell).contents.get()) }
}

/// The hook of the cell behind `ptr`.
///
/// # Safety
/// `ptr` heads a live `TaskCell<F, S>`. (The hook is never written after allocation, so any
/// thread may read it while it holds a reference.)
unsafe fn hook<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a S {
    let cell = ptr.cast::<TaskCell<F, S>>().as_ptr();
    // SAFETY: per the contract, the cell is alive; `scheduler` is only ever read.
    unsafe { &(*cell).scheduler }
}

/// The vtable's `schedule`: calls the cell's hook.
///
/// # Safety
/// `ptr` heads a live `TaskCell<F, S>` whose reference the caller holds (any thread).
unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from `RawTask::schedule` or a waker, which hold a reference.
    let (hook, header) = unsafe { (hook::<F, S>(ptr), ptr.as_ref()) };
    hook.schedule(header);
}

/// The vtable's `unretrieved`: hands `error` to the cell's hook.
///
/// # Safety
/// As for [`schedule`], on the loop's thread.
unsafe fn unretrieved<F: Future, S: Schedule>(ptr: NonNull<Header>, error: JoinError) {
    // SAFETY: forwarded from `RawTask::unretrieved`, which holds a reference.
    unsafe { hook::<F, S>(ptr) }.unretrieved(error);
}

/// The vtable's `poll`: polls the future once, catching a panic, and stores its outcome.
///
/// # Safety
/// As for [`RawTask::poll`]: `ptr` heads a live `TaskCell<F, S>`, on the loop's thread, and no
/// other access to its contents is under way.
unsafe fn poll<F: Future, S>(ptr: NonNull<Header>, cx: &mut Context<'_>) -> Poll<()> {
    // SAFETY: forwarded from `RawTask::poll`'s contract.
    let (stage, contents) = unsafe { contents::<F, S>(ptr) };
    // SAFETY: the header's stage, and the contents are ours (this function's contract).
    let Some(future) = (unsafe { contents.future(stage) }) else {
        return Poll::Ready(());
    };
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
    let mut outcome = finished;
    // SAFETY: as above.
    if let Err(payload) = unsafe { contents.drop_in_place(stage) } {
        outcome = Err(JoinError::panicked(id, payload));
    }
    // SAFETY: as above, and the contents were just consumed.
    unsafe { contents.store(stage, outcome) };
    Poll::Ready(())
}

/// The vtable's `cancel`: drops a running future in place and records `Cancelled`.
///
/// # Safety
/// As for [`poll`], and the future is not being polled.
unsafe fn cancel<F: Future, S>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from `RawTask::cancel_future`.
    let (stage, contents) = unsafe { contents::<F, S>(ptr) };
    if stage.get() != Stage::Running {
        return;
    }
    // SAFETY: the header is alive while we hold a reference.
    let id = unsafe { ptr.as_ref() }.id;
    // SAFETY: the header's stage, and the contents are ours (this function's contract).
    let outcome = match unsafe { contents.drop_in_place(stage) } {
        Ok(()) => Err(JoinError::cancelled(id)),
        Err(payload) => Err(JoinError::panicked(id, payload)),
    };
    // SAFETY: as above, and the contents were just consumed.
    unsafe { contents.store(stage, outcome) };
}

/// The vtable's `take_output`: moves a finished task's result into `*dst`.
///
/// # Safety
/// As for [`cancel`], and `dst` points to a valid `Option<Result<F::Output, JoinError>>`.
unsafe fn take_output<F: Future, S>(ptr: NonNull<Header>, dst: *mut ()) {
    // SAFETY: forwarded from `RawTask::take_output`.
    let (stage, contents) = unsafe { contents::<F, S>(ptr) };
    // SAFETY: the header's stage, and the contents are ours (this function's contract).
    let Some(result) = (unsafe { contents.take(stage) }) else {
        return;
    };
    // SAFETY: the caller promised `dst` points to an `Option<Result<F::Output, JoinError>>`.
    unsafe { *dst.cast::<Option<Result<F::Output, JoinError>>>() = Some(result) };
}

/// The vtable's `take_error`: takes a finished task's `JoinError`, leaving an output alone.
///
/// # Safety
/// As for [`cancel`].
unsafe fn take_error<F: Future, S>(ptr: NonNull<Header>) -> Option<JoinError> {
    // SAFETY: forwarded from `RawTask::take_error`.
    let (stage, contents) = unsafe { contents::<F, S>(ptr) };
    // SAFETY: the header's stage, and the contents are ours (this function's contract).
    if !matches!(unsafe { contents.result(stage) }, Some(Err(_))) {
        return None;
    }
    // SAFETY: as above.
    unsafe { contents.take(stage) }?.err()
}

/// The vtable's `is_panic`: whether a finished task holds a panic, leaving it in place.
///
/// # Safety
/// As for [`cancel`].
unsafe fn is_panic<F: Future, S>(ptr: NonNull<Header>) -> bool {
    // SAFETY: forwarded from `RawTask::is_panic`.
    let (stage, contents) = unsafe { contents::<F, S>(ptr) };
    // SAFETY: the header's stage, and the contents are ours (this function's contract).
    matches!(unsafe { contents.result(stage) }, Some(Err(error)) if error.is_panic())
}

/// The vtable's `drop_contents`: drops whatever the contents hold.
///
/// # Safety
/// As for [`cancel`].
unsafe fn drop_contents<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from `RawTask::drop_contents`.
    let (stage, contents) = unsafe { contents::<F, S>(ptr) };
    // An output's destructor that panics is reported like any other unseen panic, through the
    // hook (the runtime's exception handler): there is no one else to hand it to.
    // SAFETY: the header's stage, and the contents are ours (this function's contract).
    if let Err(payload) = unsafe { contents.drop_in_place(stage) } {
        // SAFETY: forwarded; the hook is alive with the cell.
        let (hook, id) = unsafe { (hook::<F, S>(ptr), ptr.as_ref().id) };
        hook.output_drop_panicked(id, payload);
    }
}

/// The vtable's `dealloc`: frees the cell.
///
/// # Safety
/// `ptr` came from `RawTask::allocate::<F, S>` and its last reference is gone.
unsafe fn dealloc<F: Future, S>(ptr: NonNull<Header>) {
    // SAFETY: called once, by `release`, after the last reference is gone; the pointer came
    // from `Box::leak` of a `TaskCell<F>` in `RawTask::new`.
    drop(unsafe { Box::from_raw(ptr.cast::<TaskCell<F, S>>().as_ptr()) });
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::*;
    use std::mem::size_of;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    /// A future of the bench's `memory` task's size (40 bytes: a `Sleep` inside an async
    /// block, which `time/sleep.rs`'s tests pin), so that this floor's test needs nothing
    /// from the floors above.
    struct SameSizeAsAParkedSleep(#[allow(dead_code)] [u64; 5]);

    impl Future for SameSizeAsAParkedSleep {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Pending
        }
    }

    /// DESIGN.md §3 draws this layout: if a field grows, the drawing and BENCHMARKS.md's
    /// bytes per parked task are out of date. The hook is the runtime's `LoopHandle`, one
    /// `Arc`: an `Arc<()>` stands in for it here.
    #[test]
    fn a_parked_sleeping_task_takes_the_bytes_design_md_draws() {
        assert_eq!(size_of::<Vitals>(), 48);
        assert_eq!(size_of::<Header>(), 88);
        assert_eq!(size_of::<SameSizeAsAParkedSleep>(), 40);
        assert_eq!(size_of::<TaskCell<SameSizeAsAParkedSleep, Arc<()>>>(), 88 + 8 + 40);
    }

    /// A task whose future and output are small (the bench's `spawn_join` spawns `async {}`)
    /// must stay at 120 bytes: glibc's allocator serves requests up to 120 bytes from its fast
    /// bins, about 250 instructions for a malloc and its free, against about 390 for 128 bytes
    /// (BENCHMARKS.md, "A smaller JoinError"). `JoinError` is one word of id and one of boxed cause.
    #[test]
    fn a_small_task_fits_glibcs_fast_bins() {
        assert_eq!(size_of::<JoinError>(), 16);
        assert_eq!(size_of::<Result<(), JoinError>>(), 24);
        let future = async {};
        fn cell_size<F: Future>(_: &F) -> usize {
            size_of::<TaskCell<F, Arc<()>>>()
        }
        assert_eq!(cell_size(&future), 88 + 8 + 24);
    }
}

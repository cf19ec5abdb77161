//! The floor's task: one allocation holding a header and the future (later its output), polled
//! through a vtable, with a hand-written `Waker` whose data pointer is the header and whose count
//! is the header's; and the `JoinHandle`, another counted reference to the same cell.

use super::*;

/// In the ready queue (so a second wake does not queue it twice).
pub(super) const QUEUED: u8 = 1;
/// Its future is gone (ready, or dropped by cancellation); it is no longer polled or queued.
pub(super) const COMPLETE: u8 = 2;
/// Its handle asked for cancellation: the loop drops the future instead of polling it.
pub(super) const CANCELLED: u8 = 4;
/// The stage holds the output, not yet taken by the handle.
const OUTPUT: u8 = 8;

/// The type-erased front of every task, what queues and wakers point at.
///
/// # Invariant
/// The `Cell`s are only touched on the thread of the loop that owns the task, while that loop
/// runs: wakers check [`Header::owner`] first, and handles are `!Send`.
pub(super) struct Header {
    /// The functions monomorphised for this task's future.
    pub(super) vtable: &'static TaskVTable,
    /// Counted references: the task list holds one until completion, the handle one, every
    /// cloned `Waker` one. Atomic because wakers are `Send`.
    pub(super) refs: AtomicU32,
    /// Where the task list keeps it, so completion removes it in O(1).
    pub(super) slot: u32,
    /// The id of the loop that owns it; a wake on any other loop is ignored.
    pub(super) owner: u32,
    /// `QUEUED`, `COMPLETE`, `CANCELLED`, `OUTPUT`; also what the stage holds.
    pub(super) state: Cell<u8>,
    /// The waker of whoever awaits the handle.
    pub(super) joiner: Cell<Option<Waker>>,
}

pub(super) struct TaskVTable {
    /// Polls the future once; `true` once it is ready (the output is then in the stage).
    pub(super) poll: unsafe fn(NonNull<Header>) -> bool,
    /// Drops the future where it is parked (cancellation).
    pub(super) drop_future: unsafe fn(NonNull<Header>),
    /// Moves the output, if there is one, into the `Option<F::Output>` at the pointer.
    take_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Frees the cell and whatever its stage still holds.
    dealloc: unsafe fn(NonNull<Header>),
}

#[repr(C)] // the header first, so a pointer to the cell is a pointer to the header
pub(super) struct TaskCell<F: Future> {
    pub(super) header: Header,
    pub(super) stage: UnsafeCell<Stage<F>>,
}

/// The future, then its output in the same bytes. A union, not an enum, because the header's
/// state already says which it holds (the future until `COMPLETE`, the output while `OUTPUT`,
/// else nothing): an enum's tag would add 8 bytes to every parked task.
pub(super) union Stage<F: Future> {
    pub(super) future: ManuallyDrop<F>,
    output: ManuallyDrop<F::Output>,
}

impl<F: Future> TaskCell<F> {
    pub(super) const VTABLE: TaskVTable = TaskVTable {
        poll: Self::poll,
        drop_future: Self::drop_future,
        take_output: Self::take_output,
        dealloc: Self::dealloc,
    };

    /// # Safety
    /// `header` points at a live `TaskCell<F>` and nothing else borrows its stage.
    unsafe fn stage<'a>(header: NonNull<Header>) -> &'a mut Stage<F> {
        // SAFETY: the caller's guarantee; the header is the cell's first field (`repr(C)`).
        unsafe { &mut *(*header.cast::<Self>().as_ptr()).stage.get() }
    }

    /// # Safety
    /// Called by the loop only, on a live task of this type that is not `COMPLETE`.
    unsafe fn poll(header: NonNull<Header>) -> bool {
        // SAFETY: the loop polls one task at a time and no handle reads a running stage; a task
        // that is not complete holds its future.
        let future = unsafe { &mut Self::stage(header).future };
        let raw = RawWaker::new(header.as_ptr().cast_const().cast(), &WAKER_VTABLE);
        // SAFETY: the vtable's contract holds for a header pointer (see `WAKER_VTABLE`); the waker
        // is borrowed, never dropped, so it takes no count.
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(raw) });
        // SAFETY: the future lives in the heap cell and is never moved until it is dropped.
        let pinned = unsafe { Pin::new_unchecked(&mut **future) };
        let Poll::Ready(output) = pinned.poll(&mut Context::from_waker(&waker)) else {
            return false;
        };
        // SAFETY: as above; the future is dropped once, and COMPLETE (set first, so that a wake
        // from its destructor queues nothing) says it is gone.
        unsafe {
            Self::drop_future(header);
            Self::stage(header).output = ManuallyDrop::new(output);
        }
        // SAFETY: the loop's reference keeps the header alive.
        let state = unsafe { &header.as_ref().state };
        state.set(state.get() | OUTPUT);
        true
    }

    /// # Safety
    /// As for `poll`.
    unsafe fn drop_future(header: NonNull<Header>) {
        // SAFETY: the loop's reference keeps the header alive.
        let state = unsafe { &header.as_ref().state };
        state.set(state.get() | COMPLETE);
        // SAFETY: the caller's guarantee: the stage holds the future, dropped here once.
        unsafe { ManuallyDrop::drop(&mut Self::stage(header).future) };
    }

    /// # Safety
    /// `header` is a complete task of this type; `out` points at an `Option<F::Output>`.
    unsafe fn take_output(header: NonNull<Header>, out: *mut ()) {
        // SAFETY: the handle's reference keeps the header alive.
        let state = unsafe { &header.as_ref().state };
        if state.get() & OUTPUT != 0 {
            state.set(state.get() & !OUTPUT);
            // SAFETY: OUTPUT says the stage holds the output; clearing it first means it is
            // moved out once. The caller's guarantee about `out`.
            unsafe {
                let output = ManuallyDrop::take(&mut Self::stage(header).output);
                *out.cast::<Option<F::Output>>() = Some(output);
            }
        }
    }

    /// # Safety
    /// The last reference is gone (so the task is complete: the task list held one until then).
    unsafe fn dealloc(header: NonNull<Header>) {
        // SAFETY: the cell came from `Box::leak` in `Rt::spawn`, and nobody refers to it any more.
        let mut cell = unsafe { Box::from_raw(header.cast::<Self>().as_ptr()) };
        if cell.header.state.get() & OUTPUT != 0 {
            // SAFETY: OUTPUT says the stage holds an output nobody took.
            unsafe { ManuallyDrop::drop(&mut cell.stage.get_mut().output) };
        }
    }
}

/// Drops one counted reference; the last one frees the cell.
///
/// # Safety
/// The caller owns one of the header's references.
pub(super) unsafe fn release(header: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header alive until the decrement.
    let h = unsafe { header.as_ref() };
    if h.refs.fetch_sub(1, Ordering::Release) == 1 {
        fence(Ordering::Acquire);
        // SAFETY: that was the last reference.
        unsafe { (h.vtable.dealloc)(header) };
    }
}

/// The task waker: the data pointer is the header, the count is the header's.
static WAKER_VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

// SAFETY (all four): `ptr` is the header of a live task whose count includes this waker (or, for
// the borrowed waker of `poll`, the task list's reference).
unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    // SAFETY: see above.
    unsafe { &*ptr.cast::<Header>() }.refs.fetch_add(1, Ordering::Relaxed);
    RawWaker::new(ptr, &WAKER_VTABLE)
}

unsafe fn wake(ptr: *const ()) {
    // SAFETY: see above; the waker's own reference is released after the wake.
    unsafe {
        wake_by_ref(ptr);
        drop_waker(ptr);
    }
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: see above (not null). Cast, not re-borrowed, so the pointer keeps the whole cell's
    // provenance, which the loop needs to reach the stage.
    let header = unsafe { NonNull::new_unchecked(ptr.cast_mut().cast::<Header>()) };
    with_current(|inner| inner.schedule(header));
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: see above; this waker owned a reference.
    unsafe { release(NonNull::new_unchecked(ptr.cast_mut().cast::<Header>())) }
}

/// A counted reference to a task; awaiting it gives the output (`None`: cancelled).
pub(crate) struct JoinHandle<T> {
    pub(super) task: NonNull<Header>,
    /// `!Send`: the handle touches the header's `Cell`s.
    pub(super) _output: PhantomData<*const T>,
}

impl<T> JoinHandle<T> {
    fn header(&self) -> &Header {
        // SAFETY: the handle's reference keeps the header alive.
        unsafe { self.task.as_ref() }
    }

    pub(super) fn cancel(&self) {
        let h = self.header();
        if h.state.get() & (COMPLETE | CANCELLED) == 0 {
            h.state.set(h.state.get() | CANCELLED);
            with_current(|inner| inner.schedule(self.task));
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let h = self.header();
        if h.state.get() & COMPLETE == 0 {
            let waker = match h.joiner.take() {
                Some(w) if w.will_wake(cx.waker()) => w,
                _ => cx.waker().clone(),
            };
            h.joiner.set(Some(waker));
            return Poll::Pending;
        }
        let mut output = None;
        // SAFETY: the task is complete and this handle's type is its output's.
        unsafe { (h.vtable.take_output)(self.task, (&raw mut output).cast()) };
        Poll::Ready(output)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: the handle's reference.
        unsafe { release(self.task) };
    }
}

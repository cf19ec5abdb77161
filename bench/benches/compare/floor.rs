//! The `floor` peer: the least work a single-threaded runtime must do for each workload, written
//! out by hand, so every row can say how far evloop is from it (issue 16, "a floor in every row").
//!
//! It is a runtime cut to the bone, run through the same [`workloads!`] bodies as the real
//! runtimes, so it polls the very same futures. What it keeps, because no runtime can skip it:
//!
//! - **a task** is one allocation, `TaskCell { header, stage }`: a 40-byte header (vtable pointer,
//!   reference count, slot in the task list, owning loop, state flags, the joiner's waker) and
//!   the future, whose bytes later hold its output. The loop polls it through the vtable (one
//!   indirect call) with a real `Waker` whose clone is an atomic increment, as a `Waker` must be.
//! - **a queue push and pop** per wake, behind a thread-local check that the waker's task belongs
//!   to the loop running here (a runtime needs that check to route other threads' wakes; the
//!   floor ignores such wakes instead of forwarding them, since no workload makes one).
//! - **a task list** (a slab of pointers) so that dropping the loop can drop every live task.
//! - **an I/O check**: a zero-timeout `epoll_pwait2` every 61 polls (tokio's and evloop's
//!   `event_interval`), and blocking in `epoll_pwait2` with a nanosecond timeout when idle.
//! - **timers**: one clock read per sleep, and a hashed timing wheel (Varghese & Lauck's
//!   scheme 6: 4096 slots of 2^20 ns, each an index-linked list of 32-byte entries in a slab) for
//!   O(1) insert and cancel; the loop sleeps until the earliest deadline to the nanosecond.
//! - **a semaphore**: a permit count, a FIFO of waiters in a slab, hand-off on release.
//!
//! What it leaves out: cross-thread wakes, catching panics (one unwinds out of `block_on`),
//! names, budgets, tracing, the task dump; none of the workloads needs them. BENCHMARKS.md ("Floors")
//! says in two lines per workload what the floor does.

use super::*;
use std::cell::{RefCell, UnsafeCell};
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::pin::{Pin, pin};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, fence};
use std::task::{RawWaker, RawWakerVTable};

pub(crate) const KEY: &str = "floor";
type RtBaton = LocalBaton;

// ---------------------------------------------------------------------------------------------
// The task: one allocation, polled through its vtable
// ---------------------------------------------------------------------------------------------

/// In the ready queue (so a second wake does not queue it twice).
const QUEUED: u8 = 1;
/// Its future is gone (ready, or dropped by cancellation); it is no longer polled or queued.
const COMPLETE: u8 = 2;
/// Its handle asked for cancellation: the loop drops the future instead of polling it.
const CANCELLED: u8 = 4;
/// The stage holds the output, not yet taken by the handle.
const OUTPUT: u8 = 8;

/// The type-erased front of every task, what queues and wakers point at.
///
/// # Invariant
/// The `Cell`s are only touched on the thread of the loop that owns the task, while that loop
/// runs: wakers check [`Header::owner`] first, and handles are `!Send`.
struct Header {
    /// The functions monomorphised for this task's future.
    vtable: &'static TaskVTable,
    /// Counted references: the task list holds one until completion, the handle one, every
    /// cloned `Waker` one. Atomic because wakers are `Send`.
    refs: AtomicU32,
    /// Where the task list keeps it, so completion removes it in O(1).
    slot: u32,
    /// The id of the loop that owns it; a wake on any other loop is ignored.
    owner: u32,
    /// `QUEUED`, `COMPLETE`, `CANCELLED`, `OUTPUT`; also what the stage holds.
    state: Cell<u8>,
    /// The waker of whoever awaits the handle.
    joiner: Cell<Option<Waker>>,
}

struct TaskVTable {
    /// Polls the future once; `true` once it is ready (the output is then in the stage).
    poll: unsafe fn(NonNull<Header>) -> bool,
    /// Drops the future where it is parked (cancellation).
    drop_future: unsafe fn(NonNull<Header>),
    /// Moves the output, if there is one, into the `Option<F::Output>` at the pointer.
    take_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Frees the cell and whatever its stage still holds.
    dealloc: unsafe fn(NonNull<Header>),
}

#[repr(C)] // the header first, so a pointer to the cell is a pointer to the header
struct TaskCell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// The future, then its output in the same bytes. A union, not an enum, because the header's
/// state already says which it holds (the future until `COMPLETE`, the output while `OUTPUT`,
/// else nothing): an enum's tag would add 8 bytes to every parked task.
union Stage<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<F::Output>,
}

impl<F: Future> TaskCell<F> {
    const VTABLE: TaskVTable = TaskVTable {
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
unsafe fn release(header: NonNull<Header>) {
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

/// The `block_on` future's waker: no data, no count; a wake sets the running loop's flag.
static MAIN_VTABLE: RawWakerVTable = RawWakerVTable::new(clone_main, wake_main, wake_main, drop_main);

unsafe fn clone_main(_: *const ()) -> RawWaker {
    RawWaker::new(std::ptr::null(), &MAIN_VTABLE)
}

unsafe fn wake_main(_: *const ()) {
    with_current(|inner| inner.main_woken.set(true));
}

unsafe fn drop_main(_: *const ()) {}

// ---------------------------------------------------------------------------------------------
// The loop
// ---------------------------------------------------------------------------------------------

thread_local! {
    /// The loop running `block_on` on this thread, or null.
    static CURRENT: Cell<*const Inner> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` on the loop running here, if there is one.
fn with_current<R>(f: impl FnOnce(&Inner) -> R) -> Option<R> {
    let inner = CURRENT.with(Cell::get);
    // SAFETY: `block_on` sets the pointer to its own (boxed, unmoving) loop and clears it on exit.
    (!inner.is_null()).then(|| f(unsafe { &*inner }))
}

/// Loop ids, so a waker of one loop's task is never obeyed by another.
static LOOP_IDS: AtomicU32 = AtomicU32::new(1);

/// After how many polls the loop looks at I/O without blocking (tokio's and evloop's
/// `event_interval`).
const EVENT_INTERVAL: u32 = 61;

struct Inner {
    id: u32,
    queue: RefCell<VecDeque<NonNull<Header>>>,
    /// Every live task, so dropping the loop drops them all.
    tasks: RefCell<TaskList>,
    /// Whether the `block_on` future was woken since its last poll.
    main_woken: Cell<bool>,
    timers: RefCell<Wheel>,
    /// What the loop blocks in: an epoll instance (with nothing registered: no workload here
    /// does I/O, but the wait is the one a runtime with a reactor makes).
    epoll: OwnedFd,
    /// The clock's zero: deadlines are nanoseconds since then.
    base: Instant,
}

impl Inner {
    /// Queues `header` unless it is queued or complete already, or belongs to another loop.
    fn schedule(&self, header: NonNull<Header>) {
        // SAFETY: a waker or handle keeps the header alive; the `Cell`s are read only if the task
        // is this loop's (the `Header` invariant).
        let h = unsafe { header.as_ref() };
        if h.owner != self.id || h.state.get() & (QUEUED | COMPLETE) != 0 {
            return;
        }
        h.state.set(h.state.get() | QUEUED);
        self.queue.borrow_mut().push_back(header);
    }

    fn now_ns(&self) -> u64 {
        self.ns_since_base(Instant::now())
    }

    fn ns_since_base(&self, instant: Instant) -> u64 {
        instant.saturating_duration_since(self.base).as_nanos() as u64
    }

    /// Wakes the sleepers that are due.
    fn fire_timers(&self) {
        let now = self.now_ns();
        self.timers.borrow_mut().fire_due(now);
    }

    /// Waits for I/O (there is none) for at most `timeout_ns`, then fires due timers.
    fn wait(&self, timeout_ns: u64) {
        let timeout = libc::timespec {
            tv_sec: (timeout_ns / 1_000_000_000) as libc::time_t,
            tv_nsec: (timeout_ns % 1_000_000_000) as libc::c_long,
        };
        // SAFETY: `epoll_event` is plain integers.
        let mut events: [libc::epoll_event; 1] = unsafe { std::mem::zeroed() };
        // SAFETY: a valid epoll fd, a writable one-event buffer, a valid timespec, no signal mask.
        let r = unsafe {
            libc::syscall(
                libc::SYS_epoll_pwait2,
                self.epoll.as_raw_fd(),
                events.as_mut_ptr(),
                1,
                &raw const timeout,
                std::ptr::null::<libc::sigset_t>(),
                0usize,
            )
        };
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) {
            // Before Linux 5.11: whole milliseconds, rounded up (never early).
            let ms = timeout_ns.div_ceil(1_000_000).min(i32::MAX as u64) as i32;
            // SAFETY: as above.
            unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), events.as_mut_ptr(), 1, ms) };
        }
        self.fire_timers();
    }
}

/// A floor loop, built fresh for every run as the real runtimes are.
pub(crate) struct Rt(Box<Inner>);

impl Rt {
    fn new() -> Rt {
        // SAFETY: epoll_create1 takes no pointers.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(fd >= 0, "epoll_create1: {}", std::io::Error::last_os_error());
        Rt(Box::new(Inner {
            id: LOOP_IDS.fetch_add(1, Ordering::Relaxed),
            queue: RefCell::new(VecDeque::new()),
            tasks: RefCell::new(TaskList::default()),
            main_woken: Cell::new(true),
            timers: RefCell::new(Wheel::new()),
            // SAFETY: a fresh fd that nothing else owns.
            epoll: unsafe { OwnedFd::from_raw_fd(fd) },
            base: Instant::now(),
        }))
    }

    /// Each turn: run the tasks queued at its start, poll the main future if it was woken, look
    /// at I/O and timers every `EVENT_INTERVAL` polls, and block until the next deadline when
    /// nothing is left to run.
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        let inner = &*self.0;
        let previous = CURRENT.with(|c| c.replace(inner));
        let _restore = Restore(previous);
        let mut future = pin!(future);
        // SAFETY: `MAIN_VTABLE` ignores its data pointer and owns nothing.
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &MAIN_VTABLE)) });
        let mut cx = Context::from_waker(&waker);
        let mut polls = 0u32;
        loop {
            let ready = inner.queue.borrow().len();
            for _ in 0..ready {
                let task = inner.queue.borrow_mut().pop_front().expect("counted above");
                self.run_task(task);
                polls += 1;
                if polls == EVENT_INTERVAL {
                    polls = 0;
                    inner.wait(0);
                }
            }
            if inner.main_woken.replace(false)
                && let Poll::Ready(output) = future.as_mut().poll(&mut cx)
            {
                return output;
            }
            if inner.queue.borrow().is_empty() && !inner.main_woken.get() {
                let next = inner.timers.borrow().next_deadline();
                let next = next.expect("the floor loop has nothing to wait for: a workload would hang");
                inner.wait(next.saturating_sub(inner.now_ns()));
            }
        }
    }

    fn run_task(&self, task: NonNull<Header>) {
        // SAFETY: a queued task is in the task list, which holds a reference.
        let h = unsafe { task.as_ref() };
        let state = h.state.get() & !QUEUED;
        h.state.set(state);
        let done = if state & CANCELLED != 0 {
            // SAFETY: the loop runs one task at a time, on its own thread.
            unsafe { (h.vtable.drop_future)(task) };
            true
        } else {
            // SAFETY: as above.
            unsafe { (h.vtable.poll)(task) }
        };
        if done {
            self.complete(task);
        }
    }

    fn complete(&self, task: NonNull<Header>) {
        // SAFETY: the task list's reference, released below, keeps it alive until then.
        let h = unsafe { task.as_ref() };
        h.state.set(h.state.get() | COMPLETE);
        self.0.tasks.borrow_mut().remove(h.slot);
        if let Some(joiner) = h.joiner.take() {
            joiner.wake();
        }
        // SAFETY: the task list's reference.
        unsafe { release(task) };
    }

    fn spawn<F: Future<Output: Send + 'static> + 'static>(&self, future: F) -> JoinHandle<F::Output> {
        let slot = self.0.tasks.borrow().vacant();
        let cell = Box::new(TaskCell {
            header: Header {
                vtable: &TaskCell::<F>::VTABLE,
                refs: AtomicU32::new(2), // the task list's and the handle's
                slot,
                owner: self.0.id,
                state: Cell::new(QUEUED),
                joiner: Cell::new(None),
            },
            stage: UnsafeCell::new(Stage {
                future: ManuallyDrop::new(future),
            }),
        });
        let task = NonNull::from(Box::leak(cell)).cast::<Header>();
        self.0.tasks.borrow_mut().insert(slot, task);
        self.0.queue.borrow_mut().push_back(task);
        JoinHandle {
            task,
            _output: PhantomData,
        }
    }
}

/// Puts back the thread's previous loop when `block_on` returns or unwinds.
struct Restore(*const Inner);

impl Drop for Restore {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

impl Drop for Rt {
    /// Drops every task still alive, here, on the loop's thread (rounds, since a destructor may
    /// spawn).
    fn drop(&mut self) {
        let previous = CURRENT.with(|c| c.replace(&*self.0));
        let _restore = Restore(previous);
        loop {
            let live = self.0.tasks.borrow().live();
            if live.is_empty() {
                break;
            }
            for task in live {
                // SAFETY: the task list's reference keeps it alive; no task is being polled.
                unsafe { (task.as_ref().vtable.drop_future)(task) };
                self.complete(task);
            }
        }
    }
}

/// The live tasks: a slab of pointers whose vacant entries chain the free list (`index << 1 | 1`,
/// a pointer's low bit being clear), so the list needs no second vector.
#[derive(Default)]
struct TaskList {
    entries: Vec<usize>,
    /// One past the first vacant entry's index; 0: none.
    free: usize,
}

impl TaskList {
    fn vacant(&self) -> u32 {
        let index = if self.free == 0 {
            self.entries.len()
        } else {
            self.free - 1
        };
        u32::try_from(index).expect("fewer than 2^32 live tasks")
    }

    fn insert(&mut self, slot: u32, task: NonNull<Header>) {
        let slot = slot as usize;
        if slot == self.entries.len() {
            self.entries.push(task.as_ptr() as usize);
        } else {
            self.free = self.entries[slot] >> 1;
            self.entries[slot] = task.as_ptr() as usize;
        }
    }

    fn remove(&mut self, slot: u32) {
        self.entries[slot as usize] = (self.free << 1) | 1;
        self.free = slot as usize + 1;
    }

    fn live(&self) -> Vec<NonNull<Header>> {
        let live = self.entries.iter().filter(|&&e| e & 1 == 0);
        live.filter_map(|&e| NonNull::new(e as *mut Header)).collect()
    }
}

/// A counted reference to a task; awaiting it gives the output (`None`: cancelled).
pub(crate) struct JoinHandle<T> {
    task: NonNull<Header>,
    /// `!Send`: the handle touches the header's `Cell`s.
    _output: PhantomData<*const T>,
}

impl<T> JoinHandle<T> {
    fn header(&self) -> &Header {
        // SAFETY: the handle's reference keeps the header alive.
        unsafe { self.task.as_ref() }
    }

    fn cancel(&self) {
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

async fn join<T>(handle: JoinHandle<T>) -> T {
    handle.await.expect("benchmark tasks are not cancelled")
}

async fn cancel_all(handles: Vec<JoinHandle<()>>) {
    for handle in &handles {
        handle.cancel();
    }
    for handle in handles {
        let _cancelled = handle.await;
    }
}

fn unbudgeted<F: Future>(future: F) -> F {
    future
}

/// Wakes itself once, then is ready: one wake (a queue push) and one return to the loop.
fn yield_now() -> impl Future<Output = ()> {
    let mut yielded = false;
    poll_fn(move |cx| {
        if std::mem::replace(&mut yielded, true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

#[path = "floor_sync.rs"]
mod sync;
#[path = "floor_time.rs"]
mod time;
use sync::{acquire, new_semaphore};
use time::{Wheel, sleep, sleep_until};

workloads!();

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
//! - **timers**: one clock read per sleep, and a hierarchical timing wheel (six levels of 64
//!   slots over 65.5 µs ticks, index-linked lists of 32-byte entries in a slab) for O(1) insert
//!   and cancel; the loop sleeps until the earliest deadline to the nanosecond.
//! - **a semaphore**: a permit count, a FIFO of waiters in a slab, hand-off on release.
//!
//! What it leaves out: cross-thread wakes, catching panics (one unwinds out of `block_on`),
//! names, budgets, tracing, the task dump; none of the workloads needs them. BENCHMARKS.md ("Floors")
//! says in two lines per workload what the floor does.
//!
//! This file is the loop; `floor_task.rs` is the task cell, its waker and its handle,
//! `floor_time.rs` the wheel and `Sleep`, `floor_sync.rs` the semaphore.

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
#[path = "floor_task.rs"]
mod task;
#[path = "floor_time.rs"]
mod time;
use sync::{acquire, new_semaphore};
use task::{CANCELLED, COMPLETE, Header, JoinHandle, QUEUED, Stage, TaskCell, release};
use time::{Wheel, sleep, sleep_until};

workloads!();

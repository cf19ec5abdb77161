//! `spawn_blocking`: asyncio's `run_in_executor` / `asyncio.to_thread`.
//!
//! A task must never block the loop's thread: while it sleeps in a system call or crunches
//! numbers, no other task, timer or socket is served. Work like that goes to this pool.
//!
//! The pool starts **no thread until the first job** (an embedder who never calls
//! `spawn_blocking` never gets one), starts at most `max_blocking_threads`, hands each job to
//! an idle thread if there is one, and lets a thread that stays idle for
//! `blocking_idle_timeout` exit. The result (or the panic) travels back through a small shared
//! slot, and the waiting task is woken through the loop's cross-thread inbox.
//!
//! Cancelling the `JoinHandle` of a blocking job stops the *waiting*, not the job: a thread
//! cannot be interrupted safely, so the job runs to the end and its result is dropped.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use crate::task::JoinHandle;

type Job = Box<dyn FnOnce() + Send>;

/// The pool's state shared with its threads.
struct Pool {
    state: Mutex<PoolState>,
    /// Signals idle threads that a job (or shutdown) arrived.
    work: Condvar,
}

struct PoolState {
    /// Jobs no thread has taken yet.
    queue: VecDeque<Job>,
    /// Threads alive.
    threads: usize,
    /// Threads waiting for a job.
    idle: usize,
    /// The runtime is gone: threads exit once the queue is empty.
    shutdown: bool,
}

/// A lazily started, bounded pool of threads for blocking work.
pub(crate) struct BlockingPool {
    /// `None` until the first job: no allocation and no thread before that.
    pool: std::cell::OnceCell<Arc<Pool>>,
    /// Most threads alive at once.
    max_threads: usize,
    /// Idle time after which a thread exits.
    idle_timeout: Duration,
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize, idle_timeout: Duration) -> BlockingPool {
        BlockingPool {
            pool: std::cell::OnceCell::new(),
            max_threads,
            idle_timeout,
        }
    }

    /// Threads currently alive.
    pub(crate) fn threads(&self) -> usize {
        self.pool
            .get()
            .map_or(0, |p| p.state.lock().unwrap_or_else(PoisonError::into_inner).threads)
    }

    /// Runs `job` on a pool thread.
    fn submit(&self, job: Job) -> std::io::Result<()> {
        let pool = self.pool.get_or_init(|| {
            Arc::new(Pool {
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    shutdown: false,
                }),
                work: Condvar::new(),
            })
        });
        let mut state = pool.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.queue.push_back(job);
        if state.idle > 0 {
            pool.work.notify_one();
            return Ok(());
        }
        if state.threads < self.max_threads {
            let number = state.threads;
            let worker_pool = pool.clone();
            let idle_timeout = self.idle_timeout;
            thread::Builder::new()
                .name(format!("evloop-blocking-{number}"))
                .spawn(move || worker(&worker_pool, idle_timeout))?;
            state.threads += 1;
        }
        // Otherwise every thread is busy; the job waits in the queue for the first to finish.
        Ok(())
    }

    /// Tells the threads to exit once the queued jobs are done.
    pub(crate) fn shutdown(&self) {
        if let Some(pool) = self.pool.get() {
            pool.state.lock().unwrap_or_else(PoisonError::into_inner).shutdown = true;
            pool.work.notify_all();
        }
    }
}

fn worker(pool: &Pool, idle_timeout: Duration) {
    let mut state = pool.state.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        if let Some(job) = state.queue.pop_front() {
            drop(state);
            job(); // Jobs catch their own panics (see `spawn_blocking`).
            state = pool.state.lock().unwrap_or_else(PoisonError::into_inner);
            continue;
        }
        if state.shutdown {
            break;
        }
        state.idle += 1;
        let (next, waited) = pool
            .work
            .wait_timeout(state, idle_timeout)
            .unwrap_or_else(PoisonError::into_inner);
        state = next;
        state.idle -= 1;
        if waited.timed_out() && state.queue.is_empty() {
            break;
        }
    }
    state.threads -= 1;
}

/// Where a blocking job leaves its result for the waiting task.
struct Slot<T> {
    result: Option<thread::Result<T>>,
    waker: Option<Waker>,
}

/// Runs `f` on the blocking pool and returns a handle to await its result (asyncio's
/// `loop.run_in_executor(None, f)` / `asyncio.to_thread(f)`). A panic in `f` comes back as a
/// `JoinError` from the handle, as for any task.
///
/// # Cancel safety
/// Cancelling or dropping the handle does not stop `f`: it runs to the end on its thread and
/// its result is dropped there.
///
/// # Panics
/// Outside a running evloop loop.
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        waker: None,
    }));
    let job_slot = slot.clone();
    let job: Job = Box::new(move || {
        let result = catch_unwind(AssertUnwindSafe(f));
        let waker = {
            let mut slot = job_slot.lock().unwrap_or_else(PoisonError::into_inner);
            slot.result = Some(result);
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    });
    crate::context::with_core(|core| {
        if let Err(e) = core.blocking.submit(job) {
            // The OS would not start a thread: fail the job like a panic, with the reason.
            let mut s = slot.lock().unwrap_or_else(PoisonError::into_inner);
            s.result = Some(Err(Box::new(format!("spawn_blocking could not start a thread: {e}"))));
        }
        core.blocking_in_flight.set(core.blocking_in_flight.get() + 1);
        core.spawn(Wait { slot, counted: true }, Some("spawn_blocking".to_string()))
    })
}

/// The task side of a blocking job: waits for the slot to fill.
struct Wait<T> {
    slot: Arc<Mutex<Slot<T>>>,
    /// Still counted in `blocking_in_flight`.
    counted: bool,
}

impl<T> Wait<T> {
    fn uncount(&mut self) {
        if std::mem::take(&mut self.counted) {
            crate::context::try_with_core(|core| core.blocking_in_flight.set(core.blocking_in_flight.get() - 1));
        }
    }
}

impl<T> Future for Wait<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let result = {
            let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            match slot.result.take() {
                Some(result) => result,
                None => {
                    slot.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        };
        self.uncount();
        match result {
            Ok(value) => Poll::Ready(value),
            // Re-raise on the loop's thread: the task machinery turns it into a JoinError.
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }
}

impl<T> Drop for Wait<T> {
    fn drop(&mut self) {
        self.uncount();
    }
}

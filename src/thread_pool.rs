//! The blocking pool: the threads behind `spawn_blocking` (asyncio's default executor).
//!
//! A task must never block the loop's thread: while it sleeps in a system call or crunches
//! numbers, no other task, timer or socket is served. Work like that goes to this pool, a plain
//! queue of boxed jobs served by threads; it knows nothing of tasks or of the loop. The task
//! side, how a job's result comes back, is `blocking.rs`.
//!
//! The pool starts **no thread until the first job** (an embedder who never calls
//! `spawn_blocking` never gets one), starts at most `max_blocking_threads`, hands each job to
//! an idle thread if there is one, and lets a thread that stays idle for
//! `blocking_idle_timeout` exit.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

/// One unit of blocking work. It must catch its own panics: a panic would end its thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

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
    /// Threads started so far: the next thread's number (the recorder names threads by it).
    started: u32,
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

    /// Runs `job` on a pool thread, starting one if none is idle and the limit allows.
    ///
    /// # Errors
    /// If the OS refuses to start a thread (the job is still queued for a running one, if any).
    pub(crate) fn submit(&self, job: Job) -> std::io::Result<()> {
        let pool = self.pool.get_or_init(|| {
            Arc::new(Pool {
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    started: 0,
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
            let number = state.started;
            let worker_pool = pool.clone();
            let idle_timeout = self.idle_timeout;
            thread::Builder::new()
                .name(format!("evloop-blocking-{number}"))
                .spawn(move || {
                    NUMBER.set(Some(number));
                    worker(&worker_pool, idle_timeout);
                })?;
            state.threads += 1;
            state.started = state.started.wrapping_add(1);
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

thread_local! {
    /// This thread's number in its pool (from 0, in the order the pool started its threads);
    /// `None` on any thread that is not a pool thread.
    static NUMBER: Cell<Option<u32>> = const { Cell::new(None) };
}

/// The number of the pool thread running this code (`None` outside the pool), for the
/// recorder's `Blocking` events.
pub(crate) fn thread_number() -> Option<u32> {
    NUMBER.get()
}

fn worker(pool: &Pool, idle_timeout: Duration) {
    let mut state = pool.state.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        if let Some(job) = state.queue.pop_front() {
            drop(state);
            job(); // Jobs catch their own panics (see `Job`).
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

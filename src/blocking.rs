//! `spawn_blocking`: asyncio's `run_in_executor` / `asyncio.to_thread`.
//!
//! A task must never block the loop's thread; blocking work goes to the loop's thread pool
//! (`thread_pool.rs`). This file is the task side: the job's result (or its panic) travels back
//! through a small shared slot, and the waiting task is woken through the loop's cross-thread
//! inbox, as any waker woken on another thread is.
//!
//! With recording on (`Builder::record`), the job also notes which pool thread ran it and, on a
//! real clock, when and for how long; the waiting task hands that to the loop's recorder when it
//! takes the result, so the recorder is only ever touched on the loop's thread.
//!
//! Cancelling the `JoinHandle` of a blocking job stops the *waiting*, not the job: a thread
//! cannot be interrupted safely, so the job runs to the end and its result is dropped.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use crate::runtime::context;
use crate::task::JoinHandle;
use crate::thread_pool::{self, Job};

/// Where a blocking job leaves its result for the waiting task.
struct Slot<T> {
    result: Option<thread::Result<T>>,
    waker: Option<Waker>,
    /// How the job ran, for the recorder (`None` unless recording).
    ran: Option<Ran>,
}

/// Where and when a job ran, noted on its pool thread for the loop's recorder.
struct Ran {
    /// The pool thread's number.
    thread: u32,
    /// When it started (real time); `None` on a virtual clock, whose record reads no real time.
    started: Option<Instant>,
    /// How long it ran (zero on a virtual clock).
    took: Duration,
}

/// Runs `f` on the blocking pool and returns a handle to await its result (asyncio's
/// `loop.run_in_executor(None, f)` / `asyncio.to_thread(f)`). A panic in `f` comes back as a
/// `JoinError` from the handle, as for any task.
///
/// # Examples
///
/// ```
/// let sum = evloop::run(async {
///     // A blocking computation, off the loop's thread; the loop serves other tasks meanwhile.
///     let job = evloop::spawn_blocking(|| (1..=1000u64).sum::<u64>());
///     job.await.unwrap()
/// });
/// assert_eq!(sum, 500_500);
/// ```
///
/// # Cancel safety
/// Cancelling or dropping the handle does not stop `f`: it runs to the end on its thread and
/// its result is dropped there.
///
/// # Panics
/// Outside a running evloop loop.
#[doc(alias = "run_in_executor")]
#[doc(alias = "to_thread")]
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        waker: None,
        ran: None,
    }));
    // `None`: not recording; `Some(virtual)`: recording, on a virtual clock or not.
    let recording = context::try_with_core(|core| core.record_clock_is_virtual()).flatten();
    let job_slot = slot.clone();
    let job: Job = Box::new(move || {
        let started = match recording {
            Some(false) => Some(Instant::now()),
            _ => None,
        };
        let result = catch_unwind(AssertUnwindSafe(f));
        let ran = recording.map(|_| Ran {
            // Jobs only run on pool threads, which all have a number.
            thread: thread_pool::thread_number().unwrap_or_default(),
            started,
            took: started.map_or(Duration::ZERO, |started| started.elapsed()),
        });
        let waker = {
            let mut slot = job_slot.lock().unwrap_or_else(PoisonError::into_inner);
            slot.result = Some(result);
            slot.ran = ran;
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    });
    context::with_core(|core| {
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
            context::try_with_core(|core| core.blocking_in_flight.set(core.blocking_in_flight.get() - 1));
        }
    }
}

impl<T> Future for Wait<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let (result, ran) = {
            let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            match slot.result.take() {
                Some(result) => (result, slot.ran.take()),
                None => {
                    slot.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        };
        if let Some(ran) = ran {
            context::try_with_core(|core| core.record_blocking(ran.thread, ran.started, ran.took));
        }
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

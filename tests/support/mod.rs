//! Helpers shared by the integration tests: an event log for exact traces, a drop probe, and a
//! counting waker for polling futures by hand. [`cancel`] is the driver that cancels a future at
//! every one of its await points; `script_server.rs` (included by path) is a scripted HTTP peer.
#![allow(dead_code)]

pub mod cancel;
pub mod scripted_io;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Wake, Waker};

/// An append-only list of events, cloned into every task and callback of a test.
#[derive(Clone, Default)]
pub struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    pub fn new() -> Log {
        Log::default()
    }

    pub fn push(&self, event: impl Into<String>) {
        self.0.borrow_mut().push(event.into());
    }

    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.borrow_mut())
    }

    pub fn snapshot(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
}

/// Counts how many times it was dropped (clones share the count).
#[derive(Clone, Default)]
pub struct DropProbe(Rc<Cell<u32>>);

impl DropProbe {
    pub fn new() -> DropProbe {
        DropProbe::default()
    }

    /// A guard whose drop increments this probe's count.
    pub fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }

    pub fn drops(&self) -> u32 {
        self.0.get()
    }
}

pub struct DropGuard(Rc<Cell<u32>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A waker that counts its wakes, for polling futures by hand.
#[derive(Default)]
pub struct CountingWaker(AtomicUsize);

impl CountingWaker {
    pub fn new() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(counter.clone());
        (counter, waker)
    }

    pub fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A runtime on the virtual clock, so tests never wait on wall-clock time.
pub fn virtual_runtime() -> evloop::Runtime {
    evloop::Runtime::builder().virtual_clock().build().expect("runtime")
}

/// Collects every report sent to the loop's exception handler.
pub fn capture_exceptions(rt: &evloop::Runtime) -> Log {
    let log = Log::new();
    let sink = log.clone();
    rt.set_exception_handler(move |ctx| sink.push(ctx.to_string()));
    log
}

/// The text of a caught panic (`panic!` payloads are `&str` or `String`).
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

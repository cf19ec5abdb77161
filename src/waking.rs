//! Waking a batch of wakers so that one panicking waker costs nobody else their wake.
//!
//! # What to know first
//!
//! A `Waker` is code someone else wrote. evloop's own task wakers never panic, but a waker can
//! come from anywhere: a hand-written executor, a test harness, a combinator that wraps wakers.
//! When the loop (or a semaphore, a queue, an event) wakes a *list* of waiters and the third one
//! panics, a plain `for waker in list { waker.wake() }` unwinds out of the loop: the fourth and
//! later waiters are never woken. A semaphore waiter that was already granted its permit would
//! then hold it forever, and sleepers due in the same tick would never run.
//!
//! So every place that wakes a list goes through [`wake_all`] (one waker: [`wake`]): each wake
//! runs under `catch_unwind`, the batch always finishes, and the panics are handed on:
//!
//! - **while a loop runs on this thread** (the runtime installs a sink when it enters), they are
//!   parked here, and the runtime reports each one through its exception handler the next time
//!   it looks outward (at most `event_interval` polls later), as it does for a panicking
//!   callback;
//! - **with no loop running** (a primitive polled by hand), the first panic is raised again once
//!   the batch is done, so it is not lost.
//!
//! This file knows nothing of the runtime: the sink is a thread-local that the runtime fills and
//! drains (`runtime/context.rs`).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::task::Waker;

/// A caught panic's payload.
pub(crate) type Payload = Box<dyn Any + Send + 'static>;

thread_local! {
    /// Panics of wakers caught while a loop runs on this thread, waiting to be reported.
    /// `None` while no loop runs: then a caught panic is raised again instead.
    static SINK: RefCell<Option<Vec<Payload>>> = const { RefCell::new(None) };
    /// Whether `SINK` holds a panic: the one load the loop pays to ask "anything to report?".
    static PARKED: Cell<bool> = const { Cell::new(false) };
}

/// Wakes every waker, even if some of them panic (see the module docs).
pub(crate) fn wake_all(wakers: impl IntoIterator<Item = Waker>) {
    let mut first = None;
    for waker in wakers {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake()))
            && let Some(payload) = park(payload)
        {
            first.get_or_insert(payload);
        }
    }
    if let Some(payload) = first {
        resume_unwind(payload);
    }
}

/// Wakes one waker; a panic is parked for the running loop, or raised again if none runs.
pub(crate) fn wake(waker: Waker) {
    wake_all([waker]);
}

/// Parks a panic in the sink; hands it back if there is no sink (no loop running).
fn park(payload: Payload) -> Option<Payload> {
    SINK.with(|sink| match sink.borrow_mut().as_mut() {
        Some(parked) => {
            parked.push(payload);
            PARKED.set(true);
            None
        }
        None => Some(payload),
    })
}

/// Installs a sink if none is installed yet; returns whether this call installed it (a
/// runtime dropped inside another's `block_on` reports into the outer loop's sink).
pub(crate) fn install() -> bool {
    SINK.with(|sink| {
        let mut sink = sink.borrow_mut();
        let install = sink.is_none();
        if install {
            *sink = Some(Vec::new());
        }
        install
    })
}

/// Whether a panic is parked: the one load the loop pays each turn to ask.
#[inline]
pub(crate) fn any_parked() -> bool {
    PARKED.get()
}

/// The panics parked so far; the sink stays installed. One thread-local load when there are
/// none.
pub(crate) fn take() -> Vec<Payload> {
    if !PARKED.replace(false) {
        return Vec::new();
    }
    SINK.with(|sink| sink.borrow_mut().as_mut().map(std::mem::take).unwrap_or_default())
}

/// Removes the sink (called by whoever [`install`] returned `true` to), handing back the panics
/// still parked in it.
pub(crate) fn uninstall() -> Vec<Payload> {
    PARKED.set(false);
    SINK.with(|sink| sink.borrow_mut().take().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    /// A waker that counts its wakes, and panics if told to.
    struct Probe {
        woken: AtomicUsize,
        panics: bool,
    }

    impl Wake for Probe {
        fn wake(self: Arc<Self>) {
            self.woken.fetch_add(1, Ordering::Relaxed);
            assert!(!self.panics, "this waker panics");
        }
    }

    fn probe(panics: bool) -> Arc<Probe> {
        Arc::new(Probe {
            woken: AtomicUsize::new(0),
            panics,
        })
    }

    #[test]
    fn with_a_sink_every_waker_is_woken_and_the_panics_are_parked() {
        let probes = [probe(false), probe(true), probe(false), probe(true), probe(false)];
        assert!(install());
        wake_all(probes.iter().map(|p| Waker::from(p.clone())));
        assert!(probes.iter().all(|p| p.woken.load(Ordering::Relaxed) == 1));
        assert_eq!(take().len(), 2, "both panics are parked for the loop to report");
        assert!(take().is_empty());
        assert!(!install(), "a second install keeps the first sink");
        assert!(uninstall().is_empty());
    }

    #[test]
    fn without_a_sink_the_batch_finishes_then_the_first_panic_is_raised() {
        let probes = [probe(true), probe(false), probe(true)];
        let wakers: Vec<Waker> = probes.iter().map(|p| Waker::from(p.clone())).collect();
        let raised = catch_unwind(AssertUnwindSafe(|| wake_all(wakers)));
        assert!(raised.is_err());
        assert!(probes.iter().all(|p| p.woken.load(Ordering::Relaxed) == 1));
    }
}

//! The per-loop half of signal handling: one self-pipe per runtime, read on the loop's thread,
//! and the list of that loop's listeners.
//!
//! Read `registry.rs` first: the C handler adds one to a signal's *delivered* counter, then
//! writes a byte to the pipe of every runtime that listens to it. Here, a runtime's first
//! listener creates its [`Driver`]: the pipe (its read end registered with the reactor, its
//! write end in the handler's table) and one small task that sleeps on the pipe. Each time the
//! pipe becomes readable the task
//!
//! 1. reads it empty (the bytes say only "look again"; how many arrived does not matter), then
//! 2. compares, for each listener, the delivered counter with the count the listener saw
//!    last, and wakes (or, for a callback, schedules) the ones that are behind.
//!
//! Reading before comparing is what keeps a signal from being lost: the handler bumps the
//! counter *before* writing, so a delivery either is counted by the time we compare, or its byte
//! arrives after we emptied the pipe and wakes the task again. And a listener takes the counter
//! as its baseline when it is created, so a signal that arrives after that is seen at its first
//! poll even if the task has not run yet. Several listeners, on one loop or on several, each
//! compare against the same counter, so each sees every signal.
//!
//! **Coalescing.** A listener learns "the signal came at least once since you last looked", not
//! how many times (as in tokio): the kernel itself merges a standard signal that arrives while
//! the same one is still pending, so an exact count could not be promised anyway.
//!
//! Everything here is the loop's own (`Rc`, `RefCell`): a `Driver` is found through a
//! thread-local list keyed by loop (a `Runtime` never changes thread), and it goes away with its
//! last listener: the task is cancelled, the pipe deregistered and closed, the slot freed.

use std::cell::{Cell, RefCell};
use std::io::{self, Read};
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use mio::unix::pipe::Receiver;
use slab::Slab;

use crate::io::source::IoSource;
use crate::reactor::Direction;
use crate::runtime::context;
use crate::scheduler::LoopId;
use crate::signal::registry::{self, SIGNALS, WakeSlot};
use crate::task::JoinHandle;

thread_local! {
    /// The drivers of the loops on this thread that have listeners. A few entries at most.
    static DRIVERS: RefCell<Vec<(LoopId, Weak<Driver>)>> = const { RefCell::new(Vec::new()) };
}

/// What a signal, once seen, does for one listener.
pub(crate) enum Waiter {
    /// A [`Signal`](crate::signal::Signal): wake the task that waits in `recv`, if one does.
    Task(Option<Waker>),
    /// An `add_signal_handler` callback: schedule it with `call_soon` (it is gone once its
    /// `SignalHandler` is dropped).
    Callback(Weak<RefCell<dyn FnMut()>>),
}

/// One listener of one signal on this loop.
struct Listener {
    signo: usize,
    /// The delivered count this listener has seen: it is behind when the counter moved on.
    seen: usize,
    waiter: Waiter,
}

/// One loop's signal machinery. Shared (`Rc`) by its listeners; dropped with the last one.
///
/// The fields drop in order: the slot first (the handler stops writing, the write end closes),
/// then the read end (deregistered, closed).
pub(crate) struct Driver {
    /// The loop it belongs to: listeners may only be polled there.
    pub(crate) owner: LoopId,
    /// This loop's entry in the handler's table, with the pipe's write end.
    slot: WakeSlot,
    /// The pipe's read end, registered with the loop's reactor (mio's `Receiver` is a mio
    /// source already, so it needs no `Fd` wrapper).
    pipe: IoSource<Receiver>,
    /// Every listener of this loop, by key.
    listeners: RefCell<Slab<Listener>>,
    /// How many listeners each signal has here: the slot's interest is on while it is non-zero.
    per_signal: RefCell<[u32; SIGNALS]>,
    /// The task that reads the pipe; cancelled when the driver goes.
    task: RefCell<Option<JoinHandle<()>>>,
    /// Reading the pipe failed (it should not): listeners then get `None`.
    broken: Cell<bool>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("owner", &self.owner)
            .field("listeners", &self.listeners.borrow().len())
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// The running loop's driver, created on first use.
    ///
    /// # Errors
    /// If the pipe cannot be created or registered, or every slot of the handler's table is
    /// taken.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    #[track_caller]
    pub(crate) fn current() -> io::Result<Rc<Driver>> {
        let owner = context::with_core(|core| core.id());
        let existing = DRIVERS.with(|drivers| {
            drivers
                .borrow()
                .iter()
                .find(|(id, _)| *id == owner)
                .and_then(|(_, driver)| driver.upgrade())
        });
        if let Some(driver) = existing {
            return Ok(driver);
        }
        let (writer, reader) = mio::unix::pipe::new()?;
        let slot = registry::claim(writer)?;
        let pipe = IoSource::new(reader)?;
        let driver = Rc::new(Driver {
            owner,
            slot,
            pipe,
            listeners: RefCell::new(Slab::new()),
            per_signal: RefCell::new([0; SIGNALS]),
            task: RefCell::new(None),
            broken: Cell::new(false),
        });
        let task = crate::spawn_named("evloop signal driver", Drain(Rc::downgrade(&driver)));
        *driver.task.borrow_mut() = Some(task);
        DRIVERS.with(|drivers| drivers.borrow_mut().push((owner, Rc::downgrade(&driver))));
        Ok(driver)
    }

    /// Adds a listener of `signo` (checked by `SignalKind::check`); its baseline is the count
    /// delivered so far, so it sees every signal from now on.
    ///
    /// # Errors
    /// What `registry::acquire` says (installing the handler failed, or foreign code owns it).
    pub(crate) fn add(&self, signo: usize, name: &str, waiter: Waiter) -> io::Result<usize> {
        registry::acquire(signo, name)?;
        let first = {
            let mut counts = self.per_signal.borrow_mut();
            counts[signo] += 1;
            counts[signo] == 1
        };
        if first {
            self.slot.set_interest(signo, true);
        }
        // After the interest is on (both `SeqCst`): a delivery not counted yet will write a byte.
        let seen = registry::delivered(signo);
        Ok(self.listeners.borrow_mut().insert(Listener { signo, seen, waiter }))
    }

    /// Removes a listener; the last of its signal here turns the slot's interest off.
    pub(crate) fn remove(&self, key: usize) {
        let removed = self.listeners.borrow_mut().try_remove(key);
        let Some(listener) = removed else { return };
        let last = {
            let mut counts = self.per_signal.borrow_mut();
            counts[listener.signo] -= 1;
            counts[listener.signo] == 0
        };
        if last {
            self.slot.set_interest(listener.signo, false);
        }
        registry::release(listener.signo);
        // The waker (or the callback's weak reference) drops here, after every borrow ended.
        drop(listener);
    }

    /// A `Signal`'s poll: ready once the delivered count moved past what the listener saw.
    pub(crate) fn poll_listener(&self, key: usize, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let old_waker = {
            let mut listeners = self.listeners.borrow_mut();
            let Some(listener) = listeners.get_mut(key) else {
                return Poll::Ready(None);
            };
            let now = registry::delivered(listener.signo);
            if now != listener.seen {
                listener.seen = now;
                return Poll::Ready(Some(()));
            }
            if self.broken.get() {
                return Poll::Ready(None);
            }
            match &mut listener.waiter {
                Waiter::Task(slot) if slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) => None,
                Waiter::Task(slot) => slot.replace(cx.waker().clone()),
                Waiter::Callback(_) => None,
            }
        };
        drop(old_waker);
        Poll::Pending
    }

    /// Empties the pipe (registering the task's waker for the next byte), then collects the
    /// wakers and callbacks of the listeners that are behind.
    fn turn(&self, cx: &mut Context<'_>, wakers: &mut Vec<Waker>, calls: &mut Vec<Weak<RefCell<dyn FnMut()>>>) {
        let mut buffer = [0u8; 64];
        loop {
            match self
                .pipe
                .poll_io(Direction::Read, cx, |mut reader| reader.read(&mut buffer))
            {
                Poll::Ready(Ok(n)) if n > 0 => continue,
                Poll::Pending => break,
                // End of file or an error: the write end is ours and open, so neither should
                // happen. Say so, and let the listeners finish rather than wait forever.
                Poll::Ready(result) => {
                    log::error!(target: "evloop", "the signal self-pipe failed ({result:?}); signals are no longer received");
                    self.broken.set(true);
                    break;
                }
            }
        }
        let broken = self.broken.get();
        for (_, listener) in self.listeners.borrow_mut().iter_mut() {
            let now = registry::delivered(listener.signo);
            match &mut listener.waiter {
                Waiter::Task(waker) if now != listener.seen || broken => wakers.extend(waker.take()),
                Waiter::Callback(callback) if now != listener.seen => {
                    listener.seen = now;
                    calls.push(callback.clone());
                }
                _ => {}
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let owner = self.owner;
        // `try_with`: at thread exit the list may already be gone, and there is nothing to undo.
        let _ = DRIVERS.try_with(|drivers| drivers.borrow_mut().retain(|(id, _)| *id != owner));
        if let Some(task) = self.task.get_mut().take() {
            task.cancel();
        }
    }
}

/// The driver's task: read the pipe whenever it is readable, wake whoever is behind.
struct Drain(Weak<Driver>);

impl std::future::Future for Drain {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(driver) = self.0.upgrade() else {
            return Poll::Ready(());
        };
        let mut wakers = Vec::new();
        let mut calls = Vec::new();
        driver.turn(cx, &mut wakers, &mut calls);
        let broken = driver.broken.get();
        // Collect, release, then act: our borrows have ended; the driver may go with `driver`.
        drop(driver);
        // Like asyncio's `_handle_signal`, each callback runs later as a `call_soon` callback
        // (a panic in it is reported and the handler stays). Removed by then: it does not run.
        for callback in calls {
            crate::call_soon(move || {
                if let Some(callback) = callback.upgrade()
                    && let Ok(mut callback) = callback.try_borrow_mut()
                {
                    (*callback)();
                }
            });
        }
        wakers.into_iter().for_each(Waker::wake);
        if broken { Poll::Ready(()) } else { Poll::Pending }
    }
}

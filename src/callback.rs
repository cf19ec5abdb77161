//! Plain callbacks on the loop: asyncio's `call_soon`, `call_later` and `call_at`.
//!
//! Before coroutines, this was all an event loop offered: "run this function soon", "run it in
//! two seconds". A callback runs once, to completion, on the loop's thread, in FIFO order with
//! task steps (they share the ready queue). Each call returns a [`CallbackHandle`] whose
//! [`cancel`](CallbackHandle::cancel) works until the callback has started running.
//!
//! Storage is a slab of boxed closures keyed by a generational [`CallbackId`], like tasks: a
//! cancelled callback's id may linger on the ready queue or in the timer wheel and is simply
//! skipped when it comes up, because the slab no longer holds that generation.
//!
//! Dropping a handle does *not* cancel the callback (as in asyncio: the handle is a way to
//! cancel, not a registration guard).

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use slab::Slab;

use crate::time::wheel::TimerKey;

/// Names a scheduled callback: slab index plus generation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallbackId(u64);

impl CallbackId {
    fn index(self) -> usize {
        (self.0 as u32) as usize
    }
}

impl fmt::Debug for CallbackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "callback#{}.{}", self.0 as u32, self.0 >> 32)
    }
}

impl fmt::Display for CallbackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A callback's closure, boxed so callbacks of every type share one slab.
pub(crate) type BoxedCallback = Box<dyn FnOnce()>;

/// One pending callback.
struct Entry {
    /// Its own id, to tell a stale id (same slot, older generation) apart.
    id: CallbackId,
    /// The function to run.
    f: Box<dyn FnOnce()>,
    /// For `call_later`/`call_at`: its timer, removed from the wheel if the callback is
    /// cancelled first. `None` once the timer has fired (the id is then on the ready queue).
    timer: Option<TimerKey>,
}

/// The loop's pending callbacks.
pub(crate) struct Callbacks {
    /// Callbacks waiting to run.
    entries: Slab<Entry>,
    /// Generation for the next callback (see `task::slab` for why generations exist).
    next_generation: u32,
}

impl Callbacks {
    pub(crate) fn new() -> Callbacks {
        Callbacks {
            entries: Slab::new(),
            next_generation: 1,
        }
    }

    /// Stores a callback; the caller queues its id (or a timer that will).
    pub(crate) fn insert(&mut self, f: Box<dyn FnOnce()>) -> CallbackId {
        let index = self.entries.vacant_key() as u64;
        let id = CallbackId((u64::from(self.next_generation) << 32) | index);
        self.next_generation = self.next_generation.wrapping_add(1).max(1);
        self.entries.insert(Entry { id, f, timer: None });
        id
    }

    /// Records the timer of a `call_later`.
    pub(crate) fn set_timer(&mut self, id: CallbackId, key: TimerKey) {
        if let Some(entry) = self.entries.get_mut(id.index()).filter(|e| e.id == id) {
            entry.timer = Some(key);
        }
    }

    /// The timer fired: the callback is about to be queued, so there is no timer to cancel.
    pub(crate) fn timer_fired(&mut self, id: CallbackId) {
        if let Some(entry) = self.entries.get_mut(id.index()).filter(|e| e.id == id) {
            entry.timer = None;
        }
    }

    /// Takes the callback out to run it; `None` if it was cancelled.
    pub(crate) fn take(&mut self, id: CallbackId) -> Option<Box<dyn FnOnce()>> {
        self.entries.get(id.index()).filter(|e| e.id == id)?;
        Some(self.entries.remove(id.index()).f)
    }

    /// Cancels a callback. Returns its closure (to be dropped by the caller, outside any
    /// borrow) and its timer (to be removed from the wheel), or `None` if it already ran.
    pub(crate) fn cancel(&mut self, id: CallbackId) -> Option<(BoxedCallback, Option<TimerKey>)> {
        self.entries.get(id.index()).filter(|e| e.id == id)?;
        let entry = self.entries.remove(id.index());
        Some((entry.f, entry.timer))
    }

    /// Whether the callback is still waiting to run.
    pub(crate) fn is_pending(&self, id: CallbackId) -> bool {
        self.entries.get(id.index()).is_some_and(|e| e.id == id)
    }

    /// Removes every callback (runtime shutdown); the caller drops them outside any borrow.
    pub(crate) fn drain(&mut self) -> Vec<Box<dyn FnOnce()>> {
        self.entries.drain().map(|e| e.f).collect()
    }
}

/// A way to cancel a callback scheduled with [`call_soon`], [`call_later`] or [`call_at`]
/// (asyncio's `Handle` / `TimerHandle`). Dropping it does not cancel anything.
pub struct CallbackHandle {
    id: CallbackId,
    /// Callbacks belong to one loop on one thread.
    _not_send: PhantomData<*const ()>,
}

impl CallbackHandle {
    /// The callback's id, as it appears in the loop's logs.
    pub fn id(&self) -> CallbackId {
        self.id
    }

    /// Cancels the callback if it has not started running; returns whether it was cancelled.
    /// A `call_later` callback's timer leaves the wheel at once.
    ///
    /// # Panics
    /// Outside the loop the callback was scheduled on.
    pub fn cancel(&self) -> bool {
        crate::context::with_core(|core| core.cancel_callback(self.id))
    }

    /// Whether the callback is still waiting (neither run nor cancelled).
    ///
    /// # Panics
    /// Outside the loop the callback was scheduled on.
    pub fn is_pending(&self) -> bool {
        crate::context::with_core(|core| core.callbacks.borrow().is_pending(self.id))
    }
}

impl fmt::Debug for CallbackHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackHandle").field("id", &self.id).finish()
    }
}

/// Runs `f` on the loop as soon as possible: at the next turn, after everything already ready
/// (asyncio's `loop.call_soon`).
///
/// # Panics
/// Outside a running evloop loop.
pub fn call_soon(f: impl FnOnce() + 'static) -> CallbackHandle {
    let id = crate::context::with_core(|core| core.call_soon(Box::new(f)));
    CallbackHandle {
        id,
        _not_send: PhantomData,
    }
}

/// Runs `f` on the loop once `delay` has passed (asyncio's `loop.call_later`). It never runs
/// early; it runs in the first turn after its deadline, in deadline order with other timers.
///
/// # Panics
/// Outside a running evloop loop.
pub fn call_later(delay: Duration, f: impl FnOnce() + 'static) -> CallbackHandle {
    let id = crate::context::with_core(|core| {
        let when = crate::time::deadline_after(core.timers.borrow().now(), delay);
        core.call_at(when, Box::new(f))
    });
    CallbackHandle {
        id,
        _not_send: PhantomData,
    }
}

/// Runs `f` on the loop at `when` (asyncio's `loop.call_at`), measured on the loop's clock
/// ([`time::now`](crate::time::now)).
///
/// # Panics
/// Outside a running evloop loop.
pub fn call_at(when: Instant, f: impl FnOnce() + 'static) -> CallbackHandle {
    let id = crate::context::with_core(|core| core.call_at(when, Box::new(f)));
    CallbackHandle {
        id,
        _not_send: PhantomData,
    }
}

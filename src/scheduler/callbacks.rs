//! The loop's pending callbacks: the store behind asyncio's `call_soon`, `call_later` and
//! `call_at` (whose public side is `callback.rs`, above the runtime).
//!
//! A slab of boxed closures keyed by a generational [`CallbackId`] (`slots.rs`), like tasks: a
//! cancelled callback's id may linger on the ready queue or in the timer wheel and is simply
//! skipped when it comes up, because the slab no longer holds that generation.

use std::fmt;

use crate::slots::{Key, Slots};
use crate::timer::wheel::TimerKey;

/// Names a scheduled callback: slab index plus generation. Printed as
/// `callback#<slot>.<generation>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallbackId(Key);

impl fmt::Debug for CallbackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "callback#{}.{}", self.0.index(), self.0.generation())
    }
}

impl fmt::Display for CallbackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl CallbackId {
    /// The id as one number (index and generation), as the recorder names a callback.
    pub(crate) fn number(self) -> u64 {
        self.0.to_bits()
    }

    /// The id whose [`number`](Self::number) this is.
    pub(crate) fn from_number(number: u64) -> CallbackId {
        CallbackId(Key::from_bits(number))
    }
}

/// A callback's closure, boxed so callbacks of every type share one slab.
pub(crate) type BoxedCallback = Box<dyn FnOnce()>;

/// One pending callback.
struct Entry {
    /// The function to run.
    f: BoxedCallback,
    /// For `call_later`/`call_at`: its timer, removed from the wheel if the callback is
    /// cancelled first. `None` once the timer has fired (the id is then on the ready queue).
    timer: Option<TimerKey>,
}

/// The loop's pending callbacks.
pub(crate) struct Callbacks {
    /// Callbacks waiting to run.
    entries: Slots<Entry>,
}

impl Callbacks {
    pub(crate) fn new() -> Callbacks {
        Callbacks { entries: Slots::new() }
    }

    /// Stores a callback; the caller queues its id (or a timer that will).
    pub(crate) fn insert(&mut self, f: BoxedCallback) -> CallbackId {
        CallbackId(self.entries.insert(Entry { f, timer: None }))
    }

    /// Records the timer of a `call_later`.
    pub(crate) fn set_timer(&mut self, id: CallbackId, key: TimerKey) {
        if let Some(entry) = self.entries.get_mut(id.0) {
            entry.timer = Some(key);
        }
    }

    /// The timer fired: the callback is about to be queued, so there is no timer to cancel.
    pub(crate) fn timer_fired(&mut self, id: CallbackId) {
        if let Some(entry) = self.entries.get_mut(id.0) {
            entry.timer = None;
        }
    }

    /// Takes the callback out to run it; `None` if it was cancelled.
    pub(crate) fn take(&mut self, id: CallbackId) -> Option<BoxedCallback> {
        self.entries.remove(id.0).map(|entry| entry.f)
    }

    /// Cancels a callback. Returns its closure (to be dropped by the caller, outside any
    /// borrow) and its timer (to be removed from the wheel), or `None` if it already ran.
    pub(crate) fn cancel(&mut self, id: CallbackId) -> Option<(BoxedCallback, Option<TimerKey>)> {
        self.entries.remove(id.0).map(|entry| (entry.f, entry.timer))
    }

    /// Whether the callback is still waiting to run.
    pub(crate) fn is_pending(&self, id: CallbackId) -> bool {
        self.entries.contains(id.0)
    }

    /// Removes every callback (runtime shutdown); the caller drops them outside any borrow.
    pub(crate) fn drain(&mut self) -> Vec<BoxedCallback> {
        self.entries.drain().into_iter().map(|entry| entry.f).collect()
    }
}

//! Plain callbacks on the loop: asyncio's `call_soon`, `call_later` and `call_at`.
//!
//! Before coroutines, this was all an event loop offered: "run this function soon", "run it in
//! two seconds". A callback runs once, to completion, on the loop's thread, in FIFO order with
//! task steps (they share the ready queue). Each call returns a [`CallbackHandle`] whose
//! [`cancel`](CallbackHandle::cancel) works until the callback has started running.
//!
//! Dropping a handle does *not* cancel the callback (as in asyncio: the handle is a way to
//! cancel, not a registration guard). The callbacks themselves are stored by the scheduler
//! (`scheduler/callbacks.rs`); this file is the part that finds the running loop.

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use crate::runtime::context;
pub use crate::scheduler::CallbackId;
use crate::scheduler::LoopId;

/// A way to cancel a callback scheduled with [`call_soon`], [`call_later`] or [`call_at`]
/// (asyncio's `Handle` / `TimerHandle`). Dropping it does not cancel anything.
pub struct CallbackHandle {
    id: CallbackId,
    /// The loop the callback was scheduled on: its id means nothing to another loop.
    owner: LoopId,
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
    /// Outside the loop the callback was scheduled on (the message names both loops).
    pub fn cancel(&self) -> bool {
        context::with_core_of(self.owner, "CallbackHandle", |core| core.cancel_callback(self.id))
    }

    /// Whether the callback is still waiting (neither run nor cancelled).
    ///
    /// # Panics
    /// Outside the loop the callback was scheduled on (the message names both loops).
    pub fn is_pending(&self) -> bool {
        context::with_core_of(self.owner, "CallbackHandle", |core| {
            core.callbacks.borrow().is_pending(self.id)
        })
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
/// # Examples
///
/// Callbacks and task steps share one FIFO queue, so they run in the order they were queued:
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let order = Rc::new(RefCell::new(Vec::new()));
/// evloop::run({
///     let order = order.clone();
///     async move {
///         let (a, b, c) = (order.clone(), order.clone(), order.clone());
///         evloop::call_soon(move || a.borrow_mut().push("a"));
///         let task = evloop::spawn(async move { b.borrow_mut().push("b") });
///         let cancelled = evloop::call_soon(move || c.borrow_mut().push("c"));
///         assert!(cancelled.cancel());
///         task.await.unwrap();
///     }
/// });
/// assert_eq!(*order.borrow(), ["a", "b"]);
/// ```
///
/// # Panics
/// Outside a running evloop loop.
pub fn call_soon(f: impl FnOnce() + 'static) -> CallbackHandle {
    let (id, owner) = context::with_core(|core| (core.call_soon(Box::new(f)), core.id()));
    CallbackHandle {
        id,
        owner,
        _not_send: PhantomData,
    }
}

/// Runs `f` on the loop once `delay` has passed (asyncio's `loop.call_later`). It never runs
/// early; it runs in the first turn after its deadline, in deadline order with other timers.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// let fired = Rc::new(RefCell::new(Vec::new()));
/// let runtime = evloop::Builder::new().virtual_clock().build()?;
/// runtime.block_on({
///     let fired = fired.clone();
///     async move {
///         for ms in [30, 10, 20] {
///             let fired = fired.clone();
///             evloop::call_later(Duration::from_millis(ms), move || fired.borrow_mut().push(ms));
///         }
///         evloop::time::sleep(Duration::from_millis(50)).await;
///     }
/// });
/// assert_eq!(*fired.borrow(), [10, 20, 30]);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
/// Outside a running evloop loop.
pub fn call_later(delay: Duration, f: impl FnOnce() + 'static) -> CallbackHandle {
    let (id, owner) = context::with_core(|core| {
        let when = crate::timer::deadline_after(core.timers.borrow().now(), delay);
        (core.call_at(when, Box::new(f)), core.id())
    });
    CallbackHandle {
        id,
        owner,
        _not_send: PhantomData,
    }
}

/// Runs `f` on the loop at `when` (asyncio's `loop.call_at`), measured on the loop's clock
/// ([`time::now`](crate::time::now)).
///
/// # Panics
/// Outside a running evloop loop.
pub fn call_at(when: Instant, f: impl FnOnce() + 'static) -> CallbackHandle {
    let (id, owner) = context::with_core(|core| (core.call_at(when, Box::new(f)), core.id()));
    CallbackHandle {
        id,
        owner,
        _not_send: PhantomData,
    }
}

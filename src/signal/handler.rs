//! `add_signal_handler`: asyncio's callback flavour of signal handling.
//!
//! asyncio's `loop.add_signal_handler(sig, callback)` runs `callback` on the loop (through
//! `call_soon`, never inside the C handler) each time `sig` arrives, until
//! `loop.remove_signal_handler(sig)`. Here the handle returned plays `remove_signal_handler`'s
//! part: dropping it (or calling [`SignalHandler::remove`]) removes the callback. The callback is
//! a listener in its loop's driver (`driver.rs`) like any [`Signal`](crate::signal::Signal), so
//! it needs no task of its own.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use crate::signal::SignalKind;
use crate::signal::driver::{Driver, Waiter};

/// Runs `callback` on the running loop each time `kind` arrives (asyncio's
/// `loop.add_signal_handler`), until the returned [`SignalHandler`] is dropped.
///
/// The callback runs as a `call_soon` callback on the loop's thread, never inside the C signal
/// handler, so it may do anything a callback may: spawn, cancel, print. Several deliveries that
/// arrive before it runs make one call (see [`signal`](crate::signal::signal)). A panic in it is
/// reported to the loop's exception handler ("Exception in callback"), and the handler stays.
///
/// Unlike asyncio, adding a second handler for the same signal does not replace the first:
/// both run.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use evloop::signal::{SignalKind, add_signal_handler};
///
/// evloop::run(async {
///     let calls = Rc::new(Cell::new(0));
///     let counter = calls.clone();
///     let handler = add_signal_handler(SignalKind::user_defined2(), move || counter.set(counter.get() + 1))?;
///     // SAFETY: raise has no memory-safety preconditions.
///     unsafe { libc::raise(libc::SIGUSR2) };
///     while calls.get() == 0 {
///         evloop::yield_now().await;
///     }
///     handler.remove(); // asyncio's remove_signal_handler
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// As [`signal`](crate::signal::signal): a signal that cannot be listened for, a handler that
/// other code installed, or no self-pipe.
///
/// # Panics
/// Outside a running evloop loop.
#[doc(alias = "signal.signal")]
#[track_caller]
pub fn add_signal_handler(kind: SignalKind, callback: impl FnMut() + 'static) -> io::Result<SignalHandler> {
    let signo = kind.check()?;
    let driver = Driver::current()?;
    let callback: Rc<RefCell<dyn FnMut()>> = Rc::new(RefCell::new(callback));
    let key = driver.add(signo, &kind.to_string(), Waiter::Callback(Rc::downgrade(&callback)))?;
    Ok(SignalHandler {
        driver,
        key,
        kind,
        _callback: callback,
    })
}

/// A callback registered with [`add_signal_handler`]; dropping it removes the callback.
#[must_use = "dropping the handle removes the signal handler at once"]
pub struct SignalHandler {
    /// The loop's signal machinery, kept alive by its listeners.
    driver: Rc<Driver>,
    /// This handler's entry in the driver.
    key: usize,
    /// For `Debug`.
    kind: SignalKind,
    /// The only strong reference: the driver holds a weak one, so a call already scheduled
    /// when this goes does not run.
    _callback: Rc<RefCell<dyn FnMut()>>,
}

impl SignalHandler {
    /// Removes the callback (asyncio's `loop.remove_signal_handler`); the same as dropping it.
    /// If it was the process's last listener of the signal, the signal's previous action (for
    /// most signals: terminate) comes back.
    #[doc(alias = "remove_signal_handler")]
    pub fn remove(self) {
        drop(self);
    }

    /// The signal this handles.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

impl Drop for SignalHandler {
    fn drop(&mut self) {
        self.driver.remove(self.key);
    }
}

impl std::fmt::Debug for SignalHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalHandler")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

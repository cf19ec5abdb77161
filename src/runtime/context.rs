//! "Which loop is running on this thread?": the thread-local that free functions like
//! [`spawn`](crate::spawn) and [`sleep`](crate::time::sleep) consult, and the guard that
//! forbids a second `block_on` inside the first.
//!
//! asyncio has the same idea (`asyncio.get_running_loop()`, and the `RuntimeError: This event
//! loop is already running` for a nested `run`). The slot holds a raw pointer rather than an
//! `Rc` so that reading it costs one thread-local load: it is set by [`enter`] for exactly as
//! long as the `Core` it points to is borrowed by `block_on` (or by the runtime's shutdown).
//!
//! **Unsafe code.** One block dereferences that pointer, sound by the invariant on `CURRENT`
//! (DESIGN.md §11).
//!
//! While a loop runs, the guard also installs the sink for panicking wakers (`waking.rs`), and
//! this file writes the panic for a resource used on a loop other than its own.

use std::cell::Cell;
use std::ptr;

use crate::runtime::core::Core;
use crate::scheduler::LoopId;
use crate::waking;

thread_local! {
    /// The loop currently running on this thread, or null.
    ///
    /// # Invariant
    /// Non-null only while an [`Enter`] guard is alive; the guard's creator keeps the `Core`
    /// borrowed (alive and unmoved) for the guard's whole life.
    static CURRENT: Cell<*const Core> = const { Cell::new(ptr::null()) };
}

/// Marks a loop as running on this thread until dropped.
#[derive(Debug)]
pub(crate) struct Enter {
    /// What was current before (null, except while a runtime is dropped inside another's
    /// `block_on`), restored on drop.
    previous: *const Core,
    /// Whether this guard installed the sink for panicking wakers (`waking.rs`), and so must
    /// remove it.
    sink: bool,
}

/// Makes `core` the current loop.
///
/// # Panics
/// If a loop is already running on this thread: the outer loop would be frozen while the
/// inner one ran, so every task of the outer loop would stall. The message says what to do.
pub(crate) fn enter(core: &Core) -> Enter {
    let previous = CURRENT.with(|c| c.get());
    if !previous.is_null() {
        panic!(
            "evloop: cannot call block_on while an evloop loop is already running on this thread. \
             The inner call would block the outer loop: none of its tasks, timers or I/O could make \
             progress until the inner call returned. Inside async code, spawn the future with \
             evloop::spawn and .await its JoinHandle (or .await the future directly) instead."
        );
    }
    CURRENT.with(|c| c.set(core));
    // A note left by a primitive polled by hand before the loop ran is nobody's (`waits_on.rs`).
    drop(crate::waits_on::take());
    Enter {
        previous,
        sink: waking::install(),
    }
}

/// Makes `core` current even if another loop is running on this thread. Used where no loop
/// *turns*: to tear a runtime down (so the destructors of its tasks find their own loop, not an
/// outer one) and for `Runtime::spawn` from outside `block_on`.
pub(crate) fn enter_unchecked(core: &Core) -> Enter {
    let previous = CURRENT.with(|c| c.replace(core));
    Enter {
        previous,
        sink: waking::install(),
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
        if self.sink {
            // The loop reports parked panics whenever it looks outward; one left here came from a
            // destructor after the last turn, with no loop left to report it through.
            for payload in waking::uninstall() {
                let message = crate::task::error::panic_message(&*payload);
                log::error!(target: "evloop", "a waker panicked when woken: {message}");
            }
        }
    }
}

/// Runs `f` with the current loop, if there is one.
pub(crate) fn try_with_core<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    let core = CURRENT.with(|c| c.get());
    // SAFETY: see `CURRENT`'s invariant: a non-null pointer names a live, borrowed `Core`.
    unsafe { core.as_ref() }.map(f)
}

/// Runs `f` with the current loop.
///
/// # Panics
/// Outside a running loop, with a message naming the cause.
#[track_caller]
pub(crate) fn with_core<R>(f: impl FnOnce(&Core) -> R) -> R {
    match try_with_core(f) {
        Some(r) => r,
        None => panic!(
            "evloop: this must be called from inside a running evloop loop (in a future passed to \
             evloop::run or Runtime::block_on, or a task spawned from one)"
        ),
    }
}

/// Runs `f` with the current loop, which must be `owner`, the loop a resource belongs to.
///
/// # Panics
/// Outside a running loop, and on any other loop, with a message naming the resource (`what`)
/// and both loops: a timer or socket registered on one loop means nothing to another.
#[track_caller]
pub(crate) fn with_core_of<R>(owner: LoopId, what: &str, f: impl FnOnce(&Core) -> R) -> R {
    with_core(|core| {
        if core.id() != owner {
            wrong_loop(what, owner, core.id());
        }
        f(core)
    })
}

/// The panic of a resource used on a loop other than its own.
#[cold]
#[track_caller]
pub(crate) fn wrong_loop(what: &str, owner: LoopId, here: LoopId) -> ! {
    panic!(
        "evloop: this {what} belongs to {owner}, but was used on {here}. A {what} is registered with \
         the loop that first used it and can only be used by tasks of that loop; to hand work to \
         another loop, send it through that loop's Runtime::remote()"
    )
}

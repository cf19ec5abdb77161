//! One registered I/O source: a mio socket plus its reactor key, deregistered on drop.
//!
//! Every socket operation follows the same three steps, written once here in [`IoSource::poll_io`]:
//!
//! 1. wait until the reactor says this direction may be ready;
//! 2. try the operation (non-blocking);
//! 3. if it says `WouldBlock`, the readiness was stale: forget it and go back to 1.
//!
//! Step 3 is the edge-triggered contract seen from the caller's side: readiness is only
//! cleared by a `WouldBlock`, so whoever reads keeps reading until the kernel has nothing left.

use std::io;
use std::task::{Context, Poll};

use mio::event::Source;

use crate::reactor::{Direction, IoKey};
use crate::runtime::context;

/// A socket registered with the current loop's reactor.
#[derive(Debug)]
pub(crate) struct IoSource<S: Source> {
    /// The mio socket.
    io: S,
    /// Its registration.
    key: IoKey,
}

impl<S: Source> IoSource<S> {
    /// Registers `io` with the current loop.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    pub(crate) fn new(mut io: S) -> io::Result<IoSource<S>> {
        let key = context::with_core(|core| core.reactor.borrow_mut().register(&mut io))?;
        Ok(IoSource { io, key })
    }

    /// The socket.
    pub(crate) fn get_ref(&self) -> &S {
        &self.io
    }

    /// Runs a non-blocking operation once the reactor says `direction` may be ready, retrying
    /// (after clearing the stale readiness) whenever it returns `WouldBlock`.
    pub(crate) fn poll_io<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let ready = context::with_core(|core| core.reactor.borrow_mut().poll_ready(self.key, direction, cx));
            if ready.is_pending() {
                return Poll::Pending;
            }
            match op(&self.io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    context::with_core(|core| core.reactor.borrow_mut().clear_ready(self.key, direction));
                }
                // An interrupted system call is retried at once, like std's `read_exact` does.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// Forgets `direction`'s readiness without an operation having said `WouldBlock`: the next
    /// operation waits for a fresh event. Only sound when the caller knows nothing can be
    /// pending that the reactor has already reported, e.g. a client that just sent a request
    /// and has consumed everything before it.
    pub(crate) fn clear_ready(&self, direction: Direction) {
        context::with_core(|core| core.reactor.borrow_mut().clear_ready(self.key, direction));
    }

    /// How many read-side events the reactor has delivered for this source (wrapping).
    pub(crate) fn read_events(&self) -> u32 {
        context::with_core(|core| core.reactor.borrow().read_events(self.key)).unwrap_or(0)
    }

    /// Whether the reactor has seen the peer close its side (or an error) on this source.
    pub(crate) fn is_read_closed(&self) -> bool {
        context::with_core(|core| core.reactor.borrow().is_read_closed(self.key))
    }

    /// Waits until `direction` may be ready, without running an operation.
    pub(crate) fn poll_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<()> {
        context::with_core(|core| core.reactor.borrow_mut().poll_ready(self.key, direction, cx))
    }
}

impl<S: Source> Drop for IoSource<S> {
    fn drop(&mut self) {
        let wakers = context::try_with_core(|core| core.reactor.borrow_mut().deregister(self.key, &mut self.io));
        // The wakers are dropped here, after the reactor's borrow has ended.
        drop(wakers);
    }
}

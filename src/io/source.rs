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
//!
//! **A socket belongs to the loop that registered it** (DESIGN.md §4 has the rule for every
//! resource). Using it on another loop panics with a message naming both; dropping it anywhere
//! undoes its registration: on its own loop at once, elsewhere (another thread, another loop
//! running, no loop running) by closing the socket here and sending its loop a message that
//! forgets the registration at that loop's next turn.

use std::io;
use std::task::{Context, Poll};

use std::os::fd::{AsRawFd, RawFd};

use mio::event::Source;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use crate::reactor::{Direction, IoKey, ReadSide};
use crate::runtime::context;
use crate::runtime::core::Core;
use crate::scheduler::{Inbox, LoopId, Message};
use crate::waits_on::{self, Parked};

/// A socket registered with the current loop's reactor.
///
/// The fields drop in order: first the registration (taken out of the reactor while the
/// descriptor is still open), then the socket (which closes it).
#[derive(Debug)]
pub(crate) struct IoSource<S: Source + AsRawFd> {
    /// Its registration, in its loop's reactor.
    registration: Registration,
    /// The mio socket.
    io: S,
}

/// One descriptor's entry in one loop's reactor; undone on drop.
#[derive(Debug)]
struct Registration {
    /// The entry's key in the reactor.
    key: IoKey,
    /// The loop whose reactor holds it.
    owner: LoopId,
    /// The registered descriptor, kept open by the `IoSource`'s socket for as long as this lives.
    fd: RawFd,
}

impl<S: Source + AsRawFd> IoSource<S> {
    /// Registers `io` with the current loop.
    ///
    /// # Errors
    /// The reactor's reason: `epoll_ctl` refuses some descriptors (a regular file gives `EPERM`).
    ///
    /// # Panics
    /// Outside a running evloop loop.
    pub(crate) fn new(mut io: S) -> io::Result<IoSource<S>> {
        let (key, owner) = context::with_core(|core| (core.reactor.borrow_mut().register(&mut io), core.id()));
        let registration = Registration {
            key: key?,
            owner,
            fd: io.as_raw_fd(),
        };
        Ok(IoSource { registration, io })
    }

    /// Undoes the registration and gives the socket back, open (for `into_std` and friends).
    ///
    /// # Panics
    /// Outside a running loop, or on a loop other than the one that registered the socket.
    #[track_caller]
    pub(crate) fn into_inner(self) -> S {
        self.core(|_| ());
        let IoSource { registration, io } = self;
        drop(registration);
        io
    }

    /// Runs `f` with the running loop, which must be this socket's own.
    ///
    /// # Panics
    /// Outside a running loop, or on a loop other than the one that registered the socket.
    #[track_caller]
    fn core<R>(&self, f: impl FnOnce(&Core) -> R) -> R {
        context::with_core_of(self.registration.owner, "socket", f)
    }

    /// The socket.
    pub(crate) fn get_ref(&self) -> &S {
        &self.io
    }

    /// The socket, mutably (the registration names the descriptor, which must stay the same).
    pub(crate) fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// Whether the running loop, if any, is the one that registered this source: a destructor
    /// that wants to hand work to a task (`process/reap.rs`) asks before it spawns.
    pub(crate) fn is_on_own_loop(&self) -> bool {
        context::try_with_core(|core| core.id() == self.registration.owner).unwrap_or(false)
    }

    /// Runs a non-blocking operation once the reactor says `direction` may be ready, retrying
    /// (after clearing the stale readiness) whenever it returns `WouldBlock`. Each attempt
    /// spends one unit of the task's cooperative budget: once the budget is spent, the task is
    /// woken and this reports `Pending`, so that a socket that is always ready cannot keep one
    /// task from ever yielding.
    pub(crate) fn poll_io<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let ready = self.core(|core| {
                let ready = core
                    .reactor
                    .borrow_mut()
                    .poll_ready(self.registration.key, direction, cx);
                if ready.is_ready() && !core.spend_io_budget() {
                    // The poll's budget is spent (`runtime/core.rs`): yield, and come back next
                    // turn. The readiness is remembered, so nothing is lost.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                ready
            });
            if ready.is_pending() {
                waits_on::note(Parked::Io {
                    source: self.registration.key.number(),
                    fd: self.io.as_raw_fd(),
                    write: direction == Direction::Write,
                });
                return Poll::Pending;
            }
            match op(&self.io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Unknown to the reactor, the socket would never be woken: say so instead of
                    // spinning on `WouldBlock`.
                    if !self.core(|core| core.reactor.borrow_mut().clear_ready(self.registration.key, direction)) {
                        return Poll::Ready(Err(io::Error::other(
                            "evloop: this socket is no longer registered with its loop's reactor",
                        )));
                    }
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
        self.core(|core| core.reactor.borrow_mut().clear_ready(self.registration.key, direction));
    }

    /// The read side as the reactor has seen it: events delivered so far (wrapping) and whether
    /// the peer closed its side or an error came. No events and open if no longer registered.
    pub(crate) fn read_side(&self) -> ReadSide {
        self.core(|core| core.reactor.borrow().read_side(self.registration.key))
            .unwrap_or_default()
    }

    /// [`clear_ready`](Self::clear_ready) for reading, unless a read event has arrived since
    /// [`read_side`](Self::read_side) said `events`: what a client that has just sent a
    /// request calls, in one look at the reactor (`http/conn.rs`).
    pub(crate) fn clear_read_ready_since(&self, events: u32) {
        self.core(|core| {
            core.reactor
                .borrow_mut()
                .clear_read_ready_since(self.registration.key, events)
        });
    }

    /// Waits until `direction` may be ready, without running an operation.
    pub(crate) fn poll_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<()> {
        self.core(|core| {
            core.reactor
                .borrow_mut()
                .poll_ready(self.registration.key, direction, cx)
        })
    }
}

/// Any file descriptor the program owns, as a mio source: what [`IoSource`] registers for a
/// user's descriptor (`io::AsyncFd`) or a child's pidfd (`process/`). mio's
/// `SourceFd` borrows a raw descriptor; this owns the value that keeps it open, so dropping the
/// `IoSource` deregisters and then closes it, in that order.
#[derive(Debug)]
pub(crate) struct Fd<T: AsRawFd>(pub(crate) T);

// `IoSource` asks its source for the descriptor (to deregister it on drop).
impl<T: AsRawFd> AsRawFd for Fd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl<T: AsRawFd> Source for Fd<T> {
    fn register(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut fd = SourceFd(&self.fd);
        let here = context::try_with_core(|core| {
            (core.id() == self.owner).then(|| core.reactor.borrow_mut().deregister(self.key, &mut fd))
        });
        match here.flatten() {
            // The wakers are dropped here, after the reactor's borrow has ended.
            Some(wakers) => drop(wakers),
            // Away from its loop: the socket closes right after this (the kernel then drops it
            // from the loop's epoll set), and the loop forgets the registration next turn.
            None => {
                if let Some(inbox) = Inbox::find(self.owner) {
                    inbox.send(Message::Deregister(self.key));
                }
            }
        }
    }
}

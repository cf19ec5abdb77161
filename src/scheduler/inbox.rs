//! The inbox: how other threads reach a loop (a waker woken on another thread, a
//! `call_soon_threadsafe`, a finished blocking job).
//!
//! The loop's ready queue is not thread-safe, on purpose: the same-thread path must cost no
//! lock. So another thread pushes a [`Message`] into this mutex-protected inbox and, if the inbox
//! was empty, pokes the loop's `mio::Waker` (an eventfd on Linux) so that a loop asleep in
//! `epoll_wait` returns. The loop drains the inbox when it next checks for events and replays
//! each message on its own thread. Only the first message after a drain pays for the system
//! call; a busy loop checks one atomic flag, not the mutex.
//!
//! asyncio's `call_soon_threadsafe` does the same with a self-pipe (`_write_to_self`).
//!
//! The inbox is also what names a loop: each has a [`LoopId`], and a registry of the live
//! inboxes lets a resource dropped away from its loop (a socket dropped on another thread, a
//! sleep dropped while another loop runs) send its loop the message that undoes its
//! registration there.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::reactor::IoKey;
use crate::task::TaskId;
use crate::timer::wheel::TimerKey;

/// Names one loop for as long as the process runs (ids are not reused), so that a resource can
/// say which loop it belongs to. Printed as `runtime #<n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LoopId(NonZeroU32);

impl fmt::Display for LoopId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "runtime #{}", self.0)
    }
}

/// The next loop's id.
static NEXT_LOOP: AtomicU32 = AtomicU32::new(1);

/// Every live loop's inbox, by id: how a resource dropped away from its loop reaches it. Only
/// touched when a runtime is built or dropped, and on such a drop: never on a hot path.
static LIVE: Mutex<Vec<(LoopId, Weak<Inbox>)>> = Mutex::new(Vec::new());

/// What another thread can ask of the loop.
pub(crate) enum Message {
    /// A task's waker was woken on another thread.
    Wake(TaskId),
    /// The `block_on` future's waker was woken on another thread.
    Main,
    /// `call_soon_threadsafe`.
    Call(Box<dyn FnOnce() + Send>),
    /// A `Sleep` of this loop was dropped away from it: remove its timer.
    CancelTimer(TimerKey),
    /// A socket of this loop was dropped away from it (its file descriptor is already closed):
    /// forget its registration.
    Deregister(IoKey),
}

/// The part of a loop that other threads may touch. Everything in it is `Sync`.
pub(crate) struct Inbox {
    /// Which loop this is.
    id: LoopId,
    /// Requests from other threads, in arrival order.
    messages: Mutex<Vec<Message>>,
    /// Set when the inbox went from empty to non-empty: the loop's cheap "anything to drain?"
    /// check, so that a busy loop does not take the mutex every time it looks for events.
    pending: AtomicBool,
    /// Interrupts the loop's `epoll_wait` (an eventfd on Linux).
    waker: mio::Waker,
    /// The runtime was dropped: later requests are discarded instead of piling up.
    closed: AtomicBool,
}

impl Inbox {
    /// The inbox of a new loop, under a new id, listed among the live loops.
    pub(crate) fn new(waker: mio::Waker) -> Arc<Inbox> {
        let id = NEXT_LOOP.fetch_add(1, Ordering::Relaxed);
        let id = LoopId(NonZeroU32::new(id).expect("fewer than 2^32 runtimes in one process"));
        let inbox = Arc::new(Inbox {
            id,
            messages: Mutex::new(Vec::new()),
            pending: AtomicBool::new(false),
            waker,
            closed: AtomicBool::new(false),
        });
        live().push((id, Arc::downgrade(&inbox)));
        inbox
    }

    /// Which loop this is.
    pub(crate) fn id(&self) -> LoopId {
        self.id
    }

    /// The inbox of a live loop, if that loop still exists.
    pub(crate) fn find(id: LoopId) -> Option<Arc<Inbox>> {
        live()
            .iter()
            .find(|(live, _)| *live == id)
            .and_then(|(_, inbox)| inbox.upgrade())
    }

    /// Queues a request from any thread and makes sure the loop will see it.
    pub(crate) fn send(&self, request: Message) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        let was_empty = {
            let mut inbox = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
            // Checked again under the lock: a `close` between the check above and here has
            // already taken the leftovers, and a request pushed now would never be dropped
            // (a `Remote::spawn` waiter would wait forever). Dropped after the lock is released.
            if self.closed.load(Ordering::Acquire) {
                drop(inbox);
                drop(request);
                return;
            }
            let was_empty = inbox.is_empty();
            inbox.push(request);
            was_empty
        };
        // Only the first request after a drain pays for the system call; the loop takes
        // everything in the inbox at once.
        if was_empty {
            self.pending.store(true, Ordering::Release);
            if let Err(e) = self.waker.wake() {
                log::error!(target: "evloop", "could not wake the loop from another thread: {e}");
            }
        }
    }

    /// How many requests wait to be drained (for tests of the coalescing of remote wakes).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.messages.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Moves every queued request into `out`. Cheap when nothing is pending.
    pub(crate) fn drain(&self, out: &mut Vec<Message>) {
        if !self.pending.swap(false, Ordering::Acquire) {
            return;
        }
        let mut inbox = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
        out.append(&mut inbox);
    }

    /// Stops accepting requests, drops those not yet drained, and leaves the live list.
    pub(crate) fn close(&self) {
        live().retain(|(live, _)| *live != self.id);
        let leftovers = {
            let mut inbox = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
            self.closed.store(true, Ordering::Release);
            std::mem::take(&mut *inbox)
        };
        // Outside the lock: a leftover's destructor may send again (and is then refused).
        drop(leftovers);
    }
}

/// The live list, locked (a panic elsewhere while it was held leaves it usable).
fn live() -> std::sync::MutexGuard<'static, Vec<(LoopId, Weak<Inbox>)>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

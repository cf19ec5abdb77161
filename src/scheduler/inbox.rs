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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::task::TaskId;

/// What another thread can ask of the loop.
pub(crate) enum Message {
    /// A task's waker was woken on another thread.
    Wake(TaskId),
    /// The `block_on` future's waker was woken on another thread.
    Main,
    /// `call_soon_threadsafe`.
    Call(Box<dyn FnOnce() + Send>),
}

/// The part of a loop that other threads may touch. Everything in it is `Sync`.
pub(crate) struct Inbox {
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
    pub(crate) fn new(waker: mio::Waker) -> Inbox {
        Inbox {
            messages: Mutex::new(Vec::new()),
            pending: AtomicBool::new(false),
            waker,
            closed: AtomicBool::new(false),
        }
    }

    /// Queues a request from any thread and makes sure the loop will see it.
    pub(crate) fn send(&self, request: Message) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        let was_empty = {
            let mut inbox = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
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

    /// Moves every queued request into `out`. Cheap when nothing is pending.
    pub(crate) fn drain(&self, out: &mut Vec<Message>) {
        if !self.pending.swap(false, Ordering::Acquire) {
            return;
        }
        let mut inbox = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
        out.append(&mut inbox);
    }

    /// Stops accepting requests and drops those not yet drained.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let leftovers = std::mem::take(&mut *self.messages.lock().unwrap_or_else(PoisonError::into_inner));
        drop(leftovers);
    }
}

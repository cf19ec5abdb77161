//! The producer side of the [`Queue`]: `put`, `try_put` and the [`Put`] future.
//!
//! Read first: "Hand-off, twice" in `queue/mod.rs` (its room half), and
//! [`crate::sync::semaphore`], which keeps blocked producers in FIFO order here.
//!
//! Every producer ends in `push`, the one place an item enters the queue: straight into the
//! slot of the longest-waiting consumer, or else at the back of the buffer.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::Queue;
use crate::sync::semaphore::{Acquire, Permit, Semaphore, TryAcquireError};
use crate::waits_on::{self, Parked};

impl<T> Queue<T> {
    /// Adds `item`, waiting for room in a bounded queue (FIFO behind other waiting producers).
    /// Fails, giving the item back, if the queue is closed before the item goes in.
    ///
    /// # Cancel safety
    /// Cancel-safe: the item enters the queue only in the poll that returns `Ready(Ok(()))`.
    /// Dropping the future earlier drops the item with it (it was never queued) and passes any
    /// room it had been handed to the next producer.
    pub fn put(&self, item: T) -> Put<'_, T> {
        let room = self.room.as_ref().map(Semaphore::acquire);
        Put {
            queue: self,
            item: Some(item),
            room,
        }
    }

    /// Adds `item` now, or gives it back (asyncio's `put_nowait()`): [`TryPutError::Full`] if
    /// there is no room (or producers are already waiting for it), [`TryPutError::Closed`] if
    /// the queue is closed.
    #[doc(alias = "put_nowait")]
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        let permit = match self.room.as_ref().map(Semaphore::try_acquire) {
            None => None,
            Some(Ok(permit)) => Some(permit),
            Some(Err(TryAcquireError::NoPermits)) => return Err(TryPutError::Full(item)),
            Some(Err(TryAcquireError::Closed)) => return Err(TryPutError::Closed(item)),
        };
        self.push(item, permit).map_err(TryPutError::Closed)
    }

    /// Puts `item` in, occupying the room `permit` stands for (`None` when unbounded), or
    /// gives it back if the queue is closed.
    fn push(&self, item: T, permit: Option<Permit>) -> Result<(), T> {
        let mut state = self.state.borrow_mut();
        if state.closed {
            drop(state);
            drop(permit); // the room goes back
            return Err(item);
        }
        if let Some(permit) = permit {
            permit.forget(); // the item occupies it now; a successful get adds it back
        }
        state.unfinished += 1;
        let waker = state.hand_to_first_getter(item).unwrap_or_else(|item| {
            state.items.push_back(item);
            None
        });
        drop(state);
        self.finished.clear();
        crate::waking::wake_all(waker);
        Ok(())
    }
}

/// The future returned by [`Queue::put`].
#[must_use = "futures do nothing unless polled; the item is not queued until this completes"]
pub struct Put<'a, T> {
    /// The queue to put into.
    queue: &'a Queue<T>,
    /// The item, until it goes into the queue or back to the caller in an error.
    item: Option<T>,
    /// The wait for room; `None` for an unbounded queue.
    room: Option<Acquire>,
}

// The item is only ever moved, never pinned, so `Put` can be `Unpin` whatever `T` is.
impl<T> Unpin for Put<'_, T> {}

impl<T> Future for Put<'_, T> {
    type Output = Result<(), PutError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(
            this.item.is_some(),
            "`Put` polled after it completed; a future must not be polled again"
        );
        let permit = match &mut this.room {
            None => None,
            Some(acquire) => match Pin::new(acquire).poll(cx) {
                Poll::Ready(Ok(permit)) => Some(permit),
                // The room semaphore is closed only by `Queue::close`.
                Poll::Ready(Err(_closed)) => return Poll::Ready(Err(PutError(this.take_item()))),
                Poll::Pending => {
                    // The task dump should say "room in a queue", not "a semaphore".
                    waits_on::relabel(|parked| match parked {
                        Parked::Semaphore { place, .. } => Parked::QueuePut { place },
                        other => other,
                    });
                    return Poll::Pending;
                }
            },
        };
        let item = this.take_item();
        Poll::Ready(this.queue.push(item, permit).map_err(PutError))
    }
}

impl<T> Put<'_, T> {
    /// The item, leaving the future spent.
    fn take_item(&mut self) -> T {
        self.item
            .take()
            .expect("checked at the top of poll: the item is still here")
    }
}

impl<T> fmt::Debug for Put<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put").field("room", &self.room).finish_non_exhaustive()
    }
}

/// [`Queue::put`] failed because the queue is closed; the item is given back in field `0`
/// (asyncio raises `QueueShutDown`).
#[doc(alias = "QueueShutDown")]
pub struct PutError<T>(pub T);

/// Why [`Queue::try_put`] could not add the item, which it gives back (`Full` is asyncio's
/// `QueueFull`).
#[doc(alias = "QueueFull")]
pub enum TryPutError<T> {
    /// No room now (or producers are already waiting for it).
    Full(T),
    /// The queue is closed.
    Closed(T),
}

impl<T> TryPutError<T> {
    /// The item that was not added.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::Closed(item) => item,
        }
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PutError(..)")
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryPutError::Full(_) => "Full(..)",
            TryPutError::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue was closed, so the item was not added; it is handed back in this error")
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryPutError::Full(_) => "the queue is full; await put() to wait for room (the item is handed back)",
            TryPutError::Closed(_) => "the queue was closed, so the item was not added (it is handed back)",
        })
    }
}

impl<T> std::error::Error for PutError<T> {}
impl<T> std::error::Error for TryPutError<T> {}

//! The consumer side of the [`Queue`]: `get`, `try_get` and the [`Get`] future.
//!
//! Read first: "Hand-off, twice" in `queue/mod.rs` (its items half), and `sync/waiters.rs`,
//! the list a waiting `Get` sits in.
//!
//! Every item leaves the queue through `collected`, which counts it for `task_done` and gives
//! its room back to the producers. A `Get` dropped after it was handed an item passes the item
//! on, in its `Drop`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Getter, Queue};
use crate::sync::waiters::{Stage, remember_waker};
use crate::waits_on::{self, Parked};

impl<T> Queue<T> {
    /// Takes the oldest item, waiting while the queue is empty (FIFO behind other waiting
    /// consumers). Once the queue is closed, still returns the items left in it, then fails.
    ///
    /// # Cancel safety
    /// Cancel-safe: if an item had already been handed to this future, dropping it gives the
    /// item to the next waiting consumer or puts it back at the front of the queue.
    pub fn get(&self) -> Get<'_, T> {
        Get {
            queue: self,
            stage: Stage::Unpolled,
        }
    }

    /// Takes the oldest item now, or fails (asyncio's `get_nowait()`): [`TryGetError::Empty`]
    /// if none is queued, [`TryGetError::Closed`] if none is queued and the queue is closed.
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<T, TryGetError> {
        let mut state = self.state.borrow_mut();
        match state.items.pop_front() {
            Some(item) => {
                drop(state);
                Ok(self.collected(item))
            }
            None if state.closed => Err(TryGetError::Closed),
            None => Err(TryGetError::Empty),
        }
    }

    /// Bookkeeping for an item a consumer has collected: it now awaits `task_done`, and its
    /// room is free for the next producer.
    fn collected(&self, item: T) -> T {
        self.state.borrow_mut().undone += 1;
        if let Some(room) = &self.room {
            room.add_permits(1);
        }
        item
    }
}

/// The future returned by [`Queue::get`].
#[must_use = "futures do nothing unless polled; this one queues for an item on its first poll"]
pub struct Get<'a, T> {
    /// The queue to take from.
    queue: &'a Queue<T>,
    /// Where in its life the future is. While queued: waiting; the slot receives the item (or is unlinked empty when the queue closes).
    stage: Stage,
}

impl<T> Future for Get<'_, T> {
    type Output = Result<T, GetError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = this.queue.state.borrow_mut();
        let item = match this.stage {
            Stage::Unpolled => match state.items.pop_front() {
                Some(item) => Some(item),
                None if state.closed => None,
                None => {
                    let getter = Getter {
                        item: None,
                        waker: Some(cx.waker().clone()),
                    };
                    this.stage = Stage::Queued(state.getters.push_back(getter));
                    waits_on::note(Parked::QueueGet {
                        place: state.getters.place_at_back(),
                    });
                    return Poll::Pending;
                }
            },
            Stage::Queued(key) if state.getters.is_queued(key) => {
                remember_waker(&mut state.getters.get_mut(key).waker, cx.waker());
                waits_on::note(Parked::QueueGet {
                    place: state.getters.place(key),
                });
                return Poll::Pending;
            }
            // Unlinked: handed an item, or (with none) released by `close`.
            Stage::Queued(key) => state.getters.remove(key).item,
            Stage::Done => panic!("`Get` polled after it completed; a future must not be polled again"),
        };
        this.stage = Stage::Done;
        drop(state);
        Poll::Ready(item.map(|item| this.queue.collected(item)).ok_or(GetError(())))
    }
}

impl<T> Drop for Get<'_, T> {
    fn drop(&mut self) {
        let Stage::Queued(key) = self.stage else {
            return;
        };
        let mut state = self.queue.state.borrow_mut();
        let Some(item) = state.getters.remove(key).item else {
            return; // still waiting, or released empty by close: nothing to pass on
        };
        // It was the oldest item in the system: next consumer in line, else the queue's front.
        let waker = state.hand_to_first_getter(item).unwrap_or_else(|item| {
            state.items.push_front(item);
            None
        });
        drop(state);
        crate::waking::wake_all(waker);
    }
}

impl<T> fmt::Debug for Get<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get").field("stage", &self.stage).finish()
    }
}

/// [`Queue::get`] failed: the queue is closed and every item in it has been taken (asyncio
/// raises `QueueShutDown`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[doc(alias = "QueueShutDown")]
pub struct GetError(());

/// Why [`Queue::try_get`] returned no item (`Empty` is asyncio's `QueueEmpty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(alias = "QueueEmpty")]
pub enum TryGetError {
    /// No item is queued right now.
    Empty,
    /// No item is queued and the queue is closed, so none ever will be.
    Closed,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is closed and drained: no more items will arrive; stop consuming")
    }
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryGetError::Empty => "the queue is empty right now; await get() to wait for an item",
            TryGetError::Closed => "the queue is closed and drained: no more items will arrive",
        })
    }
}

impl std::error::Error for GetError {}
impl std::error::Error for TryGetError {}

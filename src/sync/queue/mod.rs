//! A FIFO queue between producer and consumer tasks: asyncio's `Queue`, with
//! `task_done`/`join` and `close`.
//!
//! Read first: [`super::semaphore`] (a bounded queue's room is a semaphore) and
//! [`super::event`] (`join` waits on one).
//!
//! [`Queue::put`] adds an item, waiting while a bounded queue is full; [`Queue::get`] takes the
//! oldest item, waiting while the queue is empty. As in asyncio, `maxsize == 0` means
//! unbounded. Every successful put adds one to an *unfinished* count and every
//! [`Queue::task_done`] takes one away; [`Queue::join`] waits until it is zero, meaning every
//! item put has been fully processed. [`Queue::close`] is asyncio's `shutdown()` (the
//! non-immediate kind): blocked and later puts fail and hand their item back, and gets keep
//! returning queued items until the queue is drained, then fail.
//!
//! # Hand-off, twice
//!
//! - **Items to consumers.** When a put finds consumers waiting, it gives the item straight to
//!   the longest-waiting one, whose next poll returns it. Consumers wait only while the buffer
//!   is empty, so the buffer and the waiting consumers never hold items at the same time.
//! - **Room to producers.** The room in a bounded queue is a [`Semaphore`] with `maxsize`
//!   permits. A put acquires one permit (so blocked producers are served FIFO and a
//!   [`Queue::try_put`] never jumps ahead of them), then forgets it, because the item now
//!   occupies that room. A successful get adds a permit back, which the semaphore hands to
//!   the first blocked producer.
//!
//! Because a producer is handed *room* and not asked for its item until its next poll, a put
//! that is cancelled never leaves a "phantom" item behind: its item enters the queue only in
//! the poll that returns `Ready(Ok(()))`.
//!
//! # Cancellation
//!
//! - A dropped [`Put`] gives its room (if it had been handed some) to the next producer; its
//!   item is dropped with it, never having been in the queue.
//! - A dropped [`Get`] that had already been handed an item gives that item to the next
//!   waiting consumer, or, if none waits, puts it back at the *front* of the queue, where it
//!   was the oldest item. Nothing is lost, and the unfinished count is unchanged.
//! - A dropped [`Queue::join`] just stops waiting.

//!
//! # Where the code is
//!
//! This file holds the queue and what both sides share: its state, `task_done`/`join` and
//! `close`. `put.rs` is the producer side ([`Queue::put`], [`Queue::try_put`]: room as a
//! semaphore), `get.rs` the consumer side ([`Queue::get`], [`Queue::try_get`]: items handed to
//! waiting consumers). Read them in that order; neither side names the other.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::task::Waker;

use super::event::Event;
use super::semaphore::Semaphore;
use super::waiters::{WaitList, Wakers, wake_all};

mod get;
mod put;

pub use get::{Get, GetError, TryGetError};
pub use put::{Put, PutError, TryPutError};

/// A FIFO queue of `T` between tasks, optionally bounded. Share it through an `Rc`.
///
/// # Examples
///
/// A producer and a consumer (asyncio's `await queue.put(x)`, `await queue.get()`,
/// `queue.task_done()` and `await queue.join()`), then `close` to let the consumer finish:
///
/// ```
/// use std::rc::Rc;
/// use evloop::sync::Queue;
///
/// let doubled = evloop::run(async {
///     let queue = Rc::new(Queue::new(2)); // room for two items: a third put waits
///     let consumer = evloop::spawn({
///         let queue = queue.clone();
///         async move {
///             let mut doubled = Vec::new();
///             while let Ok(n) = queue.get().await { // fails once closed and drained
///                 doubled.push(n * 2);
///                 queue.task_done().expect("one task_done per item gotten");
///             }
///             doubled
///         }
///     });
///     for n in 1..=5 {
///         queue.put(n).await.expect("not closed");
///     }
///     queue.join().await; // every item put has been gotten and marked done
///     queue.close();
///     consumer.await.expect("not cancelled")
/// });
/// assert_eq!(doubled, [2, 4, 6, 8, 10]);
/// ```
pub struct Queue<T> {
    /// The room left in a bounded queue, one permit per free place; `None` when unbounded.
    ///
    /// # Invariant
    /// Permits free, plus permits owed to blocked producers, plus items in the buffer or
    /// handed to a consumer that has not collected them, equals `maxsize`.
    room: Option<Semaphore>,
    /// The bound asyncio calls `maxsize`; 0 means unbounded.
    maxsize: usize,
    /// Items, waiting consumers and counters, behind one `RefCell` (single-threaded).
    state: RefCell<QueueState<T>>,
    /// Set exactly while the unfinished count is zero (asyncio's `_finished`); `join` waits
    /// on it.
    finished: Event,
}

/// What the queue knows besides its room.
struct QueueState<T> {
    /// Items put and not yet handed to a consumer, oldest first.
    ///
    /// # Invariant
    /// Empty whenever `getters` is not: a put serves waiting consumers before it buffers.
    items: VecDeque<T>,
    /// Consumers waiting for an item, oldest first. Unlinked with `item` set when an item is
    /// handed over, or with `item` empty when the queue closes.
    getters: WaitList<Getter<T>>,
    /// asyncio's `_unfinished_tasks`: successful puts minus `task_done` calls.
    unfinished: usize,
    /// Items returned by completed gets for which `task_done` has not been called yet, so that
    /// calling `task_done` too often is caught.
    undone: usize,
    /// Set once by `close`.
    closed: bool,
}

/// One pending [`Get`] as the queue sees it.
struct Getter<T> {
    /// The item handed to this consumer, held until its future polls (or drops).
    item: Option<T>,
    /// Wakes the consumer when an item is handed over or the queue closes; taken when used.
    waker: Option<Waker>,
}

impl<T> QueueState<T> {
    /// Gives `item` to the longest-waiting consumer and returns its waker, or gives the item
    /// back if nobody is waiting.
    fn hand_to_first_getter(&mut self, item: T) -> Result<Option<Waker>, T> {
        let Some(key) = self.getters.pop_front() else {
            return Err(item);
        };
        let getter = self.getters.get_mut(key);
        getter.item = Some(item);
        Ok(getter.waker.take())
    }
}

impl<T> Queue<T> {
    /// A queue holding at most `maxsize` items; `0` means unbounded, as in asyncio.
    pub fn new(maxsize: usize) -> Self {
        let state = QueueState {
            items: VecDeque::new(),
            getters: WaitList::new(),
            unfinished: 0,
            undone: 0,
            closed: false,
        };
        let finished = Event::new();
        finished.set();
        let room = (maxsize > 0).then(|| Semaphore::new(maxsize));
        Queue {
            room,
            maxsize,
            state: RefCell::new(state),
            finished,
        }
    }

    /// A queue with no bound: `put` never waits.
    pub fn unbounded() -> Self {
        Queue::new(0)
    }

    /// The bound given at creation; 0 for unbounded.
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// How many items are queued and not yet handed to a consumer (asyncio's `qsize()`).
    #[doc(alias = "qsize")]
    pub fn len(&self) -> usize {
        self.state.borrow().items.len()
    }

    /// True when no item is queued (asyncio's `empty()`).
    #[doc(alias = "empty")]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when a [`try_put`](Self::try_put) would fail for lack of room (asyncio's `full()`,
    /// which counts only the items). Room already handed to a blocked producer counts as taken,
    /// so this can be true while `len() < maxsize()`. Always false for an unbounded queue.
    #[doc(alias = "full")]
    pub fn is_full(&self) -> bool {
        self.room.as_ref().is_some_and(|room| room.available_permits() == 0)
    }

    /// True once [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }

    /// Marks one item returned by a get as fully processed. When every item ever put has been
    /// marked, [`join`](Self::join) completes.
    ///
    /// asyncio raises `ValueError` when the unfinished count would go below zero. We return
    /// [`TaskDoneError`] instead of panicking (a wrong count is a caller bug, but not one the
    /// library should crash on), and check more strictly: against the items actually *gotten*,
    /// so a consumer cannot mark an item that is still in the queue.
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut state = self.state.borrow_mut();
        if state.undone == 0 {
            return Err(TaskDoneError(()));
        }
        state.undone -= 1;
        state.unfinished -= 1;
        let all_done = state.unfinished == 0;
        drop(state);
        if all_done {
            self.finished.set();
        }
        Ok(())
    }

    /// Waits until every item put so far has been gotten *and* marked with
    /// [`task_done`](Self::task_done). Completes at once if that is already so.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future only stops the waiting.
    pub async fn join(&self) {
        self.finished.wait().await;
    }

    /// Closes the queue (asyncio's `shutdown()`): producers waiting for room, and every later
    /// put, fail with their item given back; consumers get the items still queued, then fail.
    /// Consumers waiting on an empty queue are woken and fail at once. Does not affect
    /// `task_done` or `join`.
    #[doc(alias = "shutdown")]
    pub fn close(&self) {
        let mut state = self.state.borrow_mut();
        if state.closed {
            return;
        }
        state.closed = true;
        let mut to_wake = Wakers::default();
        while let Some(key) = state.getters.pop_front() {
            to_wake.push(state.getters.get_mut(key).waker.take());
        }
        drop(state);
        if let Some(room) = &self.room {
            room.close();
        }
        wake_all(to_wake);
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Queue");
        out.field("maxsize", &self.maxsize);
        match self.state.try_borrow() {
            Ok(state) => out
                .field("len", &state.items.len())
                .field("waiting_getters", &state.getters.len())
                .field("unfinished", &state.unfinished)
                .field("closed", &state.closed),
            Err(_) => out.field("state", &"<borrowed>"),
        };
        out.field("room", &self.room).finish()
    }
}

/// [`Queue::task_done`] was called more times than items were gotten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDoneError(());

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than items were gotten; call it once per item taken by get()")
    }
}

impl std::error::Error for TaskDoneError {}

#[cfg(test)]
mod tests;

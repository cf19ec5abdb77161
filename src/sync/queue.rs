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

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::event::Event;
use super::semaphore::{Acquire, Permit, Semaphore, TryAcquireError};
use super::waiters::{Stage, WaitList, remember_waker, wake_all};

/// A FIFO queue of `T` between tasks, optionally bounded. Share it through an `Rc`.
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

    /// How many items are queued and not yet handed to a consumer.
    pub fn len(&self) -> usize {
        self.state.borrow().items.len()
    }

    /// True when no item is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when a [`try_put`](Self::try_put) would fail for lack of room. Room already handed
    /// to a blocked producer counts as taken, so this can be true while `len() < maxsize()`.
    /// Always false for an unbounded queue.
    pub fn is_full(&self) -> bool {
        self.room.as_ref().is_some_and(|room| room.available_permits() == 0)
    }

    /// True once [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }

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

    /// Adds `item` now, or gives it back: [`TryPutError::Full`] if there is no room (or
    /// producers are already waiting for it), [`TryPutError::Closed`] if the queue is closed.
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        let permit = match self.room.as_ref().map(Semaphore::try_acquire) {
            None => None,
            Some(Ok(permit)) => Some(permit),
            Some(Err(TryAcquireError::NoPermits)) => return Err(TryPutError::Full(item)),
            Some(Err(TryAcquireError::Closed)) => return Err(TryPutError::Closed(item)),
        };
        self.push(item, permit).map_err(TryPutError::Closed)
    }

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

    /// Takes the oldest item now, or fails: [`TryGetError::Empty`] if none is queued,
    /// [`TryGetError::Closed`] if none is queued and the queue is closed.
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
    pub fn close(&self) {
        let mut state = self.state.borrow_mut();
        if state.closed {
            return;
        }
        state.closed = true;
        let mut to_wake = Vec::new();
        while let Some(key) = state.getters.pop_front() {
            to_wake.extend(state.getters.get_mut(key).waker.take());
        }
        drop(state);
        if let Some(room) = &self.room {
            room.close();
        }
        wake_all(to_wake);
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
        waker.into_iter().for_each(Waker::wake);
        Ok(())
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
            Some(acquire) => match std::task::ready!(Pin::new(acquire).poll(cx)) {
                Ok(permit) => Some(permit),
                // The room semaphore is closed only by `Queue::close`.
                Err(_closed) => return Poll::Ready(Err(PutError(this.take_item()))),
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
                    return Poll::Pending;
                }
            },
            Stage::Queued(key) if state.getters.is_queued(key) => {
                remember_waker(&mut state.getters.get_mut(key).waker, cx.waker());
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
        waker.into_iter().for_each(Waker::wake);
    }
}

impl<T> fmt::Debug for Get<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get").field("stage", &self.stage).finish()
    }
}

/// [`Queue::put`] failed because the queue is closed; the item is given back in field `0`.
pub struct PutError<T>(pub T);

/// Why [`Queue::try_put`] could not add the item, which it gives back.
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

/// [`Queue::get`] failed: the queue is closed and every item in it has been taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetError(());

/// Why [`Queue::try_get`] returned no item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryGetError {
    /// No item is queued right now.
    Empty,
    /// No item is queued and the queue is closed, so none ever will be.
    Closed,
}

/// [`Queue::task_done`] was called more times than items were gotten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDoneError(());

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

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than items were gotten; call it once per item taken by get()")
    }
}

impl<T> std::error::Error for PutError<T> {}
impl<T> std::error::Error for TryPutError<T> {}
impl std::error::Error for GetError {}
impl std::error::Error for TryGetError {}
impl std::error::Error for TaskDoneError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::Task;
    use std::pin::pin;
    use std::rc::Rc;

    impl<T> Queue<T> {
        /// Items handed to consumers that have not collected them yet.
        fn in_flight(&self) -> usize {
            self.state
                .borrow()
                .getters
                .slots()
                .filter(|getter| getter.item.is_some())
                .count()
        }

        /// Checks the room invariant: free + owed to producers + occupied == maxsize.
        #[track_caller]
        fn assert_room_is_conserved(&self, context: &str) {
            if let Some(room) = &self.room {
                let occupied = self.len() + self.in_flight();
                let total = room.available_permits() + room.granted_to_waiters() + occupied;
                assert_eq!(total, self.maxsize, "{context}");
            }
        }
    }

    #[test]
    fn items_come_out_in_the_order_they_were_put() {
        let queue = Queue::unbounded();
        for item in 1..=3 {
            queue.try_put(item).expect("unbounded");
        }
        assert_eq!((queue.len(), queue.is_empty()), (3, false));
        let task = Task::new();
        assert_eq!(task.ready(&mut queue.get()), Ok(1));
        assert_eq!(queue.try_get(), Ok(2));
        assert_eq!(queue.try_get(), Ok(3));
        assert_eq!(queue.try_get(), Err(TryGetError::Empty));
        assert!(queue.is_empty());
    }

    #[test]
    fn maxsize_zero_means_unbounded_as_in_asyncio() {
        let queue = Queue::new(0);
        let task = Task::new();
        for item in 0..100 {
            task.ready(&mut queue.put(item)).expect("never full");
        }
        assert_eq!((queue.maxsize(), queue.len(), queue.is_full()), (0, 100, false));
    }

    #[test]
    fn a_put_on_a_full_queue_waits_and_the_next_get_hands_it_the_room() {
        let queue = Queue::new(1);
        let (producer, consumer) = (Task::new(), Task::new());
        producer.ready(&mut queue.put(1)).expect("room for one");
        assert!(queue.is_full());
        let mut put = queue.put(2);
        producer.pending(&mut put);
        let refused = queue.try_put(3).unwrap_err();
        assert!(matches!(refused, TryPutError::Full(3)));
        assert!(refused.to_string().contains("await put()"), "{refused}");

        assert_eq!(consumer.ready(&mut queue.get()), Ok(1));
        assert_eq!(producer.wakes(), 1);
        assert!(
            matches!(queue.try_put(3), Err(TryPutError::Full(3))),
            "the room is promised to the waiting put"
        );
        producer.ready(&mut put).expect("handed the room");
        assert_eq!(queue.try_get(), Ok(2));
    }

    #[test]
    fn blocked_producers_are_served_in_arrival_order() {
        let queue = Queue::new(1);
        queue.try_put(0).expect("room for one");
        let tasks = [Task::new(), Task::new(), Task::new()];
        let mut puts: Vec<Put<'_, i32>> = (1..=3).map(|item| queue.put(item)).collect();
        for (task, put) in tasks.iter().zip(&mut puts) {
            task.pending(put);
        }
        for (who, (task, put)) in tasks.iter().zip(&mut puts).enumerate() {
            assert_eq!(queue.try_get(), Ok(who as i32));
            let wakes: Vec<usize> = tasks.iter().map(Task::wakes).collect();
            let expected: Vec<usize> = (0..3).map(|i| usize::from(i <= who)).collect();
            assert_eq!(wakes, expected);
            task.ready(put).expect("handed room");
        }
        assert_eq!(queue.try_get(), Ok(3));
    }

    #[test]
    fn a_put_hands_its_item_straight_to_the_longest_waiting_consumer() {
        let queue = Queue::unbounded();
        let (a, b) = (Task::new(), Task::new());
        let (mut get_a, mut get_b) = (queue.get(), queue.get());
        a.pending(&mut get_a);
        b.pending(&mut get_b);
        queue.try_put("x").expect("unbounded");
        assert_eq!(
            (a.wakes(), b.wakes(), queue.len()),
            (1, 0, 0),
            "handed over, not buffered"
        );
        assert_eq!(
            queue.try_get(),
            Err(TryGetError::Empty),
            "a newcomer cannot take A's item"
        );
        queue.try_put("y").expect("unbounded");
        assert_eq!((a.wakes(), b.wakes()), (1, 1));
        assert_eq!(b.ready(&mut get_b), Ok("y"));
        assert_eq!(a.ready(&mut get_a), Ok("x"));
    }

    #[test]
    fn a_dropped_consumer_passes_its_item_to_the_next_consumer() {
        let queue = Queue::unbounded();
        let (a, b) = (Task::new(), Task::new());
        let (mut get_a, mut get_b) = (queue.get(), queue.get());
        a.pending(&mut get_a);
        b.pending(&mut get_b);
        queue.try_put(1).expect("unbounded");
        drop(get_a);
        assert_eq!(b.wakes(), 1);
        assert_eq!(b.ready(&mut get_b), Ok(1));
        assert!(queue.is_empty());
    }

    #[test]
    fn a_dropped_consumer_puts_its_item_back_at_the_front() {
        let queue = Queue::unbounded();
        let task = Task::new();
        let mut get = queue.get();
        task.pending(&mut get);
        queue.try_put(1).expect("unbounded");
        queue.try_put(2).expect("unbounded");
        drop(get);
        assert_eq!(queue.try_get(), Ok(1), "the oldest item is still first");
        assert_eq!(queue.try_get(), Ok(2));
    }

    #[test]
    fn a_cancelled_put_never_leaves_an_item_behind() {
        let queue = Queue::new(1);
        let (a, b) = (Task::new(), Task::new());
        queue.try_put(0).expect("room for one");
        let (mut put_a, mut put_b) = (queue.put(1), queue.put(2));
        a.pending(&mut put_a);
        b.pending(&mut put_b);
        assert_eq!(queue.try_get(), Ok(0));
        assert_eq!(a.wakes(), 1, "A was handed the room");
        drop(put_a);
        assert!(queue.is_empty(), "A's item never entered the queue");
        assert_eq!(b.wakes(), 1, "A's room went to B");
        b.ready(&mut put_b).expect("handed room");
        assert_eq!(queue.try_get(), Ok(2));
        assert_eq!(queue.try_get(), Err(TryGetError::Empty));
    }

    #[test]
    fn join_waits_until_every_item_put_is_marked_done() {
        let queue = Queue::unbounded();
        let task = Task::new();
        task.ready(&mut pin!(queue.join()));
        queue.try_put('a').expect("unbounded");
        queue.try_put('b').expect("unbounded");
        let mut join = pin!(queue.join());
        task.pending(&mut join);
        queue.try_get().expect("queued");
        queue.task_done().expect("one item was gotten");
        assert_eq!(task.wakes(), 0, "one item is still unfinished");
        task.ready(&mut queue.get()).expect("queued");
        assert_eq!(task.wakes(), 0, "gotten is not done");
        queue.task_done().expect("two items were gotten");
        assert_eq!(task.wakes(), 1);
        task.ready(&mut join);
    }

    #[test]
    fn task_done_more_times_than_items_gotten_is_an_error() {
        let queue = Queue::unbounded();
        queue.try_put(1).expect("unbounded");
        let error = queue.task_done().unwrap_err();
        assert!(
            error.to_string().contains("more times than items were gotten"),
            "{error}"
        );
        queue.try_get().expect("queued");
        assert!(queue.task_done().is_ok());
        assert!(queue.task_done().is_err());
    }

    #[test]
    fn a_released_join_completes_even_if_a_new_item_arrives_before_it_runs() {
        let queue = Queue::unbounded();
        let task = Task::new();
        queue.try_put(1).expect("unbounded");
        let mut join = pin!(queue.join());
        task.pending(&mut join);
        queue.try_get().expect("queued");
        queue.task_done().expect("gotten");
        queue.try_put(2).expect("unbounded");
        task.ready(&mut join);
        task.pending(&mut pin!(queue.join()));
    }

    #[test]
    fn close_hands_waiting_and_later_producers_their_items_back() {
        let queue = Queue::new(1);
        let task = Task::new();
        queue.try_put(String::from("kept")).expect("room");
        let mut put = queue.put(String::from("blocked"));
        task.pending(&mut put);
        queue.close();
        assert!(queue.is_closed());
        assert_eq!(task.wakes(), 1);
        let PutError(item) = task.ready(&mut put).unwrap_err();
        assert_eq!(item, "blocked");
        let error = task.ready(&mut queue.put(String::from("late"))).unwrap_err();
        assert!(error.to_string().contains("closed"), "{error}");
        assert_eq!(error.0, "late");
        assert!(matches!(queue.try_put(String::from("try")), Err(TryPutError::Closed(item)) if item == "try"));
    }

    #[test]
    fn an_unbounded_queue_refuses_puts_once_closed() {
        let queue = Queue::unbounded();
        queue.close();
        assert_eq!(queue.try_put(1).unwrap_err().into_inner(), 1);
        assert_eq!(Task::new().ready(&mut queue.put(2)).unwrap_err().0, 2);
    }

    #[test]
    fn close_lets_consumers_drain_the_queue_then_fails_them() {
        let queue = Queue::unbounded();
        let task = Task::new();
        queue.try_put(1).expect("unbounded");
        queue.try_put(2).expect("unbounded");
        queue.close();
        assert_eq!(task.ready(&mut queue.get()), Ok(1));
        assert_eq!(queue.try_get(), Ok(2));
        assert_eq!(queue.try_get(), Err(TryGetError::Closed));
        let error = task.ready(&mut queue.get()).unwrap_err();
        assert!(error.to_string().contains("closed and drained"), "{error}");
    }

    #[test]
    fn close_wakes_consumers_waiting_on_an_empty_queue_once_each() {
        let queue: Queue<u8> = Queue::new(2);
        let (a, b) = (Task::new(), Task::new());
        let (mut get_a, mut get_b) = (queue.get(), queue.get());
        a.pending(&mut get_a);
        b.pending(&mut get_b);
        queue.close();
        queue.close();
        assert_eq!((a.wakes(), b.wakes()), (1, 1));
        assert!(a.ready(&mut get_a).is_err());
        assert!(b.ready(&mut get_b).is_err());
    }

    #[test]
    fn a_consumer_handed_an_item_before_close_still_gets_it() {
        let queue = Queue::unbounded();
        let task = Task::new();
        let mut get = queue.get();
        task.pending(&mut get);
        queue.try_put(7).expect("unbounded");
        queue.close();
        assert_eq!(task.wakes(), 1);
        assert_eq!(task.ready(&mut get), Ok(7));
    }

    #[test]
    fn a_producer_handed_room_before_close_gets_its_item_back_and_the_room_returns() {
        let queue = Queue::new(1);
        let task = Task::new();
        queue.try_put(1).expect("room");
        let mut put = queue.put(2);
        task.pending(&mut put);
        assert_eq!(queue.try_get(), Ok(1));
        queue.close();
        assert_eq!(task.ready(&mut put).unwrap_err().0, 2);
        assert!(!queue.is_full());
        queue.assert_room_is_conserved("after close");
    }

    #[test]
    fn a_consumers_waker_may_use_the_queue_while_a_put_wakes_it() {
        let queue = Rc::new(Queue::unbounded());
        let inside = queue.clone();
        let task = Task::reentrant(move || {
            assert_eq!(inside.try_get(), Err(TryGetError::Empty), "the item was handed to us");
            assert_eq!(inside.len(), 0);
        });
        let mut get = queue.get();
        task.pending(&mut get);
        queue.try_put(5).expect("unbounded");
        assert_eq!(task.ready(&mut get), Ok(5));
    }

    /// One participant in the cancellation script.
    enum Actor<'q> {
        /// A consumer making one `get`.
        Getter {
            /// Counts this consumer's wake-ups.
            task: Task,
            /// The pending get; `None` once it completed or was cancelled.
            future: Option<Get<'q, u32>>,
            /// The item it received, if it completed.
            got: Option<u32>,
        },
        /// A producer making one `put`.
        Putter {
            /// Counts this producer's wake-ups.
            task: Task,
            /// The pending put; `None` once it completed or was cancelled.
            future: Option<Put<'q, u32>>,
            /// The (unique) item it puts.
            item: u32,
            /// Whether the put completed successfully, so the item must come out.
            put: bool,
        },
    }

    impl Actor<'_> {
        /// Polls the future if it is still live; true if it completed now.
        fn poll(&mut self) -> bool {
            match self {
                Actor::Getter { task, future, got } => match future.as_mut().map(|f| task.poll(f)) {
                    Some(Poll::Ready(result)) => {
                        *got = Some(result.expect("never closed here"));
                        *future = None;
                        true
                    }
                    _ => false,
                },
                Actor::Putter { task, future, put, .. } => match future.as_mut().map(|f| task.poll(f)) {
                    Some(Poll::Ready(result)) => {
                        result.expect("never closed here");
                        *put = true;
                        *future = None;
                        true
                    }
                    _ => false,
                },
            }
        }

        /// Drops the future, if it is still live.
        fn cancel(&mut self) {
            match self {
                Actor::Getter { future, .. } => *future = None,
                Actor::Putter { future, .. } => *future = None,
            }
        }

        /// True while the future has neither completed nor been cancelled.
        fn live(&self) -> bool {
            match self {
                Actor::Getter { future, .. } => future.is_some(),
                Actor::Putter { future, .. } => future.is_some(),
            }
        }

        /// How many times this actor's waker was woken.
        fn wakes(&self) -> usize {
            match self {
                Actor::Getter { task, .. } | Actor::Putter { task, .. } => task.wakes(),
            }
        }
    }

    /// Three consumers and four producers on a queue of `maxsize`, polled in `order` (indexes
    /// into `[G0, G1, G2, P0, P1, P2, P3]`) for three rounds; actor `victim` is dropped just
    /// before poll number `cancel_at`. The room must balance after every poll; then everything
    /// left is run to completion and every item whose put succeeded must come out exactly once.
    fn run_cancel_script(maxsize: usize, order: &[usize], victim: usize, cancel_at: usize) {
        let context = format!("maxsize {maxsize}, order {order:?}, victim {victim}, cancel at {cancel_at}");
        let queue = Queue::new(maxsize);
        let mut actors: Vec<Actor<'_>> = (0..3)
            .map(|_| Actor::Getter {
                task: Task::new(),
                future: Some(queue.get()),
                got: None,
            })
            .chain((0..4).map(|item| Actor::Putter {
                task: Task::new(),
                future: Some(queue.put(item)),
                item,
                put: false,
            }))
            .collect();
        let schedule: Vec<usize> = order.iter().copied().cycle().take(order.len() * 3).collect();
        for (step, &who) in schedule.iter().enumerate() {
            if step == cancel_at {
                actors[victim].cancel();
            }
            actors[who].poll();
            queue.assert_room_is_conserved(&context);
        }
        actors[victim].cancel();

        let mut drained = Vec::new();
        loop {
            let progressed = actors
                .iter_mut()
                .fold(false, |progressed, actor| actor.poll() | progressed);
            if !progressed {
                match queue.try_get() {
                    Ok(item) => drained.push(item),
                    Err(_) => break,
                }
            }
            queue.assert_room_is_conserved(&context);
        }

        let mut delivered = drained;
        let mut succeeded = Vec::new();
        for (index, actor) in actors.iter().enumerate() {
            assert!(
                index == victim || !actor.live(),
                "{context}: actor {index} never finished"
            );
            assert!(
                actor.wakes() <= 1,
                "{context}: actor {index} woken {} times",
                actor.wakes()
            );
            match actor {
                Actor::Getter { got, .. } => delivered.extend(*got),
                Actor::Putter { item, put: true, .. } => succeeded.push(*item),
                Actor::Putter { .. } => {}
            }
        }
        delivered.sort_unstable();
        assert_eq!(delivered, succeeded, "{context}: every item put comes out exactly once");
        for _ in &delivered {
            queue.task_done().expect("one task_done per delivered item");
        }
        Task::new().ready(&mut pin!(queue.join()));
        assert!(!queue.is_full() || maxsize == 0);
    }

    #[test]
    fn cancelling_any_producer_or_consumer_at_any_point_never_loses_or_duplicates_an_item() {
        let orders: [&[usize]; 3] = [&[0, 1, 2, 3, 4, 5, 6], &[3, 4, 5, 6, 0, 1, 2], &[0, 3, 1, 4, 5, 2, 6]];
        for maxsize in [0, 1, 2] {
            for order in orders {
                for victim in 0..7 {
                    for cancel_at in 0..=order.len() * 3 {
                        run_cancel_script(maxsize, order, victim, cancel_at);
                    }
                }
            }
        }
    }
}

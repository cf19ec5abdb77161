//! A channel for exactly one value: the Rust shape of an asyncio `Future` resolved with
//! `set_result`.
//!
//! Read first: nothing beyond `std::task::Waker`.
//!
//! In asyncio, one task creates a `Future`, hands it to another, and awaits it; the other
//! calls `fut.set_result(value)`. Rust splits that object in two so ownership says who may do
//! what: [`channel`] returns a [`Sender`], which can [`send`](Sender::send) once (it is consumed),
//! and a [`Receiver`], which *is* the future to await. Dropping the sender without sending is
//! asyncio's "the future was never resolved", made visible: the receiver gets [`RecvError`]
//! instead of waiting forever. Dropping or [closing](Receiver::close) the receiver is
//! `fut.cancel()`: the sender learns through [`Sender::is_closed`] and its `send` fails,
//! handing the value back.
//!
//! There is one waiter at most, so there is no queue and nothing to be fair about.
//!
//! # Cancellation
//!
//! Dropping the receiver is the cancellation: a value already sent is dropped with it, and a
//! later `send` returns the value to the sender.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::waiters::remember_waker;

/// Creates a connected sender and receiver for one value of type `T` (asyncio's
/// `loop.create_future()`, split into the half that resolves it and the half that awaits it).
///
/// # Examples
///
/// One task computes a value, another awaits it (in asyncio: `fut.set_result(value)` and
/// `await fut`):
///
/// ```
/// use evloop::sync::oneshot;
///
/// let answer = evloop::run(async {
///     let (sender, receiver) = oneshot::channel();
///     evloop::spawn(async move {
///         evloop::yield_now().await;
///         sender.send(6 * 7).expect("the receiver is still there");
///     });
///     receiver.await
/// });
/// assert_eq!(answer, Ok(42));
/// ```
#[doc(alias = "create_future")]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(RefCell::new(Shared {
        value: None,
        sender_gone: false,
        receiver_gone: false,
        waker: None,
    }));
    (Sender { shared: shared.clone() }, Receiver { shared })
}

/// What the two halves share.
struct Shared<T> {
    /// The value, from `send` until the receiver takes it.
    value: Option<T>,
    /// Set when the sender is consumed by `send` or dropped: no value can arrive after this.
    sender_gone: bool,
    /// Set when the receiver is closed or dropped: a `send` would have nobody to deliver to.
    receiver_gone: bool,
    /// The receiver's waker, from its last pending poll; taken by the one wake that matters.
    waker: Option<Waker>,
}

/// The sending half; [`send`](Sender::send) consumes it.
pub struct Sender<T> {
    /// The state shared with the receiver.
    shared: Rc<RefCell<Shared<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value` and wakes the receiver (asyncio's `fut.set_result(value)`). Fails, handing
    /// the value back, if the receiver was dropped or closed.
    #[doc(alias = "set_result")]
    pub fn send(self, value: T) -> Result<(), T> {
        let mut shared = self.shared.borrow_mut();
        if shared.receiver_gone {
            return Err(value);
        }
        shared.value = Some(value);
        drop(shared);
        // Dropping `self` marks the sender gone and wakes the receiver.
        Ok(())
    }

    /// True once the receiver was dropped or closed: sending would fail, so the work that
    /// would produce the value can stop.
    pub fn is_closed(&self) -> bool {
        self.shared.borrow().receiver_gone
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut shared = self.shared.borrow_mut();
        shared.sender_gone = true;
        let waker = shared.waker.take();
        drop(shared);
        if let Some(waker) = waker {
            crate::waking::wake(waker);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("is_closed", &self.is_closed()).finish()
    }
}

/// The receiving half: a future of the value, or of [`RecvError`] if the sender was dropped
/// without sending.
///
/// # Cancel safety
/// Awaiting `&mut receiver` (say, in a select loop) and giving up loses nothing: the value
/// stays in the channel for the next await. Dropping the receiver itself is the cancellation:
/// a value already sent is dropped, and a later `send` hands its value back to the sender.
///
/// # Examples
///
/// A sender dropped without sending fails the receiver instead of leaving it waiting forever
/// (an asyncio `Future` nobody resolves just hangs):
///
/// ```
/// use evloop::sync::oneshot;
///
/// let outcome = evloop::run(async {
///     let (sender, receiver) = oneshot::channel::<u32>();
///     evloop::spawn(async move { drop(sender) }); // gives up without sending
///     receiver.await
/// });
/// assert!(outcome.is_err(), "RecvError: no value will ever arrive");
/// ```
#[must_use = "futures do nothing unless polled; dropping the receiver makes the sender's send fail"]
pub struct Receiver<T> {
    /// The state shared with the sender.
    shared: Rc<RefCell<Shared<T>>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it has arrived, without waiting: [`TryRecvError::Empty`] if not
    /// yet, [`TryRecvError::Closed`] if it never will (the sender is gone, the receiver was
    /// closed, or the value was already taken).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut shared = self.shared.borrow_mut();
        match shared.value.take() {
            Some(value) => Ok(value),
            None if shared.sender_gone || shared.receiver_gone => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Refuses any value not yet sent: the sender sees [`Sender::is_closed`] and its `send`
    /// fails, and awaiting the receiver no longer waits. A value sent before `close` can still
    /// be taken with [`try_recv`](Self::try_recv) or by awaiting.
    pub fn close(&mut self) {
        self.shared.borrow_mut().receiver_gone = true;
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// Ready with the value once sent; ready with [`RecvError`] once none can arrive: the
    /// sender is gone without sending, the receiver was closed first, or the value was already
    /// taken by an earlier poll.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut shared = self.shared.borrow_mut();
        if let Some(value) = shared.value.take() {
            return Poll::Ready(Ok(value));
        }
        if shared.sender_gone || shared.receiver_gone {
            return Poll::Ready(Err(RecvError(())));
        }
        remember_waker(&mut shared.waker, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut shared = self.shared.borrow_mut();
        shared.receiver_gone = true;
        // Drop the value outside the borrow: its destructor may touch this channel.
        let value = shared.value.take();
        drop(shared);
        drop(value);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Receiver");
        match self.shared.try_borrow() {
            Ok(shared) => out
                .field("has_value", &shared.value.is_some())
                .field("sender_gone", &shared.sender_gone),
            Err(_) => out.field("state", &"<borrowed>"),
        };
        out.finish()
    }
}

/// No value will ever arrive: the sender was dropped without sending (or the receiver was
/// closed first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the sender was dropped without sending a value; check why the producing task ended early")
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing sent yet; await the receiver to wait for it.
    Empty,
    /// Nothing will arrive: the sender is gone, the receiver was closed, or the value was
    /// already taken.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "no value has been sent yet; await the receiver to wait for it",
            TryRecvError::Closed => "no value will arrive: the sender is gone, the receiver closed, or the value taken",
        })
    }
}

impl std::error::Error for TryRecvError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::Task;

    #[test]
    fn a_sent_value_is_received_and_the_receiver_is_woken_once() {
        let (sender, mut receiver) = channel();
        let task = Task::new();
        task.pending(&mut receiver);
        task.pending(&mut receiver);
        sender.send(42).expect("the receiver is alive");
        assert_eq!(task.wakes(), 1);
        assert_eq!(task.ready(&mut receiver), Ok(42));
    }

    #[test]
    fn a_value_sent_before_the_first_poll_is_ready_at_once() {
        let (sender, mut receiver) = channel();
        sender.send("early").expect("the receiver is alive");
        assert_eq!(Task::new().ready(&mut receiver), Ok("early"));
    }

    #[test]
    fn dropping_the_sender_without_sending_fails_the_receiver_instead_of_hanging() {
        let (sender, mut receiver) = channel::<u8>();
        let task = Task::new();
        task.pending(&mut receiver);
        drop(sender);
        assert_eq!(task.wakes(), 1);
        let error = task.ready(&mut receiver).unwrap_err();
        assert!(error.to_string().contains("dropped without sending"), "{error}");
    }

    #[test]
    fn send_hands_the_value_back_when_the_receiver_is_gone() {
        let (sender, receiver) = channel();
        assert!(!sender.is_closed());
        drop(receiver);
        assert!(sender.is_closed());
        assert_eq!(sender.send(String::from("unwanted")), Err(String::from("unwanted")));
    }

    #[test]
    fn close_refuses_later_values_but_keeps_one_already_sent() {
        let (sender, mut receiver) = channel();
        receiver.close();
        assert!(sender.is_closed());
        assert_eq!(sender.send(1), Err(1));
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Closed));

        let (sender, mut receiver) = channel();
        sender.send(2).expect("open");
        receiver.close();
        assert_eq!(receiver.try_recv(), Ok(2));
    }

    #[test]
    fn awaiting_a_closed_receiver_does_not_wait_for_a_sender_that_cannot_send() {
        let (sender, mut receiver) = channel::<u8>();
        receiver.close();
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Closed));
        assert!(Task::new().ready(&mut receiver).is_err());
        drop(sender);
    }

    #[test]
    fn try_recv_says_empty_then_gives_the_value_then_says_closed() {
        let (sender, mut receiver) = channel();
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
        sender.send(3).expect("open");
        assert_eq!(receiver.try_recv(), Ok(3));
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Closed));
        assert!(Task::new().ready(&mut receiver).is_err(), "the one value is gone");
    }

    #[test]
    fn a_receiver_moved_to_a_new_task_is_woken_through_the_new_waker() {
        let (sender, mut receiver) = channel();
        let (old, new) = (Task::new(), Task::new());
        old.pending(&mut receiver);
        new.pending(&mut receiver);
        sender.send(()).expect("open");
        assert_eq!((old.wakes(), new.wakes()), (0, 1));
    }
}

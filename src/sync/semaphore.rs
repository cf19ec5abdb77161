//! A counting semaphore that hands permits to its waiters in FIFO order.
//!
//! Read first: `sync/waiters.rs`, the queue every waiting future sits in.
//!
//! A semaphore holds *permits*. [`Semaphore::acquire`] takes one, waiting while none is free;
//! dropping the returned [`Permit`] gives it back. It bounds concurrency: "at most N tasks
//! inside this section at once". asyncio's counterpart is `asyncio.Semaphore`; evloop's
//! [`Lock`](super::Lock) and bounded [`Queue`](super::Queue) are built on this one.
//!
//! # Hand-off
//!
//! When permits come back (a `Permit` drops, or [`Semaphore::add_permits`]), they go
//! *directly* to the waiter at the front of the queue: its granted count goes up, and once it
//! has all it asked for it is unlinked and woken. Its next poll just collects them; it never
//! competes again. A waiter asking for 3 when 2 are free takes the 2 now and queues for the
//! rest, so a large request is not starved by a stream of small ones. This is tokio's
//! `sync/batch_semaphore.rs` policy, there written with atomics and an intrusive list; here one
//! `RefCell` suffices because every evloop task runs on one thread.
//!
//! # Invariant: free permits and queued waiters never coexist
//!
//! Every release serves the queue first, so whenever anyone is queued, `available` is zero.
//! That is what stops barging: a newcomer, whether [`Semaphore::acquire`] or
//! [`Semaphore::try_acquire`], finds nothing free while someone is ahead of it, and the
//! newcomer checks the queue as well, so the rule does not rest on the counter alone.
//!
//! # Cancellation
//!
//! Dropping a pending [`Acquire`] unlinks its waiter and releases whatever it had already been
//! granted (part of its request, or all of it if the hand-off happened before the future was
//! polled again). Those permits go through the same hand-off, so they reach the next waiter.
//! No permit is lost or created by cancelling; the tests check the total after every step.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::waiters::{Stage, WaitList, Wakers, remember_waker, wake_all};
use crate::waits_on::{self, Parked};

/// A counting semaphore with FIFO hand-off. Cloning gives another handle to the same permits.
/// No `BoundedSemaphore` is needed: a [`Permit`] returns exactly what it took, so permits
/// cannot be released too often (only [`add_permits`](Self::add_permits) adds more).
///
/// `!Send`: evloop runs every task on one thread, so the state lives in an `Rc<RefCell<_>>`.
///
/// # Examples
///
/// Five 100 ms jobs, at most two at a time (asyncio's `async with semaphore:`), take 300 ms:
///
/// ```
/// use std::time::Duration;
/// use evloop::sync::Semaphore;
///
/// let runtime = evloop::Builder::new().virtual_clock().build().expect("a poller");
/// let elapsed = runtime.block_on(async {
///     let (start, semaphore) = (evloop::time::now(), Semaphore::new(2));
///     let jobs = (0..5).map(|_| {
///         let semaphore = semaphore.clone();
///         async move {
///             let _permit = semaphore.acquire().await.expect("never closed");
///             evloop::time::sleep(Duration::from_millis(100)).await;
///         } // dropping the permit hands it to the next job in line
///     });
///     evloop::gather_all(jobs).await;
///     evloop::time::now() - start
/// });
/// assert_eq!(elapsed, Duration::from_millis(300));
/// ```
#[derive(Clone)]
#[doc(alias = "BoundedSemaphore")]
pub struct Semaphore {
    /// The state every handle, pending [`Acquire`] and [`Permit`] shares.
    state: Rc<RefCell<State>>,
}

/// What the semaphore knows, behind the one `RefCell`.
struct State {
    /// Permits that nobody holds and no waiter has been granted.
    ///
    /// # Invariant
    /// Zero whenever `waiters` is not empty: a release serves the queue before it adds here.
    available: usize,
    /// Futures waiting for permits, oldest first. A waiter is unlinked when it has been granted
    /// everything it asked for, or when the semaphore closes.
    waiters: WaitList<Waiter>,
    /// Set once by [`Semaphore::close`]; every acquire fails from then on.
    closed: bool,
}

/// One pending [`Acquire`] as the semaphore sees it.
struct Waiter {
    /// How many permits the future asked for.
    wanted: usize,
    /// How many it has been handed so far, held here until it completes or drops. Equal to
    /// `wanted` once unlinked by a hand-off; reset to zero when unlinked by `close`.
    granted: usize,
    /// Wakes the waiting task when the hand-off completes or the semaphore closes; taken out
    /// when that happens, so each waiter is woken at most once.
    waker: Option<Waker>,
}

impl State {
    /// Hands `permits` to the queue front to back, unlinking every waiter that is now fully
    /// served, and keeps the rest as `available`. Returns the wakers of the served waiters,
    /// which the caller must wake *after* it has let go of the `RefCell` borrow.
    fn release(&mut self, mut permits: usize) -> Wakers {
        let mut to_wake = Wakers::default();
        while let Some(front) = self.waiters.front() {
            let waiter = self.waiters.get_mut(front);
            let given = permits.min(waiter.wanted - waiter.granted);
            waiter.granted += given;
            permits -= given;
            if waiter.granted < waiter.wanted {
                break; // the front waiter still needs more, and nobody may pass it
            }
            to_wake.push(waiter.waker.take());
            self.waiters.pop_front();
        }
        self.keep(permits);
        to_wake
    }

    /// Adds `permits` to the free ones.
    fn keep(&mut self, permits: usize) {
        self.available = self
            .available
            .checked_add(permits)
            .expect("a semaphore cannot hold more than usize::MAX permits");
    }

    /// Marks the semaphore closed and unlinks every waiter, moving any partial grant back to
    /// `available` (there is nobody left to hand it to). Returns the wakers to fire once the
    /// borrow is released.
    fn close(&mut self) -> Wakers {
        self.closed = true;
        let mut to_wake = Wakers::default();
        while let Some(key) = self.waiters.pop_front() {
            let waiter = self.waiters.get_mut(key);
            self.available += std::mem::take(&mut waiter.granted);
            to_wake.push(waiter.waker.take());
        }
        to_wake
    }
}

impl Semaphore {
    /// A semaphore holding `permits` free permits.
    pub fn new(permits: usize) -> Self {
        let state = State {
            available: permits,
            waiters: WaitList::new(),
            closed: false,
        };
        Semaphore {
            state: Rc::new(RefCell::new(state)),
        }
    }

    /// Whether any other handle to this semaphore exists: a clone, a permit or a pending
    /// acquire (each holds one). The HTTP pool drops per-origin semaphores nobody uses.
    pub(crate) fn is_shared(&self) -> bool {
        Rc::strong_count(&self.state) > 1
    }

    /// How many permits are free right now. Zero whenever someone is waiting, because
    /// returned permits go to the waiters first.
    pub fn available_permits(&self) -> usize {
        self.state.borrow().available
    }

    /// Adds `n` permits, handing them to waiters first (FIFO), and wakes exactly the waiters
    /// that are now fully served. Works after [`close`](Self::close) too; the permits are
    /// then simply kept.
    ///
    /// # Panics
    /// If the free permits would exceed `usize::MAX`.
    pub fn add_permits(&self, n: usize) {
        let mut state = self.state.borrow_mut();
        if state.waiters.is_empty() {
            // Nobody waits (a pool slot's release, mostly): no batch of wakers to build.
            state.keep(n);
            return;
        }
        let to_wake = state.release(n);
        drop(state);
        wake_all(to_wake);
    }

    /// Closes the semaphore: every pending and every later acquire fails with
    /// [`AcquireError`] (a waiter that was already handed all its permits still gets them).
    /// Permits that are out stay valid and still return on drop.
    pub fn close(&self) {
        let to_wake = self.state.borrow_mut().close();
        wake_all(to_wake);
    }

    /// True once [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }

    /// Waits for one permit. See [`acquire_many`](Self::acquire_many).
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future before it completes gives back anything it was handed
    /// and gives up its place in the queue; nothing is lost.
    pub fn acquire(&self) -> Acquire {
        self.acquire_many(1)
    }

    /// Waits until `n` permits are handed over, queueing behind earlier waiters (FIFO). The
    /// future does nothing until first polled; that first poll either takes the permits at
    /// once (when free and nobody is queued) or joins the queue, taking any free permits as a
    /// partial grant. Fails with [`AcquireError`] if the semaphore is closed before it is
    /// served. `n == 0` completes as soon as everyone ahead of it has been served.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future unlinks it and releases the permits it was already
    /// granted (a partial grant, or the full one if it was dropped between hand-off and poll)
    /// to the next waiters. Cancelling never loses or duplicates a permit.
    pub fn acquire_many(&self, n: usize) -> Acquire {
        Acquire {
            semaphore: self.clone(),
            wanted: n,
            stage: Stage::Unpolled,
        }
    }

    /// Takes one permit if that is possible right now. See
    /// [`try_acquire_many`](Self::try_acquire_many).
    pub fn try_acquire(&self) -> Result<Permit, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits now, or fails without waiting: [`TryAcquireError::Closed`] if the
    /// semaphore is closed, [`TryAcquireError::NoPermits`] if fewer than `n` are free *or* if
    /// anyone is queued (a newcomer never barges past a waiter).
    pub fn try_acquire_many(&self, n: usize) -> Result<Permit, TryAcquireError> {
        let mut state = self.state.borrow_mut();
        if state.closed {
            return Err(TryAcquireError::Closed);
        }
        if !state.waiters.is_empty() || state.available < n {
            return Err(TryAcquireError::NoPermits);
        }
        state.available -= n;
        Ok(Permit {
            semaphore: self.clone(),
            permits: n,
        })
    }

    /// Permits owed to waiters (granted but not yet collected): for conservation checks.
    #[cfg(test)]
    pub(crate) fn granted_to_waiters(&self) -> usize {
        self.state.borrow().waiters.slots().map(|waiter| waiter.granted).sum()
    }

    /// How many futures are queued: for tests.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.state.borrow().waiters.len()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Semaphore");
        match self.state.try_borrow() {
            Ok(state) => out
                .field("available", &state.available)
                .field("queued", &state.waiters.len())
                .field("closed", &state.closed),
            Err(_) => out.field("state", &"<borrowed>"),
        };
        out.finish()
    }
}

/// Permits taken from a [`Semaphore`]; dropping it gives them back (to the first waiters).
#[must_use = "dropping a Permit releases it at once"]
pub struct Permit {
    /// Where the permits go back to.
    semaphore: Semaphore,
    /// How many this permit holds; zero after [`forget`](Self::forget).
    permits: usize,
}

impl Permit {
    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Consumes the permit without giving it back: the semaphore's total shrinks by
    /// [`num_permits`](Self::num_permits). Undo with [`Semaphore::add_permits`].
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.semaphore.add_permits(self.permits);
        }
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("permits", &self.permits).finish()
    }
}

/// The future returned by [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
///
/// Written by hand rather than as an `async fn` so that its `Drop`, which gives back a
/// partial grant, is in plain sight.
#[must_use = "futures do nothing unless polled; this one queues for permits on its first poll"]
pub struct Acquire {
    /// The semaphore being waited on.
    semaphore: Semaphore,
    /// How many permits to acquire.
    wanted: usize,
    /// Where in its life the future is. While queued: in the wait queue; the slot holds any permits granted so far.
    stage: Stage,
}

impl Future for Acquire {
    type Output = Result<Permit, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = this.semaphore.state.borrow_mut();
        match this.stage {
            Stage::Unpolled => {
                if state.closed {
                    this.stage = Stage::Done;
                    return Poll::Ready(Err(AcquireError(())));
                }
                if state.waiters.is_empty() && state.available >= this.wanted {
                    state.available -= this.wanted;
                    this.stage = Stage::Done;
                    drop(state);
                    return Poll::Ready(Ok(this.permit()));
                }
                // Take what is free now as a partial grant (only possible when nobody is
                // queued, by the invariant) and queue for the rest.
                let granted = state.available.min(this.wanted);
                state.available -= granted;
                let waiter = Waiter {
                    wanted: this.wanted,
                    granted,
                    waker: Some(cx.waker().clone()),
                };
                this.stage = Stage::Queued(state.waiters.push_back(waiter));
                let place = state.waiters.place_at_back();
                waits_on::note(Parked::Semaphore {
                    place,
                    wanted: this.wanted,
                });
                Poll::Pending
            }
            Stage::Queued(key) => {
                if state.waiters.is_queued(key) {
                    remember_waker(&mut state.waiters.get_mut(key).waker, cx.waker());
                    let place = state.waiters.place(key);
                    waits_on::note(Parked::Semaphore {
                        place,
                        wanted: this.wanted,
                    });
                    return Poll::Pending;
                }
                // Unlinked: the outcome is decided. Full grant means a hand-off; anything
                // else means `close` unlinked us and already took the partial grant back.
                let waiter = state.waiters.remove(key);
                this.stage = Stage::Done;
                drop(state);
                if waiter.granted == this.wanted {
                    Poll::Ready(Ok(this.permit()))
                } else {
                    Poll::Ready(Err(AcquireError(())))
                }
            }
            Stage::Done => panic!("`Acquire` polled after it completed; a future must not be polled again"),
        }
    }
}

impl Acquire {
    /// The permit for a completed acquire. Its permits have already left `available`.
    fn permit(&self) -> Permit {
        Permit {
            semaphore: self.semaphore.clone(),
            permits: self.wanted,
        }
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        let Stage::Queued(key) = self.stage else {
            return; // never queued, or already completed: nothing to give back
        };
        let mut state = self.semaphore.state.borrow_mut();
        let waiter = state.waiters.remove(key);
        let to_wake = state.release(waiter.granted);
        drop(state);
        wake_all(to_wake);
    }
}

impl fmt::Debug for Acquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("wanted", &self.wanted)
            .field("stage", &self.stage)
            .finish()
    }
}

/// [`Semaphore::acquire`] failed because the semaphore was closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the semaphore was closed, so no more permits will be handed out; stop waiting on it")
    }
}

impl std::error::Error for AcquireError {}

/// Why [`Semaphore::try_acquire`] could not take permits right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// Too few permits are free, or other tasks are queued first. Await
    /// [`Semaphore::acquire`] to wait your turn.
    NoPermits,
    /// The semaphore was closed; no permit will ever be handed out again.
    Closed,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::NoPermits => {
                f.write_str("no permits free for a newcomer right now; await acquire() to queue for them")
            }
            TryAcquireError::Closed => f.write_str("the semaphore was closed, so no more permits will be handed out"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::Task;

    /// Every permit of `semaphore` that is free, owed to a waiter, or held as a `Permit`.
    fn accounted(semaphore: &Semaphore, permits: &[&Permit]) -> usize {
        semaphore.available_permits()
            + semaphore.granted_to_waiters()
            + permits.iter().map(|permit| permit.num_permits()).sum::<usize>()
    }

    #[test]
    fn a_free_permit_is_taken_on_the_first_poll() {
        let semaphore = Semaphore::new(2);
        let task = Task::new();
        let permit = task.ready(&mut semaphore.acquire()).expect("the semaphore is open");
        assert_eq!(permit.num_permits(), 1);
        assert_eq!(semaphore.available_permits(), 1);
        drop(permit);
        assert_eq!(semaphore.available_permits(), 2);
    }

    #[test]
    fn an_acquire_does_nothing_until_it_is_polled() {
        let semaphore = Semaphore::new(1);
        let acquire = semaphore.acquire();
        assert_eq!(semaphore.available_permits(), 1);
        drop(acquire);
        assert_eq!(semaphore.available_permits(), 1);
    }

    #[test]
    fn try_acquire_takes_free_permits_or_says_there_are_none() {
        let semaphore = Semaphore::new(3);
        let permit = semaphore.try_acquire_many(2).expect("two of three are free");
        assert_eq!(semaphore.try_acquire_many(2).unwrap_err(), TryAcquireError::NoPermits);
        assert_eq!(semaphore.available_permits(), 1);
        drop(permit);
        assert_eq!(semaphore.available_permits(), 3);
    }

    #[test]
    fn waiters_are_served_in_arrival_order_one_release_at_a_time() {
        let semaphore = Semaphore::new(1);
        let held = semaphore.try_acquire().expect("one permit is free");
        let (a, b, c) = (Task::new(), Task::new(), Task::new());
        let (mut acquire_a, mut acquire_b, mut acquire_c) =
            (semaphore.acquire(), semaphore.acquire(), semaphore.acquire());
        a.pending(&mut acquire_a);
        b.pending(&mut acquire_b);
        c.pending(&mut acquire_c);

        drop(held);
        assert_eq!(
            (a.wakes(), b.wakes(), c.wakes()),
            (1, 0, 0),
            "the permit went to A only"
        );
        assert_eq!(semaphore.available_permits(), 0, "handed over, not left free");
        let permit_a = a.ready(&mut acquire_a).expect("A was handed the permit");
        b.pending(&mut acquire_b);

        drop(permit_a);
        assert_eq!((a.wakes(), b.wakes(), c.wakes()), (1, 1, 0), "then to B");
        let permit_b = b.ready(&mut acquire_b).expect("B was handed the permit");

        drop(permit_b);
        assert_eq!((a.wakes(), b.wakes(), c.wakes()), (1, 1, 1), "then to C");
        let permit_c = c.ready(&mut acquire_c).expect("C was handed the permit");
        drop(permit_c);
        assert_eq!(semaphore.available_permits(), 1);
    }

    #[test]
    fn a_newcomer_cannot_barge_past_a_queued_waiter_even_when_permits_are_free() {
        let semaphore = Semaphore::new(3);
        let held = semaphore.try_acquire().expect("three are free");
        let (a, newcomer) = (Task::new(), Task::new());
        let mut acquire_a = semaphore.acquire_many(3);
        a.pending(&mut acquire_a);
        assert_eq!(
            semaphore.granted_to_waiters(),
            2,
            "A holds the two free permits while it queues"
        );

        assert_eq!(semaphore.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
        let mut acquire_newcomer = semaphore.acquire();
        newcomer.pending(&mut acquire_newcomer);

        drop(held);
        assert_eq!((a.wakes(), newcomer.wakes()), (1, 0));
        assert_eq!(
            semaphore.try_acquire().unwrap_err(),
            TryAcquireError::NoPermits,
            "a hand-off leaves nothing free between the wake and the poll"
        );
        let permit_a = a.ready(&mut acquire_a).expect("A was served first");
        assert_eq!(permit_a.num_permits(), 3);
        newcomer.pending(&mut acquire_newcomer);
        drop(permit_a);
        assert_eq!(newcomer.wakes(), 1);
        let _permit_newcomer = newcomer.ready(&mut acquire_newcomer).expect("then the newcomer");
        assert_eq!(semaphore.available_permits(), 2);
    }

    #[test]
    fn a_large_request_is_not_starved_by_a_stream_of_small_ones() {
        let semaphore = Semaphore::new(2);
        let first = semaphore.try_acquire().expect("free");
        let second = semaphore.try_acquire().expect("free");
        let (big, small) = (Task::new(), Task::new());
        let mut acquire_big = semaphore.acquire_many(2);
        big.pending(&mut acquire_big);
        let mut acquire_small = semaphore.acquire();
        small.pending(&mut acquire_small);

        drop(first);
        assert_eq!(
            (big.wakes(), small.wakes()),
            (0, 0),
            "one permit is not enough for the big waiter"
        );
        assert_eq!(semaphore.granted_to_waiters(), 1, "but it keeps it while it waits");
        drop(second);
        assert_eq!((big.wakes(), small.wakes()), (1, 0));
        assert_eq!(big.ready(&mut acquire_big).expect("served").num_permits(), 2);
        assert_eq!(
            small.wakes(),
            1,
            "the big permit dropped at once and served the small waiter"
        );
        assert!(small.ready(&mut acquire_small).is_ok());
    }

    #[test]
    fn one_release_serves_as_many_waiters_as_it_can_and_wakes_only_those() {
        let semaphore = Semaphore::new(0);
        let tasks = [Task::new(), Task::new(), Task::new()];
        let mut acquires = [
            semaphore.acquire_many(1),
            semaphore.acquire_many(2),
            semaphore.acquire_many(2),
        ];
        for (task, acquire) in tasks.iter().zip(&mut acquires) {
            task.pending(acquire);
        }
        semaphore.add_permits(4);
        let wakes: Vec<usize> = tasks.iter().map(Task::wakes).collect();
        assert_eq!(
            wakes,
            [1, 1, 0],
            "1 + 2 served; the third holds the last permit and waits"
        );
        assert_eq!(semaphore.granted_to_waiters(), 1 + 2 + 1);
        assert_eq!(semaphore.available_permits(), 0);
    }

    #[test]
    fn polling_a_queued_waiter_again_does_not_wake_it_again() {
        let semaphore = Semaphore::new(0);
        let task = Task::new();
        let mut acquire = semaphore.acquire();
        for _ in 0..3 {
            task.pending(&mut acquire);
        }
        semaphore.add_permits(1);
        semaphore.add_permits(1);
        assert_eq!(task.wakes(), 1, "woken once for its one hand-off");
        let _permit = task.ready(&mut acquire).expect("served");
        assert_eq!(semaphore.available_permits(), 1);
    }

    #[test]
    fn a_waiter_polled_by_a_new_task_is_woken_through_the_new_waker() {
        let semaphore = Semaphore::new(0);
        let (old, new) = (Task::new(), Task::new());
        let mut acquire = semaphore.acquire();
        old.pending(&mut acquire);
        new.pending(&mut acquire);
        semaphore.add_permits(1);
        assert_eq!((old.wakes(), new.wakes()), (0, 1));
    }

    #[test]
    fn close_fails_every_waiter_and_every_later_acquire() {
        let semaphore = Semaphore::new(0);
        let (a, b) = (Task::new(), Task::new());
        let (mut acquire_a, mut acquire_b) = (semaphore.acquire(), semaphore.acquire_many(2));
        a.pending(&mut acquire_a);
        b.pending(&mut acquire_b);
        semaphore.close();
        assert!(semaphore.is_closed());
        assert_eq!((a.wakes(), b.wakes()), (1, 1));
        let error = a.ready(&mut acquire_a).unwrap_err();
        assert!(error.to_string().contains("semaphore was closed"), "{error}");
        assert!(b.ready(&mut acquire_b).is_err());

        semaphore.add_permits(5);
        assert_eq!(semaphore.try_acquire().unwrap_err(), TryAcquireError::Closed);
        assert!(a.ready(&mut semaphore.acquire()).is_err());
        assert_eq!(
            semaphore.available_permits(),
            5,
            "permits are kept, just never handed out"
        );
    }

    #[test]
    fn close_takes_back_partial_grants_and_permits_out_still_return() {
        let semaphore = Semaphore::new(3);
        let held = semaphore.try_acquire().expect("free");
        let task = Task::new();
        let mut acquire = semaphore.acquire_many(5);
        task.pending(&mut acquire);
        assert_eq!(semaphore.granted_to_waiters(), 2);
        semaphore.close();
        assert_eq!(semaphore.available_permits(), 2);
        assert!(task.ready(&mut acquire).is_err());
        drop(held);
        assert_eq!(semaphore.available_permits(), 3);
    }

    #[test]
    fn a_waiter_handed_its_permits_before_close_still_gets_them() {
        let semaphore = Semaphore::new(0);
        let task = Task::new();
        let mut acquire = semaphore.acquire();
        task.pending(&mut acquire);
        semaphore.add_permits(1);
        semaphore.close();
        assert_eq!(task.wakes(), 1, "woken by the hand-off, not again by close");
        assert!(task.ready(&mut acquire).is_ok());
    }

    #[test]
    fn dropping_a_waiter_with_a_partial_grant_passes_it_to_the_next_waiter() {
        let semaphore = Semaphore::new(2);
        let (a, b) = (Task::new(), Task::new());
        let mut acquire_a = semaphore.acquire_many(3);
        a.pending(&mut acquire_a);
        let mut acquire_b = semaphore.acquire_many(2);
        b.pending(&mut acquire_b);
        assert_eq!(semaphore.granted_to_waiters(), 2, "A holds 2 of its 3");

        drop(acquire_a);
        assert_eq!(b.wakes(), 1, "A's 2 permits flowed to B");
        let permit_b = b.ready(&mut acquire_b).expect("served");
        assert_eq!(permit_b.num_permits(), 2);
        assert_eq!(semaphore.available_permits(), 0);
    }

    #[test]
    fn dropping_a_waiter_between_its_hand_off_and_its_poll_passes_the_permits_on() {
        let semaphore = Semaphore::new(0);
        let (a, b) = (Task::new(), Task::new());
        let (mut acquire_a, mut acquire_b) = (semaphore.acquire(), semaphore.acquire());
        a.pending(&mut acquire_a);
        b.pending(&mut acquire_b);
        semaphore.add_permits(1);
        assert_eq!(a.wakes(), 1);
        drop(acquire_a);
        assert_eq!(b.wakes(), 1);
        assert!(b.ready(&mut acquire_b).is_ok());
    }

    #[test]
    fn forget_shrinks_the_total_and_add_permits_restores_it() {
        let semaphore = Semaphore::new(3);
        semaphore.try_acquire_many(2).expect("free").forget();
        assert_eq!(semaphore.available_permits(), 1);
        semaphore.add_permits(2);
        assert_eq!(semaphore.available_permits(), 3);
    }

    #[test]
    fn acquiring_zero_permits_waits_only_for_those_queued_ahead() {
        let semaphore = Semaphore::new(0);
        let task = Task::new();
        assert!(
            task.ready(&mut semaphore.acquire_many(0)).is_ok(),
            "nobody ahead: done at once"
        );
        let mut ahead = semaphore.acquire();
        task.pending(&mut ahead);
        let mut zero = semaphore.acquire_many(0);
        task.pending(&mut zero);
        drop(ahead);
        assert_eq!(task.ready(&mut zero).expect("served").num_permits(), 0);
    }

    #[test]
    fn a_waker_may_use_the_semaphore_while_it_is_being_woken() {
        let semaphore = Semaphore::new(0);
        let inside = semaphore.clone();
        let task = Task::reentrant(move || {
            // Would panic with "already borrowed" if the hand-off woke us under its borrow.
            let _ = inside.try_acquire();
            assert_eq!(inside.available_permits(), 1);
        });
        let mut acquire = semaphore.acquire();
        task.pending(&mut acquire);
        semaphore.add_permits(2);
        assert_eq!(task.wakes(), 1);
    }

    #[test]
    #[should_panic(expected = "polled after it completed")]
    fn polling_an_acquire_after_it_completed_is_a_bug() {
        let semaphore = Semaphore::new(1);
        let task = Task::new();
        let mut acquire = semaphore.acquire();
        let _permit = task.ready(&mut acquire);
        let _ = task.poll(&mut acquire);
    }

    /// One waiter in the cancellation script.
    struct Waiter {
        /// Counts this waiter's wake-ups.
        task: Task,
        /// The pending acquire; `None` once it completed or was cancelled.
        acquire: Option<Acquire>,
        /// What the acquire returned, held until the script's `Finish` step drops it.
        permit: Option<Permit>,
    }

    /// What the script does at each step, before the victim may be cancelled.
    #[derive(Debug, Clone, Copy)]
    enum Step {
        /// Nothing: the waiters' first polls (so cancelling here drops an unpolled future).
        Start,
        /// Drop one of the permits held since the start.
        Release,
        /// The numbered waiter, if it completed, drops its permit.
        Finish(usize),
    }

    /// Runs the script with waiters wanting `wants` from a semaphore of `TOTAL` permits, all
    /// held at first and released one by one, then each waiter's permit dropped in turn.
    /// `victim` is cancelled (its future or its permit dropped) right after step `cancel_at`,
    /// before anyone polls again. After every step all permits must be accounted for; at the
    /// end every other waiter must have been served, woken exactly once.
    fn run_cancel_script(wants: &[usize], victim: usize, cancel_at: usize) {
        const TOTAL: usize = 4;
        let semaphore = Semaphore::new(TOTAL);
        let mut held: Vec<Permit> = (0..TOTAL).map(|_| semaphore.try_acquire().expect("all free")).collect();
        let mut waiters: Vec<Waiter> = wants
            .iter()
            .map(|&n| Waiter {
                task: Task::new(),
                acquire: Some(semaphore.acquire_many(n)),
                permit: None,
            })
            .collect();
        let steps: Vec<Step> = [Step::Start]
            .into_iter()
            .chain((0..TOTAL).map(|_| Step::Release))
            .chain((0..wants.len()).map(Step::Finish))
            .collect();

        for (index, step) in steps.iter().enumerate() {
            match *step {
                Step::Start => {}
                Step::Release => drop(held.pop()),
                Step::Finish(who) => drop(waiters[who].permit.take()),
            }
            if index == cancel_at {
                waiters[victim].acquire = None;
                waiters[victim].permit = None;
            }
            for waiter in &mut waiters {
                let Some(acquire) = &mut waiter.acquire else { continue };
                if let Poll::Ready(result) = waiter.task.poll(acquire) {
                    waiter.permit = Some(result.expect("the semaphore is never closed here"));
                    waiter.acquire = None;
                }
            }
            let permits: Vec<&Permit> = held
                .iter()
                .chain(waiters.iter().filter_map(|w| w.permit.as_ref()))
                .collect();
            assert_eq!(
                accounted(&semaphore, &permits),
                TOTAL,
                "{wants:?} victim {victim} at {cancel_at}, {step:?}"
            );
        }

        for (who, waiter) in waiters.iter().enumerate().filter(|(who, _)| *who != victim) {
            assert!(
                waiter.acquire.is_none(),
                "{wants:?} victim {victim} at {cancel_at}: waiter {who} starved"
            );
            assert_eq!(
                waiter.task.wakes(),
                1,
                "{wants:?} victim {victim} at {cancel_at}: waiter {who}"
            );
        }
        assert_eq!(semaphore.queued(), 0);
        assert_eq!(
            semaphore.available_permits(),
            TOTAL,
            "{wants:?} victim {victim} at {cancel_at}"
        );
    }

    #[test]
    fn cancelling_any_waiter_at_any_step_never_loses_or_duplicates_a_permit() {
        for wants in [[2, 3, 1], [3, 1, 2], [1, 4, 2], [4, 4, 1]] {
            let steps = 1 + 4 + wants.len();
            for victim in 0..wants.len() {
                for cancel_at in 0..steps {
                    run_cancel_script(&wants, victim, cancel_at);
                }
            }
        }
    }
}

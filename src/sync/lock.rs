//! A mutual-exclusion lock that owns the value it protects: asyncio's `Lock`, shaped like
//! tokio's `Mutex`.
//!
//! Read first: [`super::semaphore`], because a `Lock` *is* a one-permit semaphore plus a value.
//!
//! asyncio's `Lock` guards nothing in particular: you call `acquire()`/`release()` and promise
//! to touch the shared state only in between. Rust can keep that promise for you: the `Lock`
//! owns the `T`, and the only way to reach it is through the [`LockGuard`] that
//! [`Lock::lock`] returns. Dropping the guard unlocks; there is no `release` to forget.
//!
//! # Why build it on the semaphore
//!
//! The hard parts of a fair lock are the hard parts of a fair semaphore: FIFO hand-off, no
//! barging, and a cancelled waiter giving back what it was handed. [`Semaphore`] already gets
//! those right and is tested for them, so the lock reuses it with one permit instead of
//! repeating the logic. What it costs is small: a `usize` where a `bool` would do, and one
//! `Rc` allocation per lock. The value sits in a `RefCell`; the permit guarantees at most one
//! guard exists, so borrowing it never fails.
//!
//! # Fairness and cancellation
//!
//! Unlocking hands the lock straight to the longest-waiting [`Lock::lock`] future; a
//! [`Lock::try_lock`] never takes it from under a queued waiter. Dropping a pending `lock()`
//! future leaves the queue, and if the lock had already been handed to it, passes the lock on
//! to the next waiter.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::semaphore::{Acquire, Permit, Semaphore};
use crate::waits_on::{self, Parked};

/// An async mutex owning a `T`; [`lock`](Lock::lock) it to reach the value.
///
/// `!Send`, like everything in this module. Share it between tasks through an `Rc`.
///
/// # Examples
///
/// Three tasks each read the counter, yield, and write it back. Holding the guard across the
/// `await` (asyncio's `async with lock:`) keeps them from losing each other's updates:
///
/// ```
/// use std::rc::Rc;
/// use evloop::sync::Lock;
///
/// let total = evloop::run(async {
///     let counter = Rc::new(Lock::new(0));
///     let tasks = (0..3).map(|_| {
///         let counter = counter.clone();
///         async move {
///             let mut guard = counter.lock().await;
///             let seen = *guard;
///             evloop::yield_now().await; // the other tasks queue for the lock meanwhile
///             *guard = seen + 1;
///         } // dropping the guard unlocks, handing the lock to the next task in line
///     });
///     evloop::gather_all(tasks).await;
///     *counter.lock().await
/// });
/// assert_eq!(total, 3);
/// ```
pub struct Lock<T: ?Sized> {
    /// One permit: whoever holds it holds the lock. Never closed.
    semaphore: Semaphore,
    /// The protected value. Only a [`LockGuard`] borrows it, and the permit ensures there is
    /// at most one guard, so `borrow_mut` cannot fail.
    value: RefCell<T>,
}

impl<T> Lock<T> {
    /// An unlocked lock holding `value`.
    pub fn new(value: T) -> Self {
        Lock {
            semaphore: Semaphore::new(1),
            value: RefCell::new(value),
        }
    }

    /// Takes the value out, consuming the lock (no guard can exist: they borrow the lock).
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Lock<T> {
    /// Waits for the lock, in FIFO order behind earlier callers, and returns its guard
    /// (asyncio's `await lock.acquire()`; dropping the guard is `release()`).
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future before it completes gives up its place in the queue,
    /// and if the lock had already been handed to it, passes the lock to the next waiter. The
    /// lock is never left locked by a future that was dropped.
    #[doc(alias = "acquire")]
    pub fn lock(&self) -> LockAcquire<'_, T> {
        LockAcquire {
            lock: self,
            acquire: self.semaphore.acquire(),
        }
    }

    /// Takes the lock if it is free and nobody is queued for it; never waits.
    ///
    /// # Examples
    ///
    /// Unlocking hands the lock straight to the task waiting for it, so a `try_lock` right
    /// after the unlock finds it taken (no barging):
    ///
    /// ```
    /// use std::rc::Rc;
    /// use evloop::sync::Lock;
    ///
    /// evloop::run(async {
    ///     let lock = Rc::new(Lock::new("value"));
    ///     let guard = lock.try_lock().expect("nobody holds it yet");
    ///     let waiter = evloop::spawn({
    ///         let lock = lock.clone();
    ///         async move { *lock.lock().await }
    ///     });
    ///     evloop::yield_now().await; // the waiter queues for the lock
    ///     drop(guard);
    ///     assert!(lock.try_lock().is_err(), "already handed to the waiter");
    ///     assert_eq!(waiter.await.expect("not cancelled"), "value");
    ///     assert!(lock.try_lock().is_ok());
    /// });
    /// ```
    pub fn try_lock(&self) -> Result<LockGuard<'_, T>, TryLockError> {
        let permit = self.semaphore.try_acquire().map_err(|_| TryLockError(()))?;
        Ok(self.guard(permit))
    }

    /// True while a guard exists or the lock has been handed to a waiter that has not yet
    /// run: asyncio's `Lock.locked()`.
    #[doc(alias = "locked")]
    pub fn is_locked(&self) -> bool {
        self.semaphore.available_permits() == 0
    }

    /// Reaches the value directly: `&mut self` proves nobody else can hold the lock.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// Wraps a permit of this lock's semaphore into a guard.
    fn guard(&self, permit: Permit) -> LockGuard<'_, T> {
        let value = self.value.borrow_mut();
        LockGuard {
            value,
            _permit: permit,
            lock: self,
        }
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Lock");
        match self.value.try_borrow() {
            Ok(value) if !self.is_locked() => out.field("value", &&*value),
            _ => out.field("value", &format_args!("<locked>")),
        };
        out.finish()
    }
}

/// Access to the value of a locked [`Lock`]; dropping it unlocks (handing the lock to the
/// next waiter, if any).
#[must_use = "dropping the guard unlocks the lock at once"]
pub struct LockGuard<'a, T: ?Sized> {
    /// The borrow of the value. Declared first so it is dropped before the permit: the value
    /// is released before the lock passes to the next waiter, who borrows it in turn.
    value: RefMut<'a, T>,
    /// The lock's one permit; dropping it is the unlock.
    _permit: Permit,
    /// Which lock this guard came from, so a [`Condition`](super::Condition) can re-lock it.
    lock: &'a Lock<T>,
}

impl<'a, T: ?Sized> LockGuard<'a, T> {
    /// The lock this guard locks. An associated function (`LockGuard::source(&guard)`) so it
    /// does not shadow methods of `T` reached through `Deref`.
    pub fn source(guard: &Self) -> &'a Lock<T> {
        guard.lock
    }
}

impl<T: ?Sized> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.value, f)
    }
}

/// The future returned by [`Lock::lock`]; resolves to the [`LockGuard`].
#[must_use = "futures do nothing unless polled; this one queues for the lock on its first poll"]
pub struct LockAcquire<'a, T: ?Sized> {
    /// The lock being waited for.
    lock: &'a Lock<T>,
    /// The wait for its one permit; its `Drop` is what makes cancelling safe.
    acquire: Acquire,
}

impl<'a, T: ?Sized> Future for LockAcquire<'a, T> {
    type Output = LockGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Poll::Ready(permit) = Pin::new(&mut this.acquire).poll(cx) else {
            // The task dump should say "a lock", not "its semaphore".
            waits_on::relabel(|parked| match parked {
                Parked::Semaphore { place, .. } => Parked::Lock { place },
                other => other,
            });
            return Poll::Pending;
        };
        let permit = permit.expect("a Lock never closes its semaphore, so acquiring cannot fail");
        Poll::Ready(this.lock.guard(permit))
    }
}

impl<T: ?Sized> fmt::Debug for LockAcquire<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockAcquire").field("acquire", &self.acquire).finish()
    }
}

/// [`Lock::try_lock`] found the lock held, or promised to a queued waiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the lock is held or other tasks are queued for it; await lock() to wait your turn")
    }
}

impl std::error::Error for TryLockError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::Task;
    use std::rc::Rc;

    #[test]
    fn the_guard_reaches_the_value_and_unlocks_on_drop() {
        let lock = Lock::new(vec![1]);
        let task = Task::new();
        let mut guard = task.ready(&mut lock.lock());
        guard.push(2);
        assert!(lock.is_locked());
        drop(guard);
        assert!(!lock.is_locked());
        assert_eq!(lock.into_inner(), [1, 2]);
    }

    #[test]
    fn try_lock_fails_while_the_lock_is_held_and_says_what_to_do() {
        let lock = Lock::new(0);
        let guard = lock.try_lock().expect("unlocked");
        let error = lock.try_lock().unwrap_err();
        assert!(error.to_string().contains("await lock()"), "{error}");
        drop(guard);
        assert!(lock.try_lock().is_ok());
    }

    #[test]
    fn waiters_get_the_lock_in_arrival_order_each_woken_once() {
        let lock = Lock::new(Vec::new());
        let tasks = [Task::new(), Task::new(), Task::new()];
        let holder = lock.try_lock().expect("unlocked");
        let mut waiting: Vec<LockAcquire<'_, Vec<usize>>> = (0..3).map(|_| lock.lock()).collect();
        for (task, future) in tasks.iter().zip(&mut waiting) {
            task.pending(future);
        }
        drop(holder);
        for (who, (task, future)) in tasks.iter().zip(&mut waiting).enumerate() {
            let wakes: Vec<usize> = tasks.iter().map(Task::wakes).collect();
            let expected: Vec<usize> = (0..3).map(|i| usize::from(i <= who)).collect();
            assert_eq!(wakes, expected, "only the first {} waiters have been woken", who + 1);
            let mut guard = task.ready(future);
            guard.push(who);
        }
        assert_eq!(*lock.try_lock().expect("everyone is done"), [0, 1, 2]);
    }

    #[test]
    fn try_lock_cannot_take_the_lock_once_it_is_handed_to_a_waiter() {
        let lock = Lock::new(());
        let task = Task::new();
        let holder = lock.try_lock().expect("unlocked");
        let mut waiter = lock.lock();
        task.pending(&mut waiter);
        drop(holder);
        assert!(lock.is_locked(), "handed over, so still locked");
        assert!(lock.try_lock().is_err());
        let _guard = task.ready(&mut waiter);
    }

    #[test]
    fn dropping_a_queued_lock_future_lets_the_next_waiter_in() {
        let lock = Lock::new(());
        let (a, b) = (Task::new(), Task::new());
        let holder = lock.try_lock().expect("unlocked");
        let (mut lock_a, mut lock_b) = (lock.lock(), lock.lock());
        a.pending(&mut lock_a);
        b.pending(&mut lock_b);
        drop(lock_a);
        drop(holder);
        assert_eq!((a.wakes(), b.wakes()), (0, 1));
        let _guard = b.ready(&mut lock_b);
    }

    #[test]
    fn dropping_a_lock_future_after_the_hand_off_passes_the_lock_on() {
        let lock = Lock::new(());
        let (a, b) = (Task::new(), Task::new());
        let holder = lock.try_lock().expect("unlocked");
        let (mut lock_a, mut lock_b) = (lock.lock(), lock.lock());
        a.pending(&mut lock_a);
        b.pending(&mut lock_b);
        drop(holder);
        drop(lock_a);
        assert_eq!((a.wakes(), b.wakes()), (1, 1));
        let _guard = b.ready(&mut lock_b);
        assert!(lock.is_locked());
    }

    #[test]
    fn a_waker_may_touch_the_lock_while_the_unlock_wakes_it() {
        let lock = Rc::new(Lock::new(7));
        let inside = lock.clone();
        let task = Task::reentrant(move || {
            // The value borrow and the semaphore borrow are both released before the wake.
            assert!(inside.try_lock().is_err(), "the lock was handed to us");
            assert!(inside.is_locked());
        });
        let holder = lock.try_lock().expect("unlocked");
        let mut waiter = lock.lock();
        task.pending(&mut waiter);
        drop(holder);
        assert_eq!(*task.ready(&mut waiter), 7);
    }

    #[test]
    fn debug_shows_the_value_only_when_unlocked() {
        let lock = Lock::new(5);
        assert_eq!(format!("{lock:?}"), "Lock { value: 5 }");
        let guard = lock.try_lock().expect("unlocked");
        assert_eq!(format!("{lock:?}"), "Lock { value: <locked> }");
        assert_eq!(format!("{guard:?}"), "5");
    }

    #[test]
    fn get_mut_reaches_the_value_without_locking() {
        let mut lock = Lock::new(1);
        *lock.get_mut() += 1;
        assert_eq!(*lock.try_lock().expect("unlocked"), 2);
    }
}

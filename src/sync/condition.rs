//! Waiting until the state behind a [`Lock`] changes: asyncio's `Condition`.
//!
//! Read first: [`super::lock`]; a condition is only ever used together with a lock.
//!
//! The pattern: lock, check the state, and if it is not what you need, [`Condition::wait`]:
//! that gives the lock up, sleeps until another task calls [`Condition::notify`], and takes
//! the lock back before returning, so you can check again. [`Condition::wait_for`] is that
//! loop written once.
//!
//! asyncio's `Condition` owns its lock. Here, as with `std::sync::Condvar`, the lock travels
//! with its guard: `wait` takes the [`LockGuard`] and gives one back, so the type system
//! guarantees you held the lock when you started waiting (asyncio checks this at run time).
//! Use one condition with one lock. `notify` does not need the guard, but the usual discipline
//! applies: change the state while holding the lock, then notify.
//!
//! # Fairness
//!
//! Waiters are notified in the order they started waiting. A notification is handed off: the
//! waiter is unlinked and woken, and it has been notified even if it is slow to run. It then
//! queues for the lock like any other [`Lock::lock`] caller, so re-locking is FIFO too. A
//! notified waiter is woken once for the notification and, if the lock was busy, once more
//! when the lock is handed to it.
//!
//! # Cancellation
//!
//! Dropping a [`ConditionWait`] before it is notified just removes it. Dropping it *after* it
//! was notified (before it polled, or while it was re-taking the lock) would swallow the
//! notification, so its `Drop` passes it on: it calls `notify(1)` for the next waiter, as
//! CPython's `Condition.wait` does when it is cancelled. The worst case is a spurious wake-up,
//! which callers must already tolerate; a lost notification would be a hang.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::lock::{Lock, LockAcquire, LockGuard};
use super::waiters::{WaitList, WaiterKey, Wakers, remember_waker, wake_all};
use crate::waits_on::{self, Parked};

/// A queue of tasks waiting for the state behind a [`Lock`] to change. Share it through an
/// `Rc`, next to the lock it goes with.
///
/// # Examples
///
/// A consumer waits until the producer has put two items behind the lock (asyncio's
/// `async with cond: await cond.wait_for(predicate)`, and `cond.notify()` on the other side):
///
/// ```
/// use std::rc::Rc;
/// use evloop::sync::{Condition, Lock};
///
/// let seen = evloop::run(async {
///     let (items, changed) = (Rc::new(Lock::new(Vec::new())), Rc::new(Condition::new()));
///     let consumer = evloop::spawn({
///         let (items, changed) = (items.clone(), changed.clone());
///         async move {
///             let guard = changed.wait_for(items.lock().await, |items| items.len() >= 2).await;
///             guard.to_vec() // the lock is held here, and the predicate holds
///         }
///     });
///     for item in ["a", "b"] {
///         items.lock().await.push(item); // change the state under the lock, then notify
///         changed.notify(1);
///         evloop::yield_now().await;
///     }
///     consumer.await.expect("not cancelled")
/// });
/// assert_eq!(seen, ["a", "b"]);
/// ```
pub struct Condition {
    /// Tasks waiting to be notified, oldest first, each with the waker to call. `notify`
    /// unlinks them: unlinked means notified.
    waiters: RefCell<WaitList<Option<Waker>>>,
}

impl Condition {
    /// A condition nobody waits on yet.
    pub fn new() -> Self {
        Condition {
            waiters: RefCell::new(WaitList::new()),
        }
    }

    /// Releases the lock behind `guard`, waits to be notified, re-takes the lock (FIFO) and
    /// returns its guard. Like every condition variable it may return without the state having
    /// changed (someone else got there first, or a cancelled waiter passed its notification
    /// on), so check again: [`wait_for`](Self::wait_for) does that for you.
    ///
    /// The lock is released on the future's first poll, when it starts waiting.
    ///
    /// # Cancel safety
    /// Dropping the future never leaves the lock locked and never loses a notification:
    /// dropped before its first poll, it just unlocks (dropping the guard); dropped while
    /// waiting, it leaves the queue; dropped after being notified (before re-taking the lock,
    /// or while re-taking it), it passes the notification to the next waiter. The guard is
    /// not returned, so the caller no longer holds the lock.
    pub fn wait<'a, T: ?Sized>(&self, guard: LockGuard<'a, T>) -> ConditionWait<'a, '_, T> {
        ConditionWait {
            condition: self,
            stage: Stage::Unpolled(Some(guard)),
        }
    }

    /// Waits until `predicate` holds for the value behind the lock, re-checking after every
    /// notification, and returns the guard with the lock held. Checks first, so it returns at
    /// once if the predicate already holds.
    ///
    /// # Cancel safety
    /// As for [`wait`](Self::wait): the lock is released and any notification received is
    /// passed on.
    pub async fn wait_for<'a, T: ?Sized>(
        &self,
        mut guard: LockGuard<'a, T>,
        mut predicate: impl FnMut(&T) -> bool,
    ) -> LockGuard<'a, T> {
        while !predicate(&guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Notifies up to `n` of the waiting tasks, oldest first, and returns how many it
    /// notified. A notification with nobody waiting is not remembered (as in asyncio).
    pub fn notify(&self, n: usize) -> usize {
        let mut waiters = self.waiters.borrow_mut();
        let mut to_wake = Wakers::default();
        let mut notified = 0;
        while notified < n {
            let Some(key) = waiters.pop_front() else { break };
            to_wake.push(waiters.get_mut(key).take());
            notified += 1;
        }
        drop(waiters);
        wake_all(to_wake);
        notified
    }

    /// Notifies every waiting task; returns how many.
    pub fn notify_all(&self) -> usize {
        self.notify(usize::MAX)
    }

    /// How many tasks are waiting to be notified.
    pub fn waiters(&self) -> usize {
        self.waiters.borrow().len()
    }
}

impl Default for Condition {
    fn default() -> Self {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Condition");
        match self.waiters.try_borrow() {
            Ok(waiters) => out.field("waiters", &waiters.len()),
            Err(_) => out.field("waiters", &"<borrowed>"),
        };
        out.finish()
    }
}

/// The future returned by [`Condition::wait`]; resolves to the re-taken [`LockGuard`].
#[must_use = "futures do nothing unless polled; this one releases the lock and waits on its first poll"]
pub struct ConditionWait<'a, 'c, T: ?Sized> {
    /// The condition being waited on.
    condition: &'c Condition,
    /// Where in its life the future is.
    stage: Stage<'a, T>,
}

/// The life of a [`ConditionWait`]: `Unpolled -> Waiting -> Relocking -> Done`.
enum Stage<'a, T: ?Sized> {
    /// Not polled yet: still holding the caller's guard, so the lock is still held. An
    /// `Option` only so the first poll can move the guard out.
    Unpolled(Option<LockGuard<'a, T>>),
    /// Registered and the lock released; notified once the entry is unlinked.
    Waiting {
        /// Our slot in the condition's queue.
        key: WaiterKey,
        /// The lock to re-take once notified.
        lock: &'a Lock<T>,
    },
    /// Notified; queued for the lock.
    Relocking(LockAcquire<'a, T>),
    /// Returned `Ready`.
    Done,
}

impl<'a, T: ?Sized> Future for ConditionWait<'a, '_, T> {
    type Output = LockGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match &mut this.stage {
                Stage::Unpolled(guard) => {
                    let guard = guard
                        .take()
                        .expect("the guard is only taken here, right before leaving Unpolled");
                    let lock = LockGuard::source(&guard);
                    let mut waiters = this.condition.waiters.borrow_mut();
                    let key = waiters.push_back(Some(cx.waker().clone()));
                    waits_on::note(Parked::Condition {
                        place: waiters.place_at_back(),
                    });
                    drop(waiters);
                    this.stage = Stage::Waiting { key, lock };
                    // Unlock only after registering, and with no borrow held: unlocking may
                    // wake a task whose waker re-enters this condition.
                    drop(guard);
                    return Poll::Pending;
                }
                Stage::Waiting { key, lock } => {
                    let (key, lock) = (*key, *lock);
                    let mut waiters = this.condition.waiters.borrow_mut();
                    if waiters.is_queued(key) {
                        remember_waker(waiters.get_mut(key), cx.waker());
                        waits_on::note(Parked::Condition {
                            place: waiters.place(key),
                        });
                        return Poll::Pending;
                    }
                    waiters.remove(key);
                    drop(waiters);
                    this.stage = Stage::Relocking(lock.lock());
                }
                Stage::Relocking(acquire) => {
                    let guard = std::task::ready!(Pin::new(acquire).poll(cx));
                    this.stage = Stage::Done;
                    return Poll::Ready(guard);
                }
                Stage::Done => panic!("`ConditionWait` polled after it completed; a future must not be polled again"),
            }
        }
    }
}

impl<T: ?Sized> Drop for ConditionWait<'_, '_, T> {
    fn drop(&mut self) {
        let notified = match self.stage {
            Stage::Waiting { key, .. } => {
                let mut waiters = self.condition.waiters.borrow_mut();
                let notified = !waiters.is_queued(key);
                waiters.remove(key);
                notified
            }
            Stage::Relocking(_) => true,
            Stage::Unpolled(_) | Stage::Done => false,
        };
        if notified {
            // We were given a notification we will never act on: pass it on.
            self.condition.notify(1);
        }
    }
}

impl<T: ?Sized> fmt::Debug for ConditionWait<'_, '_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.stage {
            Stage::Unpolled(_) => "Unpolled",
            Stage::Waiting { .. } => "Waiting",
            Stage::Relocking(_) => "Relocking",
            Stage::Done => "Done",
        };
        f.debug_struct("ConditionWait").field("stage", &stage).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::Task;
    use std::pin::pin;

    #[test]
    fn wait_releases_the_lock_and_holds_it_again_when_it_returns() {
        let (lock, condition) = (Lock::new(0), Condition::new());
        let (waiter, notifier) = (Task::new(), Task::new());
        let mut wait = condition.wait(lock.try_lock().expect("unlocked"));
        assert!(lock.is_locked(), "nothing happens before the first poll");
        waiter.pending(&mut wait);
        assert!(!lock.is_locked(), "waiting gave the lock up");

        let mut guard = notifier.ready(&mut lock.lock());
        *guard = 1;
        assert_eq!(condition.notify(1), 1);
        assert_eq!(waiter.wakes(), 1);
        waiter.pending(&mut wait);
        assert_eq!(
            waiter.wakes(),
            1,
            "notified, now queued for the lock the notifier holds"
        );
        drop(guard);
        assert_eq!(waiter.wakes(), 2, "woken again when the lock is handed over");
        let guard = waiter.ready(&mut wait);
        assert_eq!(*guard, 1);
        assert!(lock.is_locked());
    }

    #[test]
    fn notify_serves_waiters_in_the_order_they_started_waiting() {
        let (lock, condition) = (Lock::new(()), Condition::new());
        let tasks = [Task::new(), Task::new(), Task::new()];
        let mut waits = Vec::new();
        for task in &tasks {
            let mut wait = condition.wait(lock.try_lock().expect("unlocked"));
            task.pending(&mut wait);
            waits.push(wait);
        }
        assert_eq!(condition.notify(2), 2);
        assert_eq!(tasks.iter().map(Task::wakes).collect::<Vec<_>>(), [1, 1, 0]);
        assert_eq!(condition.notify_all(), 1);
        assert_eq!(tasks.iter().map(Task::wakes).collect::<Vec<_>>(), [1, 1, 1]);
        let first = tasks[0].ready(&mut waits[0]);
        tasks[1].pending(&mut waits[1]);
        tasks[2].pending(&mut waits[2]);
        drop(first);
        assert_eq!(
            tasks.iter().map(Task::wakes).collect::<Vec<_>>(),
            [1, 2, 1],
            "the lock goes to the second"
        );
    }

    #[test]
    fn a_notify_with_nobody_waiting_is_not_remembered() {
        let (lock, condition) = (Lock::new(()), Condition::new());
        let task = Task::new();
        assert_eq!(condition.notify(1), 0);
        let mut wait = condition.wait(lock.try_lock().expect("unlocked"));
        task.pending(&mut wait);
        assert_eq!(task.wakes(), 0);
        assert_eq!(condition.waiters(), 1);
    }

    #[test]
    fn a_waiter_dropped_before_it_is_notified_does_not_absorb_a_notify() {
        let (lock, condition) = (Lock::new(()), Condition::new());
        let (a, b) = (Task::new(), Task::new());
        let mut wait_a = condition.wait(lock.try_lock().expect("unlocked"));
        a.pending(&mut wait_a);
        let mut wait_b = condition.wait(lock.try_lock().expect("unlocked"));
        b.pending(&mut wait_b);
        drop(wait_a);
        assert_eq!(condition.notify(1), 1);
        assert_eq!(b.wakes(), 1);
        let _guard = b.ready(&mut wait_b);
    }

    #[test]
    fn a_notified_waiter_that_is_dropped_passes_the_notification_on() {
        let (lock, condition) = (Lock::new(()), Condition::new());
        let (a, b) = (Task::new(), Task::new());
        let mut wait_a = condition.wait(lock.try_lock().expect("unlocked"));
        a.pending(&mut wait_a);
        let mut wait_b = condition.wait(lock.try_lock().expect("unlocked"));
        b.pending(&mut wait_b);
        condition.notify(1);
        assert_eq!((a.wakes(), b.wakes()), (1, 0));
        drop(wait_a);
        assert_eq!(b.wakes(), 1, "A's notification went to B");
        assert_eq!(condition.waiters(), 0);
        let _guard = b.ready(&mut wait_b);
    }

    #[test]
    fn a_waiter_dropped_while_retaking_the_lock_passes_the_notification_on() {
        let (lock, condition) = (Lock::new(()), Condition::new());
        let (a, b) = (Task::new(), Task::new());
        let mut wait_a = condition.wait(lock.try_lock().expect("unlocked"));
        a.pending(&mut wait_a);
        let mut wait_b = condition.wait(lock.try_lock().expect("unlocked"));
        b.pending(&mut wait_b);
        let holder = lock.try_lock().expect("nobody holds it while both wait");
        condition.notify(1);
        a.pending(&mut wait_a);
        drop(wait_a);
        assert_eq!(b.wakes(), 1, "A's notification went to B");
        b.pending(&mut wait_b);
        drop(holder);
        assert_eq!(b.wakes(), 2);
        let _guard = b.ready(&mut wait_b);
        assert_eq!(a.wakes(), 1, "A was woken only by its own notification");
    }

    #[test]
    fn dropping_a_wait_before_its_first_poll_just_unlocks() {
        let (lock, condition) = (Lock::new(()), Condition::new());
        let wait = condition.wait(lock.try_lock().expect("unlocked"));
        drop(wait);
        assert!(!lock.is_locked());
        assert_eq!(condition.waiters(), 0);
    }

    #[test]
    fn wait_for_rechecks_the_predicate_after_every_notification() {
        let (lock, condition) = (Lock::new(0), Condition::new());
        let (waiter, producer) = (Task::new(), Task::new());
        let guard = waiter.ready(&mut lock.lock());
        let mut wait_for = pin!(condition.wait_for(guard, |count| *count >= 2));
        waiter.pending(&mut wait_for);
        for round in 1..=2 {
            *producer.ready(&mut lock.lock()) += 1;
            condition.notify_all();
            if round == 1 {
                waiter.pending(&mut wait_for);
                assert_eq!(condition.waiters(), 1, "1 is not enough: waiting again");
            }
        }
        let guard = waiter.ready(&mut wait_for);
        assert_eq!(*guard, 2);
    }

    #[test]
    fn wait_for_returns_at_once_when_the_predicate_already_holds() {
        let (lock, condition) = (Lock::new(3), Condition::new());
        let task = Task::new();
        let guard = lock.try_lock().expect("unlocked");
        let guard = task.ready(&mut pin!(condition.wait_for(guard, |n| *n == 3)));
        assert_eq!(*guard, 3);
    }

    /// What the notifier does at each step of the cancellation script.
    #[derive(Debug, Clone, Copy)]
    enum Step {
        /// Every waiter locks and starts waiting (so cancelling before it means never starting).
        Start,
        /// The notifier takes the lock if it is free, so notified waiters must queue for it.
        TakeLock,
        /// The notifier releases the lock, if it holds it.
        ReleaseLock,
        /// `notify(1)`.
        Notify,
    }

    /// Three tasks wait on a condition; the notifier sends two single notifications, taking
    /// and releasing the lock around each, and every live waiter is polled after each step (a
    /// waiter that returns drops its guard at once). `victim` is dropped right after step
    /// `cancel_at`. Fewer notifications than waiters means each must make exactly one waiter
    /// return: one swallowed by the dropped victim would leave a survivor stranded.
    fn run_cancel_script(victim: usize, cancel_at: usize) {
        let context = format!("victim {victim}, cancel at {cancel_at}");
        let (lock, condition) = (Lock::new(()), Condition::new());
        let tasks = [Task::new(), Task::new(), Task::new()];
        let mut waits: Vec<Option<ConditionWait<'_, '_, ()>>> = (0..3).map(|_| None).collect();
        let mut returned = [false; 3];
        let mut holder = None;
        let steps = [
            Step::Start,
            Step::TakeLock,
            Step::Notify,
            Step::ReleaseLock,
            Step::TakeLock,
            Step::Notify,
            Step::ReleaseLock,
        ];
        for (index, step) in steps.iter().enumerate() {
            match step {
                Step::Start => {
                    for (task, wait) in tasks.iter().zip(&mut waits) {
                        let mut future = condition.wait(lock.try_lock().expect("each waiter releases it"));
                        task.pending(&mut future);
                        *wait = Some(future);
                    }
                }
                Step::TakeLock => holder = lock.try_lock().ok(),
                Step::ReleaseLock => holder = None,
                Step::Notify => drop(condition.notify(1)),
            }
            if index == cancel_at {
                waits[victim] = None;
            }
            for (who, (task, wait)) in tasks.iter().zip(&mut waits).enumerate() {
                if wait.as_mut().is_some_and(|future| task.poll(future).is_ready()) {
                    returned[who] = true;
                    *wait = None;
                }
            }
        }
        assert!(holder.is_none());
        let returned_count = returned.iter().filter(|&&r| r).count();
        assert_eq!(
            returned_count, 2,
            "{context}: each notification returns exactly one waiter"
        );
        for (who, task) in tasks.iter().enumerate().filter(|(who, _)| *who != victim) {
            assert!(
                task.wakes() <= 2,
                "{context}: waiter {who} woken {} times",
                task.wakes()
            );
        }
        // If the victim returned, it used one notification and one survivor rightly waits on.
        let still_waiting = usize::from(returned[victim]);
        assert_eq!(condition.waiters(), still_waiting, "{context}");
        assert!(!lock.is_locked(), "{context}");
    }

    #[test]
    fn cancelling_a_waiter_at_any_step_never_loses_a_notification() {
        for victim in 0..3 {
            for cancel_at in 0..7 {
                run_cancel_script(victim, cancel_at);
            }
        }
    }
}

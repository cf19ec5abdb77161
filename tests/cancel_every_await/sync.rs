//! The waiting primitives of `evloop::sync` (`Semaphore`, `Lock`, `Event`, `Condition`,
//! `CancellationToken`), cancelled at every await point. Each scenario has a second party queued
//! *behind* it (a follower), so whatever the cancelled future had been handed must reach that
//! follower: if it is lost, the follower never finishes and the check says so.

use std::pin::pin;
use std::rc::Rc;

use evloop::sync::{CancellationToken, Condition, Event, Lock, Semaphore};
use evloop::time::sleep;
use evloop::{JoinHandle, spawn, yield_now};

use crate::support::cancel::cancel_at_every_await;
use crate::{finished, ms, now_or_never};
/// A semaphore, a holder that releases its permits at 10 ms, and a follower queued at 1 ms.
struct Permits {
    semaphore: Semaphore,
    total: usize,
    holder: JoinHandle<()>,
    follower: JoinHandle<()>,
}

/// `total` permits, `held` of them taken by the holder, and a follower that wants `follower`.
fn contended(total: usize, held: usize, follower: usize) -> Permits {
    let semaphore = Semaphore::new(total);
    let permit = semaphore.try_acquire_many(held).expect("free at set-up");
    let holder = spawn(async move {
        sleep(ms(10)).await;
        drop(permit);
    });
    let sem = semaphore.clone();
    let follower = spawn(async move {
        sleep(ms(1)).await;
        let _permit = sem.acquire_many(follower).await.expect("never closed");
        sleep(ms(1)).await;
    });
    Permits {
        semaphore,
        total,
        holder,
        follower,
    }
}

async fn permits_are_whole(p: Permits) {
    finished(p.holder, "the holder").await;
    finished(
        p.follower,
        "the follower queued behind the scenario (a permit or a wake was lost)",
    )
    .await;
    assert_eq!(p.semaphore.available_permits(), p.total, "every permit is back");
    assert!(
        format!("{:?}", p.semaphore).contains("queued: 0"),
        "no waiter left queued: {:?}",
        p.semaphore
    );
    let all = p.semaphore.try_acquire_many(p.total).expect("the next acquire works");
    drop(all);
    let one = now_or_never(p.semaphore.acquire()).expect("and so does an awaited one");
    drop(one.expect("never closed"));
}

#[test]
fn a_contended_semaphore_acquire_gives_its_permit_on_wherever_it_is_cancelled() {
    let covered = cancel_at_every_await(
        "Semaphore::acquire, contended",
        || async { contended(1, 1, 1) },
        |p| {
            let semaphore = p.semaphore.clone();
            async move {
                let permit = semaphore.acquire().await.expect("never closed");
                sleep(ms(5)).await;
                drop(permit);
            }
        },
        permits_are_whole,
    );
    covered.assert_exactly(3);
}

#[test]
fn a_partly_granted_acquire_many_gives_its_partial_grant_back() {
    let covered = cancel_at_every_await(
        "Semaphore::acquire_many, partly granted",
        || async { contended(3, 2, 3) },
        |p| {
            let semaphore = p.semaphore.clone();
            async move {
                let permits = semaphore.acquire_many(2).await.expect("never closed");
                sleep(ms(5)).await;
                drop(permits);
            }
        },
        permits_are_whole,
    );
    covered.assert_exactly(3);
}

/// A lock, a holder that unlocks at 10 ms (adding 1), and a follower queued at 1 ms (adding 10).
struct Locked {
    lock: Rc<Lock<u32>>,
    holder: JoinHandle<()>,
    follower: JoinHandle<()>,
}

#[test]
fn a_contended_lock_passes_the_lock_on_wherever_it_is_cancelled() {
    let covered = cancel_at_every_await(
        "Lock::lock, contended",
        || async {
            let lock = Rc::new(Lock::new(0));
            let l = lock.clone();
            let holder = spawn(async move {
                let mut guard = l.lock().await;
                sleep(ms(10)).await;
                *guard += 1;
            });
            let l = lock.clone();
            let follower = spawn(async move {
                sleep(ms(1)).await;
                *l.lock().await += 10;
            });
            yield_now().await; // the holder takes the lock before the scenario starts
            Locked { lock, holder, follower }
        },
        |s| {
            let lock = s.lock.clone();
            async move {
                let mut guard = lock.lock().await;
                *guard += 100;
                sleep(ms(5)).await;
            }
        },
        |s| async move {
            finished(s.holder, "the holder").await;
            finished(
                s.follower,
                "the follower queued behind the scenario (the lock was lost)",
            )
            .await;
            assert!(!s.lock.is_locked(), "the lock is free");
            let guard = s.lock.try_lock().expect("the next lock works");
            assert_eq!(*guard % 100, 11, "holder and follower each ran once: {}", *guard);
        },
    );
    covered.assert_exactly(3);
}

#[test]
fn an_event_wait_leaves_the_event_whole_wherever_it_is_cancelled() {
    let covered = cancel_at_every_await(
        "Event::wait",
        || async {
            let event = Rc::new(Event::new());
            let e = event.clone();
            let setter = spawn(async move {
                sleep(ms(10)).await;
                e.set();
            });
            let e = event.clone();
            let other = spawn(async move {
                sleep(ms(1)).await;
                e.wait().await;
            });
            (event, setter, other)
        },
        |(event, ..)| {
            let event = event.clone();
            async move { event.wait().await }
        },
        |(event, setter, other)| async move {
            finished(setter, "the setter").await;
            finished(other, "the other waiter").await;
            assert!(event.is_set());
            assert!(format!("{event:?}").contains("waiters: 0"), "no waiter left: {event:?}");
            now_or_never(event.wait()).expect("a wait on a set event completes at once");
        },
    );
    covered.assert_exactly(2);
}

/// A lock and its condition, a notifier, and another waiter queued behind the scenario.
struct Cond {
    lock: Rc<Lock<u32>>,
    condition: Rc<Condition>,
    notifier: JoinHandle<()>,
    other: JoinHandle<()>,
}

/// The notifier sets the value to each of `values` in turn, 10 ms apart, each time notifying
/// `notify` waiters and holding the lock 5 ms longer; the other waiter waits for `value >= 1`.
fn condition_with(values: &'static [u32], notify: usize) -> Cond {
    let (lock, condition) = (Rc::new(Lock::new(0)), Rc::new(Condition::new()));
    let (l, c) = (lock.clone(), condition.clone());
    let notifier = spawn(async move {
        for &value in values {
            sleep(ms(10)).await;
            let mut guard = l.lock().await;
            *guard = value;
            c.notify(notify);
            sleep(ms(5)).await;
        }
    });
    let (l, c) = (lock.clone(), condition.clone());
    let other = spawn(async move {
        sleep(ms(1)).await;
        let guard = c.wait_for(l.lock().await, |v| *v >= 1).await;
        c.notify(1); // pass it on, as the scenario does
        drop(guard);
    });
    Cond {
        lock,
        condition,
        notifier,
        other,
    }
}

async fn condition_is_whole(s: Cond) {
    finished(s.notifier, "the notifier").await;
    finished(
        s.other,
        "the waiter queued behind the scenario (a notification was lost)",
    )
    .await;
    assert!(!s.lock.is_locked(), "the lock is free");
    assert_eq!(s.condition.waiters(), 0, "no waiter left queued");
    let mut wait = pin!(s.condition.wait(s.lock.try_lock().expect("free")));
    assert!(now_or_never(wait.as_mut()).is_none(), "the next wait waits");
    assert_eq!(s.condition.notify(1), 1, "and is notified");
    assert!(now_or_never(wait).is_some(), "and takes the lock back");
}

#[test]
fn a_condition_wait_passes_its_notification_on_wherever_it_is_cancelled() {
    let covered = cancel_at_every_await(
        "Condition::wait",
        || async { condition_with(&[1], 1) },
        |s| {
            let (lock, condition) = (s.lock.clone(), s.condition.clone());
            async move {
                let guard = condition.wait(lock.lock().await).await;
                condition.notify(1); // one notification, relayed waiter to waiter
                drop(guard);
            }
        },
        condition_is_whole,
    );
    covered.assert_exactly(3);
}

#[test]
fn a_condition_wait_for_is_whole_wherever_it_is_cancelled() {
    let covered = cancel_at_every_await(
        "Condition::wait_for",
        || async { condition_with(&[1, 2], usize::MAX) },
        |s| {
            let (lock, condition) = (s.lock.clone(), s.condition.clone());
            async move {
                let guard = condition.wait_for(lock.lock().await, |v| *v >= 2).await;
                drop(guard);
            }
        },
        condition_is_whole,
    );
    // Five polls of its own, and one more: the other waiter's relayed notify wakes it early.
    covered.assert_exactly(6);
}

#[test]
fn a_cancellation_tokens_cancelled_is_whole_wherever_it_is_cancelled() {
    let covered = cancel_at_every_await(
        "CancellationToken::cancelled",
        || async {
            let token = CancellationToken::new();
            let child = token.child_token();
            let t = token.clone();
            let canceller = spawn(async move {
                sleep(ms(10)).await;
                t.cancel();
            });
            let other = child.child_token();
            let other = spawn(async move { other.cancelled().await });
            (token, child, canceller, other)
        },
        |(_, child, ..)| {
            let child = child.clone();
            async move { child.cancelled().await }
        },
        |(token, child, canceller, other)| async move {
            finished(canceller, "the canceller").await;
            finished(other, "the other waiter").await;
            assert!(child.is_cancelled());
            now_or_never(child.cancelled()).expect("a cancelled token's cancelled() completes at once");
            assert!(
                token.child_token().is_cancelled(),
                "and its new children start cancelled"
            );
        },
    );
    covered.assert_exactly(2);
}

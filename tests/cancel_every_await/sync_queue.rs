//! The primitives of `evloop::sync` that hand items over (`Queue` put, get and join, and a
//! `oneshot` channel), cancelled at every await point. After each cancellation every item must
//! be accounted for exactly once (delivered, back in the queue, or handed back to its sender),
//! the queue's room must be exactly its `maxsize`, and `join` must see every item done.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use evloop::sync::{Queue, oneshot};
use evloop::time::sleep;
use evloop::{JoinHandle, spawn};

use crate::support::DropProbe;
use crate::support::cancel::cancel_at_every_await;
use crate::{finished, ms, now_or_never};

/// A queue of `maxsize` 1, a helper on the other side, and a follower on the scenario's side.
struct Items {
    queue: Rc<Queue<u32>>,
    /// The items the scenario got.
    got: Rc<RefCell<Vec<u32>>>,
    /// Whether the scenario returned (it was not cancelled).
    returned: Rc<Cell<bool>>,
    helper: JoinHandle<Vec<u32>>,
    follower: JoinHandle<Vec<u32>>,
}

/// Every item is accounted for exactly once, the room is exactly `maxsize`, and `join` is done.
async fn queue_is_whole(s: Items, expected: impl Fn(bool) -> Vec<u32>) {
    let helper = finished(s.helper, "the helper on the other side").await;
    let follower = finished(
        s.follower,
        "the follower queued behind the scenario (an item or room was lost)",
    )
    .await;
    assert!(
        format!("{:?}", s.queue).contains("waiting_getters: 0"),
        "no getter left: {:?}",
        s.queue
    );
    let mut all: Vec<u32> = helper
        .into_iter()
        .chain(follower)
        .chain(s.got.borrow().iter().copied())
        .collect();
    while let Ok(item) = s.queue.try_get() {
        s.queue.task_done().expect("one per item got");
        all.push(item);
    }
    all.sort();
    assert_eq!(all, expected(s.returned.get()), "every item exactly once");
    s.queue.try_put(9).expect("the next put works");
    assert!(s.queue.try_put(10).is_err(), "and the room is still exactly one");
    assert_eq!(s.queue.try_get().expect("the next get works"), 9);
    s.queue.task_done().expect("one per item got");
    now_or_never(s.queue.join()).expect("every item is done, so join completes at once");
}

#[test]
fn a_put_into_a_full_queue_is_whole_wherever_it_is_cancelled() {
    let covered = cancel_at_every_await(
        "Queue::put, full",
        || async {
            let queue = Rc::new(Queue::new(1));
            queue.try_put(1).expect("room for one");
            let q = queue.clone();
            let helper = spawn(async move {
                let mut got = Vec::new();
                for _ in 0..2 {
                    sleep(ms(10)).await;
                    got.push(q.get().await.expect("never closed"));
                    q.task_done().expect("one per item got");
                }
                got
            });
            let q = queue.clone();
            let follower = spawn(async move {
                sleep(ms(1)).await;
                q.put(3).await.expect("never closed");
                Vec::new()
            });
            Items {
                queue,
                got: Rc::default(),
                returned: Rc::default(),
                helper,
                follower,
            }
        },
        |s| {
            let (queue, returned) = (s.queue.clone(), s.returned.clone());
            async move {
                queue.put(2).await.expect("never closed");
                returned.set(true);
            }
        },
        |s| queue_is_whole(s, |put| if put { vec![1, 2, 3] } else { vec![1, 3] }),
    );
    covered.assert_exactly(2);
}

#[test]
fn a_get_from_an_empty_queue_passes_its_item_on_wherever_it_is_cancelled() {
    let covered = cancel_at_every_await(
        "Queue::get, empty",
        || async {
            let queue = Rc::new(Queue::new(1));
            let q = queue.clone();
            let helper = spawn(async move {
                for item in [1, 2] {
                    sleep(ms(10)).await;
                    q.put(item).await.expect("never closed");
                }
                Vec::new()
            });
            let q = queue.clone();
            let follower = spawn(async move {
                sleep(ms(1)).await;
                let item = q.get().await.expect("never closed");
                q.task_done().expect("one per item got");
                vec![item]
            });
            Items {
                queue,
                got: Rc::default(),
                returned: Rc::default(),
                helper,
                follower,
            }
        },
        |s| {
            let (queue, got, returned) = (s.queue.clone(), s.got.clone(), s.returned.clone());
            async move {
                let item = queue.get().await.expect("never closed");
                queue.task_done().expect("one per item got");
                got.borrow_mut().push(item);
                returned.set(true);
            }
        },
        |s| queue_is_whole(s, |_| vec![1, 2]),
    );
    covered.assert_exactly(2);
}

#[test]
fn a_queue_join_is_whole_wherever_it_is_cancelled() {
    let covered = cancel_at_every_await(
        "Queue::join",
        || async {
            let queue = Rc::new(Queue::unbounded());
            queue.try_put(1).expect("unbounded");
            let q = queue.clone();
            let worker = spawn(async move {
                sleep(ms(10)).await;
                q.try_get().expect("one item");
                sleep(ms(5)).await;
                q.task_done().expect("one per item got");
            });
            (queue, worker)
        },
        |(queue, _)| {
            let queue = queue.clone();
            async move { queue.join().await }
        },
        |(queue, worker)| async move {
            finished(worker, "the worker").await;
            assert!(queue.is_empty());
            now_or_never(queue.join()).expect("nothing unfinished: join completes at once");
            queue.try_put(2).expect("the next put works");
            assert!(now_or_never(queue.join()).is_none(), "and join waits for it");
        },
    );
    covered.assert_exactly(2);
}

#[test]
fn a_oneshot_receiver_drops_or_returns_the_value_exactly_once() {
    let covered = cancel_at_every_await(
        "oneshot::Receiver",
        || async {
            let probe = DropProbe::new();
            let (sender, receiver) = oneshot::channel();
            let guard = probe.guard();
            let sent = spawn(async move {
                sleep(ms(10)).await;
                sender.send(guard).is_ok() // if not, the value comes back and is dropped here
            });
            (RefCell::new(Some(receiver)), sent, probe)
        },
        |(receiver, ..)| {
            let receiver = receiver.borrow_mut().take().expect("one scenario per set-up");
            async move {
                let value = receiver.await.expect("the sender sends");
                drop(value);
            }
        },
        |(_, sent, probe)| async move {
            finished(sent, "the sender").await;
            assert_eq!(
                probe.drops(),
                1,
                "the value was dropped exactly once, wherever it ended up"
            );
        },
    );
    covered.assert_exactly(2);
}

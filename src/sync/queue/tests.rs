//! Tests for the queue: ordering, both hand-offs, cancellation on either side, `join`, `close`,
//! and a script that cancels every actor at every step and checks nothing is lost or duplicated.

use super::*;
use crate::sync::test_support::Task;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;

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
    // Under Miri, which interprets every step (the 1386 scripts take minutes there), every tenth
    // script: still every maxsize, order and victim, at cancel points that shift between them.
    let stride = if cfg!(miri) { 10 } else { 1 };
    let mut script = 0;
    for maxsize in [0, 1, 2] {
        for order in orders {
            for victim in 0..7 {
                for cancel_at in 0..=order.len() * 3 {
                    if script % stride == 0 {
                        run_cancel_script(maxsize, order, victim, cancel_at);
                    }
                    script += 1;
                }
            }
        }
    }
}

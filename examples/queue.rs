//! queue: producers and consumers joined by a bounded `Queue`, and three ways to stop them.
//!
//! Mirrors: "Python异步编程:掌握asyncio构建高性能应用" (Python asynchronous programming: mastering
//! asyncio to build high-performance applications), section "生产者-消费者队列" (producer-consumer
//! queue) — seeds/001_3283da4f40090053.txt. Its `pipeline`: `asyncio.Queue(maxsize=…)`,
//! producers that `await queue.put(url)`, consumers that loop on `await queue.get()`, and one
//! `None` "poison pill" (毒丸) per consumer to tell it to stop. Then the other two stopping
//! styles asyncio offers: `task_done()` + `join()` then cancel, and `shutdown()` (`close()`).
//!
//! Run with: `cargo run --example queue [-- --virtual]`
//!
//! What to look for:
//! 1. Backpressure: producers make an item every 50 ms, consumers need 300 ms each, so the
//!    queue fills to 5/5 and a `put` waits ("after waiting … for room") until a consumer takes
//!    an item. An item put while a consumer waits goes straight to it (queue stays at 0/5).
//! 2. The pills are queued *behind* the real items (FIFO), so every item is consumed before
//!    the consumers stop; each consumer takes exactly one pill.
//! 3. With `task_done`/`join`, consumers never end by themselves: `join()` completes when
//!    every item put has been marked done, and then the producer cancels the idle consumers.
//!    Cancelling a task parked in `get()` loses nothing: a `Get` gives back an item it had
//!    been handed before being dropped.
//! 4. `close()` wakes consumers waiting on an empty queue with an error, still delivers items
//!    already queued, and hands a late `put`'s item back in the error.
//!
//! What production runtimes do differently: tokio prefers channels (`mpsc`) to a shared queue:
//! the queue closes by itself when the last sender is dropped, so neither pills nor `close()`
//! are needed, and there is no `join` (track completion yourself). asyncio's `Queue` is
//! unfair: a woken `get` may find its item taken by a newcomer; evloop hands items over.

mod support;

use std::rc::Rc;
use std::time::{Duration, Instant};

use evloop::sync::Queue;
use evloop::time::{now, sleep};

use support::since;

fn main() {
    support::init_logger();
    run(support::virtual_clock_requested());
}

/// Makes 5 items, 50 ms each, and puts them in the queue (waiting while it is full).
async fn producer(name: &'static str, queue: Rc<Queue<Option<String>>>, start: Instant) {
    for i in 0..5 {
        sleep(Duration::from_millis(50)).await; // making an item
        let item = format!("{name}-{i}");
        let asked = now();
        queue.put(Some(item.clone())).await.expect("this queue is never closed");
        let waited = now().duration_since(asked).as_millis();
        let note = if waited > 0 {
            format!(" after waiting {waited} ms for room")
        } else {
            String::new()
        };
        println!(
            "  [{}] {name} put {item}{note} (queue {}/{})",
            since(start),
            queue.len(),
            queue.maxsize()
        );
    }
}

/// Takes items until it takes a poison pill (`None`); each item takes 300 ms.
async fn pill_consumer(name: &'static str, queue: Rc<Queue<Option<String>>>, start: Instant) {
    let mut count = 0;
    while let Some(item) = queue.get().await.expect("this queue is never closed") {
        println!("  [{}] {name} got {item}; working 300 ms", since(start));
        sleep(Duration::from_millis(300)).await;
        count += 1;
    }
    println!(
        "  [{}] {name} got a poison pill after {count} items: stopping",
        since(start)
    );
}

/// Takes items forever, marking each one done with `task_done` when it has been processed.
async fn forever_consumer(name: &'static str, queue: Rc<Queue<String>>, start: Instant) {
    loop {
        let item = queue.get().await.expect("this queue is never closed");
        sleep(Duration::from_millis(200)).await;
        println!("  [{}] {name} processed {item}; task_done()", since(start));
        queue.task_done().expect("task_done is called once per item gotten");
    }
}

/// Takes items until `get` fails because the queue was closed and drained.
async fn closing_consumer(name: &'static str, queue: Rc<Queue<String>>, start: Instant) {
    loop {
        match queue.get().await {
            Ok(item) => {
                println!("  [{}] {name} got {item:?}; working 200 ms", since(start));
                sleep(Duration::from_millis(200)).await;
            }
            Err(error) => {
                println!("  [{}] {name}: get() failed: {error}", since(start));
                return;
            }
        }
    }
}

pub fn run(virtual_clock: bool) {
    let runtime = support::runtime(virtual_clock);
    const CONSUMERS: [&str; 3] = ["C0", "C1", "C2"];

    runtime.block_on(async {
        println!("-- 1. 2 producers, 3 consumers, Queue::new(5), one poison pill per consumer --");
        let start = now();
        let queue = Rc::new(Queue::new(5));
        let consumers = CONSUMERS.map(|name| evloop::spawn(pill_consumer(name, queue.clone(), start)));
        let producers = ["P0", "P1"].map(|name| producer(name, queue.clone(), start));
        evloop::gather_all(producers).await;
        println!(
            "  [{}] main: producers done; putting {} pills (None)",
            since(start),
            CONSUMERS.len()
        );
        for _ in CONSUMERS {
            queue.put(None).await.expect("this queue is never closed");
        }
        for consumer in consumers {
            consumer.await.expect("consumers neither panic nor get cancelled");
        }
        println!(
            "  [{}] main: every consumer has stopped; queue {}/5",
            since(start),
            queue.len()
        );

        println!("-- 2. task_done + join: consumers loop forever; join, then cancel them --");
        let start = now();
        let queue = Rc::new(Queue::new(5));
        let consumers = CONSUMERS.map(|name| evloop::spawn(forever_consumer(name, queue.clone(), start)));
        for i in 0..6 {
            queue.put(format!("job-{i}")).await.expect("this queue is never closed");
        }
        println!("  [{}] main: put job-0..job-5; awaiting queue.join()", since(start));
        queue.join().await;
        println!(
            "  [{}] main: join() returned: all 6 marked done. Cancelling the consumers",
            since(start)
        );
        for consumer in &consumers {
            consumer.cancel();
        }
        for (name, consumer) in CONSUMERS.iter().zip(consumers) {
            match consumer.await {
                Err(error) if error.is_cancelled() => println!("  {name}: parked in get(), now {error}"),
                other => println!("  {name}: unexpected outcome {other:?}"),
            }
        }

        println!("-- 3. close(): blocked consumers are released, late puts are refused --");
        let start = now();
        let queue = Rc::new(Queue::new(5));
        let consumers = ["C0", "C1"].map(|name| evloop::spawn(closing_consumer(name, queue.clone(), start)));
        sleep(Duration::from_millis(100)).await;
        queue
            .put("last order".to_string())
            .await
            .expect("the queue is still open");
        println!("  [{}] main: put \"last order\", then close()", since(start));
        queue.close();
        if let Err(refused) = queue.put("too late".to_string()).await {
            println!(
                "  [{}] main: put after close failed, item handed back: {:?}",
                since(start),
                refused.0
            );
        }
        for consumer in consumers {
            consumer.await.expect("consumers neither panic nor get cancelled");
        }
        println!("  [{}] main: both consumers returned", since(start));
    });
}

//! Our waker: cheap on the loop's thread, harmless when stale, usable from other threads and
//! after the loop is gone.

mod support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use evloop::{spawn, yield_now};

/// A future that parks once, leaving its waker in `slot`, and completes on the next poll.
fn park_once(slot: Rc<RefCell<Option<Waker>>>) -> impl std::future::Future<Output = ()> {
    let mut parked = false;
    std::future::poll_fn(move |cx| {
        if parked {
            return Poll::Ready(());
        }
        parked = true;
        *slot.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    })
}

#[test]
fn a_stale_waker_never_wakes_the_task_that_reused_its_slot() {
    evloop::run(async {
        let slot = Rc::new(RefCell::new(None));
        let first = spawn(park_once(slot.clone()));
        yield_now().await;
        let stale: Waker = slot.borrow_mut().take().unwrap();
        stale.wake_by_ref();
        first.await.unwrap();

        // The next task reuses the slab slot of the finished one.
        let polls = Rc::new(Cell::new(0));
        let p = polls.clone();
        let second = spawn(std::future::poll_fn(move |_| {
            p.set(p.get() + 1);
            Poll::<()>::Pending
        }));
        yield_now().await;
        assert_eq!(polls.get(), 1);
        stale.wake_by_ref();
        stale.wake();
        yield_now().await;
        yield_now().await;
        assert_eq!(polls.get(), 1, "the stale waker did not reach the new task");
        second.cancel();
    });
}

#[test]
fn a_waker_woken_from_another_thread_wakes_a_sleeping_loop() {
    let rt = evloop::Runtime::new().unwrap();
    rt.block_on(async {
        let slot = Rc::new(RefCell::new(None));
        let task = spawn(park_once(slot.clone()));
        yield_now().await;
        let waker: Waker = slot.borrow_mut().take().unwrap();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            waker.wake();
        });
        // The loop now blocks in epoll_wait with no timer; only the remote wake can end it.
        task.await.unwrap();
        thread.join().unwrap();
    });
}

#[test]
fn wakers_woken_or_dropped_after_the_runtime_is_gone_do_nothing_bad() {
    let slot = Rc::new(RefCell::new(None));
    let rt = evloop::Runtime::new().unwrap();
    let s = slot.clone();
    rt.block_on(async move {
        let _parked = spawn(park_once(s));
        yield_now().await;
    });
    let waker: Waker = slot.borrow_mut().take().unwrap();
    let clone = waker.clone();
    drop(rt);
    waker.wake_by_ref();
    std::thread::spawn(move || clone.wake()).join().unwrap();
    waker.wake();
}

#[test]
fn call_soon_threadsafe_runs_on_the_loop_thread() {
    let rt = evloop::Runtime::new().unwrap();
    let remote = rt.remote();
    let loop_thread = std::thread::current().id();
    let (tx, rx) = std::sync::mpsc::channel();
    let ran_on = rt.block_on(async move {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            remote.call_soon_threadsafe(move || {
                tx.send(std::thread::current().id()).unwrap();
                done_tx.send(()).unwrap();
            });
        });
        while done_rx.try_recv().is_err() {
            evloop::time::sleep(Duration::from_millis(1)).await;
        }
        rx.recv().unwrap()
    });
    assert_eq!(ran_on, loop_thread);
}

#[test]
fn a_main_future_woken_from_another_thread_completes() {
    let rt = evloop::Runtime::new().unwrap();
    let slot = std::sync::Arc::new(std::sync::Mutex::new((false, None::<Waker>)));
    let s = slot.clone();
    let t = std::thread::spawn(move || {
        loop {
            let mut g = s.lock().unwrap();
            if let Some(w) = g.1.take() {
                g.0 = true;
                w.wake();
                return;
            }
            drop(g);
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    rt.block_on(std::future::poll_fn(|cx| {
        let mut g = slot.lock().unwrap();
        if g.0 {
            Poll::Ready(())
        } else {
            g.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }));
    t.join().unwrap();
}

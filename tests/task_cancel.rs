//! `JoinHandle::cancel`: the future is dropped at its await point, exactly once, and never
//! polled again.

mod support;

use std::cell::{Cell, RefCell};
use std::future::pending;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use evloop::{spawn, yield_now};
use support::{DropProbe, Log, virtual_runtime};

/// A future that counts its polls and never completes.
fn counted_pending(polls: Rc<Cell<u32>>) -> impl std::future::Future<Output = ()> {
    std::future::poll_fn(move |_| {
        polls.set(polls.get() + 1);
        Poll::Pending
    })
}

#[test]
fn cancel_drops_the_future_once_runs_destructors_and_never_polls_again() {
    let probe = DropProbe::new();
    let polls = Rc::new(Cell::new(0));
    let (p, pr) = (polls.clone(), probe.clone());
    let outer = probe.clone();
    evloop::run(async move {
        let guard = pr.guard();
        let task = spawn(async move {
            let _resource = guard;
            counted_pending(p).await;
        });
        yield_now().await;
        assert_eq!(polls.get(), 1);
        assert_eq!(probe.drops(), 0);
        assert!(task.cancel());
        assert!(!task.cancel(), "a second cancel asks for nothing");
        let error = task.await.unwrap_err();
        assert!(error.is_cancelled());
        assert!(!error.is_panic());
        assert_eq!(probe.drops(), 1, "the resource was released exactly once");
        assert_eq!(polls.get(), 1, "a cancelled task is never polled again");
        assert_eq!(evloop::stats().tasks, 0);
    });
    assert_eq!(outer.drops(), 1);
}

#[test]
fn a_task_cancelled_before_its_first_poll_never_runs() {
    let polls = Rc::new(Cell::new(0));
    let p = polls.clone();
    evloop::run(async move {
        let task = spawn(counted_pending(p));
        task.cancel();
        assert!(task.await.unwrap_err().is_cancelled());
    });
    assert_eq!(polls.get(), 0);
}

#[test]
fn cancelling_a_finished_task_does_nothing() {
    evloop::run(async {
        let task = spawn(async { 3 });
        yield_now().await;
        assert!(task.is_finished());
        assert!(!task.cancel());
        assert_eq!(task.await.unwrap(), 3);
    });
}

#[test]
fn cancel_removes_the_tasks_timer_from_the_wheel() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let task = spawn(evloop::time::sleep(Duration::from_secs(3600)));
        yield_now().await;
        assert_eq!(evloop::stats().timers, 1);
        task.cancel();
        let _ = task.await;
        assert_eq!(evloop::stats().timers, 0, "the sleep's Drop took its entry out");
    });
}

#[test]
fn a_task_can_cancel_itself_and_finishes_its_current_step() {
    let log = Log::new();
    let l = log.clone();
    evloop::run(async move {
        let slot: Rc<RefCell<Option<evloop::JoinHandle<()>>>> = Rc::new(RefCell::new(None));
        let s = slot.clone();
        let l2 = l.clone();
        let task = spawn(async move {
            yield_now().await;
            s.borrow().as_ref().unwrap().cancel();
            l2.push("after cancelling myself (same step)");
            yield_now().await;
            l2.push("never printed");
        });
        *slot.borrow_mut() = Some(task);
        for _ in 0..5 {
            yield_now().await;
        }
        let task = slot.borrow_mut().take().unwrap();
        assert!(task.await.unwrap_err().is_cancelled());
    });
    assert_eq!(log.take(), ["after cancelling myself (same step)"]);
}

#[test]
fn cleanup_in_drop_may_use_the_loop() {
    // A destructor that spawns and schedules callbacks while its task is being cancelled.
    struct Cleanup(Log);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let l = self.0.clone();
            self.0.push("cleanup starts");
            drop(spawn(async move { l.push("task spawned by cleanup ran") }));
        }
    }
    let log = Log::new();
    let l = log.clone();
    evloop::run(async move {
        let c = Cleanup(l.clone());
        let task = spawn(async move {
            let _c = c;
            pending::<()>().await;
        });
        yield_now().await;
        task.cancel();
        let _ = task.await;
        yield_now().await;
    });
    assert_eq!(log.take(), ["cleanup starts", "task spawned by cleanup ran"]);
}

#[test]
fn dropping_the_runtime_cancels_live_tasks_and_runs_their_destructors() {
    let probe = DropProbe::new();
    let rt = virtual_runtime();
    for _ in 0..3 {
        let g = probe.guard();
        let _detached = rt.spawn(async move {
            let _g = g;
            evloop::time::sleep(Duration::from_secs(10)).await;
        });
    }
    rt.block_on(yield_now());
    assert_eq!(rt.stats().tasks, 3);
    assert_eq!(probe.drops(), 0);
    drop(rt);
    assert_eq!(probe.drops(), 3);
}

#[test]
fn dropping_a_join_handle_detaches_the_task() {
    let log = Log::new();
    let l = log.clone();
    let rt = virtual_runtime();
    rt.block_on(async move {
        drop(spawn(async move {
            evloop::time::sleep(Duration::from_secs(1)).await;
            l.push("detached task finished");
        }));
        evloop::time::sleep(Duration::from_secs(2)).await;
    });
    assert_eq!(log.take(), ["detached task finished"]);
}

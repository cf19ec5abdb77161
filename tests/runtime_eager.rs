//! Eager task start (`Builder::eager_tasks`, `spawn_eager`; asyncio 3.12's
//! `eager_task_factory`): the new task runs inside `spawn` until its first await.

mod support;

use std::time::Duration;

use evloop::time::sleep;
use evloop::{Runtime, current_id, spawn, spawn_eager, yield_now};
use support::{Log, capture_exceptions, virtual_runtime};

fn eager_runtime() -> Runtime {
    Runtime::builder().virtual_clock().eager_tasks(true).build().unwrap()
}

/// The order of a parent that spawns a child with one await in it.
fn order_on(rt: &Runtime) -> Vec<String> {
    let log = Log::new();
    let l = log.clone();
    rt.block_on(async move {
        let child = {
            let l = l.clone();
            spawn(async move {
                l.push("child: first step");
                yield_now().await;
                l.push("child: second step");
            })
        };
        l.push("parent: after spawn");
        child.await.unwrap();
        l.push("parent: joined");
    });
    log.take()
}

#[test]
fn without_eager_start_the_child_first_runs_after_the_parent_steps_aside() {
    assert_eq!(
        order_on(&virtual_runtime()),
        [
            "parent: after spawn",
            "child: first step",
            "child: second step",
            "parent: joined"
        ]
    );
}

#[test]
fn with_eager_start_the_child_runs_inside_spawn_until_its_first_await() {
    assert_eq!(
        order_on(&eager_runtime()),
        [
            "child: first step",
            "parent: after spawn",
            "child: second step",
            "parent: joined"
        ]
    );
}

#[test]
fn an_eager_task_that_never_waits_is_done_before_spawn_returns_and_never_queued() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let before = evloop::stats();
        let task = spawn_eager(async { 7 });
        assert!(task.is_finished());
        let after = evloop::stats();
        assert_eq!(after.wakes.total(), before.wakes.total(), "nothing was queued");
        assert_eq!(after.polls - before.polls, 1);
        assert_eq!(after.tasks, before.tasks, "it is already gone from the slab");
        assert_eq!(task.await.unwrap(), 7);
    });
}

#[test]
fn nested_eager_spawns_each_see_their_own_id_and_the_spawner_gets_its_own_back() {
    let rt = eager_runtime();
    let log = Log::new();
    let l = log.clone();
    rt.block_on(async move {
        let outer = spawn(async move {
            let me = current_id().unwrap();
            let inner = spawn({
                let l = l.clone();
                async move {
                    let inner_me = current_id().unwrap();
                    l.push(format!("inner is itself: {}", inner_me != me));
                    let innermost = spawn(async { current_id().unwrap() });
                    l.push(format!("innermost finished inside: {}", innermost.is_finished()));
                    l.push(format!("inner's id restored: {}", current_id() == Some(inner_me)));
                    sleep(Duration::from_millis(5)).await;
                    innermost.await.unwrap()
                }
            });
            l.push(format!("outer's id restored: {}", current_id() == Some(me)));
            inner.await.unwrap()
        });
        let innermost = outer.await.unwrap();
        assert_ne!(Some(innermost), current_id());
    });
    assert_eq!(
        log.take(),
        [
            "inner is itself: true",
            "innermost finished inside: true",
            "inner's id restored: true",
            "outer's id restored: true"
        ]
    );
    assert_eq!(rt.stats().tasks, 0);
}

#[test]
fn a_panic_in_an_eager_first_step_goes_to_the_tasks_handle_not_the_spawner() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let task = spawn_eager(async {
            panic!("boom in the first step");
        });
        assert!(task.is_finished());
        let error = task.await.unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.panic_message(), Some("boom in the first step"));
    });
}

#[test]
fn a_panic_in_a_detached_eager_task_reaches_the_exception_handler() {
    let rt = eager_runtime();
    let reports = capture_exceptions(&rt);
    rt.block_on(async {
        drop(spawn(async {
            yield_now().await;
            panic!("later boom");
        }));
        drop(spawn(async {
            panic!("first-step boom");
        }));
        sleep(Duration::from_millis(1)).await;
    });
    let reports = reports.take();
    assert_eq!(reports.len(), 2, "{reports:?}");
    // The first-step panic is reported as soon as its (already finished) handle is dropped.
    assert!(reports[0].contains("first-step boom"), "{reports:?}");
    assert!(reports[1].contains("later boom"), "{reports:?}");
}

#[test]
fn spawning_from_outside_the_loop_is_never_eager() {
    let rt = eager_runtime();
    let task = rt.spawn(async { 1 });
    assert!(!task.is_finished(), "it waits for the loop to turn");
    assert_eq!(rt.block_on(task).unwrap(), 1);
}

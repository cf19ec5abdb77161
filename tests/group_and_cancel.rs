//! TaskGroup (structured concurrency), CancellationToken and shield.

mod support;

use std::time::Duration;

use evloop::sync::CancellationToken;
use evloop::time::{now, sleep};
use evloop::{Either, Failure, TaskGroup, select, shield, spawn, yield_now};
use support::{DropProbe, Log, virtual_runtime};

#[test]
fn a_group_waits_for_all_its_tasks() {
    let rt = virtual_runtime();
    let log = Log::new();
    let l = log.clone();
    rt.block_on(async move {
        let start = now();
        let group = TaskGroup::<()>::new();
        for ms in [300u64, 100, 200] {
            let l = l.clone();
            group.spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                l.push(format!("{ms}"));
                Ok(())
            });
        }
        group.join().await.unwrap();
        assert_eq!((now() - start).as_millis(), 300);
    });
    assert_eq!(log.take(), ["100", "200", "300"]);
}

#[test]
fn the_first_failure_cancels_the_siblings_and_every_failure_is_reported() {
    let rt = virtual_runtime();
    let probe = DropProbe::new();
    let p = probe.clone();
    let error = rt.block_on(async move {
        let group = TaskGroup::<String>::new();
        let g = p.guard();
        group.spawn(async move {
            let _g = g;
            sleep(Duration::from_secs(60)).await;
            Ok(())
        });
        group.spawn(async {
            sleep(Duration::from_millis(100)).await;
            Err("page 7 failed".to_string())
        });
        group.spawn(async {
            sleep(Duration::from_millis(100)).await;
            panic!("parser crashed")
        });
        let start = now();
        let error = group.join().await.unwrap_err();
        assert_eq!(
            (now() - start).as_millis(),
            100,
            "the 60 s sibling was cancelled, not awaited"
        );
        assert_eq!(evloop::stats().tasks, 0, "no task of the group is left running");
        error
    });
    assert_eq!(probe.drops(), 1);
    assert_eq!(error.failures.len(), 2, "{error}");
    assert!(matches!(&error.failures[0], Failure::Error { index: 1, error } if error == "page 7 failed"));
    assert!(
        matches!(&error.failures[1], Failure::Panic { index: 2, error } if error.panic_message() == Some("parser crashed"))
    );
    assert!(error.to_string().starts_with("2 task(s) of the group failed"));
}

#[test]
fn tasks_may_spawn_siblings_into_their_group() {
    let rt = virtual_runtime();
    let log = Log::new();
    let l = log.clone();
    rt.block_on(async move {
        let group = TaskGroup::<()>::new();
        let handle = group.clone();
        group.spawn(async move {
            sleep(Duration::from_millis(10)).await;
            let l2 = l.clone();
            handle.spawn(async move {
                sleep(Duration::from_millis(10)).await;
                l2.push("child of the group");
                Ok(())
            });
            l.push("parent done");
            Ok(())
        });
        group.join().await.unwrap();
    });
    assert_eq!(log.take(), ["parent done", "child of the group"]);
}

#[test]
fn dropping_a_group_cancels_what_is_still_running() {
    let rt = virtual_runtime();
    let probe = DropProbe::new();
    let p = probe.clone();
    rt.block_on(async move {
        {
            let group = TaskGroup::<()>::new();
            let g = p.guard();
            group.spawn(async move {
                let _g = g;
                sleep(Duration::from_secs(60)).await;
                Ok(())
            });
            yield_now().await;
        }
        yield_now().await;
        assert_eq!(p.drops(), 1, "the group's task was dropped at the next turn");
        assert_eq!(evloop::stats().tasks, 0);
    });
}

#[test]
fn a_token_lets_a_task_clean_up_asynchronously() {
    let rt = virtual_runtime();
    let log = Log::new();
    let l = log.clone();
    rt.block_on(async move {
        let start = now();
        let token = CancellationToken::new();
        let worker_token = token.clone();
        let worker = spawn(async move {
            let mut done = 0;
            loop {
                match select(worker_token.cancelled(), sleep(Duration::from_millis(100))).await {
                    Either::Left(()) => break,
                    Either::Right(()) => done += 1,
                }
            }
            // Async cleanup: something a destructor could not do.
            sleep(Duration::from_millis(50)).await;
            l.push(format!("flushed {done} items at {} ms", (now() - start).as_millis()));
            done
        });
        sleep(Duration::from_millis(350)).await;
        token.cancel();
        assert_eq!(worker.await.unwrap(), 3);
    });
    assert_eq!(log.take(), ["flushed 3 items at 400 ms"]);
}

#[test]
fn cancelling_a_parent_token_cancels_its_children_but_not_the_reverse() {
    let parent = CancellationToken::new();
    let child = parent.child_token();
    let grandchild = child.child_token();
    let sibling = parent.child_token();
    sibling.cancel();
    assert!(sibling.is_cancelled());
    assert!(!parent.is_cancelled(), "a child never cancels its parent");
    assert!(!child.is_cancelled());
    parent.cancel();
    assert!(child.is_cancelled() && grandchild.is_cancelled());
    let late = parent.child_token();
    assert!(late.is_cancelled(), "a child of a cancelled token starts cancelled");
    evloop::run(async move { grandchild.cancelled().await });
}

#[test]
fn shield_keeps_the_inner_task_alive_when_its_awaiter_is_cancelled() {
    let rt = virtual_runtime();
    let log = Log::new();
    let l = log.clone();
    rt.block_on(async move {
        let outer = spawn(async move {
            let inner = shield(async move {
                sleep(Duration::from_secs(2)).await;
                l.push("shielded work finished");
            });
            let _ = inner.await;
        });
        sleep(Duration::from_secs(1)).await;
        outer.cancel();
        assert!(outer.await.unwrap_err().is_cancelled());
        sleep(Duration::from_secs(2)).await;
    });
    assert_eq!(log.take(), ["shielded work finished"]);
}

#[test]
fn cancellation_scripts_conserve_the_semaphore_on_the_loop() {
    // End to end on the loop: 20 tasks through Semaphore(3); every other one cancelled at a
    // different point. Afterwards all permits are back and the peak never exceeded 3.
    let rt = virtual_runtime();
    rt.block_on(async {
        let sem = evloop::sync::Semaphore::new(3);
        let active = std::rc::Rc::new(std::cell::Cell::new(0));
        let peak = std::rc::Rc::new(std::cell::Cell::new(0));
        /// Counts a holder of a permit for as long as it lives (cancelled holders included).
        struct Holding(std::rc::Rc<std::cell::Cell<u32>>);
        impl Drop for Holding {
            fn drop(&mut self) {
                self.0.set(self.0.get() - 1);
            }
        }
        let mut handles = Vec::new();
        for i in 0..20u64 {
            let (sem, active, peak) = (sem.clone(), active.clone(), peak.clone());
            handles.push(spawn(async move {
                let _permit = sem.acquire().await.unwrap();
                active.set(active.get() + 1);
                let _holding = Holding(active.clone());
                peak.set(peak.get().max(active.get()));
                sleep(Duration::from_millis(10 + i)).await;
            }));
        }
        for (i, h) in handles.iter().enumerate() {
            if i % 2 == 1 {
                sleep(Duration::from_millis(3)).await;
                h.cancel();
            }
        }
        for h in handles {
            let _ = h.await;
        }
        assert_eq!(sem.available_permits(), 3);
        assert_eq!(peak.get(), 3);
        assert_eq!(active.get(), 0);
    });
}

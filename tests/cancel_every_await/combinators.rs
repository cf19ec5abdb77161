//! Every combinator, `TaskGroup`, `shield`, `yield_now` and the timers, cancelled at every
//! await point. The combined futures are *children* that share a one-permit semaphore (so they
//! take turns and have await points of their own) and carry a drop probe: after each
//! cancellation every child future must have been dropped exactly once, every permit must be
//! back, no child task, timer or waker may be left on the loop, and no child may have run on
//! after the scenario was dropped (except where that is the point: `shield`, and the handles
//! `wait` hands back, which detach when dropped).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use evloop::sync::Semaphore;
use evloop::time::{MissedTickBehavior, interval, sleep, timeout};
use evloop::{ReturnWhen, TaskGroup, as_completed, gather, gather_all, race, select, shield, wait, yield_now};

use crate::ms;
use crate::support::DropProbe;
use crate::support::cancel::{Coverage, cancel_at_every_await};

/// What the children share: the permit they take turns on, and counts of children made,
/// dropped, and finished after the scenario was gone.
#[derive(Clone)]
struct Kids {
    semaphore: Semaphore,
    made: Rc<Cell<u32>>,
    dropped: DropProbe,
    /// Set when the scenario future is dropped, completed or cancelled.
    scenario_gone: Rc<Cell<bool>>,
    /// Children that finished their work after that.
    ran_on: Rc<Cell<u32>>,
    /// Whether children may run on after the scenario is gone.
    may_run_on: bool,
}

impl Kids {
    fn new(may_run_on: bool) -> Kids {
        Kids {
            semaphore: Semaphore::new(1),
            made: Rc::default(),
            dropped: DropProbe::new(),
            scenario_gone: Rc::default(),
            ran_on: Rc::default(),
            may_run_on,
        }
    }

    /// A child: takes the permit, holds it for `hold_ms`, returns `Ok(index)`.
    fn child(&self, index: usize, hold_ms: u64) -> impl Future<Output = Result<usize, ()>> + 'static {
        self.made.set(self.made.get() + 1);
        let (semaphore, guard) = (self.semaphore.clone(), self.dropped.guard());
        let (gone, ran_on) = (self.scenario_gone.clone(), self.ran_on.clone());
        async move {
            let _dropped = guard;
            let _permit = semaphore.acquire().await.expect("never closed");
            sleep(ms(hold_ms)).await;
            if gone.get() {
                ran_on.set(ran_on.get() + 1);
            }
            Ok(index)
        }
    }

    async fn are_whole(self) {
        if !self.may_run_on {
            let ran_on = self.ran_on.get();
            assert_eq!(ran_on, 0, "{ran_on} child(ren) ran on after the scenario was dropped");
        }
        assert_eq!(self.semaphore.available_permits(), 1, "the children's permit is back");
        assert!(
            format!("{:?}", self.semaphore).contains("queued: 0"),
            "no child left queued"
        );
        assert_eq!(
            self.dropped.drops(),
            self.made.get(),
            "every child future was dropped exactly once ({} made)",
            self.made.get()
        );
        let next = self.child(9, 1).await;
        assert_eq!(next, Ok(9), "a new child runs");
    }
}

/// Sets its flag when dropped: the scenario future is gone.
struct Gone(Rc<Cell<bool>>);

impl Drop for Gone {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// Runs `scenario` over fresh [`Kids`] whose children must not outlive it, with
/// [`Kids::are_whole`] as the check.
fn with_kids<F>(name: &str, scenario: impl Fn(Kids) -> F) -> Coverage
where
    F: Future<Output = ()> + 'static,
{
    with_kids_that(false, name, scenario)
}

/// [`with_kids`], saying whether children may run on after the scenario is gone.
fn with_kids_that<F>(may_run_on: bool, name: &str, scenario: impl Fn(Kids) -> F) -> Coverage
where
    F: Future<Output = ()> + 'static,
{
    cancel_at_every_await(
        name,
        || async move { Kids::new(may_run_on) },
        |kids| {
            let gone = Gone(kids.scenario_gone.clone());
            let scenario = scenario(kids.clone());
            async move {
                let _gone = gone;
                scenario.await;
            }
        },
        Kids::are_whole,
    )
}

#[test]
fn gather_is_whole_wherever_it_is_cancelled() {
    let covered = with_kids("gather", |kids| async move {
        let outputs = gather([kids.child(0, 10), kids.child(1, 20)]).await;
        assert_eq!(outputs, Ok(vec![0, 1]));
    });
    covered.assert_exactly(3);
}

#[test]
fn gather_all_is_whole_wherever_it_is_cancelled() {
    let covered = with_kids("gather_all", |kids| async move {
        let outcomes = gather_all([kids.child(0, 10), kids.child(1, 20)]).await;
        assert!(outcomes.iter().all(|o| o.is_ok()));
    });
    covered.assert_exactly(3);
}

#[test]
fn wait_and_its_pending_handles_are_whole_wherever_they_are_cancelled() {
    // A dropped handle detaches its task (asyncio semantics), so the pending child may run on.
    let covered = with_kids_that(
        true,
        "wait(FirstCompleted), then the pending handles",
        |kids| async move {
            let waited = wait([kids.child(0, 10), kids.child(1, 20)], ReturnWhen::FirstCompleted).await;
            assert_eq!(waited.done.len(), 1);
            for (_, handle) in waited.pending {
                assert_eq!(handle.await.expect("not cancelled"), Ok(1));
            }
        },
    );
    covered.assert_exactly(3);
}

#[test]
fn as_completed_is_whole_wherever_it_is_cancelled() {
    let covered = with_kids("as_completed", |kids| async move {
        let mut completed = as_completed([kids.child(0, 10), kids.child(1, 20)]);
        let mut order = Vec::new();
        while let Some((index, _)) = completed.next().await {
            order.push(index);
        }
        assert_eq!(order, [0, 1]);
    });
    covered.assert_exactly(3);
}

#[test]
fn select_drops_its_loser_and_is_whole_wherever_it_is_cancelled() {
    let covered = with_kids("select", |kids| async move {
        let winner = select(kids.child(0, 10), kids.child(1, 20)).await;
        assert!(matches!(winner, evloop::Either::Left(Ok(0))));
    });
    covered.assert_exactly(2);
}

#[test]
fn race_drops_its_losers_and_is_whole_wherever_it_is_cancelled() {
    let covered = with_kids("race", |kids| async move {
        let (index, _) = race([kids.child(0, 10), kids.child(1, 20), kids.child(2, 5)]).await;
        assert_eq!(index, 0, "the first to take the permit wins");
    });
    covered.assert_exactly(2);
}

#[test]
fn a_task_group_cancels_its_tasks_wherever_its_join_is_cancelled() {
    let covered = with_kids("TaskGroup: spawn and join", |kids| async move {
        let group = TaskGroup::<()>::new();
        for (index, hold) in [(0, 10), (1, 20)] {
            let child = kids.child(index, hold);
            group.spawn(async move { child.await.map(drop) });
        }
        yield_now().await;
        let late = kids.child(2, 5);
        group.spawn(async move { late.await.map(drop) });
        group.join().await.expect("no child fails");
    });
    covered.assert_exactly(5);
}

#[test]
fn a_task_group_whose_task_spawns_a_sibling_cancels_both_wherever_its_join_is_cancelled() {
    // FAILS (a defect, kept as found): the group's docs say "clone it into a task to let that
    // task spawn siblings" and "a group that is dropped cancels whatever is still running, so
    // leaving the scope never leaves a task behind". Here the first task holds such a clone, so
    // dropping the scenario (its group handle and its `join`) drops no group: the group's tasks
    // are only cancelled by `TaskSet`'s `Drop` (src/combinators/task_set.rs:157), which waits
    // for the last clone, and `join` (src/group.rs:167) cancels nothing when it is dropped
    // unfinished. Both tasks run on after the scope is gone. Once fixed: 3 await points.
    let covered = with_kids("TaskGroup: a task spawns a sibling", |kids| async move {
        let group = TaskGroup::<()>::new();
        let (handle, first, sibling) = (group.clone(), kids.child(0, 10), kids.child(1, 20));
        group.spawn(async move {
            handle.spawn(async move { sibling.await.map(drop) });
            first.await.map(drop)
        });
        group.join().await.expect("no task fails");
    });
    covered.assert_exactly(3);
}

#[test]
fn a_shielded_child_runs_on_wherever_its_awaiter_is_cancelled() {
    let covered = with_kids_that(true, "shield", |kids| async move {
        assert_eq!(shield(kids.child(0, 10)).await.expect("not cancelled"), Ok(0));
    });
    covered.assert_exactly(2);
}

#[test]
fn a_timeout_around_a_sleep_is_whole_wherever_it_is_cancelled() {
    let covered = with_kids("timeout around a sleep", |kids| async move {
        assert!(timeout(ms(10), sleep(ms(20))).await.is_err(), "the sleep is cut short");
        assert_eq!(
            timeout(ms(20), kids.child(0, 5)).await,
            Ok(Ok(0)),
            "the child is in time"
        );
    });
    covered.assert_exactly(3);
}

#[test]
fn sleep_yield_now_and_interval_leave_no_timer_wherever_they_are_cancelled() {
    let slept = with_kids("sleep", |_| async { sleep(ms(10)).await });
    slept.assert_exactly(2);
    let yielded = with_kids("yield_now", |_| async {
        yield_now().await;
        yield_now().await;
    });
    yielded.assert_exactly(3);
    let ticked = with_kids("interval: three ticks", |_| async {
        let mut ticks = interval(ms(10));
        for _ in 0..3 {
            ticks.tick().await;
        }
    });
    ticked.assert_exactly(3);
}

#[test]
#[allow(
    clippy::await_holding_refcell_ref,
    reason = "one future at a time ticks the interval: the scenario, then (once it is gone) the check"
)]
fn a_cancelled_tick_loses_no_tick_of_the_interval_it_leaves_behind() {
    let covered = cancel_at_every_await(
        "Interval::tick, the interval kept",
        || async {
            let mut ticks = interval(ms(10));
            ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
            (
                Rc::new(RefCell::new(ticks)),
                Rc::new(RefCell::new(Vec::new())),
                evloop::time::now(),
            )
        },
        |(ticks, seen, _)| {
            let (ticks, seen) = (ticks.clone(), seen.clone());
            async move {
                for _ in 0..3 {
                    let at = ticks.borrow_mut().tick().await;
                    seen.borrow_mut().push(at);
                }
            }
        },
        |(ticks, seen, start)| async move {
            while seen.borrow().len() < 4 {
                let at = ticks.borrow_mut().tick().await;
                seen.borrow_mut().push(at);
            }
            let expected: Vec<_> = (0..4).map(|n| start + ms(10) * n).collect();
            assert_eq!(*seen.borrow(), expected, "every tick exactly once, on schedule");
        },
    );
    covered.assert_exactly(3);
}

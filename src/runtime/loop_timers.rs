//! The loop's side of its timers: which [`TimerAction`] a sleep's waker gets, and every way an
//! entry leaves the wheel.
//!
//! A sleep polled by one of this loop's tasks with that task's waker, or by the `block_on`
//! future, is *named*: its entry holds the task's id (or `Main`), and nothing is cloned
//! (`task::waker::task_of` tells a task's waker from any other; the task slab confirms the cell
//! is this loop's). Any other waker is kept in [`Core::timer_wakers`], and the entry holds its
//! slot.
//!
//! **Every action that names a slot must be given back** through [`Core::forget_timer`] or
//! fired, or the slot's waker stays in the table until the loop is dropped. Every way an entry
//! leaves the wheel goes through this file: fired ([`Core::fire_timer`]), removed
//! ([`Core::remove_timer`]), or dropped with the wheel at shutdown (which empties the table too).
//!
//! Read first: `runtime/timer_action.rs` (the packed action) and `task/waker.rs` (how a task's
//! waker is told from any other).

use std::task::Waker;

use crate::runtime::core::Core;
use crate::runtime::timer_action::{Action, TimerAction};
use crate::timer::Timers;
use crate::timer::wheel::TimerKey;
use crate::waking;

impl Core {
    /// Registers a timer at `deadline` that wakes `waker`: by the task's id if it is the waker
    /// of one of this loop's tasks, else through a slot in [`Core::timer_wakers`]. `None` if the
    /// deadline's tick has passed (nothing registered: the sleep is due).
    #[inline]
    pub(crate) fn insert_wake_timer(
        &self,
        timers: &mut Timers<TimerAction>,
        deadline: std::time::Instant,
        waker: &Waker,
    ) -> Option<TimerKey> {
        match timers.insert(deadline, self.action_for(waker)) {
            Ok(key) => Some(key),
            Err(action) => {
                self.forget_timer(action);
                None
            }
        }
    }

    /// A sleep whose entry is still in the wheel was polled again, maybe with another waker
    /// (it may have moved to another task): make the entry wake the newest one.
    pub(crate) fn retarget_timer(&self, action: &mut TimerAction, waker: &Waker) {
        match (action.action(), self.named(waker)) {
            (Action::Task(old), Some(Action::Task(new))) if old == new => {}
            (Action::Main, Some(Action::Main)) => {}
            (Action::Waker(slot), None) => {
                let mut wakers = self.timer_wakers.borrow_mut();
                let kept = &mut wakers[slot as usize];
                if !kept.will_wake(waker) {
                    let old = std::mem::replace(kept, waker.clone());
                    drop(wakers);
                    drop(old); // (a waker's drop may run code: outside the borrow)
                }
            }
            _ => {
                let new = self.action_for(waker);
                self.forget_timer(std::mem::replace(action, new));
            }
        }
    }

    /// Takes a timer out of the wheel, if it is still there, and gives back whatever its action
    /// held. The caller must not hold the wheel's borrow.
    #[inline]
    pub(crate) fn remove_timer(&self, key: TimerKey) {
        let removed = self.timers.borrow_mut().wheel.remove(key);
        if let Some(action) = removed {
            self.forget_timer(action);
        }
    }

    /// Gives back what an action that will not fire holds: its waker slot, if it has one (the
    /// waker is dropped after the table's borrow ends).
    #[inline]
    pub(crate) fn forget_timer(&self, action: TimerAction) {
        if let Action::Waker(slot) = action.action() {
            let waker = self.timer_wakers.borrow_mut().remove(slot as usize);
            drop(waker);
        }
    }

    /// Carries out a fired timer's action: queues its task or callback, or wakes its waker.
    #[inline]
    pub(crate) fn fire_timer(&self, action: TimerAction) {
        match action.action() {
            Action::Task(id) => {
                let tasks = self.sched.tasks.borrow();
                // A task that completed since (its sleep moved elsewhere unpolled) is gone.
                if let Some(task) = tasks.get(id.key()) {
                    self.wake_local(task.header());
                }
            }
            Action::Main => self.wake_main(),
            Action::Waker(slot) => {
                let waker = self.timer_wakers.borrow_mut().remove(slot as usize);
                waking::wake(waker);
            }
            Action::Callback(id) => {
                self.callbacks.borrow_mut().timer_fired(id);
                self.sched.schedule_callback(id);
            }
        }
    }

    /// The action that wakes `waker`: its task's id or `Main` if it is one of this loop's, else
    /// a slot holding a clone of it.
    #[inline]
    fn action_for(&self, waker: &Waker) -> TimerAction {
        match self.named(waker) {
            Some(Action::Task(id)) => TimerAction::task(id),
            Some(_) => TimerAction::main(),
            None => self.keep_waker(waker.clone()),
        }
    }

    /// What `waker` is, if the loop can name it without keeping it: a task of this loop
    /// (`Action::Task`) or this loop's `block_on` future (`Action::Main`).
    #[inline]
    fn named(&self, waker: &Waker) -> Option<Action> {
        if let Some(task) = crate::task::waker::task_of(waker) {
            let tasks = self.sched.tasks.borrow();
            let mine = tasks.get(task.id.key()).is_some_and(|raw| raw.is_woken_by(&task));
            return mine.then_some(Action::Task(task.id));
        }
        waker.will_wake(&self.main_waker).then_some(Action::Main)
    }

    /// Keeps `waker` in the side table, for an action that names its slot.
    fn keep_waker(&self, waker: Waker) -> TimerAction {
        let slot = self.timer_wakers.borrow_mut().insert(waker);
        match u32::try_from(slot) {
            Ok(slot) if slot < u32::MAX => TimerAction::waker(slot),
            _ => panic!("more than 2^32 - 1 sleeps wait on wakers the loop cannot name"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::future::{Future, poll_fn};
    use std::pin::{Pin, pin};
    use std::rc::Rc;
    use std::task::Poll;
    use std::time::Duration;

    use crate::runtime::context;
    use crate::sync::test_support::Task;
    use crate::time::{Sleep, now, sleep, sleep_until};

    /// Wakers the running loop keeps for its timers.
    fn kept() -> usize {
        context::with_core(|core| core.timer_wakers.borrow().len())
    }

    fn runtime() -> crate::Runtime {
        crate::Builder::new().virtual_clock().build().expect("a poller")
    }

    #[test]
    fn a_sleep_polled_by_its_own_task_keeps_no_waker_and_wakes_that_task() {
        let ran = runtime().block_on(async {
            let task = crate::spawn(async {
                let mut sleep = pin!(sleep(Duration::from_secs(1)));
                poll_fn(|cx| {
                    let poll = sleep.as_mut().poll(cx);
                    assert_eq!(kept(), 0, "a task's own waker is kept as its id");
                    poll
                })
                .await;
                now()
            });
            let start = now();
            let done = task.await.expect("the task returns");
            assert_eq!(kept(), 0);
            done - start
        });
        assert!(
            ran >= Duration::from_secs(1) && ran < Duration::from_millis(1001),
            "{ran:?}"
        );
    }

    #[test]
    fn a_sleep_moved_to_another_task_wakes_the_task_that_polled_it_last() {
        runtime().block_on(async {
            let shared: Rc<RefCell<Option<Pin<Box<Sleep>>>>> = Rc::default();
            let start = now();
            let first = crate::spawn({
                let shared = shared.clone();
                async move {
                    let mut sleep = Box::pin(sleep(Duration::from_secs(1)));
                    assert!(poll_fn(|cx| Poll::Ready(sleep.as_mut().poll(cx))).await.is_pending());
                    *shared.borrow_mut() = Some(sleep);
                }
            });
            first.await.expect("the first task returns");
            let second = crate::spawn(async move {
                let sleep = shared.borrow_mut().take().expect("the first task left its sleep");
                sleep.await;
                now()
            });
            // Were the entry still naming the first task (gone now), nothing would wake the
            // second: the timeout turns that hang into a failure.
            let woke = crate::time::timeout(Duration::from_secs(5), second)
                .await
                .expect("the moved sleep woke the task that awaits it")
                .expect("the second task returns");
            let took = woke - start;
            assert!(
                took >= Duration::from_secs(1) && took < Duration::from_millis(1001),
                "{took:?}"
            );
            assert_eq!(kept(), 0);
        });
    }

    #[test]
    fn another_waker_is_kept_until_its_timer_fires_and_the_newest_one_is_woken() {
        runtime().block_on(async {
            let (first, second) = (Task::new(), Task::new());
            let mut sleep = pin!(sleep(Duration::from_secs(1)));
            first.pending(&mut sleep);
            assert_eq!(kept(), 1);
            second.pending(&mut sleep);
            assert_eq!(kept(), 1, "the newer waker replaced the older in its slot");
            // The `block_on` future's own sleep is named, not kept.
            let mut own = pin!(crate::time::sleep(Duration::from_secs(2)));
            assert!(poll_fn(|cx| Poll::Ready(own.as_mut().poll(cx))).await.is_pending());
            assert_eq!(kept(), 1);
            own.await;
            assert_eq!((first.wakes(), second.wakes()), (0, 1));
            assert_eq!(kept(), 0, "a fired timer gives its slot back");
            second.ready(&mut sleep);
        });
    }

    #[test]
    fn a_sleep_moving_between_its_task_and_another_waker_keeps_exactly_one_target() {
        runtime().block_on(async {
            let other = Task::new();
            let task = crate::spawn(async move {
                let mut sleep = pin!(sleep(Duration::from_secs(1)));
                // Own task, then another waker, then the own task again: one slot while the
                // other waker is the target, none before or after.
                assert!(poll_fn(|cx| Poll::Ready(sleep.as_mut().poll(cx))).await.is_pending());
                assert_eq!(kept(), 0);
                other.pending(&mut sleep);
                assert_eq!(kept(), 1);
                sleep.await;
                assert_eq!(kept(), 0);
                other.wakes()
            });
            assert_eq!(task.await.expect("the task returns"), 0, "the other waker was replaced");
        });
    }

    #[test]
    fn a_kept_waker_goes_when_its_sleep_is_dropped_is_due_at_once_or_its_loop_shuts_down() {
        let other = Task::new();
        let runtime = runtime();
        let left = runtime.block_on(async {
            {
                let mut sleep = pin!(sleep(Duration::from_secs(1)));
                other.pending(&mut sleep);
                assert_eq!(kept(), 1);
            }
            assert_eq!(kept(), 0, "dropping the sleep gave the slot back");
            let mut due = pin!(sleep_until(now() - Duration::from_secs(1)));
            other.ready(&mut due);
            assert_eq!(kept(), 0, "a sleep already due registers nothing");
            let mut left = Box::pin(sleep(Duration::from_secs(3600)));
            other.pending(&mut left);
            // Handed out of the loop to outlive it; never awaited.
            Some(left)
        });
        assert_eq!(other.waker_refs(), 3, "the test's, its waker's and the loop's");
        drop(runtime);
        assert_eq!(other.waker_refs(), 2, "shutting down dropped the loop's");
        drop(left); // its loop is gone: nothing to remove
        assert_eq!(other.wakes(), 0);
    }
}

//! A flag that tasks can wait for: asyncio's `Event`.
//!
//! Read first: `sync/waiters.rs`, the queue every waiting future sits in.
//!
//! An event is "has it happened yet?". [`Event::wait`] completes at once if the flag is set,
//! and otherwise waits until someone calls [`Event::set`]. [`Event::clear`] lowers the flag
//! again for later waiters. asyncio's counterpart is `asyncio.Event`, and the semantics match
//! it exactly, including one that surprises people: `set` releases every waiter *that is
//! waiting at that moment*, and a released waiter completes even if `clear` runs before it
//! gets to poll. Each waiter is decided individually (its queue entry is unlinked) rather than
//! by re-reading the flag, so a quick `set(); clear();` still lets everyone through.
//!
//! # Fairness
//!
//! There is nothing to hand over, so nothing to be fair about: `set` wakes everyone queued,
//! each exactly once. It is the one "wake all" in this module, and it is what an event means.
//!
//! # Cancellation
//!
//! Dropping an [`EventWait`] removes its entry; nothing else changes, because being released
//! by `set` gives a waiter nothing that others could miss.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::waiters::{Stage, WaitList, Wakers, remember_waker, wake_all};
use crate::waits_on::{self, Parked};

/// A settable, clearable flag that tasks can wait for. Share it through an `Rc`.
///
/// # Examples
///
/// Workers wait for a start signal (asyncio's `await event.wait()`, then `event.set()`):
///
/// ```
/// use std::rc::Rc;
/// use evloop::sync::Event;
///
/// let started = evloop::run(async {
///     let go = Rc::new(Event::new());
///     let workers: Vec<_> = (0..3)
///         .map(|id| {
///             let go = go.clone();
///             evloop::spawn(async move {
///                 go.wait().await;
///                 id
///             })
///         })
///         .collect();
///     evloop::yield_now().await; // every worker runs up to its `wait`
///     assert!(workers.iter().all(|worker| !worker.is_finished()));
///     go.set();
///     let mut started = Vec::new();
///     for worker in workers {
///         started.push(worker.await.expect("not cancelled"));
///     }
///     started
/// });
/// assert_eq!(started, [0, 1, 2]);
/// ```
pub struct Event {
    /// The flag and the waiters, behind one `RefCell` (single-threaded).
    state: RefCell<EventState>,
}

/// What the event knows.
struct EventState {
    /// The flag: `wait` completes at once while it is set.
    is_set: bool,
    /// Futures waiting for the next `set`, each with the waker to call. `set` unlinks all of
    /// them: unlinked means released.
    waiters: WaitList<Option<Waker>>,
}

impl Event {
    /// A new event, not set.
    pub fn new() -> Self {
        Event {
            state: RefCell::new(EventState {
                is_set: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Sets the flag and releases every task waiting right now, waking each once. Does
    /// nothing if the flag is already set (nobody can be waiting then).
    pub fn set(&self) {
        let mut state = self.state.borrow_mut();
        if state.is_set {
            return;
        }
        state.is_set = true;
        let mut to_wake = Wakers::default();
        while let Some(key) = state.waiters.pop_front() {
            to_wake.push(state.waiters.get_mut(key).take());
        }
        drop(state);
        wake_all(to_wake);
    }

    /// Lowers the flag: later `wait`s will wait for the next `set`. Waiters already released
    /// by an earlier `set` still complete.
    ///
    /// # Examples
    ///
    /// A `set` immediately followed by `clear` still lets the current waiter through, as in
    /// asyncio:
    ///
    /// ```
    /// use std::rc::Rc;
    /// use evloop::sync::Event;
    ///
    /// evloop::run(async {
    ///     let event = Rc::new(Event::new());
    ///     let waiter = evloop::spawn({
    ///         let event = event.clone();
    ///         async move { event.wait().await }
    ///     });
    ///     evloop::yield_now().await; // the waiter is waiting now
    ///     event.set();
    ///     event.clear(); // before the released waiter has run again
    ///     assert!(waiter.await.is_ok(), "released by the set");
    ///     assert!(!event.is_set());
    /// });
    /// ```
    pub fn clear(&self) {
        self.state.borrow_mut().is_set = false;
    }

    /// True while the flag is set.
    pub fn is_set(&self) -> bool {
        self.state.borrow().is_set
    }

    /// Waits until the flag is set; completes on the first poll if it already is.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future only removes it from the waiters. Other waiters are
    /// unaffected, and the flag is not touched.
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            stage: Stage::Unpolled,
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Event");
        match self.state.try_borrow() {
            Ok(state) => out
                .field("is_set", &state.is_set)
                .field("waiters", &state.waiters.len()),
            Err(_) => out.field("state", &"<borrowed>"),
        };
        out.finish()
    }
}

/// The future returned by [`Event::wait`].
#[must_use = "futures do nothing unless polled; this one starts waiting on its first poll"]
pub struct EventWait<'a> {
    /// The event being waited for.
    event: &'a Event,
    /// Where in its life the future is. While queued: registered; released once its entry is unlinked.
    stage: Stage,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = this.event.state.borrow_mut();
        match this.stage {
            Stage::Unpolled if state.is_set => {
                this.stage = Stage::Done;
                Poll::Ready(())
            }
            Stage::Unpolled => {
                this.stage = Stage::Queued(state.waiters.push_back(Some(cx.waker().clone())));
                waits_on::note(Parked::Event);
                Poll::Pending
            }
            Stage::Queued(key) if state.waiters.is_queued(key) => {
                remember_waker(state.waiters.get_mut(key), cx.waker());
                waits_on::note(Parked::Event);
                Poll::Pending
            }
            Stage::Queued(key) => {
                state.waiters.remove(key);
                this.stage = Stage::Done;
                Poll::Ready(())
            }
            Stage::Done => panic!("`EventWait` polled after it completed; a future must not be polled again"),
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Stage::Queued(key) = self.stage {
            self.event.state.borrow_mut().waiters.remove(key);
        }
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait").field("stage", &self.stage).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::Task;
    use std::rc::Rc;

    #[test]
    fn wait_completes_at_once_when_the_event_is_already_set() {
        let event = Event::new();
        event.set();
        assert!(event.is_set());
        Task::new().ready(&mut event.wait());
    }

    #[test]
    fn set_releases_every_current_waiter_exactly_once() {
        let event = Event::new();
        let tasks = [Task::new(), Task::new(), Task::new()];
        let mut waits: Vec<EventWait<'_>> = tasks.iter().map(|_| event.wait()).collect();
        for (task, wait) in tasks.iter().zip(&mut waits) {
            task.pending(wait);
            task.pending(wait);
        }
        event.set();
        event.set();
        assert_eq!(tasks.iter().map(Task::wakes).collect::<Vec<_>>(), [1, 1, 1]);
        for (task, wait) in tasks.iter().zip(&mut waits) {
            task.ready(wait);
        }
    }

    #[test]
    fn a_released_waiter_completes_even_if_the_event_is_cleared_before_it_runs() {
        let event = Event::new();
        let task = Task::new();
        let mut wait = event.wait();
        task.pending(&mut wait);
        event.set();
        event.clear();
        assert!(!event.is_set());
        task.ready(&mut wait);
    }

    #[test]
    fn a_waiter_arriving_after_clear_waits_for_the_next_set() {
        let event = Event::new();
        let task = Task::new();
        event.set();
        event.clear();
        let mut wait = event.wait();
        task.pending(&mut wait);
        assert_eq!(task.wakes(), 0);
        event.set();
        assert_eq!(task.wakes(), 1);
        task.ready(&mut wait);
    }

    #[test]
    fn a_dropped_waiter_is_forgotten_and_the_others_are_still_released() {
        let event = Event::new();
        let (a, b) = (Task::new(), Task::new());
        let (mut wait_a, mut wait_b) = (event.wait(), event.wait());
        a.pending(&mut wait_a);
        b.pending(&mut wait_b);
        drop(wait_a);
        assert_eq!(event.state.borrow().waiters.len(), 1);
        event.set();
        assert_eq!((a.wakes(), b.wakes()), (0, 1));
        b.ready(&mut wait_b);
        assert_eq!(event.state.borrow().waiters.slots().count(), 0, "no slot left behind");
    }

    #[test]
    fn dropping_a_released_waiter_before_it_polls_frees_its_slot() {
        let event = Event::new();
        let task = Task::new();
        let mut wait = event.wait();
        task.pending(&mut wait);
        event.set();
        drop(wait);
        assert_eq!(event.state.borrow().waiters.slots().count(), 0);
    }

    #[test]
    fn a_waker_may_use_the_event_while_set_wakes_it() {
        let event = Rc::new(Event::new());
        let inside = event.clone();
        let task = Task::reentrant(move || {
            assert!(inside.is_set());
            inside.clear();
        });
        let mut wait = event.wait();
        task.pending(&mut wait);
        event.set();
        assert!(!event.is_set(), "the waker cleared it");
        task.ready(&mut wait);
    }
}

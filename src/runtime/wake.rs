//! How a wake reaches the loop: the runtime's side of the task core's hook, and the waker of
//! the `block_on` future.
//!
//! Every task carries a [`LoopHandle`], its [`Schedule`] hook (`task/schedule.rs`). A wake runs
//! on whichever thread woke the waker:
//!
//! - **on the loop's own thread**, with that loop running (the thread-local names it), the task
//!   goes straight onto the ready queue: no lock, no allocation;
//! - **anywhere else** (another thread, or this thread while another loop runs), the task's id
//!   travels through the loop's [`Inbox`], and the loop replays it when it next checks for
//!   events.
//!
//! The `block_on` future is not a task (it lives on the caller's stack), so its waker is a
//! separate, simpler one: [`MainWaker`], built with `std::task::Wake`, no `unsafe` needed.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Wake, Waker};

use crate::exception::ExceptionContext;
use crate::runtime::context;
use crate::runtime::core::LoopHandle;
use crate::scheduler::{Inbox, Message};
use crate::task::error::panic_message;
use crate::task::header::Header;
use crate::task::schedule::Schedule;
use crate::task::{JoinError, TaskId};

impl Schedule for LoopHandle {
    #[inline]
    fn schedule(&self, task: &Header) {
        let local = context::try_with_core(|core| {
            let mine = Arc::ptr_eq(&core.inbox, &self.inbox);
            if mine {
                core.wake_local(task);
            }
            mine
        });
        // One message per task in flight: a task woken a million times from another thread
        // while the loop is busy costs the inbox one entry, not a million.
        if local != Some(true) && !task.remote_wake.swap(true, Ordering::AcqRel) {
            self.inbox.send(Message::Wake(task.id));
        }
    }

    fn unretrieved(&self, error: JoinError) {
        report_unretrieved(error);
    }

    fn output_drop_panicked(&self, task: TaskId, payload: Box<dyn Any + Send>) {
        let message = panic_message(&*payload);
        let reported = context::try_with_core(|core| {
            let name = core.task_name(task);
            core.handler.report(&ExceptionContext {
                message: "Dropping a task's unread output panicked",
                task: Some(task),
                task_name: name.as_deref(),
                callback: None,
                panic_message: Some(message),
            });
        });
        if reported.is_none() {
            log::error!(target: "evloop", "dropping the unread output of {task} panicked: {message}");
        }
    }
}

/// Reports a panic whose `JoinHandle` was dropped unread (asyncio logs "Task exception was
/// never retrieved" when such a task is garbage collected).
pub(crate) fn report_unretrieved(error: JoinError) {
    let reported = context::try_with_core(|core| {
        let name = error.id().and_then(|id| core.task_name(id));
        core.report_task_error(&error, name.as_deref());
    });
    if reported.is_none() {
        log::error!(target: "evloop", "Task exception was never retrieved: {error}");
    }
}

/// The waker of the future passed to `block_on`.
pub(crate) struct MainWaker {
    /// The loop whose `block_on` future this wakes.
    pub(crate) inbox: Arc<Inbox>,
}

impl MainWaker {
    /// A `Waker` for the `block_on` future of the loop behind `inbox`.
    pub(crate) fn waker(inbox: &Arc<Inbox>) -> Waker {
        Waker::from(Arc::new(MainWaker { inbox: inbox.clone() }))
    }
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let local = context::try_with_core(|core| {
            let mine = Arc::ptr_eq(&core.inbox, &self.inbox);
            if mine {
                core.wake_main();
            }
            mine
        });
        if local != Some(true) {
            self.inbox.send(Message::Main);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::task::{Poll, Waker};

    use crate::runtime::Runtime;

    #[test]
    fn remote_wakes_of_one_task_cost_the_inbox_one_message_until_the_loop_replays_it() {
        let runtime = Runtime::new().unwrap();
        let kept: Rc<RefCell<Option<Waker>>> = Rc::default();
        let polls = Rc::new(std::cell::Cell::new(0));
        let (slot, count) = (kept.clone(), polls.clone());
        let task = runtime.spawn(std::future::poll_fn(move |cx| {
            count.set(count.get() + 1);
            *slot.borrow_mut() = Some(cx.waker().clone());
            if count.get() < 3 {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }));
        runtime.block_on(crate::spawn::yield_now());
        assert_eq!(polls.get(), 1);
        let waker = kept.borrow_mut().take().unwrap();
        let waker = std::thread::spawn(move || {
            for _ in 0..10_000 {
                waker.wake_by_ref();
            }
            waker
        })
        .join()
        .unwrap();
        assert_eq!(
            runtime.core.inbox.len(),
            1,
            "10,000 wakes while the loop slept: one message"
        );
        runtime.block_on(crate::time::sleep(std::time::Duration::from_millis(1)));
        assert_eq!(polls.get(), 2, "the coalesced wakes polled the task once");
        // The loop replayed the wake, so the next remote wake sends a message again.
        std::thread::spawn(move || waker.wake()).join().unwrap();
        assert_eq!(runtime.core.inbox.len(), 1);
        runtime.block_on(task).unwrap();
        assert_eq!(polls.get(), 3);
    }
}

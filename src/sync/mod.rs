//! Coordination between tasks: asyncio's `Lock`, `Event`, `Condition`, `Semaphore` and
//! `Queue`, plus a one-shot channel.
//!
//! Read first: what a `Waker` is (the async book's "Task wakeups with Waker"). Nothing here
//! touches the runtime: every primitive is a plain future over `std::task`, which is why the
//! tests can drive them by hand with a counting waker, no executor involved.
//!
//! # Single-threaded on purpose
//!
//! evloop runs every task on one thread, so these types keep their state in a `RefCell`
//! (inside an `Rc` where handles are shared) instead of behind atomics and mutexes, and they
//! are `!Send`. To share one between tasks, put it in an `Rc` (or, for [`Semaphore`], clone
//! the handle). Two habits follow from the `RefCell`: a waker is never called while a borrow
//! is held (wakers are collected, the borrow dropped, then `waiters::wake_all` fires them,
//! since a waker may re-enter the primitive), and every future that queues a waiter is
//! written by hand, so that what its `Drop` undoes is in plain sight.
//!
//! # Reading order
//!
//! `waiters.rs` (the FIFO of waiting futures, a linked list by slab key instead of by
//! pointer), then [`semaphore`] (the hand-off, in full), then [`lock`] and [`condition`]
//! (built on it), [`event`], [`queue`] (hand-off of items, and room as a semaphore), and
//! [`oneshot`].
//!
//! # The chapter in brief
//!
//! | type | asyncio | what it coordinates | how a waiter is served |
//! |------|---------|---------------------|------------------------|
//! | [`Semaphore`] | `asyncio.Semaphore` | at most N holders of permits | hand-off |
//! | [`Lock`] | `asyncio.Lock` | one holder of a `T` | hand-off (a one-permit semaphore) |
//! | [`Event`] | `asyncio.Event` | "has it happened yet?" for many waiters | release-all |
//! | [`Condition`] | `asyncio.Condition` | "wait until the state under a lock changes" | hand-off of notifications, then the lock's hand-off |
//! | [`Queue`] | `asyncio.Queue` | items from producers to consumers, with `join` | hand-off of items and of room |
//! | [`oneshot`] | a `Future` resolved by `set_result` | one value, once | single waiter |
//!
//! # Hand-off versus wake-and-retry
//!
//! When a resource is freed and someone is waiting, a primitive can do one of two things:
//!
//! - **wake-and-retry**: mark the resource free and wake the first waiter, which takes it when
//!   it next runs. asyncio's `Lock` works this way. Between the wake and the run the resource
//!   is free, so the primitive needs extra rules: a newcomer must be refused while waiters are
//!   queued (or it barges in), and a woken waiter that is cancelled before it runs must wake
//!   the next one itself (or the resource sits free with a queue in front of it). asyncio's
//!   `Semaphore` started out this way too; current CPython takes the permit on the woken
//!   waiter's behalf in `_wake_up_next` and gives it back if that waiter is cancelled, which
//!   is the other design:
//! - **hand-off**: give the resource to the first waiter at once, inside the call that freed
//!   it, and wake it; its next poll just collects what it was given. The resource is never free
//!   while someone waits, so barging is impossible by construction, each waiter is woken
//!   exactly once, and a cancelled waiter's `Drop` gives back precisely what it holds.
//!
//! evloop uses hand-off wherever a resource changes owner: permits ([`Semaphore`], and so
//! [`Lock`]), items and queue room ([`Queue`]), and notifications ([`Condition`]). [`Event`]
//! has nothing to hand over: `set` releases *every* current waiter, and each released waiter
//! completes even if the event is cleared before it runs, as in asyncio. That is the one
//! "wake everyone" in the module, and it is the primitive's meaning, not a thundering herd.
//!
//! # Cancellation
//!
//! In Rust a task cancels an operation by dropping its future. Each future here undoes its
//! registration in `Drop`, and if it had already been handed something it passes that on, so
//! cancelling never loses or duplicates anything:
//!
//! | dropping… | gives up | and passes on |
//! |-----------|----------|---------------|
//! | [`Semaphore::acquire`] | its place in the queue | permits granted so far, to the next waiters |
//! | [`Lock::lock`] | its place in the queue | the lock, if it had been handed over |
//! | [`Condition::wait`] | its place, and the lock (never left locked) | a notification it received, via `notify(1)` |
//! | [`Event::wait`] | its place | nothing (being released takes nothing from others) |
//! | [`Queue::put`] | its place; its item is dropped, never having been queued | room it had been handed |
//! | [`Queue::get`] | its place | an item it had been handed: to the next consumer, or the queue's front |
//! | [`Queue::join`] | the wait | nothing |
//! | a [`oneshot::Receiver`] | the value | the sender's `send` now fails and returns it |
//!
//! Each method says the same in its `# Cancel safety` section.
//!
//! # Where this differs from asyncio
//!
//! [`Lock`] owns the value it protects and unlocks when its guard drops; [`Condition::wait`]
//! takes and returns the guard instead of owning a lock; [`Queue::close`] is asyncio's
//! `Queue.shutdown()`; [`Queue::task_done`] returns an error instead of raising; and a
//! [`oneshot`] channel is asyncio's `Future` split into a sending and a receiving half.

pub mod cancel;
pub mod condition;
pub mod event;
pub mod lock;
pub mod oneshot;
pub mod queue;
pub mod semaphore;
pub(crate) mod waiters;

pub use cancel::CancellationToken;
pub use condition::{Condition, ConditionWait};
pub use event::{Event, EventWait};
pub use lock::{Lock, LockAcquire, LockGuard, TryLockError};
pub use queue::{Get, GetError, Put, PutError, Queue, TaskDoneError, TryGetError, TryPutError};
pub use semaphore::{Acquire, AcquireError, Permit, Semaphore, TryAcquireError};

/// Hand-polling helpers shared by the tests of every primitive.
#[cfg(test)]
pub(crate) mod test_support {
    use std::cell::RefCell;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    thread_local! {
        /// Code to run inside the next `wake` of a [`Task::reentrant`] waker. A thread-local,
        /// because `Wake` must be `Send + Sync` and our primitives are not.
        static ON_WAKE: RefCell<Option<Box<dyn FnMut()>>> = RefCell::new(None);
    }

    /// A waker that counts its wake-ups, and optionally runs [`ON_WAKE`] inside them.
    struct WakeCounter {
        /// How many times `wake` or `wake_by_ref` ran.
        wakes: AtomicUsize,
        /// Whether waking runs the thread-local hook (to test re-entrant wakers).
        reentrant: bool,
    }

    impl Wake for WakeCounter {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.wakes.fetch_add(1, Ordering::SeqCst);
            if self.reentrant {
                let hook = ON_WAKE.with(|hook| hook.borrow_mut().take());
                if let Some(mut hook) = hook {
                    hook();
                    ON_WAKE.with(|slot| *slot.borrow_mut() = Some(hook));
                }
            }
        }
    }

    /// A pretend task: one waker that counts how often it is woken.
    pub(crate) struct Task {
        /// Shared with `waker`, to read the count back.
        counter: Arc<WakeCounter>,
        /// The waker every poll through this task passes in.
        waker: Waker,
    }

    impl Task {
        /// A task whose waker only counts.
        pub(crate) fn new() -> Self {
            Self::with_counter(false)
        }

        /// A task whose waker also runs `hook` every time it is woken, so a test can check
        /// that the primitive released its borrow before waking.
        pub(crate) fn reentrant(hook: impl FnMut() + 'static) -> Self {
            ON_WAKE.with(|slot| *slot.borrow_mut() = Some(Box::new(hook)));
            Self::with_counter(true)
        }

        fn with_counter(reentrant: bool) -> Self {
            let counter = Arc::new(WakeCounter {
                wakes: AtomicUsize::new(0),
                reentrant,
            });
            let waker = Waker::from(counter.clone());
            Task { counter, waker }
        }

        /// How many times this task's waker has been woken.
        pub(crate) fn wakes(&self) -> usize {
            self.counter.wakes.load(Ordering::SeqCst)
        }

        /// How many references to the waker's count are alive: this task's two (its own and
        /// its waker's) plus one for every clone still kept somewhere.
        pub(crate) fn waker_refs(&self) -> usize {
            Arc::strong_count(&self.counter)
        }

        /// Polls `future` once with this task's waker.
        pub(crate) fn poll<F: Future + Unpin + ?Sized>(&self, future: &mut F) -> Poll<F::Output> {
            Pin::new(future).poll(&mut Context::from_waker(&self.waker))
        }

        /// Polls `future` once and expects it to be pending.
        #[track_caller]
        pub(crate) fn pending<F: Future + Unpin + ?Sized>(&self, future: &mut F) {
            assert!(self.poll(future).is_pending(), "expected the future to be pending");
        }

        /// Polls `future` once and expects it to be ready, returning its output.
        #[track_caller]
        pub(crate) fn ready<F: Future + Unpin + ?Sized>(&self, future: &mut F) -> F::Output {
            match self.poll(future) {
                Poll::Ready(output) => output,
                Poll::Pending => panic!("expected the future to be ready, but it is pending"),
            }
        }
    }
}

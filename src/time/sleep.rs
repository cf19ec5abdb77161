//! `sleep` and `sleep_until`: asyncio's `await asyncio.sleep(delay)`.
//!
//! A [`Sleep`] touches the timer wheel only when it is first polled and still has time to wait:
//! it inserts one entry naming the task that polled it (or keeping a waker the loop cannot
//! name: `runtime/loop_timers.rs`), and its `Drop` removes that entry. A sleep
//! that is created and dropped without being polled (the losing side of many `select`s) costs
//! nothing in the wheel; one that completes or is dropped leaves nothing behind.
//!
//! **A sleep belongs to the loop that first polled it**: its timer lives in that loop's wheel.
//! Polling it on another loop panics with a message naming both; dropping it away from its
//! loop (another loop running, or none) sends its loop a message that removes the timer at the
//! loop's next turn (DESIGN.md §4 has this rule for every resource).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::runtime::context;
use crate::scheduler::{Inbox, LoopId, Message};
use crate::timer::wheel::TimerKey;
use crate::waits_on::{self, Parked};

/// Waits until `duration` has passed on the loop's clock (asyncio's `asyncio.sleep`).
///
/// Like a Python coroutine, the sleep starts counting when it is first polled, not when it is
/// created: `evloop::run(sleep(d))` works, because nothing is read from the loop until then.
/// It completes in the first loop turn after the deadline, never before.
///
/// # Examples
///
/// asyncio's `say_after`: two sleeps run side by side, so the whole takes as long as the longer.
///
/// ```
/// use std::time::Duration;
///
/// let runtime = evloop::Builder::new().virtual_clock().build()?;
/// let took = runtime.block_on(async {
///     let start = evloop::time::now();
///     let a = evloop::spawn(evloop::time::sleep(Duration::from_secs(1)));
///     let b = evloop::spawn(evloop::time::sleep(Duration::from_secs(2)));
///     a.await.unwrap();
///     b.await.unwrap();
///     evloop::time::now() - start
/// });
/// assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(3));
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Cancel safety
/// Dropping the future removes its timer; nothing else is lost.
pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        stage: Stage::After(duration),
    }
}

/// Waits until `deadline` (an instant on the loop's clock: see [`now`](crate::time::now)).
///
/// # Cancel safety
/// Dropping the future removes its timer; nothing else is lost.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        stage: Stage::At { deadline, timer: None },
    }
}

/// The future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Sleep {
    /// Where in its life the sleep is.
    stage: Stage,
}

/// A sleep's life: a delay, then a deadline with its wheel entry while one is registered. One
/// enum rather than a delay-or-deadline beside an optional key, because a delay never has a key:
/// its tag then fits in the deadline's spare bits, and a `Sleep` is 32 bytes instead of 40
/// (every task parked on a sleep carries one: DESIGN.md §3).
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Not yet polled: the delay to turn into a deadline at the first poll.
    After(Duration),
    /// The deadline, and the wheel entry with the loop whose wheel holds it, while registered
    /// (`None` before the first poll of a `sleep_until`, after a `reset`, and after firing).
    At {
        deadline: Instant,
        timer: Option<(TimerKey, LoopId)>,
    },
}

impl Sleep {
    /// The instant this sleep completes, once known (it is fixed by the first poll for
    /// [`sleep`], at creation for [`sleep_until`]).
    pub fn deadline(&self) -> Option<Instant> {
        match self.stage {
            Stage::At { deadline, .. } => Some(deadline),
            Stage::After(_) => None,
        }
    }

    /// Whether the deadline has passed on the loop's clock (the next poll completes).
    pub fn is_elapsed(&self) -> bool {
        match self.stage {
            Stage::At { deadline, .. } => crate::time::now() >= deadline,
            Stage::After(d) => d.is_zero(),
        }
    }

    /// Moves the deadline, as if the sleep had been created with `sleep_until(deadline)`; the
    /// old timer (if any) leaves the wheel now and the new one is registered by the next poll.
    pub fn reset(&mut self, deadline: Instant) {
        self.unregister();
        self.stage = Stage::At { deadline, timer: None };
    }

    fn unregister(&mut self) {
        let Stage::At { timer, .. } = &mut self.stage else {
            return;
        };
        let Some((key, owner)) = timer.take() else {
            return;
        };
        let here = context::try_with_core(|core| (core.id() == owner).then(|| core.remove_timer(key)));
        if here.flatten().is_none()
            && let Some(inbox) = Inbox::find(owner)
        {
            inbox.send(Message::CancelTimer(key));
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        context::with_core(|core| {
            if let Stage::At {
                timer: Some((_, owner)),
                ..
            } = this.stage
                && owner != core.id()
            {
                context::wrong_loop("Sleep", owner, core.id());
            }
            let mut timers = core.timers.borrow_mut();
            if let Stage::After(delay) = this.stage {
                let deadline = crate::timer::deadline_after(timers.now(), delay);
                this.stage = Stage::At { deadline, timer: None };
            }
            let Stage::At { deadline, timer } = &mut this.stage else {
                unreachable!("a polled sleep has a deadline")
            };
            let deadline = *deadline;
            match *timer {
                None => match core.insert_wake_timer(&mut timers, deadline, cx.waker()) {
                    Some(key) => {
                        *timer = Some((key, core.id()));
                        waits_on::note(Parked::Timer { deadline });
                        Poll::Pending
                    }
                    None => Poll::Ready(()),
                },
                Some((key, _)) => match timers.wheel.get_mut(key) {
                    // Still waiting: wake the newest waker (the sleep may have moved tasks).
                    Some(action) => {
                        core.retarget_timer(action, cx.waker());
                        waits_on::note(Parked::Timer { deadline });
                        Poll::Pending
                    }
                    // Gone from the wheel: it fired.
                    None => {
                        *timer = None;
                        Poll::Ready(())
                    }
                },
            }
        })
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.unregister();
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use std::mem::size_of_val;
    use std::time::Duration;

    /// The bench's `memory` task is this async block; `task/raw.rs`'s layout test (and
    /// DESIGN.md §3's drawing) count on its 40 bytes: the 32-byte `Sleep` and the block's own
    /// state, padded.
    #[test]
    fn a_sleep_inside_an_async_block_is_40_bytes() {
        assert_eq!(size_of_val(&super::sleep(Duration::from_secs(3600))), 32);
        let future = async {
            super::sleep(Duration::from_secs(3600)).await;
        };
        assert_eq!(size_of_val(&future), 40);
    }

    /// `task/raw.rs`'s layout test stands an `Arc<()>` in for the runtime's hook.
    #[test]
    fn the_runtime_hook_is_one_pointer() {
        assert_eq!(
            std::mem::size_of::<crate::runtime::core::LoopHandle>(),
            std::mem::size_of::<std::sync::Arc<()>>()
        );
    }
}

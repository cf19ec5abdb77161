//! `timeout`: asyncio's `wait_for(aw, timeout)` and `async with asyncio.timeout(delay)`.
//!
//! The inner future and a [`Sleep`](crate::time::Sleep) are polled side by side; whichever
//! finishes first decides. When time runs out the inner future is dropped right there, at the
//! await point where it was parked: its destructors are its cleanup, exactly as cancellation
//! of a task (and as `wait_for` cancelling the awaitable in asyncio).

use std::fmt;
use std::future::{Future, IntoFuture, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::time::{sleep, sleep_until};

/// The error of a [`timeout`] whose time ran out (asyncio's `TimeoutError`).
#[doc(alias = "TimeoutError")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed: the operation was cancelled because it took too long")
    }
}

impl std::error::Error for Elapsed {}

/// Runs `future` for at most `duration` (counted from the first poll), returning its output or
/// [`Elapsed`]. The inner future is polled first, so one that is ready immediately wins even
/// with a zero duration.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{sleep, timeout};
///
/// evloop::run(async {
///     let fast = timeout(Duration::from_millis(50), async { 7 }).await;
///     assert_eq!(fast, Ok(7));
///     let slow = timeout(Duration::from_millis(5), sleep(Duration::from_secs(60))).await;
///     assert!(slow.is_err(), "the sleep was cancelled after 5 ms");
/// });
/// ```
///
/// # Cancel safety
/// On timeout, or if the returned future is dropped, the inner future is dropped: whatever it
/// was in the middle of is abandoned, as its own cancel-safety docs describe.
#[doc(alias = "wait_for")]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> impl Future<Output = Result<F::Output, Elapsed>> {
    race(future.into_future(), sleep(duration))
}

/// Like [`timeout`], with an absolute deadline on the loop's clock.
///
/// # Cancel safety
/// As for [`timeout`].
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> impl Future<Output = Result<F::Output, Elapsed>> {
    race(future.into_future(), sleep_until(deadline))
}

async fn race<F: Future>(future: F, timer: crate::time::Sleep) -> Result<F::Output, Elapsed> {
    let mut future = pin!(future);
    let mut timer = pin!(timer);
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

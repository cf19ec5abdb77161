//! Moving a virtual clock by hand: [`pause`], [`resume`], [`advance`] (tokio's
//! `time::pause`, `time::resume` and `time::advance`, for tests and step-by-step examples).
//!
//! On a virtual clock (`Builder::virtual_clock`) time normally jumps to the next deadline
//! whenever the loop is idle. Paused, it stands still until [`advance`] moves it; the machinery
//! is in `runtime/step.rs`.

use std::time::Duration;

use crate::runtime::context;
use crate::spawn::yield_now;

/// Stops the running loop's virtual clock from jumping to the next deadline when the loop is
/// idle: from now on only [`advance`] moves time (tokio's `time::pause`). A runtime can also
/// start this way (`Builder::start_paused`).
///
/// While paused, a loop with nothing to run does not jump: it waits in `epoll_wait` for I/O or a
/// wake from another thread (a `Remote`, a blocking job finishing), exactly as a real loop with
/// no timers pending would, and if neither can come it waits forever. So a `block_on` whose
/// future sleeps on a paused clock, with no other task to call [`advance`] or [`resume`],
/// never returns.
///
/// # Panics
/// Outside a running loop, and on a loop with a real clock (which cannot be paused).
#[doc(alias = "tokio::time::pause")]
pub fn pause() {
    context::with_core(|core| core.set_paused(true));
}

/// Lets the running loop's virtual clock jump to the next deadline again whenever the loop is
/// idle (tokio's `time::resume`). Resuming a clock that is not paused does nothing.
///
/// # Panics
/// Outside a running loop, and on a loop with a real clock.
#[doc(alias = "tokio::time::resume")]
pub fn resume() {
    context::with_core(|core| core.set_paused(false));
}

/// Whether the running loop's clock is virtual and paused. `false` outside a loop.
pub fn is_paused() -> bool {
    context::try_with_core(|core| core.is_paused()).unwrap_or(false)
}

/// Moves the running loop's virtual clock forward by `by`, then yields once (tokio's
/// `time::advance`).
///
/// The clock moves at once, by exactly `by` (a duration past what an `Instant` can hold stops
/// about 30 years out, as for `sleep`). Every timer due by the new time fires, in deadline
/// order (equal deadlines in the order they were set): its task is queued, and the yield lets
/// those tasks run before this one continues. A task woken on the way that sleeps again starts
/// its new sleep from the new time: `advance` does not stop at each deadline. It works whether
/// the clock is paused or not; paused is the usual use, so that nothing else moves time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{advance, now, sleep};
///
/// let runtime = evloop::Runtime::builder().start_paused(true).build()?;
/// runtime.block_on(async {
///     let start = now();
///     let sleeper = evloop::spawn(async move {
///         sleep(Duration::from_millis(30)).await;
///         now() - start
///     });
///     evloop::yield_now().await; // let it register its timer
///     advance(Duration::from_millis(20)).await;
///     assert!(!sleeper.is_finished(), "20 ms in, the 30 ms sleep is still pending");
///     advance(Duration::from_millis(20)).await;
///     assert_eq!(sleeper.await.unwrap(), Duration::from_millis(40), "woken by the second advance");
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Cancel safety
/// The clock has moved and the timers have fired by the first poll; dropping the future after
/// that only skips the yield.
///
/// # Panics
/// Outside a running loop, and on a loop with a real clock (which cannot be moved).
#[doc(alias = "tokio::time::advance")]
pub async fn advance(by: Duration) {
    context::with_core(|core| core.advance_clock(by));
    yield_now().await;
}

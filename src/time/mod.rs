//! Time: `sleep`, `timeout`, `interval`, and the loop's clock.
//!
//! Every timer in evloop — a `sleep`, a `timeout`, a `call_later` — is one entry in one
//! hierarchical timer wheel (`wheel.rs`, after Varghese & Lauck, "Hashed and Hierarchical Timing
//! Wheels", 1987). Inserting and cancelling are O(1), and the loop learns how long it may block
//! in `epoll_wait` by looking at the wheel's occupied-slot bit masks, never by scanning timers.
//! There is no thread and no file descriptor per timer: the whole wheel costs one poll timeout.
//!
//! | level | slot width | covers        |
//! |-------|------------|---------------|
//! | 0     | 1 ms       | 64 ms         |
//! | 1     | 64 ms      | ~4 s          |
//! | 2     | ~4 s       | ~4.4 min      |
//! | 3     | ~4.4 min   | ~4.7 h        |
//! | 4     | ~4.7 h     | ~12.4 days    |
//! | 5     | ~12.4 days | ~2.2 years    |
//!
//! Deadlines round *up* to whole milliseconds (`clock.rs`), so a timer is never early. The loop
//! can also run on a virtual clock ([`Builder::virtual_clock`](crate::Builder::virtual_clock)):
//! time stands still while tasks run and jumps to the next deadline when the loop is idle.

use std::time::{Duration, Instant};

pub(crate) mod clock;
pub(crate) mod driver;
mod interval;
pub(crate) mod level;
mod sleep;
mod timeout;
pub(crate) mod wheel;

pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, timeout, timeout_at};

/// The current time on the running loop's clock (virtual or real); outside a loop, the system's
/// monotonic clock. Use it instead of `Instant::now()` to measure time in programs that may run
/// on a virtual clock.
pub fn now() -> Instant {
    crate::context::try_with_core(|core| core.timers.borrow().now()).unwrap_or_else(Instant::now)
}

/// `now + delay`, saturating at a deadline about 30 years out (an `Instant` cannot represent
/// arbitrary futures; "30 years" is what tokio uses too, and it is as good as never).
pub(crate) fn deadline_after(now: Instant, delay: Duration) -> Instant {
    const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);
    now.checked_add(delay.min(FAR_FUTURE)).unwrap_or(now + FAR_FUTURE)
}

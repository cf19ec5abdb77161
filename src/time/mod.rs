//! Time as a program on the loop sees it: `sleep`, `timeout`, `interval` and `now`.
//!
//! Every timer in evloop (a `sleep`, a `timeout`, a `call_later`) is one entry in one
//! hierarchical timer wheel, with no thread and no file descriptor per timer: the whole wheel
//! costs one `epoll_wait` timeout, ended to the microsecond by one timerfd (the reactor's alarm).
//! How the wheel works, its levels and how deadlines round, is
//! in `timer/` (read `timer/level.rs` first); this folder is the public side that finds the
//! running loop's wheel through the thread-local.
//!
//! Deadlines round *up* to whole microseconds, so a timer is never early. The loop can also run
//! on a virtual clock ([`Builder::virtual_clock`](crate::Builder::virtual_clock)): time stands
//! still while tasks run and jumps to the next deadline when the loop is idle.

use std::time::Instant;

use crate::runtime::context;

mod control;
mod interval;
mod sleep;
mod timeout;

pub use control::{advance, is_paused, pause, resume};
pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, timeout, timeout_at};

/// The current time on the running loop's clock (virtual or real); outside a loop, the system's
/// monotonic clock. Use it instead of `Instant::now()` to measure time in programs that may run
/// on a virtual clock.
#[doc(alias = "time")]
pub fn now() -> Instant {
    context::try_with_core(|core| core.timers.borrow().now()).unwrap_or_else(Instant::now)
}

//! The recorder's clock on a real-clock loop: nanoseconds of `CLOCK_MONOTONIC` as one `u64`.
//!
//! The recorder reads the time once per poll, so the read is most of what recording adds to a
//! yield. `Instant::now()` reads the same clock (std's `Instant` is `CLOCK_MONOTONIC` on Linux)
//! but hands back an opaque pair of seconds and nanoseconds; turning that into "nanoseconds
//! since the recording began" takes `Instant::duration_since` (a comparison, a borrow and a
//! carry, a `Duration` built and checked) and then the `Duration`'s two parts put back
//! together: about 90 instructions a read, against about 30 for the call below and one
//! multiply-add (callgrind, the C library's `clock_gettime` included, BENCHMARKS.md
//! "Recording"). Tracing profilers do the same for the same reason: tracy stamps events with
//! a raw counter and converts once, when the trace is read.
//!
//! Why not something cheaper still: `CLOCK_MONOTONIC_COARSE` ticks every few milliseconds,
//! coarser than most polls, so a timeline of it shows nothing; the CPU's time-stamp counter is
//! not portable (its rate, and whether it is steady and the same on every core, depend on the
//! machine), and converting it needs a calibration. The vDSO makes this call a library
//! function, not a system call.

/// Nanoseconds on the monotonic clock, from an unspecified start (the machine's boot, on
/// Linux). Saturates rather than wraps, 584 years on; a failed read, which the kernel only
/// reports for an unknown clock, reads as 0.
#[inline]
pub(crate) fn monotonic_ns() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `clock_gettime` writes one `timespec` through the pointer, which points at a
    // local of that type, alive and exclusively borrowed for the call; `CLOCK_MONOTONIC` is
    // a clock every Linux has, so the call does not fail.
    let failed = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } != 0;
    if failed {
        return 0;
    }
    let secs = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(now.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn it_moves_with_std_instant() {
        // Bracketed reads of the same clock, so no assumption about how long a read takes
        // (under Miri on a loaded machine it can be milliseconds): std's span lies between the
        // inner and the outer span of ours.
        let before = monotonic_ns();
        let start = Instant::now();
        let inner_start = monotonic_ns();
        std::thread::sleep(Duration::from_millis(2));
        let inner_end = monotonic_ns();
        let elapsed = start.elapsed();
        let after = monotonic_ns();
        let std_ns = u64::try_from(elapsed.as_nanos()).unwrap();
        assert!(
            inner_end - inner_start >= 2_000_000,
            "slept 2 ms, read {}",
            inner_end - inner_start
        );
        assert!(
            (inner_end - inner_start..=after - before).contains(&std_ns),
            "std's {std_ns} ns outside ours, {}..={}",
            inner_end - inner_start,
            after - before
        );
    }

    #[test]
    fn it_never_goes_back() {
        let mut last = monotonic_ns();
        for _ in 0..1000 {
            let now = monotonic_ns();
            assert!(now >= last);
            last = now;
        }
    }
}

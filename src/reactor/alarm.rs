//! The alarm: one `timerfd` in the reactor's epoll set, armed for the timer wheel's next
//! deadline, so that a blocked loop wakes at that deadline to the microsecond rather than on
//! the next millisecond.
//!
//! # Why the loop needs it
//!
//! `epoll_wait` takes its timeout in whole milliseconds. mio rounds a finer timeout *up* (so
//! that a wait never ends early: `Duration::as_millis` alone would turn 300 µs into a busy
//! zero), and the kernel then adds the thread's timer slack (50 µs by default) on top. A
//! timer due in 300 µs therefore wakes the loop after about 1.05 ms; on average a timer is
//! half a millisecond late from the timeout's rounding alone. The choices, all measured or read:
//!
//! | how the loop waits                          | precision       | system calls per wait          |
//! |---------------------------------------------|-----------------|--------------------------------|
//! | `epoll_wait(ms)` (mio, tokio, libuv)        | 1 ms + slack    | 1                              |
//! | `epoll_pwait2(timespec)` (Linux 5.11)       | slack (50 µs)   | 1, but mio owns the call       |
//! | `ppoll` on the epoll fd, then `epoll_wait(0)` | slack (50 µs) | 2, on every wait               |
//! | a `timerfd`, re-armed on every wait (smol's `polling`) | exact expiry | 1, plus `timerfd_settime` and two `epoll_ctl` on every wait |
//! | **a `timerfd` in the epoll set** (this file) | exact expiry   | 1, plus 1 `timerfd_settime` only when the deadline changed |
//!
//! A timerfd's expiry is an `hrtimer` with no slack range, and it is armed with an absolute
//! `CLOCK_MONOTONIC` time, so nothing between computing the deadline and arming it shifts it.
//! The loop still passes the millisecond timeout to `epoll_wait` as a backstop: the alarm
//! always rings first, and if it ever failed the loop would only be as late as before.
//!
//! # Edge-triggered, never read
//!
//! mio registers the timerfd edge-triggered. Each expiry wakes the epoll set anew, and
//! `timerfd_settime` resets the descriptor's expiry count to zero, so the alarm is never
//! `read`: re-arming it is enough, and an expiry that was overtaken by a re-arm is not reported
//! (epoll asks the descriptor again before reporting it, and it is no longer readable).
//!
//! # Instants and `CLOCK_MONOTONIC`
//!
//! std's `Instant` reads `CLOCK_MONOTONIC` on Linux (its docs list the clock per platform), but
//! does not expose the reading. The alarm pairs one `Instant` with one `clock_gettime` taken
//! right after it, and converts every deadline through that pair. The pair is read in that
//! order, so the monotonic reading is the later one and a converted deadline can only be late,
//! by the nanoseconds between the two reads, never early.
//!
//! Linux and Android only; elsewhere (and under Miri, which emulates no timerfd) [`Alarm::new`]
//! fails and the reactor waits in whole milliseconds, as it always did. This file is the reactor's only `unsafe`: three `libc`
//! calls on a descriptor it owns.

use std::io;
use std::time::Instant;

/// A timerfd registered in the reactor's poll set, and what it is armed for.
#[derive(Debug)]
pub(crate) struct Alarm {
    /// The timerfd (close-on-exec, non-blocking), registered edge-triggered under
    /// [`ALARM_TOKEN`](super::ALARM_TOKEN).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fd: std::os::fd::OwnedFd,
    /// An `Instant` and the `CLOCK_MONOTONIC` time read just after it, to convert deadlines.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    base: (Instant, std::time::Duration),
    /// The deadline the timerfd is armed for, until its expiry is seen. Arming it again for the
    /// same deadline (a loop woken by I/O goes back to sleep for the same timer) is skipped.
    armed: Option<Instant>,
    /// How many times the timerfd was armed: one `timerfd_settime` each (`Stats::alarm_sets`).
    sets: u64,
}

impl Alarm {
    /// Creates the timerfd and registers it with `registry` under `token`.
    ///
    /// # Errors
    /// `timerfd_create`'s or the registration's reason (out of descriptors, a sandbox), and
    /// `Unsupported` off Linux.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn new(registry: &mio::Registry, token: mio::Token) -> io::Result<Alarm> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

        if cfg!(miri) {
            // Miri emulates epoll and eventfd but not timerfd: wait in whole milliseconds there.
            return Err(io::Error::new(io::ErrorKind::Unsupported, "Miri has no timerfd"));
        }
        // SAFETY: `timerfd_create` takes a clock id and flags by value and touches no memory.
        let raw = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_CLOEXEC | libc::TFD_NONBLOCK) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel has just created this descriptor for us: it is open and nothing
        // else knows its number, so the `OwnedFd` is its only owner and closes it once.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let instant = Instant::now();
        let base = (instant, monotonic_now()?);
        registry.register(
            &mut mio::unix::SourceFd(&fd.as_raw_fd()),
            token,
            mio::Interest::READABLE,
        )?;
        Ok(Alarm {
            fd,
            base,
            armed: None,
            sets: 0,
        })
    }

    /// Off Linux there is no timerfd: the reactor keeps millisecond timeouts.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub(crate) fn new(_registry: &mio::Registry, _token: mio::Token) -> io::Result<Alarm> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "evloop's alarm needs a Linux timerfd",
        ))
    }

    /// Arms the alarm to ring at `at`, unless it is already armed for exactly `at`.
    ///
    /// # Errors
    /// `timerfd_settime`'s reason; the caller then falls back to millisecond timeouts.
    pub(crate) fn arm(&mut self, at: Instant) -> io::Result<()> {
        if self.armed == Some(at) {
            return Ok(());
        }
        self.set(at)?;
        self.armed = Some(at);
        self.sets += 1;
        Ok(())
    }

    /// Its expiry was seen: nothing is armed any more.
    pub(crate) fn rang(&mut self) {
        self.armed = None;
    }

    /// How many times it was armed (one system call each).
    pub(crate) fn sets(&self) -> u64 {
        self.sets
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn set(&mut self, at: Instant) -> io::Result<()> {
        use std::os::fd::AsRawFd;

        let (base_instant, base_monotonic) = self.base;
        // A deadline before the base (never, in practice) rings at once.
        let when = base_monotonic.saturating_add(at.saturating_duration_since(base_instant));
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            // Never zero (that would disarm it): the base is a monotonic reading, after boot.
            it_value: libc::timespec {
                tv_sec: libc::time_t::try_from(when.as_secs()).unwrap_or(libc::time_t::MAX),
                tv_nsec: when.subsec_nanos().into(),
            },
        };
        // SAFETY: `spec` is a valid `itimerspec` that lives across the call, the old value
        // pointer is null (allowed: we do not ask for it), and the descriptor is ours and open.
        let set = unsafe {
            libc::timerfd_settime(
                self.fd.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if set < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn set(&mut self, _at: Instant) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// `CLOCK_MONOTONIC` now, as a duration since the clock's (boot-time) zero.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn monotonic_now() -> io::Result<std::time::Duration> {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable `timespec` for the call's duration.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let secs = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(now.tv_nsec).unwrap_or(0);
    Ok(std::time::Duration::new(secs, nanos))
}

#[cfg(all(test, any(target_os = "linux", target_os = "android"), not(miri)))]
mod tests {
    use std::time::Duration;

    use super::*;

    const TOKEN: mio::Token = mio::Token(7);

    /// Waits on `poll` with no timeout at all: only the alarm can end the wait.
    fn wait_for_alarm(poll: &mut mio::Poll, events: &mut mio::Events) -> Instant {
        loop {
            poll.poll(events, None).expect("epoll_wait");
            if events.iter().any(|event| event.token() == TOKEN) {
                return Instant::now();
            }
        }
    }

    #[test]
    fn the_alarm_rings_at_its_deadline_never_before_and_again_when_rearmed_unread() {
        let mut poll = mio::Poll::new().expect("epoll");
        let mut events = mio::Events::with_capacity(8);
        let mut alarm = Alarm::new(poll.registry(), TOKEN).expect("timerfd");
        for micros in [300, 50, 1200] {
            let at = Instant::now() + Duration::from_micros(micros);
            alarm.arm(at).expect("timerfd_settime");
            let woke = wait_for_alarm(&mut poll, &mut events);
            alarm.rang();
            assert!(woke >= at, "rang {:?} early", at - woke);
        }
        assert_eq!(alarm.sets(), 3, "each new deadline is one timerfd_settime");
    }

    #[test]
    fn arming_for_the_same_deadline_again_costs_nothing() {
        let poll = mio::Poll::new().expect("epoll");
        let mut alarm = Alarm::new(poll.registry(), TOKEN).expect("timerfd");
        let at = Instant::now() + Duration::from_secs(60);
        for _ in 0..5 {
            alarm.arm(at).expect("timerfd_settime");
        }
        assert_eq!(alarm.sets(), 1);
        alarm.arm(at + Duration::from_nanos(1)).expect("timerfd_settime");
        assert_eq!(alarm.sets(), 2, "a different deadline re-arms");
        alarm.rang();
        alarm.arm(at + Duration::from_nanos(1)).expect("timerfd_settime");
        assert_eq!(alarm.sets(), 3, "after it rang, nothing is armed");
    }

    #[test]
    fn a_rearm_overtakes_an_expiry_that_was_not_yet_seen() {
        let mut poll = mio::Poll::new().expect("epoll");
        let mut events = mio::Events::with_capacity(8);
        let mut alarm = Alarm::new(poll.registry(), TOKEN).expect("timerfd");
        alarm.arm(Instant::now()).expect("timerfd_settime");
        std::thread::sleep(Duration::from_millis(2));
        // It has expired, unseen; arming it for later must hide that expiry.
        alarm
            .arm(Instant::now() + Duration::from_secs(60))
            .expect("timerfd_settime");
        poll.poll(&mut events, Some(Duration::from_millis(20)))
            .expect("epoll_wait");
        assert!(
            events.iter().all(|event| event.token() != TOKEN),
            "a stale expiry was reported"
        );
    }
}

//! The reactor: the part of the loop that asks the operating system which sockets are ready.
//!
//! It owns the `mio::Poll` (epoll on Linux, kqueue on the BSDs and macOS) and a slab of
//! [`IoState`]s, one per registered socket. The slab key (index plus generation) is the mio
//! `Token` the kernel hands back with each event, so an event finds its socket in O(1).
//!
//! **Read and write readiness are kept apart.** Each source has a reader's waker and a
//! writer's waker and two sets of readiness bits, so a task waiting to read and another waiting
//! to write on the same socket never consume or overwrite each other's wake-ups.
//!
//! **mio is edge-triggered.** An event says "this became ready", once; it is not repeated while
//! the socket stays ready. So readiness is *remembered* here, and only forgotten when an
//! operation actually returns `WouldBlock`: a reader must drain until `WouldBlock` before it
//! waits again (see `source.rs`). Events can also be spurious (readiness with nothing to read);
//! that costs one `WouldBlock` and a clear, nothing more.
//!
//! **The wake token.** `Token(usize::MAX)` belongs to the `mio::Waker` that other threads use
//! to interrupt a sleeping loop (see `scheduler/inbox.rs`). The reactor reports it and the loop
//! drains its inbox.
//!
//! **The alarm token.** Slot index `u32::MAX` with generation `u32::MAX - 1` belongs to the
//! [`Alarm`](alarm::Alarm), a timerfd armed for the timer wheel's next deadline: `epoll_wait`
//! counts its timeout in whole milliseconds, the alarm in nanoseconds (`alarm.rs` compares the
//! ways to wait). The reactor notes that it rang and reports nothing else; the loop then
//! advances the wheel.
//!
//! Read with: smol-rs/async-io `src/reactor.rs`, tokio-rs/mio `src/poll.rs`.

use std::io;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Interest, Token};

use crate::slots::{Key, Slots};

mod alarm;

use self::alarm::Alarm;

/// The token of the cross-thread `mio::Waker`.
pub(crate) const WAKE_TOKEN: Token = Token(usize::MAX);

/// How near a timer's deadline must be for a blocking wait to arm the alarm for it; a wait for
/// a farther one ends on `epoll_wait`'s whole-millisecond timeout 1–2 ms before it (see
/// [`Reactor::turn`]). Above 2 ms, so that the shortened wait is at least a millisecond.
pub(crate) const ALARM_HORIZON: Duration = Duration::from_millis(2);

/// The token of the alarm (a timerfd), which wakes a blocked loop at its next timer's deadline:
/// slot index `u32::MAX`, like the wake token (no slab holds 2^32 sources), another generation.
const ALARM_TOKEN: Token = Token(usize::MAX ^ (1 << 32));

/// How many events one `epoll_wait` may return. More simply wait for the next turn.
const EVENTS_CAPACITY: usize = 1024;

/// Bits of readiness remembered per source.
const READABLE: u8 = 1 << 0;
const WRITABLE: u8 = 1 << 1;
const READ_CLOSED: u8 = 1 << 2;
const WRITE_CLOSED: u8 = 1 << 3;
const ERROR: u8 = 1 << 4;

/// Which half of a socket an operation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Reading, or accepting.
    Read,
    /// Writing, or waiting for a connect to finish.
    Write,
}

impl Direction {
    /// The readiness bits that let an operation in this direction make progress: an error or
    /// a closed half also "ready" it, so the operation runs and reports what happened.
    fn mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }
}

/// Names a registration: a generational key into the reactor's slab (`slots.rs`), packed into
/// the mio token that the kernel hands back with each event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IoKey(Key);

// A token carries a whole key (32-bit index, 32-bit generation). On a 64-bit target the wake
// token's all-ones pattern would need index 2^32 - 1: more sockets than any process can open.
const _: () = assert!(usize::BITS >= 64, "evloop packs a 64-bit key into each mio token");

impl IoKey {
    /// The key as one number, stable for the life of the registration (the recorder's name for
    /// a source).
    pub(crate) fn number(self) -> u64 {
        self.0.to_bits()
    }

    fn token(self) -> Token {
        Token(self.0.to_bits() as usize)
    }

    fn from_token(token: Token) -> IoKey {
        IoKey(Key::from_bits(token.0 as u64))
    }
}

/// A waker the reactor collected, with the readiness that woke it: which source, which half.
/// Carrying the cause costs one more word per waker and lets the loop say *why* a task woke.
#[derive(Debug)]
pub(crate) struct IoWake {
    /// The waiting task's waker.
    pub(crate) waker: Waker,
    /// The source that became ready.
    pub(crate) key: IoKey,
    /// The half that became ready.
    pub(crate) direction: Direction,
}

/// A source's read side as the reactor has seen it, in one look: what an owner that stopped
/// reading needs to ask "did anything happen since?" without a system call (the HTTP pool
/// vets idle connections with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ReadSide {
    /// How many read-side events (readable, read-closed, error) have arrived, wrapping.
    pub(crate) events: u32,
    /// Whether the peer closed its side, or an error was reported.
    pub(crate) closed: bool,
}

/// The reactor's knowledge of one registered source.
#[derive(Debug)]
struct IoState {
    /// Remembered readiness (edge-triggered events are not repeated).
    readiness: u8,
    /// How many read-side events (readable, read-closed, error) have arrived, wrapping. Lets
    /// an owner that stopped reading ask "did anything happen since?" without a system call
    /// (the HTTP pool uses it to vet idle connections).
    read_events: u32,
    /// The task waiting to read, if one is.
    reader: Option<Waker>,
    /// The task waiting to write, if one is.
    writer: Option<Waker>,
}

/// The loop's I/O poller.
pub(crate) struct Reactor {
    /// The OS selector.
    poll: mio::Poll,
    /// Reused event buffer.
    events: Events,
    /// One entry per registered source.
    sources: Slots<IoState>,
    /// The timerfd that ends a wait at a timer's deadline to the nanosecond. `None` off Linux,
    /// or once it has failed: then the wait ends on mio's millisecond timeout, as before.
    alarm: Option<Alarm>,
}

impl Reactor {
    pub(crate) fn new() -> io::Result<Reactor> {
        let poll = mio::Poll::new()?;
        let alarm = Alarm::new(poll.registry(), ALARM_TOKEN)
            .inspect_err(|e| log::debug!(target: "evloop", "no timerfd alarm, timers wait in whole ms: {e}"))
            .ok();
        Ok(Reactor {
            poll,
            events: Events::with_capacity(EVENTS_CAPACITY),
            sources: Slots::new(),
            alarm,
        })
    }

    /// How many times the alarm was armed, one `timerfd_settime` each (`Stats::alarm_sets`).
    pub(crate) fn alarm_sets(&self) -> u64 {
        self.alarm.as_ref().map_or(0, Alarm::sets)
    }

    /// The poller's own descriptor (the epoll fd): readable whenever an event is pending, so a
    /// host program's loop can watch it (`Runtime::as_raw_fd`).
    pub(crate) fn poll_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.poll)
    }

    /// Creates the cross-thread waker for this poll.
    pub(crate) fn new_waker(&self) -> io::Result<mio::Waker> {
        mio::Waker::new(self.poll.registry(), WAKE_TOKEN)
    }

    /// Registers a source for both directions (edge-triggered), returning its key.
    pub(crate) fn register(&mut self, source: &mut impl Source) -> io::Result<IoKey> {
        let key = IoKey(self.sources.vacant_key());
        self.poll
            .registry()
            .register(source, key.token(), Interest::READABLE | Interest::WRITABLE)?;
        let inserted = self.sources.insert(IoState {
            readiness: 0,
            read_events: 0,
            reader: None,
            writer: None,
        });
        debug_assert_eq!(inserted, key.0, "registered under the key the insert returns");
        Ok(key)
    }

    /// Removes a registration. Returns the wakers it held, for the caller to drop after
    /// releasing its borrow of the reactor.
    pub(crate) fn deregister(&mut self, key: IoKey, source: &mut impl Source) -> [Option<Waker>; 2] {
        // Deregistering can only fail if the fd was never registered or is already closed;
        // either way the slab entry must go, so the error is only logged.
        if let Err(e) = self.poll.registry().deregister(source) {
            log::debug!(target: "evloop", "deregister failed (ignored): {e}");
        }
        match self.sources.remove(key.0) {
            Some(state) => [state.reader, state.writer],
            None => [None, None],
        }
    }

    /// Forgets a registration whose file descriptor is already closed (the kernel has dropped
    /// it from the epoll set), returning its wakers for the caller to drop after the borrow.
    pub(crate) fn forget(&mut self, key: IoKey) -> [Option<Waker>; 2] {
        match self.sources.remove(key.0) {
            Some(state) => [state.reader, state.writer],
            None => [None, None],
        }
    }

    fn state_mut(&mut self, key: IoKey) -> Option<&mut IoState> {
        self.sources.get_mut(key.0)
    }

    /// Ready if the source may make progress in `direction`; otherwise stores the waker.
    pub(crate) fn poll_ready(&mut self, key: IoKey, direction: Direction, cx: &mut Context<'_>) -> Poll<()> {
        let Some(state) = self.state_mut(key) else {
            // Not registered (any more): let the operation run and report the OS's error.
            return Poll::Ready(());
        };
        if state.readiness & direction.mask() != 0 {
            return Poll::Ready(());
        }
        let slot = match direction {
            Direction::Read => &mut state.reader,
            Direction::Write => &mut state.writer,
        };
        match slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// An operation returned `WouldBlock`: forget this direction's readiness. Returns whether
    /// the source is registered at all.
    pub(crate) fn clear_ready(&mut self, key: IoKey, direction: Direction) -> bool {
        let Some(state) = self.state_mut(key) else {
            return false;
        };
        state.readiness &= !match direction {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        };
        true
    }

    /// The source's read side as the reactor has seen it; `None` if not registered.
    pub(crate) fn read_side(&self, key: IoKey) -> Option<ReadSide> {
        self.sources.get(key.0).map(|s| ReadSide {
            events: s.read_events,
            closed: s.readiness & (READ_CLOSED | ERROR) != 0,
        })
    }

    /// Forgets read readiness, as `clear_ready` does, but only if the source has seen no read
    /// event since its count was `events`. Returns whether the source is registered.
    pub(crate) fn clear_read_ready_since(&mut self, key: IoKey, events: u32) -> bool {
        let Some(state) = self.state_mut(key) else {
            return false;
        };
        if state.read_events == events {
            state.readiness &= !READABLE;
        }
        true
    }

    /// Waits for events for at most `timeout` (`None`: until one arrives) and collects the
    /// wakers of the tasks they unblock. Returns how many events the OS returned (the
    /// cross-thread waker's and the alarm's included).
    ///
    /// `timer` is the deadline the timeout counts down to, when the wait is for a timer. A near
    /// deadline (at most [`ALARM_HORIZON`] away) arms the alarm (at most one
    /// `timerfd_settime`, none if it is already armed for it), and `timeout`, which mio rounds
    /// up to whole milliseconds, stays as a backstop. A farther one arms nothing: the wait
    /// ends a millisecond or two before it, on `epoll_wait`'s own timeout, and the next turn's
    /// wait is a near one. Most far deadlines are timeouts that never fire (an HTTP request's,
    /// re-armed on every request), and they cost no system call of their own.
    pub(crate) fn turn(
        &mut self,
        mut timeout: Option<Duration>,
        timer: Option<Instant>,
        wakers: &mut Vec<IoWake>,
    ) -> io::Result<usize> {
        if let Some(at) = timer
            && let Some(wait) = timeout.filter(|t| !t.is_zero())
            && let Some(alarm) = &mut self.alarm
        {
            if wait > ALARM_HORIZON {
                // Whole milliseconds, rounded down, less one: mio passes them on unrounded,
                // and the loop wakes before the deadline whatever the kernel's slack.
                let millis = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                timeout = Some(Duration::from_millis(millis - 1));
            } else if let Err(e) = alarm.arm(at) {
                log::debug!(target: "evloop", "timerfd alarm failed, timers wait in whole ms from now on: {e}");
                self.alarm = None;
            }
        }
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            // A signal interrupted the wait: just a short turn.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(0),
            Err(e) => return Err(e),
        }
        let mut count = 0;
        for event in &self.events {
            count += 1;
            if event.token() == WAKE_TOKEN {
                continue;
            }
            if event.token() == ALARM_TOKEN {
                if let Some(alarm) = &mut self.alarm {
                    alarm.rang();
                }
                continue;
            }
            let key = IoKey::from_token(event.token());
            let Some(state) = self.sources.get_mut(key.0) else {
                continue;
            };
            let mut bits = 0;
            if event.is_readable() {
                bits |= READABLE;
            }
            if event.is_writable() {
                bits |= WRITABLE;
            }
            if event.is_read_closed() {
                bits |= READ_CLOSED;
            }
            if event.is_write_closed() {
                bits |= WRITE_CLOSED;
            }
            if event.is_error() {
                bits |= ERROR;
            }
            state.readiness |= bits;
            if bits & Direction::Read.mask() != 0 {
                state.read_events = state.read_events.wrapping_add(1);
                if let Some(waker) = state.reader.take() {
                    wakers.push(IoWake {
                        waker,
                        key,
                        direction: Direction::Read,
                    });
                }
            }
            if bits & Direction::Write.mask() != 0
                && let Some(waker) = state.writer.take()
            {
                wakers.push(IoWake {
                    waker,
                    key,
                    direction: Direction::Write,
                });
            }
        }
        Ok(count)
    }

    /// How many sources are registered (for leak checks in tests).
    pub(crate) fn len(&self) -> usize {
        self.sources.len()
    }

    /// Drops every waker (runtime shutdown); returned so they drop outside the borrow.
    pub(crate) fn take_wakers(&mut self) -> Vec<Waker> {
        let mut out = Vec::new();
        for state in self.sources.values_mut() {
            out.extend(state.reader.take());
            out.extend(state.writer.take());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_survive_the_round_trip_through_a_token() {
        for bits in [
            1 << 32,
            (3 << 32) | 7,
            (u64::from(u32::MAX) << 32) | u64::from(u32::MAX - 1),
        ] {
            let key = IoKey(Key::from_bits(bits));
            assert_eq!(IoKey::from_token(key.token()), key);
            assert_ne!(key.token(), WAKE_TOKEN);
            assert_ne!(key.token(), ALARM_TOKEN);
        }
    }

    /// A readable-and-never-read socket pair: the reactor's view of the read side, and the
    /// readiness that `clear_read_ready_since` drops only when no event came after the count.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "Miri cannot set a socketpair non-blocking (ioctl); no unsafe code runs here"
    )]
    fn read_side_counts_events_and_clear_since_keeps_a_newer_one() {
        use std::io::Write;
        use std::task::Waker;

        let mut reactor = Reactor::new().expect("reactor");
        let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().expect("pair");
        ours.set_nonblocking(true).expect("nonblocking");
        let mut source = mio::net::UnixStream::from_std(ours);
        let key = reactor.register(&mut source).expect("register");
        let before = reactor.read_side(key).expect("registered");
        assert_eq!(
            before,
            ReadSide {
                events: 0,
                closed: false
            }
        );

        theirs.write_all(b"x").expect("write");
        let mut wakers = Vec::new();
        reactor
            .turn(Some(Duration::from_secs(5)), None, &mut wakers)
            .expect("epoll_wait");
        let after = reactor.read_side(key).expect("registered");
        assert_eq!(after.events, 1, "one readable event");
        assert!(!after.closed);

        let mut cx = Context::from_waker(Waker::noop());
        // A count taken before the event: the event is newer, so readiness stays.
        assert!(reactor.clear_read_ready_since(key, before.events));
        assert!(reactor.poll_ready(key, Direction::Read, &mut cx).is_ready());
        // The current count: nothing came since, so readiness goes.
        assert!(reactor.clear_read_ready_since(key, after.events));
        assert!(reactor.poll_ready(key, Direction::Read, &mut cx).is_pending());

        drop(theirs);
        reactor
            .turn(Some(Duration::from_secs(5)), None, &mut wakers)
            .expect("epoll_wait");
        let closed = reactor.read_side(key).expect("registered");
        assert!(closed.closed, "the peer's close shows");
        assert_eq!(closed.events, 2);

        drop(reactor.deregister(key, &mut source));
        assert_eq!(reactor.read_side(key), None);
        assert!(!reactor.clear_read_ready_since(key, 0), "unregistered");
    }
}

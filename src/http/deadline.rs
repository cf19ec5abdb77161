//! One timer per request: the deadline every wait of a request is bounded by.
//!
//! Why it exists: a request waits several times (for a pool slot, for the connect, for
//! each write and read), and each wait is bounded twice: by the request's total
//! deadline, and by that wait's own limit (the connect timeout, the per-read timeout,
//! the pool timeout). Wrapping every wait in a [`timeout`](crate::time::timeout) future
//! would build, move and drop a future per wait and compile one copy of the timeout
//! machinery per call site. Instead a request owns one [`Sleep`] and re-arms it in place
//! before each wait, for whichever of its two limits comes first; while the armed
//! instant stays the total deadline, wait after wait, the timer is left registered as it
//! is. Read first: [`Sleep`], a timer that can be re-armed in place.
//!
//! The wait polls its own I/O first and the timer only while that is pending, so an
//! operation that is ready never loses to a deadline that passed meanwhile.
//!
//! Arming is lazy: [`arm`](Deadline::arm) only records the wait's limit, and the first
//! [`poll_expired`](Deadline::poll_expired) of that wait (the moment it has to wait) reads the
//! clock and sets the timer. A per-wait limit therefore counts from when the wait starts
//! waiting, and a wait that is ready at once (a pool slot free, a write the socket takes
//! whole, a body already received with its head) reads no clock at all: most waits of a
//! keep-alive request are such, and each clock read and instant sum cost some 140
//! instructions (BENCHMARKS.md, "Instructions per HTTP request").

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::http::error::{Error, TimeoutKind};
use crate::time::Sleep;
use crate::timer::deadline_after;

/// The limits on one request's waits, and the one timer that enforces them: [`arm`](Self::arm)
/// before each wait, then poll the wait's I/O and, while that is pending,
/// [`poll_expired`](Self::poll_expired) (or let [`run`](Self::run) do both).
pub(crate) struct Deadline {
    /// The whole request must be done by then (`None`: no total limit).
    total: Option<Instant>,
    /// Longest silence allowed between two reads (`None`: no limit).
    read: Option<Duration>,
    /// The armed deadline's timer (registered with the wheel only once a wait is pending).
    timer: Option<Sleep>,
    /// What bounds the current wait.
    armed: Armed,
}

/// What [`Deadline::arm`] recorded for the current wait.
#[derive(Clone, Copy)]
enum Armed {
    /// Nothing armed yet, or a wait with no limit at all: it may last for ever.
    Nothing,
    /// A limit not yet turned into an instant: the wait has not had to wait yet.
    Waiting {
        per_op: Option<Duration>,
        kind: TimeoutKind,
    },
    /// The timer is set; `kind` is what its passing means.
    Set(TimeoutKind),
}

impl Deadline {
    /// Limits for a request that must end by `total` and whose reads may be `read` apart.
    pub(crate) fn new(total: Option<Instant>, read: Option<Duration>) -> Deadline {
        Deadline {
            total,
            read,
            timer: None,
            armed: Armed::Nothing,
        }
    }

    /// The same limits with a timer of its own (for the body, read after `send` returns).
    pub(crate) fn fresh(&self) -> Deadline {
        Deadline::new(self.total, self.read)
    }

    /// Brings the total deadline forward to `at` if that is earlier.
    pub(crate) fn cap_total(&mut self, at: Instant) {
        self.total = Some(self.total.map_or(at, |t| t.min(at)));
    }

    /// Arms the timer for the next wait: the earlier of the total deadline and `per_op` from
    /// when the wait first has to wait (reported as `per_op_kind`).
    pub(crate) fn arm(&mut self, per_op: Option<Duration>, per_op_kind: TimeoutKind) {
        self.armed = Armed::Waiting {
            per_op,
            kind: per_op_kind,
        };
    }

    /// Arms the timer for a read: the per-read timeout, within the total deadline.
    pub(crate) fn arm_read(&mut self) {
        self.arm(self.read, TimeoutKind::Read);
    }

    /// `Ready` with the timeout error once the armed deadline has passed. The first call of a
    /// wait sets the timer (see the module docs).
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<Error> {
        let kind = match self.armed {
            Armed::Nothing => return Poll::Pending,
            Armed::Set(kind) => kind,
            Armed::Waiting { per_op, kind } => match self.set_timer(per_op, kind) {
                Some(kind) => kind,
                None => return Poll::Pending,
            },
        };
        match &mut self.timer {
            Some(timer) => Pin::new(timer).poll(cx).map(|()| Error::Timeout(kind)),
            None => Poll::Pending, // (`set_timer` always leaves one)
        }
    }

    /// Sets the timer for the earlier of the total deadline and `per_op` from now; returns
    /// what its passing will mean (`None`, setting nothing, if there is neither).
    fn set_timer(&mut self, per_op: Option<Duration>, per_op_kind: TimeoutKind) -> Option<TimeoutKind> {
        let op_deadline = per_op.map(|d| deadline_after(crate::time::now(), d));
        let (at, kind) = match (self.total, op_deadline) {
            (Some(t), Some(o)) if o < t => (o, per_op_kind),
            (Some(t), _) => (t, TimeoutKind::Total),
            (None, Some(o)) => (o, per_op_kind),
            (None, None) => {
                self.armed = Armed::Nothing;
                return None;
            }
        };
        self.armed = Armed::Set(kind);
        match &mut self.timer {
            // Still set for the same instant (the total deadline, wait after wait): keep it.
            Some(timer) if timer.deadline() == Some(at) => {}
            Some(timer) => timer.reset(at),
            None => self.timer = Some(crate::time::sleep_until(at)),
        }
        Some(kind)
    }

    /// Runs `op` until it finishes or the armed deadline passes.
    pub(crate) async fn run<T>(&mut self, op: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        let mut op = std::pin::pin!(op);
        poll_fn(|cx| match op.as_mut().poll(cx) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => self.poll_expired(cx).map(Err),
        })
        .await
    }
}

//! `Signal`, a stream of one Unix signal's deliveries, and `ctrl_c`, the one everybody wants.
//!
//! tokio's `signal::unix::signal` and `signal::ctrl_c` are the model for the API. A `Signal` is
//! one listener in its loop's driver (`driver.rs`); it registers when it is created, so a
//! signal that arrives before its first poll is not lost, and it deregisters when dropped.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::runtime::context;
use crate::signal::SignalKind;
use crate::signal::driver::{Driver, Waiter};

/// Listens for `kind` on the running loop: each [`Signal::recv`] completes once the signal has
/// arrived (at least once) since the previous one returned, or since this call.
///
/// The first listener of a signal in the process installs evloop's handler for it; when the
/// last one is dropped, the signal's previous action comes back (for SIGINT and SIGTERM, the
/// default: terminate the process). Until then, the signal no longer has that default effect.
///
/// # Examples
///
/// ```
/// use evloop::signal::{SignalKind, signal};
///
/// evloop::run(async {
///     let mut hangups = signal(SignalKind::hangup())?;
///     // Send ourselves a SIGHUP; it is not lost even though nobody waits yet.
///     // SAFETY: raise has no memory-safety preconditions.
///     unsafe { libc::raise(libc::SIGHUP) };
///     hangups.recv().await;
///     println!("reloading the configuration");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// - `InvalidInput` for a signal that cannot be listened for (SIGKILL, SIGSTOP, SIGSEGV, SIGBUS,
///   SIGILL, SIGFPE, or a number that is no signal): see [`SignalKind`].
/// - `AlreadyExists` if other code in the process installed its own handler for `kind`: evloop
///   does not replace it.
/// - The OS's reason if the self-pipe cannot be made, or when 32 runtimes already listen.
///
/// # Panics
/// Outside a running evloop loop.
#[doc(alias = "add_signal_handler")]
#[track_caller]
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signo = kind.check()?;
    let driver = Driver::current()?;
    let key = driver.add(signo, &kind.to_string(), Waiter::Task(None))?;
    Ok(Signal { driver, key, kind })
}

/// One listener of one signal on one loop: see [`signal`]. Dropping it deregisters it.
///
/// Like every resource, it belongs to the loop that created it: polling it on another loop
/// panics with a message naming both.
pub struct Signal {
    /// The loop's signal machinery, kept alive by its listeners.
    driver: Rc<Driver>,
    /// This listener's entry in the driver.
    key: usize,
    /// For `Debug`.
    kind: SignalKind,
}

impl std::fmt::Debug for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Signal {
    /// Waits for the next delivery. Several deliveries since the last `recv` count as one.
    /// Returns `None` only if the loop can no longer receive signals (its self-pipe failed,
    /// which is logged).
    ///
    /// # Cancel safety
    /// Cancel-safe: a delivery is only consumed when `recv` returns it, so a `recv` dropped
    /// inside a `select` loses nothing; the next one sees it.
    ///
    /// # Panics
    /// On a loop other than the listener's own.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The poll behind [`recv`](Signal::recv), for hand-written futures.
    ///
    /// # Panics
    /// On a loop other than the listener's own, or outside a running loop.
    #[track_caller]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        context::with_core_of(self.driver.owner, "signal listener", |_| ());
        self.driver.poll_listener(self.key, cx)
    }

    /// The signal this listens for.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.driver.remove(self.key);
    }
}

/// Completes when the process receives SIGINT (Ctrl-C on a terminal), like tokio's
/// `signal::ctrl_c`.
///
/// Called inside a running loop, it starts listening at once, so a Ctrl-C pressed between this
/// call and the first poll is not lost; called outside (as in `evloop::run(ctrl_c())`), at its
/// first poll. While it lives, Ctrl-C no longer terminates the process; once it is dropped (or
/// has completed), Ctrl-C's previous action comes back. To handle every Ctrl-C, not just the
/// first, keep a [`signal`]`(SignalKind::interrupt())` instead.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let ctrl_c = evloop::signal::ctrl_c(); // listening from here on
///     // SAFETY: raise has no memory-safety preconditions.
///     unsafe { libc::raise(libc::SIGINT) }; // as if someone pressed Ctrl-C
///     ctrl_c.await?;
///     println!("shutting down");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// As [`signal`]: for instance `AlreadyExists` if other code installed a SIGINT handler.
///
/// # Cancel safety
/// Dropping it stops listening; a SIGINT that arrives afterwards gets its default action.
#[doc(alias = "set_wakeup_fd")]
#[doc(alias = "KeyboardInterrupt")]
pub fn ctrl_c() -> CtrlC {
    let state = if context::try_with_core(|_| ()).is_some() {
        State::Listening(signal(SignalKind::interrupt()))
    } else {
        State::NotYet
    };
    CtrlC { state }
}

/// The future returned by [`ctrl_c`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct CtrlC {
    state: State,
}

#[derive(Debug)]
enum State {
    /// Created outside a loop: registers at the first poll.
    NotYet,
    /// Registered, or the error registering gave (taken when it is returned).
    Listening(io::Result<Signal>),
    /// The result was returned.
    Done,
}

impl Future for CtrlC {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let State::NotYet = self.state {
            self.state = State::Listening(signal(SignalKind::interrupt()));
        }
        // Taken out, and put back only while still waiting: once completed, the listener is
        // dropped at once, so Ctrl-C has its usual effect again.
        let result = match std::mem::replace(&mut self.state, State::Done) {
            State::Listening(Ok(mut signal)) => match signal.poll_recv(cx) {
                Poll::Pending => {
                    self.state = State::Listening(Ok(signal));
                    return Poll::Pending;
                }
                Poll::Ready(Some(())) => Ok(()),
                Poll::Ready(None) => Err(io::Error::other("evloop: this loop can no longer receive signals")),
            },
            State::Listening(Err(error)) => Err(error),
            State::NotYet | State::Done => panic!("ctrl_c() polled after it completed"),
        };
        Poll::Ready(result)
    }
}

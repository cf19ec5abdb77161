//! `SignalKind`: which Unix signal to listen for, and which ones cannot be listened for.
//!
//! The names follow tokio's `SignalKind` (`interrupt`, `terminate`, ...); the refusal list is
//! the signals a handler cannot meaningfully catch: SIGKILL and SIGSTOP never reach a handler,
//! and SIGSEGV, SIGBUS, SIGILL and SIGFPE report a fault in the very instruction that raised
//! them, so a handler that only counts and returns would have the instruction fault again,
//! forever (signal-hook's `FORBIDDEN` list is the same idea).

use std::fmt;
use std::io;

use crate::signal::registry::SIGNALS;

/// A Unix signal number, as given to [`signal`](crate::signal::signal) and
/// [`add_signal_handler`](crate::signal::add_signal_handler).
///
/// ```
/// use evloop::signal::SignalKind;
///
/// assert_eq!(SignalKind::interrupt().as_raw(), 2); // SIGINT
/// assert_eq!(SignalKind::interrupt().to_string(), "SIGINT");
/// assert_eq!(SignalKind::from_raw(15), SignalKind::terminate());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

impl SignalKind {
    /// Any signal number; [`signal`](crate::signal::signal) refuses the ones that cannot be
    /// listened for (SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, and non-signals).
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    pub const fn as_raw(self) -> i32 {
        self.0
    }

    /// SIGINT: what the terminal sends on Ctrl-C.
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// SIGTERM: the polite request to stop (what `kill` and most service managers send).
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// SIGHUP: the terminal went away; daemons often take it as "reload your configuration".
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// SIGUSR1: no meaning but the program's own.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// SIGUSR2: no meaning but the program's own.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// SIGCHLD: a child process stopped or exited.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// SIGQUIT: Ctrl-\ on a terminal.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// SIGWINCH: the terminal's window changed size.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }

    /// The signal's index in the handler's tables, if it may be listened for.
    ///
    /// # Errors
    /// `InvalidInput` for SIGKILL and SIGSTOP (the kernel never runs a handler for them), for
    /// SIGSEGV, SIGBUS, SIGILL and SIGFPE (faults: the faulting instruction would run again
    /// after the handler returns), and for a number outside `1..=64`.
    pub(crate) fn check(self) -> io::Result<usize> {
        let why = match self.0 {
            libc::SIGKILL | libc::SIGSTOP => "the kernel never lets a program catch it",
            libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE => {
                "it reports a fault in the instruction that raised it, which would run (and fault) \
                 again as soon as a handler returned"
            }
            n if n > 0 && (n as usize) < SIGNALS => return Ok(n as usize),
            _ => "it is not a signal number (1 to 64)",
        };
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("evloop: cannot listen for {self}: {why}"),
        ))
    }

    /// The conventional name, for the signals that have a portable one.
    fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            libc::SIGHUP => "SIGHUP",
            libc::SIGINT => "SIGINT",
            libc::SIGQUIT => "SIGQUIT",
            libc::SIGILL => "SIGILL",
            libc::SIGABRT => "SIGABRT",
            libc::SIGFPE => "SIGFPE",
            libc::SIGKILL => "SIGKILL",
            libc::SIGSEGV => "SIGSEGV",
            libc::SIGPIPE => "SIGPIPE",
            libc::SIGALRM => "SIGALRM",
            libc::SIGTERM => "SIGTERM",
            libc::SIGUSR1 => "SIGUSR1",
            libc::SIGUSR2 => "SIGUSR2",
            libc::SIGCHLD => "SIGCHLD",
            libc::SIGCONT => "SIGCONT",
            libc::SIGSTOP => "SIGSTOP",
            libc::SIGTSTP => "SIGTSTP",
            libc::SIGBUS => "SIGBUS",
            libc::SIGWINCH => "SIGWINCH",
            libc::SIGURG => "SIGURG",
            _ => return None,
        })
    }
}

impl fmt::Display for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "signal {}", self.0),
        }
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignalKind({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signals_a_handler_cannot_catch_are_refused_with_the_reason() {
        for (kind, reason) in [
            (libc::SIGKILL, "never lets"),
            (libc::SIGSTOP, "never lets"),
            (libc::SIGSEGV, "fault"),
            (libc::SIGBUS, "fault"),
            (libc::SIGILL, "fault"),
            (libc::SIGFPE, "fault"),
            (0, "not a signal number"),
            (-3, "not a signal number"),
            (65, "not a signal number"),
        ] {
            let error = SignalKind::from_raw(kind).check().unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
            assert!(error.to_string().contains(reason), "{error}");
        }
    }

    #[test]
    fn the_usual_signals_are_accepted_at_their_own_index() {
        for kind in [
            SignalKind::interrupt(),
            SignalKind::terminate(),
            SignalKind::user_defined1(),
        ] {
            assert_eq!(kind.check().unwrap(), kind.as_raw() as usize);
        }
        assert_eq!(SignalKind::from_raw(64).check().unwrap(), 64);
    }
}

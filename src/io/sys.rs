//! The two system calls a watched descriptor needs that std does not offer for any fd, and
//! the only `unsafe` of `io/`: `fcntl` to make a descriptor non-blocking, and a zero-timeout
//! `poll(2)` to ask "is it ready *now*?".
//!
//! Why each is needed:
//!
//! - **Non-blocking.** The loop runs everything on one thread, so a `read` that blocks stops
//!   every task. Sockets made by `net/` are created non-blocking; a descriptor handed to
//!   [`AsyncFd`](super::AsyncFd) may not be, and std has no `set_nonblocking` for a pipe or a
//!   raw fd. async-io's `Async::new` sets `O_NONBLOCK` the same way; tokio's `AsyncFd` leaves it
//!   to the caller.
//! - **Level check.** mio's epoll is edge-triggered: an event says "became ready", once. A
//!   callback watch ([`add_reader`](super::add_reader)) promises asyncio's level-triggered
//!   behaviour instead ("called while readable"), and a callback reads the descriptor itself,
//!   so the reactor never sees its `WouldBlock`. After each call the watch asks the kernel the
//!   level question with `poll(2)` and a timeout of 0; that is what asyncio's level-triggered
//!   selector asks on every turn too, for every descriptor at once.
//!
//! Each `unsafe` block is one `libc` call on a descriptor its caller owns and keeps open for the
//! call's duration.

use std::io;
use std::os::fd::RawFd;

use crate::reactor::Direction;

/// Sets `O_NONBLOCK` on the open file behind `fd` (a flag of the file, so every duplicate of
/// the descriptor, and a child process sharing it, sees it too).
///
/// # Errors
/// `fcntl`'s reason, e.g. `EBADF`.
pub(crate) fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: `F_GETFL` takes no pointer argument, so no memory is at stake; the caller owns
    // `fd` and keeps it open across the call. A closed descriptor only gives `EBADF`.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::O_NONBLOCK != 0 {
        return Ok(());
    }
    // SAFETY: as above; `F_SETFL` takes an integer argument, the flags just read plus one.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether `fd` is ready for `direction` right now, without waiting. A closed peer or an error counts as ready, as it does for the reactor: the next
/// operation then reports what happened (0 bytes at end of file, or the error).
///
/// # Errors
/// `poll`'s reason (it is retried when a signal interrupts it).
pub(crate) fn ready_now(fd: RawFd, direction: Direction) -> io::Result<bool> {
    let events = match direction {
        Direction::Read => libc::POLLIN,
        Direction::Write => libc::POLLOUT,
    };
    let mut entry = libc::pollfd { fd, events, revents: 0 };
    loop {
        // SAFETY: `entry` is one valid, initialised `pollfd` that lives across the call, and the
        // count says 1; a timeout of 0 returns at once. The caller owns `fd` and keeps it open.
        let n = unsafe { libc::poll(&mut entry, 1, 0) };
        if n >= 0 {
            return Ok(n > 0 && entry.revents != 0);
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;

    #[test]
    #[cfg_attr(miri, ignore = "Miri does not emulate poll(2)")]
    fn a_pipe_is_readable_only_once_written_and_writable_while_not_full() {
        let (reader, mut writer) = std::io::pipe().expect("a pipe");
        assert!(
            !ready_now(reader.as_raw_fd(), Direction::Read).expect("poll"),
            "empty: not readable"
        );
        assert!(
            ready_now(writer.as_raw_fd(), Direction::Write).expect("poll"),
            "empty: writable"
        );
        writer.write_all(b"x").expect("write");
        assert!(
            ready_now(reader.as_raw_fd(), Direction::Read).expect("poll"),
            "one byte: readable"
        );
        drop(writer);
        assert!(
            ready_now(reader.as_raw_fd(), Direction::Read).expect("poll"),
            "closed writer: readable (EOF)"
        );
    }

    #[test]
    fn set_nonblocking_makes_an_empty_pipe_say_would_block() {
        let (reader, _writer) = std::io::pipe().expect("a pipe");
        set_nonblocking(reader.as_raw_fd()).expect("fcntl");
        set_nonblocking(reader.as_raw_fd()).expect("setting it twice is fine");
        let error = std::io::Read::read(&mut &reader, &mut [0; 1]).expect_err("nothing to read");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
    }
}

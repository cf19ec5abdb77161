//! A child's standard streams as evloop streams: [`ChildStdin`], [`ChildStdout`],
//! [`ChildStderr`] (asyncio's `proc.stdin`, a `StreamWriter`, and `proc.stdout`/`proc.stderr`,
//! `StreamReader`s).
//!
//! `Stdio::piped()` makes std create a pipe per stream; its end on our side arrives as a
//! blocking `std::process::ChildStdout` (or `ChildStdin`, `ChildStderr`). Each is turned into
//! mio's pipe type, set non-blocking (only our end: the child's end of the pipe is a separate
//! open file and stays as the child expects it), and registered with the loop's reactor through
//! `IoSource` (`io/source.rs`), so `read` and `write` are the same "try; on `WouldBlock` wait for
//! readiness" as a socket's. A pipe goes one way, so each type only reads or only writes.
//!
//! std opens the pipes close-on-exec, so one child never inherits another child's pipe: that
//! would keep the pipe open and the first child from ever seeing end of file.

use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll};

use mio::unix::pipe;

use crate::io::source::IoSource;
use crate::io::{AsyncRead, AsyncWrite};
use crate::reactor::Direction;

/// How much `read_to_end` reads at most in one call: a window of the buffer is zeroed before
/// each read, so the window is kept small (the pipe's own buffer is 64 KiB on Linux).
const READ_WINDOW: usize = 64 * 1024;

/// The writing end of a child's standard input (asyncio's `proc.stdin`).
///
/// Dropping it, or closing it through [`AsyncWrite::poll_close`], closes the pipe: the child
/// reads end of file. A write after the child has exited (or closed its stdin) fails with
/// `BrokenPipe` (Rust programs ignore `SIGPIPE`, so the error arrives instead of the signal).
///
/// # Examples
///
/// See [`Command`](crate::process::Command): it writes lines to `sort` and reads them back.
#[derive(Debug)]
#[doc(alias = "StreamWriter")]
pub struct ChildStdin {
    /// The registered pipe; `None` once closed through `poll_close`.
    source: Option<IoSource<pipe::Sender>>,
}

impl ChildStdin {
    /// Registers std's pipe end with the current loop, non-blocking.
    pub(super) fn new(stdin: std::process::ChildStdin) -> io::Result<ChildStdin> {
        let pipe = pipe::Sender::from(stdin);
        pipe.set_nonblocking(true)?;
        Ok(ChildStdin {
            source: Some(IoSource::new(pipe)?),
        })
    }

    /// Writes some of `buf`, waiting until the pipe can take at least one byte.
    ///
    /// # Errors
    /// `BrokenPipe` once the child has closed its end (or this was closed); the OS's reason.
    ///
    /// # Cancel safety
    /// Cancel-safe: nothing is written unless this returns the count.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// The poll behind [`write`](Self::write).
    ///
    /// # Errors
    /// As for [`write`](Self::write).
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &self.source {
            Some(source) => source.poll_io(Direction::Write, cx, |mut pipe| pipe.write(buf)),
            None => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "this ChildStdin has been closed",
            ))),
        }
    }

    /// Writes all of `buf` (asyncio's `stdin.write(data)` followed by `await stdin.drain()`).
    ///
    /// # Errors
    /// As for [`write`](Self::write); `WriteZero` if the pipe stops taking bytes.
    ///
    /// # Cancel safety
    /// Not cancel-safe: if dropped midway, an unknown prefix of `buf` has been written.
    #[doc(alias = "drain")]
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Gives the pipe back as a blocking [`Stdio`], to become another child's stdin.
    ///
    /// # Errors
    /// `BrokenPipe` if it was closed; the OS's reason for refusing blocking mode.
    ///
    /// # Panics
    /// On a loop other than the one that spawned the child.
    pub fn into_stdio(mut self) -> io::Result<Stdio> {
        let source = self.source.take().ok_or(io::ErrorKind::BrokenPipe)?;
        let pipe = source.into_inner();
        pipe.set_nonblocking(false)?;
        Ok(Stdio::from(OwnedFd::from(pipe)))
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ChildStdin::poll_write(&self, cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // a pipe keeps no buffer on our side
    }
    /// Closes the pipe (deregistering it): the child reads end of file.
    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source = None;
        Poll::Ready(Ok(()))
    }
}

crate::io::impl_futures_io!(write: ChildStdin); // as futures-io's trait (feature)

/// The reading end of a child's stdout or stderr: what the two public types share.
#[derive(Debug)]
struct Reader {
    /// The registered pipe.
    source: IoSource<pipe::Receiver>,
}

impl Reader {
    /// Registers one of std's pipe ends with the current loop, non-blocking.
    fn new(pipe: pipe::Receiver) -> io::Result<Reader> {
        pipe.set_nonblocking(true)?;
        Ok(Reader {
            source: IoSource::new(pipe)?,
        })
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.source.poll_io(Direction::Read, cx, |mut pipe| pipe.read(buf))
    }

    /// Appends to `buf` until end of file. Whatever was read before a `Pending` stays in `buf`,
    /// so polling again (or dropping the future) loses nothing.
    fn poll_read_to_end(&self, cx: &mut Context<'_>, buf: &mut Vec<u8>) -> Poll<io::Result<()>> {
        loop {
            if buf.capacity() == buf.len() {
                buf.reserve(8 * 1024);
            }
            let start = buf.len();
            buf.resize(buf.capacity().min(start + READ_WINDOW), 0);
            let read = self.poll_read(cx, &mut buf[start..]);
            let got = match &read {
                Poll::Ready(Ok(n)) => *n,
                _ => 0,
            };
            buf.truncate(start + got);
            match read {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn into_stdio(self) -> io::Result<Stdio> {
        let pipe = self.source.into_inner();
        pipe.set_nonblocking(false)?;
        Ok(Stdio::from(OwnedFd::from(pipe)))
    }
}

/// The two read ends differ only in their name: one macro writes both.
macro_rules! read_pipe {
    ($(#[$doc:meta])* $name:ident, $std:ty) => {
        $(#[$doc])*
        #[derive(Debug)]
        #[doc(alias = "StreamReader")]
        pub struct $name(Reader);

        impl $name {
            /// Registers std's pipe end with the current loop, non-blocking.
            pub(super) fn new(pipe: $std) -> io::Result<$name> {
                Reader::new(pipe::Receiver::from(pipe)).map($name)
            }

            /// Reads some bytes into `buf`, waiting until at least one is available. `Ok(0)`
            /// means end of file: the child (and every process it shared the pipe with) has
            /// closed it, usually by exiting.
            ///
            /// # Errors
            /// The OS's reason.
            ///
            /// # Cancel safety
            /// Cancel-safe: no bytes are consumed unless this returns them.
            pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
                std::future::poll_fn(|cx| self.0.poll_read(cx, buf)).await
            }

            /// The poll behind [`read`](Self::read).
            ///
            /// # Errors
            /// As for [`read`](Self::read).
            pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                self.0.poll_read(cx, buf)
            }

            /// Reads until end of file, appending to `buf` (asyncio's `await stream.read()`).
            ///
            /// # Errors
            /// The OS's reason; what was read before the error stays in `buf`.
            ///
            /// # Cancel safety
            /// Nothing is lost: whatever was read before the future was dropped is in `buf`.
            pub async fn read_to_end(&self, buf: &mut Vec<u8>) -> io::Result<()> {
                std::future::poll_fn(|cx| self.0.poll_read_to_end(cx, buf)).await
            }

            /// The poll behind [`read_to_end`](Self::read_to_end), for reading several pipes
            /// at once.
            ///
            /// # Errors
            /// As for [`read_to_end`](Self::read_to_end).
            pub fn poll_read_to_end(&self, cx: &mut Context<'_>, buf: &mut Vec<u8>) -> Poll<io::Result<()>> {
                self.0.poll_read_to_end(cx, buf)
            }

            /// Gives the pipe back as a blocking [`Stdio`], to become another child's stdin
            /// (a shell's `a | b`).
            ///
            /// # Errors
            /// The OS's reason for refusing blocking mode.
            ///
            /// # Panics
            /// On a loop other than the one that spawned the child.
            pub fn into_stdio(self) -> io::Result<Stdio> {
                self.0.into_stdio()
            }
        }

        impl AsyncRead for $name {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                self.0.poll_read(cx, buf)
            }
        }
    };
}

read_pipe!(
    /// The reading end of a child's standard output (asyncio's `proc.stdout`).
    ///
    /// Dropping it closes the pipe; a child that writes more then gets `EPIPE` (or dies of
    /// `SIGPIPE`, its default).
    ChildStdout,
    std::process::ChildStdout
);

read_pipe!(
    /// The reading end of a child's standard error (asyncio's `proc.stderr`).
    ///
    /// Dropping it closes the pipe; a child that writes more then gets `EPIPE` (or dies of
    /// `SIGPIPE`, its default).
    ChildStderr,
    std::process::ChildStderr
);

crate::io::impl_futures_io!(read: ChildStdout, ChildStderr); // as futures-io's trait (feature)

//! Byte streams: the two traits every evloop stream implements, and what is built on them.
//!
//! [`AsyncRead`] and [`AsyncWrite`] are the seam between a source of bytes (a TCP or Unix
//! socket, a pipe, a child's stdout) and the code that reads it a line or a frame at a time.
//! They are the poll functions a socket already has, made generic: `poll_read` asks for some
//! bytes and either gets them, or gets `Pending` with the task's waker left with the reactor,
//! which wakes it when the source is readable again. The shapes follow `futures-io` (and
//! tokio's `AsyncRead` before `ReadBuf`): a plain `&mut [u8]`, `Ok(0)` for end of stream, and a
//! `poll_close` that shuts the write half down.
//!
//! They are evloop's own so that the default build needs no extra crate; the optional
//! `futures-io` feature also implements the `futures-io` traits for every evloop stream.
//!
//! Below the traits, `source.rs` is how any descriptor (a socket, a pipe, a pidfd, a signal's
//! self-pipe) is registered with the running loop's reactor, and the one place the
//! edge-triggered "try; on `WouldBlock`, wait for readiness" step is written. `net/`,
//! `process/`, `signal/` and [`AsyncFd`] are built on it; `io` itself names none of them.

mod buf_read;
mod buf_reader;
mod buf_writer;
mod ext;
mod futures_io;
mod line;
mod memory;
pub(crate) mod source;

pub use buf_read::AsyncBufRead;
pub use buf_reader::{BufReader, Lines};
pub use buf_writer::BufWriter;
pub use ext::{AsyncReadExt, AsyncWriteExt};
pub(crate) use futures_io::impl_futures_io;
pub use line::LimitOverrun;

use std::io;
use std::ops::DerefMut;
use std::pin::Pin;
use std::task::{Context, Poll};

// Watching any descriptor the program owns: as a future (`AsyncFd`) and as asyncio's callbacks.
mod fd;
mod sys;
mod watch;
pub use fd::{AsyncFd, AsyncFdReadyGuard};
pub use watch::{FdWatch, add_reader, add_writer};

/// A source of bytes that can be read without blocking the loop.
pub trait AsyncRead {
    /// Reads some bytes into `buf`, waiting (by returning `Pending` and keeping `cx`'s waker)
    /// until at least one is available.
    ///
    /// `Ok(0)` means end of stream (the peer closed its side), unless `buf` is empty.
    ///
    /// # Errors
    /// The source's reason, for instance `ConnectionReset`.
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
}

/// A sink of bytes that can be written without blocking the loop.
pub trait AsyncWrite {
    /// Writes some of `buf`, waiting until the sink takes at least one byte; returns how many
    /// it took.
    ///
    /// # Errors
    /// The sink's reason, for instance `BrokenPipe` once the peer is gone.
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;

    /// Waits until everything written so far has left this value's buffers (a socket has
    /// none of its own: its `poll_flush` is ready at once).
    ///
    /// # Errors
    /// The sink's reason.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Flushes, then shuts the write half down (for a socket, sends FIN: asyncio's
    /// `writer.write_eof()`). Reading may go on.
    ///
    /// # Errors
    /// The sink's reason.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

impl<T: AsyncRead + Unpin + ?Sized> AsyncRead for &mut T {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut **self).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + Unpin + ?Sized> AsyncRead for Box<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut **self).poll_read(cx, buf)
    }
}

impl<P> AsyncRead for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncRead,
{
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.get_mut().as_mut().poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin + ?Sized> AsyncWrite for &mut T {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut **self).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut **self).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut **self).poll_close(cx)
    }
}

impl<T: AsyncWrite + Unpin + ?Sized> AsyncWrite for Box<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut **self).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut **self).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut **self).poll_close(cx)
    }
}

impl<P> AsyncWrite for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncWrite,
{
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().as_mut().poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().as_mut().poll_flush(cx)
    }
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().as_mut().poll_close(cx)
    }
}

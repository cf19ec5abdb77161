//! `AsyncFd`: any file descriptor the program owns (a pipe, a terminal, a Unix socket from std,
//! a device), registered with the loop, so a task can wait for it to become readable or
//! writable instead of blocking the thread.
//!
//! This is the seam below every stream type, opened to users: `TcpStream` is exactly an
//! `IoSource` plus the operations it knows; an `AsyncFd<T>` is an `IoSource` plus the operations
//! *you* pass in. The idea comes from tokio's `AsyncFd` (the guard and its `try_io`) and
//! async-io's `Async<T>` (`read_with`/`write_with`, and setting `O_NONBLOCK` itself); asyncio's
//! nearest relative is `loop.add_reader`, whose callback form is in `watch.rs`.
//!
//! # The edge-triggered rule
//!
//! mio registers every descriptor edge-triggered: the kernel reports "became readable" once,
//! not again while it stays readable. The reactor therefore *remembers* readiness, and only
//! forgets it when an operation says `WouldBlock`. From the caller's side:
//!
//! 1. wait until the reactor says the direction may be ready;
//! 2. try the operation, non-blocking;
//! 3. on `WouldBlock`, the readiness was used up: clear it and go back to 1. On anything else,
//!    stop, and **keep** the readiness: there may be more.
//!
//! So a reader must *drain*: read until `WouldBlock` before it waits again. Stopping early is
//! safe (readiness is still set, the next wait returns at once), but clearing readiness by hand
//! without having seen `WouldBlock` can wait forever for an event that already came.
//! [`read_with`](AsyncFd::read_with) and [`write_with`](AsyncFd::write_with) run the three steps
//! for you (they are `IoSource::poll_io`, the same loop every socket uses); the guard that
//! [`readable`](AsyncFd::readable) returns lets you run them by hand, with
//! [`try_io`](AsyncFdReadyGuard::try_io) doing step 3.
//!
//! # Non-blocking, and what cannot be watched
//!
//! [`AsyncFd::new`] sets `O_NONBLOCK` itself (as async-io does): a descriptor left blocking
//! would turn a stale readiness into a read that stops the whole loop, and forgetting the flag
//! is the usual way to get there. epoll refuses regular files and directories (`EPERM`): they
//! are always "ready" and a read of them blocks on the disk instead, so read them with
//! [`spawn_blocking`](crate::spawn_blocking). `new` says so in its error.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::io::source::{Fd, IoSource};
use crate::io::sys;
use crate::io::{AsyncRead, AsyncWrite};
use crate::reactor::Direction;

/// A file descriptor registered with the current loop, for waiting on its readiness (tokio's
/// `AsyncFd`, async-io's `Async`; in asyncio, `loop.add_reader` and `loop.add_writer`, as a
/// future instead of a callback).
///
/// It owns `T` (whatever keeps the descriptor open: an `OwnedFd`, a `PipeReader`, a
/// `UnixStream`…): dropping the `AsyncFd` deregisters the descriptor, then drops `T`, which
/// closes it; [`into_inner`](Self::into_inner) deregisters and gives `T` back, still open.
/// Like a socket, it belongs to the loop that created it (DESIGN.md §4).
///
/// When `&T` implements [`std::io::Read`] or [`Write`], the `AsyncFd` is also an evloop
/// [`AsyncRead`] or [`AsyncWrite`] stream.
///
/// # Examples
///
/// One end of a pipe in each of two tasks; the reader waits on the loop, not in `read(2)`:
///
/// ```
/// use std::io::{Read, Write};
/// use evloop::io::AsyncFd;
///
/// let line = evloop::run(async {
///     let (reader, writer) = std::io::pipe()?;
///     let (reader, writer) = (AsyncFd::new(reader)?, AsyncFd::new(writer)?);
///     evloop::spawn(async move {
///         writer.write_with(|mut w| w.write(b"hello\n")).await.expect("the pipe has room");
///     }); // the task ends, `writer` drops, and the pipe's write end closes
///     let mut line = Vec::new();
///     loop {
///         let mut buf = [0; 64];
///         // "Try; on WouldBlock, wait for readable and try again", written once, inside.
///         match reader.read_with(|mut r| r.read(&mut buf)).await? {
///             0 => break, // end of file: every writer is gone
///             n => line.extend_from_slice(&buf[..n]),
///         }
///     }
///     Ok::<_, std::io::Error>(line)
/// })?;
/// assert_eq!(line, b"hello\n");
/// # Ok::<(), std::io::Error>(())
/// ```
#[doc(alias("add_reader", "add_writer", "Async"))]
pub struct AsyncFd<T: AsRawFd> {
    /// The registration and the value that keeps the descriptor open; the registration is
    /// undone first when this drops (see `IoSource`).
    source: IoSource<Fd<T>>,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Sets the descriptor non-blocking (`O_NONBLOCK`, a flag of the open file: duplicates of
    /// the descriptor see it too) and registers it with the current loop for both directions.
    ///
    /// # Errors
    /// - `PermissionDenied` for a regular file or a directory, which epoll refuses (`EPERM`):
    ///   they are always ready; read them with [`spawn_blocking`](crate::spawn_blocking).
    /// - `AlreadyExists` if this descriptor is already registered with this loop (by another
    ///   `AsyncFd` or a socket): epoll holds one registration per descriptor, so register a
    ///   duplicate (`try_clone`) instead.
    /// - the OS's reason otherwise, e.g. `EBADF`.
    ///
    /// On an error `inner` is dropped (which closes a descriptor it owns).
    ///
    /// # Panics
    /// Outside a running evloop loop.
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        let fd = inner.as_raw_fd();
        // Register first, so that a descriptor the reactor refuses is left as it was.
        let source = IoSource::new(Fd(inner)).map_err(|e| explain(e, fd))?;
        sys::set_nonblocking(fd)?;
        Ok(AsyncFd { source })
    }

    /// The value that owns the descriptor.
    pub fn get_ref(&self) -> &T {
        &self.source.get_ref().0
    }

    /// The value that owns the descriptor, mutably. Do not replace or close its descriptor:
    /// the registration names it.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.source.get_mut().0
    }

    /// Deregisters the descriptor and gives the value back, the descriptor still open (and
    /// still non-blocking).
    ///
    /// # Panics
    /// Outside a running loop, or on a loop other than the one that registered it.
    #[track_caller]
    pub fn into_inner(self) -> T {
        self.source.into_inner().0
    }

    /// Waits until the descriptor may be readable, and returns a guard to try reads with.
    ///
    /// Returns at once while readiness from an earlier event is still set: that is the
    /// edge-triggered rule (see [`AsyncFdReadyGuard`]). Each call spends one unit of the task's
    /// cooperative budget, as an operation would, so a loop over it yields now and then.
    ///
    /// # Cancel safety
    /// Cancel-safe: waiting consumes nothing.
    ///
    /// # Panics
    /// On a loop other than the one that registered the descriptor.
    pub async fn readable(&self) -> AsyncFdReadyGuard<'_, T> {
        poll_fn(|cx| self.poll_read_ready(cx)).await
    }

    /// Waits until the descriptor may be writable, and returns a guard to try writes with.
    ///
    /// # Cancel safety
    /// Cancel-safe: waiting consumes nothing.
    ///
    /// # Panics
    /// On a loop other than the one that registered the descriptor.
    pub async fn writable(&self) -> AsyncFdReadyGuard<'_, T> {
        poll_fn(|cx| self.poll_write_ready(cx)).await
    }

    /// The poll behind [`readable`](Self::readable): `Pending` (keeping `cx`'s waker with the
    /// reactor) until the descriptor may be readable.
    ///
    /// # Panics
    /// On a loop other than the one that registered the descriptor.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<AsyncFdReadyGuard<'_, T>> {
        self.poll_ready(Direction::Read, cx)
    }

    /// The poll behind [`writable`](Self::writable).
    ///
    /// # Panics
    /// On a loop other than the one that registered the descriptor.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<AsyncFdReadyGuard<'_, T>> {
        self.poll_ready(Direction::Write, cx)
    }

    fn poll_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<AsyncFdReadyGuard<'_, T>> {
        // `poll_io` with an operation that does nothing: the wait, plus one unit of the task's
        // cooperative budget, so that a task looping on `readable()` over a descriptor that is
        // always ready still yields. The operation never says `WouldBlock`, so the result is
        // always `Ok(())`.
        self.source
            .poll_io(direction, cx, |_| Ok(()))
            .map(|_: io::Result<()>| AsyncFdReadyGuard { fd: self, direction })
    }

    /// Runs the non-blocking read `op` once the descriptor may be readable; whenever it
    /// returns `WouldBlock`, forgets the readiness and waits again (the edge-triggered rule,
    /// written once in `IoSource::poll_io`). Any other result, `Ok` or `Err`, is returned.
    ///
    /// `op` may run several times; it should do one operation, not a loop of them. Each try
    /// spends one unit of the task's cooperative budget, so an always-ready descriptor cannot
    /// keep the task from yielding.
    ///
    /// # Errors
    /// Whatever `op` returns other than `WouldBlock`. `Interrupted` is retried at once.
    ///
    /// # Cancel safety
    /// Cancel-safe if `op` consumes nothing when it fails: dropped while waiting, no `op` has
    /// run since the last `WouldBlock`.
    ///
    /// # Panics
    /// On a loop other than the one that registered the descriptor.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.source.poll_io(Direction::Read, cx, |fd| op(&fd.0))).await
    }

    /// The write-side twin of [`read_with`](Self::read_with): runs `op` once the descriptor
    /// may be writable, waiting again after each `WouldBlock`.
    ///
    /// # Errors
    /// Whatever `op` returns other than `WouldBlock` (e.g. `BrokenPipe` once every reader of
    /// a pipe is gone). `Interrupted` is retried at once.
    ///
    /// # Cancel safety
    /// As for [`read_with`](Self::read_with).
    ///
    /// # Panics
    /// On a loop other than the one that registered the descriptor.
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.source.poll_io(Direction::Write, cx, |fd| op(&fd.0))).await
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd").field("inner", self.get_ref()).finish()
    }
}

/// Readiness of one direction of an [`AsyncFd`], as returned by
/// [`readable`](AsyncFd::readable) and [`writable`](AsyncFd::writable) (tokio's
/// `AsyncFdReadyGuard`).
///
/// **Readiness stays set until an operation says `WouldBlock`.** Dropping the guard keeps it:
/// the next `readable()` returns at once, which is right when you stopped before draining.
/// [`try_io`](Self::try_io) clears it when the operation says `WouldBlock`, which is the normal
/// way; [`clear_ready`](Self::clear_ready) clears it by hand, for when you *know* the
/// descriptor is drained (for instance, a read returned fewer bytes than a stream socket could
/// have given). Clearing while data is still waiting means the next wait lasts until the
/// kernel has something *new* to report, which may be never.
///
/// # Examples
///
/// Draining by hand: read until `WouldBlock`, then wait again.
///
/// ```
/// use std::io::{Read, Write};
/// use evloop::io::AsyncFd;
///
/// let got = evloop::run(async {
///     let (reader, mut writer) = std::io::pipe()?;
///     writer.write_all(b"abc")?; // before the first wait: readiness is reported at once
///     let reader = AsyncFd::new(reader)?;
///     let mut got = Vec::new();
///     let mut guard = reader.readable().await;
///     loop {
///         let mut byte = [0; 1]; // one byte at a time, to show the drain
///         match guard.try_io(|mut r| r.read(&mut byte)) {
///             Ok(n) => got.extend_from_slice(&byte[..n]),
///             // Drained: `try_io` has cleared the readiness; a new `readable()` would wait.
///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
///             Err(e) => return Err(e),
///         }
///     }
///     Ok::<_, std::io::Error>(got)
/// })?;
/// assert_eq!(got, b"abc");
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "the guard is how you try the operation; dropping it keeps the readiness for the next wait"]
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    /// The descriptor whose readiness this is.
    fd: &'a AsyncFd<T>,
    /// Which readiness: read or write.
    direction: Direction,
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    /// The `AsyncFd` this readiness belongs to.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.fd
    }

    /// The value that owns the descriptor.
    pub fn get_inner(&self) -> &'a T {
        self.fd.get_ref()
    }

    /// Forgets this direction's readiness without an operation having said `WouldBlock`: the
    /// next wait lasts until a new event. Only right when the descriptor is known to be drained
    /// (see the type's docs).
    ///
    /// # Panics
    /// On a loop other than the one that registered the descriptor.
    pub fn clear_ready(&mut self) {
        self.fd.source.clear_ready(self.direction);
    }

    /// Runs the non-blocking operation `op` once. If it says `WouldBlock`, the readiness is
    /// cleared (step 3 of the edge-triggered rule) and the `WouldBlock` error returned: wait
    /// again with a new `readable()`/`writable()`. Any other result leaves the readiness set.
    ///
    /// # Errors
    /// Whatever `op` returns, `WouldBlock` included.
    ///
    /// # Panics
    /// On a loop other than the one that registered the descriptor.
    pub fn try_io<R>(&mut self, op: impl FnOnce(&T) -> io::Result<R>) -> io::Result<R> {
        let result = op(self.get_inner());
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.clear_ready();
        }
        result
    }
}

impl<T: AsRawFd> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard")
            .field("fd", &self.fd.as_raw_fd())
            .field("direction", &self.direction)
            .finish()
    }
}

// The stream traits (`io/mod.rs`), for the `AsyncFd` and for a shared reference to it (one task
// reads while another writes), whenever a shared reference to `T` reads or writes, as std's
// `PipeReader`, `PipeWriter`, `UnixStream` and `File` do.
macro_rules! fd_stream_io {
    ($($ty:ty),*) => {$(
        impl<T: AsRawFd> AsyncRead for $ty
        where
            for<'r> &'r T: Read,
        {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                self.source.poll_io(Direction::Read, cx, |fd| (&fd.0).read(buf))
            }
        }

        impl<T: AsRawFd> AsyncWrite for $ty
        where
            for<'r> &'r T: Write,
        {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                self.source.poll_io(Direction::Write, cx, |fd| (&fd.0).write(buf))
            }
            /// `T`'s own `flush` (a pipe or a socket has nothing to flush).
            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready((&self.source.get_ref().0).flush())
            }
            /// Flushes only: a descriptor in general has no half-close (a pipe's write end
            /// sends end-of-file when it is closed, so drop the `AsyncFd`; a socket's can be
            /// shut down through [`get_ref`](AsyncFd::get_ref)).
            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.poll_flush(cx)
            }
        }
    )*};
}
fd_stream_io!(AsyncFd<T>, &AsyncFd<T>);

// The same, as futures-io's traits (feature `futures-io`; `io/futures_io.rs` says why each type
// needs its own impl). Generic, so written out rather than through `impl_futures_io!`.
#[cfg(feature = "futures-io")]
macro_rules! fd_futures_io {
    ($($ty:ty),*) => {$(
        impl<T: AsRawFd> futures_io::AsyncRead for $ty
        where
            for<'r> &'r T: Read,
        {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                AsyncRead::poll_read(self, cx, buf)
            }
        }

        impl<T: AsRawFd> futures_io::AsyncWrite for $ty
        where
            for<'r> &'r T: Write,
        {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                AsyncWrite::poll_write(self, cx, buf)
            }
            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_flush(self, cx)
            }
            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_close(self, cx)
            }
        }
    )*};
}
#[cfg(feature = "futures-io")]
fd_futures_io!(AsyncFd<T>, &AsyncFd<T>);

/// Turns the reactor's refusal into a sentence that says what to do instead.
pub(crate) fn explain(error: io::Error, fd: RawFd) -> io::Error {
    match error.raw_os_error() {
        Some(libc::EPERM) => io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "evloop: fd {fd} cannot be watched: epoll refuses regular files and directories \
                 ({error}); they are always ready, and reading them blocks on the disk, so read \
                 them with evloop::spawn_blocking instead"
            ),
        ),
        Some(libc::EEXIST) => io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "evloop: fd {fd} is already registered with this loop (by another AsyncFd or a \
                 socket) and epoll holds one registration per descriptor ({error}); register a \
                 duplicate (try_clone) instead"
            ),
        ),
        _ => error,
    }
}

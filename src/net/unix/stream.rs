//! `UnixStream`: a connected Unix stream socket (asyncio's `open_unix_connection`).
//!
//! The same byte stream as `TcpStream` (read `tcp.rs` first), between two processes or two
//! parts of one program on this host. What differs is how it starts: `connect` to a listener's
//! path, or `pair` for two ends already connected to each other.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use crate::io::source::IoSource;
use crate::reactor::Direction;

/// A Unix stream connection: bytes in order, both ways.
///
/// # Examples
///
/// A pair (no path needed): one end writes while the other reads, and dropping an end is end
/// of stream for the other:
///
/// ```
/// use evloop::net::UnixStream;
///
/// let got = evloop::run(async {
///     let (left, right) = UnixStream::pair()?;
///     evloop::spawn(async move { left.write_all(b"over the pair").await });
///     let mut got = Vec::new();
///     let mut buf = [0; 64];
///     loop {
///         match right.read(&mut buf).await? {
///             0 => break, // `left` was dropped with its task
///             n => got.extend_from_slice(&buf[..n]),
///         }
///     }
///     Ok::<_, std::io::Error>(got)
/// })?;
/// assert_eq!(got, b"over the pair");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[doc(alias("open_unix_connection", "socketpair"))]
pub struct UnixStream {
    /// The registered connected socket.
    pub(in crate::net) source: IoSource<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the listener at `path`, without blocking the loop: the socket is created
    /// non-blocking, the task waits for it to become writable, and the socket's error slot says
    /// whether the connection was made.
    ///
    /// # Errors
    /// The OS's reason: `NotFound` (no socket file), `ConnectionRefused` (a file, but nobody
    /// listening: a stale socket file), `PermissionDenied`.
    ///
    /// # Cancel safety
    /// Dropping the future closes the socket.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    #[doc(alias = "open_unix_connection")]
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let stream = UnixStream::register(mio::net::UnixStream::connect(path)?)?;
        // A Unix connect completes at once, or (listener's backlog full) later, signalled as
        // writability; either way the error slot has the verdict.
        std::future::poll_fn(|cx| stream.source.poll_ready(Direction::Write, cx)).await;
        match stream.source.get_ref().take_error()? {
            Some(error) => Err(error),
            None => Ok(stream),
        }
    }

    /// Two connected streams (`socketpair`), registered with the running loop.
    ///
    /// # Errors
    /// The OS's reason, e.g. out of file descriptors.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::register(a)?, UnixStream::register(b)?))
    }

    /// Registers a mio stream with the running loop.
    pub(super) fn register(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            source: IoSource::new(stream)?,
        })
    }

    /// Reads some bytes into `buf`, waiting until at least one is available. `Ok(0)` means
    /// the peer closed its side (or `buf` is empty).
    ///
    /// # Errors
    /// The OS's reason, e.g. `ConnectionReset` if the peer closed with unread data.
    ///
    /// # Cancel safety
    /// Cancel-safe: no bytes are consumed unless this returns them.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// The poll behind [`read`](Self::read).
    ///
    /// # Errors
    /// As for [`read`](Self::read).
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.source.poll_io(Direction::Read, cx, |mut s| s.read(buf))
    }

    /// Writes some of `buf`, waiting until the socket can take at least one byte.
    ///
    /// # Errors
    /// The OS's reason: `BrokenPipe` once the peer is gone. No `SIGPIPE` comes with it on
    /// Linux: std's `UnixStream`, which mio's wraps, sends with `MSG_NOSIGNAL` (elsewhere a
    /// Rust program ignores `SIGPIPE` from startup; a C host embedding evloop should too).
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
        self.source.poll_io(Direction::Write, cx, |mut s| s.write(buf))
    }

    /// Writes all of `buf`.
    ///
    /// # Errors
    /// The OS's reason; `WriteZero` if the socket stops accepting bytes.
    ///
    /// # Cancel safety
    /// Not cancel-safe: if dropped midway, an unknown prefix of `buf` has been sent.
    pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        // The one loop every stream shares (`io/ext.rs`), through `&Self`'s `AsyncWrite`.
        crate::io::AsyncWriteExt::write_all(&mut &*self, buf).await
    }

    /// Reads until `buf` is full (asyncio's `reader.readexactly(n)`).
    ///
    /// # Errors
    /// `UnexpectedEof` if the peer closes first, or the OS's reason.
    ///
    /// # Cancel safety
    /// Not cancel-safe: bytes read before the drop are lost.
    #[doc(alias = "readexactly")]
    pub async fn read_exact(&self, buf: &mut [u8]) -> io::Result<()> {
        // The one loop every stream shares (`io/ext.rs`), through `&Self`'s `AsyncRead`.
        crate::io::AsyncReadExt::read_exact(&mut &*self, buf).await
    }

    /// Shuts down the read half, the write half (the peer's reads then return 0: asyncio's
    /// `writer.write_eof()`), or both.
    ///
    /// # Errors
    /// The OS's reason, e.g. `NotConnected`.
    #[doc(alias = "write_eof")]
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.source.get_ref().shutdown(how)
    }

    /// The peer's address: the listener's path, or unnamed for either end of a pair.
    ///
    /// # Errors
    /// The OS's reason, e.g. `NotConnected`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }

    /// This end's address: unnamed unless the socket was bound (an accepted stream has its
    /// listener's path).
    ///
    /// # Errors
    /// The OS's reason.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`).
    ///
    /// # Errors
    /// The OS's reason for failing to read it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.source.get_ref().take_error()
    }
}

// `AsyncRead`/`AsyncWrite` for `UnixStream` and `&UnixStream` (`net/stream_io.rs`).
crate::net::stream_io::impl_stream_io!(UnixStream);
crate::io::impl_futures_io!(UnixStream, &UnixStream); // the same, as futures-io's traits (feature)

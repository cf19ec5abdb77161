//! `UnixDatagram`: a Unix datagram socket (asyncio's `create_datagram_endpoint` with
//! `family=AF_UNIX`).
//!
//! The datagram rules of `udp.rs` hold here too (one `recv`, one whole datagram; a datagram
//! larger than the buffer is truncated, the rest discarded), with one difference: a Unix
//! datagram socket is reliable and keeps order, because both ends are in one kernel. So a
//! sender *can* be made to wait: when the receiver's queue is full, `send` returns `Pending`
//! until the receiver takes a datagram, which UDP never does (it drops instead).

use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use crate::io::source::IoSource;
use crate::reactor::Direction;

/// A Unix datagram socket: bound to a path, unbound, or one of a connected pair.
///
/// A bound socket's file stays after it is dropped, as for
/// [`UnixListener`](crate::net::UnixListener): remove it yourself.
///
/// # Examples
///
/// ```
/// use evloop::net::UnixDatagram;
///
/// let got = evloop::run(async {
///     let (a, b) = UnixDatagram::pair()?;
///     a.send(b"one").await?;
///     a.send(b"two").await?;
///     let mut buf = [0; 16];
///     let first = b.recv(&mut buf).await?; // datagrams keep their edges and their order
///     assert_eq!(&buf[..first], b"one");
///     let second = b.recv(&mut buf).await?;
///     Ok::<_, std::io::Error>(buf[..second].to_vec())
/// })?;
/// assert_eq!(got, b"two");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[doc(alias("create_datagram_endpoint", "AF_UNIX", "SOCK_DGRAM"))]
pub struct UnixDatagram {
    /// The registered socket.
    pub(in crate::net) source: IoSource<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates the socket file at `path` and binds to it, so others can `send_to` it.
    ///
    /// # Errors
    /// The OS's reason: `AddrInUse` if the path exists, `NotFound` if its directory does not.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::register(mio::net::UnixDatagram::bind(path)?)
    }

    /// A socket with no address: it can send (`send_to`, or `send` after `connect`), but
    /// nobody can address a reply to it.
    ///
    /// # Errors
    /// The OS's reason, e.g. out of file descriptors.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::register(mio::net::UnixDatagram::unbound()?)
    }

    /// Two sockets connected to each other (`socketpair`), neither with a path.
    ///
    /// # Errors
    /// The OS's reason, e.g. out of file descriptors.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::register(a)?, UnixDatagram::register(b)?))
    }

    fn register(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            source: IoSource::new(socket)?,
        })
    }

    /// Sets the default peer to the socket bound at `path`: `send` goes there, and only its
    /// datagrams are received.
    ///
    /// # Errors
    /// The OS's reason: `NotFound`, or `ConnectionRefused` if no socket is bound there.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.source.get_ref().connect(path)
    }

    /// Sends one datagram to the socket bound at `path`.
    ///
    /// # Errors
    /// The OS's reason: `NotFound`, `ConnectionRefused` (nobody bound there), `EMSGSIZE` for a
    /// datagram larger than the socket's send buffer.
    ///
    /// # Cancel safety
    /// Cancel-safe: a datagram is sent whole or not at all, and only by the call that returns.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        std::future::poll_fn(|cx| self.poll_send_to(cx, buf, path)).await
    }

    /// The poll behind [`send_to`](Self::send_to).
    ///
    /// # Errors
    /// As for [`send_to`](Self::send_to).
    pub fn poll_send_to(&self, cx: &mut Context<'_>, buf: &[u8], path: &Path) -> Poll<io::Result<usize>> {
        self.source.poll_io(Direction::Write, cx, |s| s.send_to(buf, path))
    }

    /// Receives one datagram (truncated to `buf`'s length) and the sender's address (unnamed
    /// if the sender is unbound).
    ///
    /// # Errors
    /// The OS's reason.
    ///
    /// # Cancel safety
    /// Cancel-safe: a datagram is only taken by the call that returns it.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// The poll behind [`recv_from`](Self::recv_from).
    ///
    /// # Errors
    /// As for [`recv_from`](Self::recv_from).
    pub fn poll_recv_from(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.source.poll_io(Direction::Read, cx, |s| s.recv_from(buf))
    }

    /// Sends one datagram to the connected peer, waiting while the peer's queue is full.
    ///
    /// # Errors
    /// `NotConnected` without a peer; `ConnectionRefused` once the peer is gone; `EMSGSIZE`.
    ///
    /// # Cancel safety
    /// Cancel-safe, as [`send_to`](Self::send_to).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_send(cx, buf)).await
    }

    /// The poll behind [`send`](Self::send).
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.source.poll_io(Direction::Write, cx, |s| s.send(buf))
    }

    /// Receives one datagram from the connected peer, truncated to `buf`'s length.
    ///
    /// # Errors
    /// The OS's reason.
    ///
    /// # Cancel safety
    /// Cancel-safe, as [`recv_from`](Self::recv_from).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_recv(cx, buf)).await
    }

    /// The poll behind [`recv`](Self::recv).
    ///
    /// # Errors
    /// As for [`recv`](Self::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.source.poll_io(Direction::Read, cx, |s| s.recv(buf))
    }

    /// Shuts down receiving, sending, or both; a `send` after `Shutdown::Write` fails with
    /// `BrokenPipe`.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.source.get_ref().shutdown(how)
    }

    /// This socket's address: its path if bound, else unnamed.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    /// `NotConnected` if there is none.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`).
    ///
    /// # Errors
    /// The OS's reason for failing to read it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.source.get_ref().take_error()
    }
}

//! `TcpSocket`: a TCP socket that is not yet connected or listening, for setting options and a
//! local address first.
//!
//! `TcpStream::connect` and `TcpListener::bind` do the usual thing in one call. Some options
//! only work, or only make sense, *before* that call: `SO_REUSEADDR` and `SO_REUSEPORT` decide
//! whether `bind` succeeds, the buffer sizes bound the TCP window the handshake announces,
//! and binding before connecting picks the local address (and port) a connection leaves from.
//! So this is the socket at its first step, the way the BSD calls go: `socket`, `setsockopt`…,
//! `bind`, then `listen` *or* `connect`. The model is tokio's `TcpSocket`; in asyncio the same
//! steps are a plain `socket.socket`, `setsockopt` and `bind`, handed to `loop.sock_connect`
//! or `start_server(sock=…)`.
//!
//! A `TcpSocket` is not registered with any loop (it has nothing to wait for yet), so it can
//! be made anywhere; `listen` and `connect` register the result with the running loop.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::io::source::IoSource;
use crate::net::{TcpListener, TcpStream, tcp, tcp_options};

/// A TCP socket before `connect` or `listen`: set options and bind it first.
///
/// # Examples
///
/// Bind before connect, so the connection leaves from a known local port, and a listener
/// with `SO_REUSEADDR` (asyncio: `sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)`):
///
/// ```
/// use evloop::net::TcpSocket;
///
/// evloop::run(async {
///     let server = TcpSocket::new_v4()?;
///     server.set_reuseaddr(true)?;
///     server.bind("127.0.0.1:0".parse().expect("an address"))?;
///     let listener = server.listen(128)?;
///     let addr = listener.local_addr()?;
///
///     let client = TcpSocket::new_v4()?;
///     client.bind("127.0.0.1:0".parse().expect("an address"))?;
///     let from = client.local_addr()?; // the OS chose the port at bind
///     let stream = client.connect(addr).await?;
///     assert_eq!(stream.local_addr()?, from);
///     let (_accepted, peer) = listener.accept().await?;
///     assert_eq!(peer, from);
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[doc(alias("socket", "setsockopt", "sock_connect"))]
pub struct TcpSocket {
    /// The socket, non-blocking from birth so that `connect` can never block the loop.
    inner: Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket.
    ///
    /// # Errors
    /// The OS's reason, e.g. out of file descriptors (`EMFILE`).
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket.
    ///
    /// # Errors
    /// The OS's reason, e.g. `EAFNOSUPPORT` where IPv6 is off.
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV6)
    }

    fn new(domain: Domain) -> io::Result<TcpSocket> {
        let inner = Socket::new(domain, Type::STREAM.nonblocking(), Some(Protocol::TCP))?;
        Ok(TcpSocket { inner })
    }

    /// Sets `SO_REUSEADDR`: `bind` may take a local address that connections of an earlier
    /// socket still hold in `TIME_WAIT` (what lets a restarted server bind its port at once).
    /// `TcpListener::bind` sets it too (std and mio do).
    ///
    /// # Errors
    /// The OS's reason.
    #[doc(alias = "SO_REUSEADDR")]
    pub fn set_reuseaddr(&self, reuse: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuse)
    }

    /// Whether `SO_REUSEADDR` is set.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT`: several sockets, each with it set before `bind`, may bind the same
    /// address and port; for listeners, Linux then spreads incoming connections among them.
    ///
    /// # Errors
    /// The OS's reason.
    #[doc(alias = "SO_REUSEPORT")]
    pub fn set_reuseport(&self, reuse: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuse)
    }

    /// Whether `SO_REUSEPORT` is set.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Keepalive on with this idle time, or off; as
    /// [`TcpStream::set_keepalive`](crate::net::TcpStream::set_keepalive).
    ///
    /// # Errors
    /// The OS's reason.
    #[doc(alias = "SO_KEEPALIVE")]
    pub fn set_keepalive(&self, idle: Option<Duration>) -> io::Result<()> {
        tcp_options::set_keepalive(SockRef::from(&self.inner), idle)
    }

    /// The keepalive idle time if keepalive is on, `None` if it is off.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn keepalive(&self) -> io::Result<Option<Duration>> {
        tcp_options::keepalive(SockRef::from(&self.inner))
    }

    /// Sets `SO_LINGER`; read [`TcpStream::set_linger`](crate::net::TcpStream::set_linger)
    /// first: a non-zero linger makes dropping the connection block the loop's thread.
    ///
    /// # Errors
    /// The OS's reason.
    #[doc(alias = "SO_LINGER")]
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        tcp_options::set_linger(SockRef::from(&self.inner), linger)
    }

    /// The `SO_LINGER` setting.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        tcp_options::linger(SockRef::from(&self.inner))
    }

    /// Sets `TCP_NODELAY` (no Nagle: small writes go out at once); the connection keeps it.
    ///
    /// # Errors
    /// The OS's reason.
    #[doc(alias = "TCP_NODELAY")]
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// Asks for a send buffer of `size` bytes (`SO_SNDBUF`). The kernel adjusts the request:
    /// Linux doubles it (for its bookkeeping) and clamps it to `net.core.wmem_max`, so read
    /// [`send_buffer_size`](Self::send_buffer_size) for what was granted.
    ///
    /// # Errors
    /// The OS's reason.
    #[doc(alias = "SO_SNDBUF")]
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// The send buffer's size as the kernel granted it.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner.send_buffer_size().map(saturate)
    }

    /// Asks for a receive buffer of `size` bytes (`SO_RCVBUF`); adjusted like the send
    /// buffer's. Set before `connect` or `listen`, it bounds the window the handshake offers.
    ///
    /// # Errors
    /// The OS's reason.
    #[doc(alias = "SO_RCVBUF")]
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// The receive buffer's size as the kernel granted it.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner.recv_buffer_size().map(saturate)
    }

    /// Binds the socket to a local address; port 0 lets the OS choose, and
    /// [`local_addr`](Self::local_addr) then says which.
    ///
    /// # Errors
    /// The OS's reason: `AddrInUse`, `AddrNotAvailable` (not an address of this host),
    /// `InvalidInput` (an IPv6 address on a v4 socket, or already bound).
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// The local address, once bound (the unspecified address and port 0 before).
    ///
    /// # Errors
    /// The OS's reason.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an IP socket address"))
    }

    /// Starts listening, with room for `backlog` connections that completed their handshake but
    /// were not yet accepted (the kernel caps it at `net.core.somaxconn`), and registers the
    /// listener with the running loop. Unbound, the socket listens on a port the OS chooses.
    ///
    /// # Errors
    /// The OS's reason, e.g. `AddrInUse` if another socket listens on the same port without
    /// `SO_REUSEPORT` on both.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        self.inner.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
        let listener = mio::net::TcpListener::from_std(self.inner.into());
        Ok(TcpListener {
            source: IoSource::new(listener)?,
        })
    }

    /// Connects to `addr` without blocking the loop, keeping the options and the local address
    /// set so far; the same handshake as [`TcpStream::connect`], written once in `tcp.rs`.
    ///
    /// # Errors
    /// The OS's reason: `ConnectionRefused`, `TimedOut`, unreachable, `InvalidInput` for an
    /// address of the other family.
    ///
    /// # Cancel safety
    /// Dropping the future closes the half-open socket.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    #[doc(alias = "sock_connect")]
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        tcp::connect_socket(self.inner, addr).await
    }
}

/// A buffer size as the `u32` this API speaks (a kernel never grants 4 GiB; saturate anyway).
fn saturate(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

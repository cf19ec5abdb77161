//! TCP on the loop: `TcpListener` and `TcpStream`.
//!
//! Methods take `&self`, so one stream can be read by one task and written by another at the
//! same time (share it in an `Rc`): the reactor keeps read and write readiness apart. Each
//! method is an `async fn` built on `IoSource::poll_io`, i.e. "try; on `WouldBlock`, wait for
//! readiness and try again".
//!
//! Around this file: `socket.rs` sets a socket up before it connects or listens (`TcpSocket`,
//! which shares [`connect_socket`] with `TcpStream::connect`), `tcp_options.rs` holds the
//! options of a live stream or listener (keepalive, linger, TTL), and `convert.rs` the
//! conversions to and from std's sockets and raw descriptors.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, Socket, Type};

use crate::io::source::IoSource;
use crate::reactor::{Direction, ReadSide};

/// A TCP socket listening for connections (asyncio's `start_server`).
///
/// # Examples
///
/// A one-connection echo server and its client on the same loop. In asyncio the server would
/// be `await asyncio.start_server(handle, "127.0.0.1", 0)`; here the accept loop is yours:
///
/// ```
/// use std::net::Shutdown;
/// use evloop::net::{TcpListener, TcpStream};
///
/// let echoed = evloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().expect("an address"))?;
///     let addr = listener.local_addr()?; // port 0 asked the OS for a free port
///     let server = evloop::spawn(async move {
///         let (stream, _peer) = listener.accept().await?;
///         let mut buf = [0; 64];
///         loop {
///             match stream.read(&mut buf).await? {
///                 0 => return Ok::<_, std::io::Error>(()), // the client is done sending
///                 n => stream.write_all(&buf[..n]).await?,
///             }
///         }
///     });
///     let client = TcpStream::connect(addr).await?;
///     client.write_all(b"hello").await?;
///     client.shutdown(Shutdown::Write)?; // FIN: nothing more from this side
///     let mut echoed = [0; 5];
///     client.read_exact(&mut echoed).await?;
///     server.await.expect("not cancelled")?;
///     Ok::<_, std::io::Error>(echoed)
/// })?;
/// assert_eq!(&echoed, b"hello");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[doc(alias = "start_server")]
pub struct TcpListener {
    /// The registered listening socket.
    pub(super) source: IoSource<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (port 0 picks a free port) and starts listening.
    ///
    /// # Errors
    /// The OS's reason, e.g. `AddrInUse`.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        let listener = mio::net::TcpListener::bind(addr)?;
        Ok(TcpListener {
            source: IoSource::new(listener)?,
        })
    }

    /// Waits for the next connection.
    ///
    /// # Errors
    /// The OS's reason (e.g. out of file descriptors); the listener stays usable, and the
    /// connection waits in the kernel's backlog. A server should back off before it retries
    /// (asyncio's waits a second); even one that retries at once lets the other tasks run, since
    /// every socket operation spends the task's cooperative budget and yields when it is spent.
    ///
    /// # Cancel safety
    /// Cancel-safe: a connection is only taken from the kernel when this returns it.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) =
            std::future::poll_fn(|cx| self.source.poll_io(Direction::Read, cx, |l| l.accept())).await?;
        Ok((
            TcpStream {
                source: IoSource::new(stream)?,
            },
            peer,
        ))
    }

    /// The address the listener is bound to (useful after binding port 0).
    ///
    /// # Errors
    /// The OS's reason.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }
}

/// A TCP connection (asyncio's `StreamReader`/`StreamWriter` pair, in one object).
///
/// # Examples
///
/// Connect (asyncio's `open_connection`), then read in this task while another task writes:
/// the methods take `&self`, and read and write readiness are kept apart. `read` returning 0
/// is asyncio's `reader.at_eof()`:
///
/// ```
/// use std::rc::Rc;
/// use evloop::net::{TcpListener, TcpStream};
///
/// let reply = evloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().expect("an address"))?;
///     let addr = listener.local_addr()?;
///     evloop::spawn(async move {
///         let (peer, _) = listener.accept().await.expect("one client");
///         let mut ping = [0; 4];
///         peer.read_exact(&mut ping).await.expect("the client writes ping");
///         peer.write_all(b"pong").await.expect("the client reads");
///     }); // the task ends, `peer` drops, and the connection closes
///     let stream = Rc::new(TcpStream::connect(addr).await?);
///     let writer = evloop::spawn({
///         let stream = stream.clone();
///         async move { stream.write_all(b"ping").await }
///     });
///     let (mut reply, mut buf) = (Vec::new(), [0; 16]);
///     loop {
///         match stream.read(&mut buf).await? {
///             0 => break, // the server closed its side
///             n => reply.extend_from_slice(&buf[..n]),
///         }
///     }
///     writer.await.expect("not cancelled")?;
///     Ok::<_, std::io::Error>(reply)
/// })?;
/// assert_eq!(reply, b"pong");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[doc(alias("open_connection", "StreamReader", "StreamWriter"))]
pub struct TcpStream {
    /// The registered connected socket.
    pub(super) source: IoSource<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr` without blocking the loop: the socket is created non-blocking, the
    /// handshake is started, the task waits for the socket to become writable, and then the
    /// socket's error slot says whether the handshake succeeded.
    ///
    /// # Errors
    /// The OS's reason: `ConnectionRefused` (fast, on loopback), `TimedOut`, unreachable…
    ///
    /// # Cancel safety
    /// Dropping the future closes the half-open socket.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    ///
    /// To set options or bind a local address before connecting, use
    /// [`TcpSocket`](crate::net::TcpSocket).
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.nonblocking(),
            Some(Protocol::TCP),
        )?;
        connect_socket(socket, addr).await
    }

    /// Resolves `host` (off the loop, unless it is an IP literal) and connects to the first
    /// address that accepts, trying them in the resolver's order.
    ///
    /// # Errors
    /// The resolver's error, or the last connection error.
    pub async fn connect_host(host: &str, port: u16) -> io::Result<TcpStream> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host:?} resolved to no address"));
        for addr in crate::net::lookup_host(host, port).await? {
            match TcpStream::connect(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Reads some bytes into `buf`, waiting until at least one is available. `Ok(0)` means
    /// the peer closed its side (or `buf` is empty).
    ///
    /// # Errors
    /// The OS's reason, e.g. `ConnectionReset`.
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
    /// The OS's reason, e.g. `BrokenPipe` once the peer is gone.
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

    /// One read attempt that never waits: `WouldBlock` if nothing is buffered in the kernel.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut stream = self.source.get_ref();
        stream.read(buf)
    }

    /// Forgets read readiness unless a read event has arrived since the count was `events`, so
    /// that the next `read` waits for a new event (see `IoSource::clear_ready` for when that
    /// is sound).
    pub(crate) fn clear_read_ready_since(&self, events: u32) {
        self.source.clear_read_ready_since(events);
    }

    /// The read side as the reactor has seen it: read events so far (wrapping), and whether
    /// the peer closed its side (or an error came).
    pub(crate) fn read_side(&self) -> ReadSide {
        self.source.read_side()
    }

    /// Shuts down the read half, the write half (sends FIN: asyncio's `writer.write_eof()`), or
    /// both.
    ///
    /// # Errors
    /// The OS's reason, e.g. `NotConnected`.
    #[doc(alias = "write_eof")]
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.source.get_ref().shutdown(how)
    }

    /// The remote address.
    ///
    /// # Errors
    /// `NotConnected` if the connection is gone.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm: small writes go out at once).
    ///
    /// # Errors
    /// The OS's reason.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.source.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.source.get_ref().nodelay()
    }
}

// `AsyncRead`/`AsyncWrite` for `TcpStream` and `&TcpStream` (`stream_io.rs`).
crate::net::stream_io::impl_stream_io!(TcpStream);
crate::io::impl_futures_io!(TcpStream, &TcpStream); // the same, as futures-io's traits (feature)

/// The non-blocking connect, written once for [`TcpStream::connect`] and
/// [`TcpSocket::connect`](crate::net::TcpSocket::connect): start the handshake on a
/// non-blocking `socket` (already bound or configured, or not), register it, wait for it to
/// become writable, then ask the socket's error slot whether the handshake succeeded.
///
/// # Errors
/// The OS's reason: `ConnectionRefused`, `TimedOut`, unreachable…
///
/// # Cancel safety
/// Dropping the future closes the half-open socket.
pub(super) async fn connect_socket(socket: Socket, addr: SocketAddr) -> io::Result<TcpStream> {
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc_einprogress()) || e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    let stream = TcpStream {
        source: IoSource::new(mio::net::TcpStream::from_std(socket.into()))?,
    };
    std::future::poll_fn(|cx| stream.source.poll_ready(Direction::Write, cx)).await;
    if let Some(error) = stream.source.get_ref().take_error()? {
        return Err(error);
    }
    // Writable without an error can still be a failed connect on some systems: asking
    // for the peer is the portable confirmation.
    match stream.source.get_ref().peer_addr() {
        Ok(_) => Ok(stream),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "connection failed (socket not connected)",
        )),
        Err(e) => Err(e),
    }
}

/// `EINPROGRESS`: what a non-blocking `connect` answers when the handshake has started. std
/// has no stable `ErrorKind` for it yet (`io_error_inprogress` is unstable), so the number is
/// spelled out: 115 on Linux and Android, 36 on macOS and the BSDs. (On Windows the same
/// situation is `WSAEWOULDBLOCK`, which std reports as `WouldBlock`.)
fn libc_einprogress() -> i32 {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        115
    } else {
        36
    }
}

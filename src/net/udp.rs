//! UDP on the loop: `UdpSocket` (asyncio's `create_datagram_endpoint`).
//!
//! A datagram socket differs from a stream in what readiness means. Readable means *one whole
//! datagram* is queued, and each `recv` takes exactly one (never part of one, never two), so
//! there is no "end of stream": a `recv` of 0 bytes is an empty datagram. Writable means the
//! socket's send buffer has room for a datagram; UDP has no flow control, so on loopback and
//! most networks a `send` rarely waits, and a datagram the network drops is simply gone.
//! Read and write readiness are still kept apart (`IoSource::poll_io` with `Direction::Read`
//! or `Direction::Write`), so one task may wait in `recv` while another sends.
//!
//! **A datagram larger than the buffer is truncated**, as the OS does it: `recv` fills the
//! buffer, returns its length, and the rest of that datagram is discarded (the next `recv`
//! gets the next datagram). Use a buffer as large as the largest datagram you expect (65,507
//! bytes is UDP's limit over IPv4), or `peek` first.
//!
//! The model is tokio's and async-io's `UdpSocket`: methods on `&self`, `async fn`s with
//! `poll_*` forms for hand-written futures, options passed through to the socket (mio's).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::task::{Context, Poll};

use crate::io::source::IoSource;
use crate::reactor::Direction;

/// A UDP socket (asyncio's `create_datagram_endpoint` transport and protocol, in one object).
///
/// # Examples
///
/// An echo over loopback. asyncio would build a `DatagramProtocol` with `datagram_received`;
/// here the receive loop is an ordinary task:
///
/// ```
/// use evloop::net::UdpSocket;
///
/// let echoed = evloop::run(async {
///     let server = UdpSocket::bind("127.0.0.1:0".parse().expect("an address"))?;
///     let server_addr = server.local_addr()?;
///     evloop::spawn(async move {
///         let mut buf = [0; 1500];
///         let (n, from) = server.recv_from(&mut buf).await?;
///         server.send_to(&buf[..n], from).await?;
///         Ok::<_, std::io::Error>(())
///     });
///     let client = UdpSocket::bind("127.0.0.1:0".parse().expect("an address"))?;
///     client.connect(server_addr)?; // now `send`/`recv` talk to the server only
///     client.send(b"ping").await?;
///     let mut buf = [0; 1500];
///     let n = client.recv(&mut buf).await?;
///     Ok::<_, std::io::Error>(buf[..n].to_vec())
/// })?;
/// assert_eq!(echoed, b"ping");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[doc(alias("create_datagram_endpoint", "DatagramTransport", "DatagramProtocol"))]
pub struct UdpSocket {
    /// The registered socket.
    pub(super) source: IoSource<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr` (port 0 picks a free port) and registers with the running loop.
    ///
    /// # Errors
    /// The OS's reason, e.g. `AddrInUse`, or `AddrNotAvailable` for an address not on this host.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            source: IoSource::new(mio::net::UdpSocket::bind(addr)?)?,
        })
    }

    /// Sets the default peer: `send` goes to `addr`, and the kernel drops datagrams from
    /// anyone else before `recv` or `recv_from` could see them. Immediate (UDP has no
    /// handshake); a connected socket also learns of an unreachable peer, as
    /// `ConnectionRefused` from a later `send` or `recv`.
    ///
    /// # Errors
    /// The OS's reason, e.g. `InvalidInput` for an address of the other family.
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.source.get_ref().connect(addr)
    }

    /// Sends one datagram to `target`; returns how many bytes were sent (all of `buf`).
    ///
    /// # Errors
    /// The OS's reason: `EMSGSIZE` for a datagram too large for UDP, `PermissionDenied` for a
    /// broadcast address without [`set_broadcast`](Self::set_broadcast), unreachable networks.
    ///
    /// # Cancel safety
    /// Cancel-safe: a datagram is sent whole or not at all, and only by the call that returns.
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// The poll behind [`send_to`](Self::send_to).
    ///
    /// # Errors
    /// As for [`send_to`](Self::send_to).
    pub fn poll_send_to(&self, cx: &mut Context<'_>, buf: &[u8], target: SocketAddr) -> Poll<io::Result<usize>> {
        self.source.poll_io(Direction::Write, cx, |s| s.send_to(buf, target))
    }

    /// Receives one datagram into `buf` (truncated to `buf`'s length, the rest discarded: see
    /// the module docs) and says who sent it.
    ///
    /// # Errors
    /// The OS's reason, e.g. `ConnectionRefused` on a connected socket whose peer has no one
    /// listening (an ICMP "port unreachable" came back).
    ///
    /// # Cancel safety
    /// Cancel-safe: a datagram is only taken from the kernel by the call that returns it.
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

    /// Copies the next datagram into `buf` without taking it: the next `recv` or `recv_from`
    /// gets the same datagram. Truncated like `recv_from`.
    ///
    /// # Errors
    /// As for [`recv_from`](Self::recv_from).
    ///
    /// # Cancel safety
    /// Cancel-safe: peeking consumes nothing.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_peek_from(cx, buf)).await
    }

    /// The poll behind [`peek_from`](Self::peek_from).
    ///
    /// # Errors
    /// As for [`recv_from`](Self::recv_from).
    pub fn poll_peek_from(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.source.poll_io(Direction::Read, cx, |s| s.peek_from(buf))
    }

    /// Sends one datagram to the peer set by [`connect`](Self::connect).
    ///
    /// # Errors
    /// `EDESTADDRREQ` ("destination address required") on a socket with no peer, or as for
    /// [`send_to`](Self::send_to).
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
    /// As for [`recv_from`](Self::recv_from).
    ///
    /// # Cancel safety
    /// Cancel-safe, as [`recv_from`](Self::recv_from).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_recv(cx, buf)).await
    }

    /// The poll behind [`recv`](Self::recv).
    ///
    /// # Errors
    /// As for [`recv_from`](Self::recv_from).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.source.poll_io(Direction::Read, cx, |s| s.recv(buf))
    }

    /// Copies the next datagram from the connected peer into `buf` without taking it.
    ///
    /// # Errors
    /// As for [`recv_from`](Self::recv_from).
    ///
    /// # Cancel safety
    /// Cancel-safe: peeking consumes nothing.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_peek(cx, buf)).await
    }

    /// The poll behind [`peek`](Self::peek).
    ///
    /// # Errors
    /// As for [`recv_from`](Self::recv_from).
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.source.poll_io(Direction::Read, cx, |s| s.peek(buf))
    }

    /// The local address (useful after binding port 0).
    ///
    /// # Errors
    /// The OS's reason.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// The peer set by [`connect`](Self::connect).
    ///
    /// # Errors
    /// `NotConnected` if there is none.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }

    /// Allows sending to a broadcast address (`SO_BROADCAST`); without it the kernel refuses
    /// such a send with `PermissionDenied`.
    ///
    /// # Errors
    /// The OS's reason.
    #[doc(alias = "SO_BROADCAST")]
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.source.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.source.get_ref().broadcast()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with address `interface`
    /// (`Ipv4Addr::UNSPECIFIED`: the one the routing table picks). The socket then receives
    /// datagrams sent to the group on its bound port.
    ///
    /// # Errors
    /// The OS's reason: `InvalidInput` if `multiaddr` is not a multicast address, `ENODEV`
    /// (no such interface, or no multicast route), `AddrInUse` if already joined.
    #[doc(alias = "IP_ADD_MEMBERSHIP")]
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.source.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv4 multicast group joined with [`join_multicast_v4`](Self::join_multicast_v4).
    ///
    /// # Errors
    /// The OS's reason, e.g. `AddrNotAvailable` if the group was not joined.
    #[doc(alias = "IP_DROP_MEMBERSHIP")]
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.source.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with index `interface` (0:
    /// the one the routing table picks).
    ///
    /// # Errors
    /// As for [`join_multicast_v4`](Self::join_multicast_v4).
    #[doc(alias = "IPV6_ADD_MEMBERSHIP")]
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.source.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group.
    ///
    /// # Errors
    /// The OS's reason, e.g. `AddrNotAvailable` if the group was not joined.
    #[doc(alias = "IPV6_DROP_MEMBERSHIP")]
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.source.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// Whether this host's own members of a group receive what this socket sends to it
    /// (`IP_MULTICAST_LOOP`; on by default).
    ///
    /// # Errors
    /// The OS's reason.
    #[doc(alias = "IP_MULTICAST_LOOP")]
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.source.get_ref().set_multicast_loop_v4(on)
    }

    /// Whether `IP_MULTICAST_LOOP` is set.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.source.get_ref().multicast_loop_v4()
    }

    /// How many hops a multicast datagram may travel (`IP_MULTICAST_TTL`; 1 by default: the
    /// local network only).
    ///
    /// # Errors
    /// The OS's reason, e.g. `InvalidInput` over 255.
    #[doc(alias = "IP_MULTICAST_TTL")]
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.source.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// The `IP_MULTICAST_TTL` setting.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.source.get_ref().multicast_ttl_v4()
    }

    /// Sets the IP time-to-live of outgoing unicast datagrams (`IP_TTL`).
    ///
    /// # Errors
    /// The OS's reason, e.g. `InvalidInput` for 0 or over 255.
    #[doc(alias = "IP_TTL")]
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.source.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of outgoing unicast datagrams.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn ttl(&self) -> io::Result<u32> {
        self.source.get_ref().ttl()
    }

    /// Takes the socket's pending error (`SO_ERROR`), e.g. an ICMP error on a connected socket.
    ///
    /// # Errors
    /// The OS's reason for failing to read it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.source.get_ref().take_error()
    }
}

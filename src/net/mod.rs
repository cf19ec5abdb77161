//! Networking on the loop: TCP, UDP and Unix domain sockets, and name resolution (asyncio's
//! `open_connection`, `start_server`, `create_datagram_endpoint`, `open_unix_connection`,
//! `start_unix_server`, `getaddrinfo`).
//!
//! Every socket is non-blocking and registered with the loop's reactor; an operation that
//! would block parks the task until the reactor sees readiness. Nothing here ever blocks the
//! loop's thread: `connect` starts the handshake and waits for writability, and a host name is
//! resolved on the blocking pool, because the system resolver (`getaddrinfo`) can only block.
//!
//! Read `io/source.rs` first (in the `io` module, which every kind of descriptor shares): one
//! registered socket, and the "try, and on `WouldBlock` wait for readiness" step every socket
//! operation shares. Then, one kind of socket per file:
//!
//! | file             | what                                                                   |
//! |------------------|------------------------------------------------------------------------|
//! | `tcp.rs`         | [`TcpStream`], [`TcpListener`], and the non-blocking connect           |
//! | `socket.rs`      | [`TcpSocket`]: options and a local address before connect or listen    |
//! | `tcp_options.rs` | keepalive, linger and TTL on a live TCP stream or listener             |
//! | `udp.rs`         | [`UdpSocket`]: datagrams, broadcast, multicast                         |
//! | `unix/`          | [`UnixStream`], [`UnixListener`], [`UnixDatagram`]: sockets on a path  |
//! | `stream_io.rs`   | `AsyncRead`/`AsyncWrite` for every stream, written once                |
//! | `convert.rs`     | `from_std`/`into_std`, `AsRawFd`/`AsFd`, for every socket              |
//! | `dns.rs`         | [`lookup_host`]                                                        |

mod convert;
mod dns;
mod socket;
mod stream_io;
mod tcp;
mod tcp_options;
mod udp;
mod unix;

pub use dns::lookup_host;
pub use socket::TcpSocket;
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

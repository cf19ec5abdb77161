//! Networking on the loop: TCP sockets and name resolution (asyncio's `open_connection`,
//! `start_server`, `getaddrinfo`).
//!
//! Every socket is non-blocking and registered with the loop's reactor; an operation that
//! would block parks the task until the reactor sees readiness. Nothing here ever blocks the
//! loop's thread: `connect` starts the handshake and waits for writability, and a host name is
//! resolved on the blocking pool, because the system resolver (`getaddrinfo`) can only block.
//!
//! Read `source.rs` first: one registered socket, and the "try, and on `WouldBlock` wait for
//! readiness" step every socket operation shares.

mod dns;
pub(crate) mod source;
mod tcp;

pub use dns::lookup_host;
pub use tcp::{TcpListener, TcpStream};

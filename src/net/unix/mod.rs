//! Unix domain sockets: `UnixStream`, `UnixListener` and `UnixDatagram` (asyncio's
//! `open_unix_connection`, `start_unix_server`, and `create_datagram_endpoint` with a path).
//!
//! A Unix socket is a socket whose address is a path in the file system instead of an IP
//! address and port, and whose peer is on the same host. It behaves like its IP cousin
//! (`stream.rs` like TCP, `datagram.rs` like UDP), is registered with the reactor the same way
//! (`source.rs`), and adds two things worth knowing:
//!
//! * **The path outlives the socket.** `bind` creates a socket file at the path; closing the
//!   socket does *not* remove it, on any OS, and a later `bind` to the same path fails with
//!   `AddrInUse` until someone deletes it (`std::fs::remove_file`). Servers usually remove a
//!   stale file before binding and remove their own when they stop; evloop, like std, tokio
//!   and asyncio, leaves both to the program, because only it knows whether the file is its own.
//! * **Pairs need no path.** `UnixStream::pair` and `UnixDatagram::pair` make two connected
//!   sockets with `socketpair`: the usual way to talk to a child process or between two
//!   parts of one program.
//!
//! Addresses are std's [`std::os::unix::net::SocketAddr`]: a path, or unnamed (a socket
//! that never bound, e.g. either end of a pair, or a client that connected without binding).

mod datagram;
mod listener;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use stream::UnixStream;

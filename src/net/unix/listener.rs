//! `UnixListener`: a Unix stream socket bound to a path, accepting connections (asyncio's
//! `start_unix_server`).
//!
//! The same shape as `TcpListener` (`tcp.rs`); read `unix/mod.rs` for the socket file's
//! lifetime, which is the one thing to get right here.

use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use crate::io::source::IoSource;
use crate::net::unix::UnixStream;
use crate::reactor::Direction;

/// A Unix socket listening on a path.
///
/// **Dropping it leaves the socket file in place** (the OS does not remove it): delete it with
/// `std::fs::remove_file` when the server stops, or a later `bind` to the path fails with
/// `AddrInUse`.
///
/// # Examples
///
/// ```
/// use evloop::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("evloop-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("server.sock");
/// let _ = std::fs::remove_file(&path); // a stale file from an earlier run
/// let reply = evloop::run(async {
///     let listener = UnixListener::bind(&path)?;
///     evloop::spawn(async move {
///         let (stream, _addr) = listener.accept().await?;
///         stream.write_all(b"hello").await
///     });
///     let client = UnixStream::connect(&path).await?;
///     let mut reply = [0; 5];
///     client.read_exact(&mut reply).await?;
///     Ok::<_, std::io::Error>(reply)
/// })?;
/// assert_eq!(&reply, b"hello");
/// assert!(path.exists(), "the socket file outlives the listener");
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[doc(alias = "start_unix_server")]
pub struct UnixListener {
    /// The registered listening socket.
    pub(in crate::net) source: IoSource<mio::net::UnixListener>,
}

impl UnixListener {
    /// Creates the socket file at `path` and starts listening on it.
    ///
    /// # Errors
    /// The OS's reason: `AddrInUse` if the path exists (a stale socket file included),
    /// `NotFound` if its directory does not, `InvalidInput` for a path longer than
    /// `sockaddr_un` holds (about 107 bytes on Linux).
    ///
    /// # Panics
    /// Outside a running evloop loop.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        Ok(UnixListener {
            source: IoSource::new(mio::net::UnixListener::bind(path)?)?,
        })
    }

    /// Waits for the next connection; returns it and the client's address (usually unnamed).
    ///
    /// # Errors
    /// The OS's reason (e.g. out of file descriptors); the listener stays usable, and the
    /// connection waits in the backlog.
    ///
    /// # Cancel safety
    /// Cancel-safe: a connection is only taken from the kernel when this returns it.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) =
            std::future::poll_fn(|cx| self.source.poll_io(Direction::Read, cx, |l| l.accept())).await?;
        Ok((UnixStream::register(stream)?, addr))
    }

    /// The path the listener is bound to.
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

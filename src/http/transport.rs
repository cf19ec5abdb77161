//! What a connection's bytes travel on: a plain TCP stream, or TLS over one.
//!
//! Why it exists: `conn.rs` reads heads and bodies, vets idle connections and counts read
//! events the same way whatever carries the bytes; only the carrier differs between
//! `http://` and `https://`. An enum, not a trait object: without the `tls` feature it has
//! one variant and every `match` below compiles to a direct call on the [`TcpStream`], so the
//! plain path costs what it did before; with the feature, one branch.
//!
//! Two answers differ by carrier, and the comments at each say why: whether a short read
//! shows the socket drained (over TLS the bytes asked for are plaintext, not the socket's),
//! and whether read readiness may be dropped after sending a request (rustls may already
//! hold decrypted bytes the reactor knows nothing of).

use std::io;
use std::task::{Context, Poll};

#[cfg(feature = "tls")]
use crate::http::tls::stream::TlsStream;
use crate::net::TcpStream;
use crate::reactor::ReadSide;

/// A connection's carrier.
pub(crate) enum Transport {
    /// `http://`: the bytes are the socket's.
    Plain(TcpStream),
    /// `https://`: the socket carries TLS records. Boxed: the TLS state is large, and the
    /// plain variant should not pay for its size.
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream>),
}

impl Transport {
    /// Reads some bytes (decrypted, over TLS). `Ok(0)` at a clean end of stream.
    pub(crate) fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self {
            Transport::Plain(tcp) => tcp.poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.poll_read(cx, buf),
        }
    }

    /// Writes some of `buf`; over TLS it may wait in rustls's queue until
    /// [`poll_flush`](Self::poll_flush).
    pub(crate) fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            Transport::Plain(tcp) => tcp.poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.poll_write(cx, buf),
        }
    }

    /// Sends whatever is still queued (nothing, for a plain socket).
    pub(crate) fn poll_flush(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Transport::Plain(_) => Poll::Ready(Ok(())),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.poll_flush(_cx),
        }
    }

    /// One read attempt that never waits: `WouldBlock` if nothing has arrived.
    pub(crate) fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(tcp) => tcp.try_read(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.try_read(buf),
        }
    }

    /// Forgets read readiness after a request was sent, unless a read event has arrived since
    /// the count was `events` (see `Conn::exchange`). Over TLS it is kept: rustls may hold
    /// records or plaintext taken in with the last read, which no new event would announce;
    /// the cost is one read that says `WouldBlock`.
    pub(crate) fn clear_read_ready_since(&self, events: u32) {
        match self {
            Transport::Plain(tcp) => tcp.clear_read_ready_since(events),
            #[cfg(feature = "tls")]
            Transport::Tls(_) => {}
        }
    }

    /// Whether a read shorter than the room given shows the kernel's receive queue was empty
    /// (see `Conn::mark_idle`). True of a TCP read on Linux; not over TLS, where the bytes
    /// returned are plaintext that rustls had decrypted, whatever the socket still holds.
    pub(crate) fn short_read_means_drained(&self) -> bool {
        match self {
            Transport::Plain(_) => true,
            #[cfg(feature = "tls")]
            Transport::Tls(_) => false,
        }
    }

    /// The socket underneath.
    fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(tcp) => tcp,
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.tcp(),
        }
    }

    /// The socket's read side as the reactor has seen it: read events so far (wrapping), and
    /// whether the peer closed it.
    pub(crate) fn read_side(&self) -> ReadSide {
        self.tcp().read_side()
    }
}

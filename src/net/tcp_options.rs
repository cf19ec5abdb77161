//! Options on a live TCP socket: keepalive, linger and TTL on a `TcpStream`, TTL on a
//! `TcpListener`.
//!
//! Each is one `setsockopt`/`getsockopt`, made through `socket2`'s `SockRef` (a borrowed view
//! of any socket descriptor), so nothing here waits or touches the reactor. How a keepalive
//! and a linger are spelled (an `Option<Duration>`: `None` is off) is written once, as the
//! two pairs of functions at the end, and [`TcpSocket`](crate::net::TcpSocket) uses them too.
//! The options are the classic BSD ones, as Python's `socket.setsockopt` and tokio's
//! `TcpStream`/`TcpSocket` expose them.

use std::io;
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};

use crate::net::{TcpListener, TcpStream};

impl TcpStream {
    /// Turns TCP keepalive on (`SO_KEEPALIVE`), probing after `idle` without traffic
    /// (`TCP_KEEPIDLE`), or off with `None`. The probe interval and count stay the system's.
    ///
    /// # Errors
    /// The OS's reason, e.g. `InvalidInput` for an idle time the kernel refuses (Linux takes
    /// 1 s to about 9 hours, in whole seconds).
    #[doc(alias = "SO_KEEPALIVE")]
    pub fn set_keepalive(&self, idle: Option<Duration>) -> io::Result<()> {
        set_keepalive(SockRef::from(self.source.get_ref()), idle)
    }

    /// The keepalive idle time if keepalive is on, `None` if it is off.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn keepalive(&self) -> io::Result<Option<Duration>> {
        keepalive(SockRef::from(self.source.get_ref()))
    }

    /// Sets `SO_LINGER`. `None` (the default): dropping the socket returns at once and the
    /// kernel keeps sending what is unsent in the background. `Some(Duration::ZERO)`: dropping
    /// it sends a reset (RST) at once and throws away what is unsent, the usual reason to set
    /// this. `Some(t)` with `t > 0`: **dropping the socket blocks the loop's thread** for up to
    /// `t` while the kernel waits for the unsent data to be acknowledged; Linux lingers in
    /// `close` even on a non-blocking socket (tokio deprecated its `set_linger` for this).
    /// Prefer `shutdown(Write)` and reading to end of stream when the data must arrive.
    ///
    /// # Errors
    /// The OS's reason.
    #[doc(alias = "SO_LINGER")]
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        set_linger(SockRef::from(self.source.get_ref()), linger)
    }

    /// The `SO_LINGER` setting (see [`set_linger`](Self::set_linger)).
    ///
    /// # Errors
    /// The OS's reason.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        linger(SockRef::from(self.source.get_ref()))
    }

    /// Sets the IP time-to-live of outgoing packets (`IP_TTL`; hop limit, for IPv6 sockets).
    ///
    /// # Errors
    /// The OS's reason, e.g. `InvalidInput` for 0 or a value over 255.
    #[doc(alias = "IP_TTL")]
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.source.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of outgoing packets.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn ttl(&self) -> io::Result<u32> {
        self.source.get_ref().ttl()
    }
}

impl TcpListener {
    /// Sets the IP time-to-live of the packets this listener's connections send (accepted
    /// sockets inherit it).
    ///
    /// # Errors
    /// The OS's reason, e.g. `InvalidInput` for 0 or a value over 255.
    #[doc(alias = "IP_TTL")]
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.source.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of outgoing packets.
    ///
    /// # Errors
    /// The OS's reason.
    pub fn ttl(&self) -> io::Result<u32> {
        self.source.get_ref().ttl()
    }
}

/// Keepalive on with this idle time, or off.
pub(super) fn set_keepalive(socket: SockRef<'_>, idle: Option<Duration>) -> io::Result<()> {
    match idle {
        Some(idle) => socket.set_tcp_keepalive(&TcpKeepalive::new().with_time(idle)),
        None => socket.set_keepalive(false),
    }
}

/// The idle time if keepalive is on.
pub(super) fn keepalive(socket: SockRef<'_>) -> io::Result<Option<Duration>> {
    if socket.keepalive()? {
        socket.tcp_keepalive_time().map(Some)
    } else {
        Ok(None)
    }
}

/// `SO_LINGER`, set.
pub(super) fn set_linger(socket: SockRef<'_>, linger: Option<Duration>) -> io::Result<()> {
    socket.set_linger(linger)
}

/// `SO_LINGER`, read.
pub(super) fn linger(socket: SockRef<'_>) -> io::Result<Option<Duration>> {
    socket.linger()
}

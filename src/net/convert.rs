//! Conversions between evloop's sockets and std's, and the raw descriptor of each.
//!
//! * `from_std` takes over a std socket made elsewhere (by a library, by `socket2`, inherited
//!   from a parent process): it switches the socket to non-blocking mode, which every evloop
//!   socket must be (a blocking `read` would stall the whole loop), and registers it with the
//!   running loop.
//! * `into_std` gives it back: it undoes the registration (`IoSource::into_inner`) and
//!   **returns the socket in blocking mode**, as std's own constructors make them, so that
//!   code written for std sockets works on it unchanged. (tokio's `into_std` leaves it
//!   non-blocking and says so; blocking is the least surprising choice for a std type.)
//! * `AsRawFd` and `AsFd` lend the descriptor, for `setsockopt`s this API does not cover
//!   (`socket2::SockRef::from(&socket)` is the safe way to reach them).
//!
//! The six socket types do this identically, so it is written once, as a macro over
//! (evloop type, std type).

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use crate::io::source::IoSource;
use crate::net::unix::{UnixDatagram, UnixListener, UnixStream};
use crate::net::{TcpListener, TcpStream, UdpSocket};

/// `from_std`, `into_std`, `AsRawFd` and `AsFd` for one socket type whose registered mio socket
/// is its `source` field; `$mio` converts from and into `$std` (mio's `from_std` and `From`).
macro_rules! std_conversions {
    ($ty:ident, $mio:ty, $std:ty) => {
        impl $ty {
            #[doc = concat!("Takes over a `", stringify!($std), "`: sets it non-blocking and")]
            /// registers it with the running loop.
            ///
            /// # Errors
            /// The OS's reason, from `fcntl` or the reactor's `epoll_ctl`.
            ///
            /// # Panics
            /// Outside a running evloop loop.
            pub fn from_std(socket: $std) -> io::Result<$ty> {
                socket.set_nonblocking(true)?;
                Ok($ty {
                    source: IoSource::new(<$mio>::from_std(socket))?,
                })
            }

            #[doc = concat!("Gives the socket back as a `", stringify!($std), "`, in blocking mode,")]
            /// its registration with the loop undone; the descriptor stays open.
            ///
            /// # Errors
            /// The OS's reason from `fcntl`; the socket is then closed.
            ///
            /// # Panics
            /// Outside a running loop, or on a loop other than the socket's own.
            pub fn into_std(self) -> io::Result<$std> {
                let socket: $std = self.source.into_inner().into();
                socket.set_nonblocking(false)?;
                Ok(socket)
            }
        }

        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.source.get_ref().as_raw_fd()
            }
        }

        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.source.get_ref().as_fd()
            }
        }
    };
}

std_conversions!(TcpStream, mio::net::TcpStream, std::net::TcpStream);
std_conversions!(TcpListener, mio::net::TcpListener, std::net::TcpListener);
std_conversions!(UdpSocket, mio::net::UdpSocket, std::net::UdpSocket);
std_conversions!(UnixStream, mio::net::UnixStream, std::os::unix::net::UnixStream);
std_conversions!(UnixListener, mio::net::UnixListener, std::os::unix::net::UnixListener);
std_conversions!(UnixDatagram, mio::net::UnixDatagram, std::os::unix::net::UnixDatagram);

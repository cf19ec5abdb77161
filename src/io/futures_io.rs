//! The `futures-io` traits on evloop's streams (cargo feature `futures-io`, off by default).
//!
//! Much of the async ecosystem is written against `futures-io`'s `AsyncRead`, `AsyncWrite` and
//! `AsyncBufRead` (futures-lite's and futures-util's I/O helpers, async-tls, codecs): with the
//! feature on, an evloop socket, [`BufReader`] and [`BufWriter`] implement them too, and those
//! crates work on the loop unchanged. evloop's own traits (`io/mod.rs`) have the same shapes,
//! so every implementation here is a one-line forward.
//!
//! Why a macro and not one blanket `impl<T: evloop::io::AsyncRead> futures_io::AsyncRead for
//! T`: Rust's orphan rule (E0210) refuses it. The trait is foreign to this crate, and `T` could
//! be any type, foreign ones included, so two crates could write overlapping impls. An impl
//! for a type this crate names is allowed, so each stream type gets its own, written by
//! [`impl_futures_io!`]. A module that defines a new stream calls it once, with no `cfg` of its
//! own: the impls it expands to carry `#[cfg(feature = "futures-io")]` themselves. (So this file
//! names no stream type: `io` stays below `net`, which calls the macro in `net/tcp.rs`.)
//!
//! ```text
//! crate::io::impl_futures_io!(UnixStream, &UnixStream);
//! ```

#[cfg(feature = "futures-io")]
use std::io;
#[cfg(feature = "futures-io")]
use std::pin::Pin;
#[cfg(feature = "futures-io")]
use std::task::{Context, Poll};

#[cfg(feature = "futures-io")]
use super::{AsyncBufRead, AsyncRead, AsyncWrite, BufReader, BufWriter};

/// Implements `futures_io::AsyncRead` and `futures_io::AsyncWrite` for each listed type, by
/// forwarding to its `evloop::io` impls (which each type must have); `read:` or `write:` first
/// implements only that half, for a one-way stream such as a child's stdout or stdin. Expands to
/// nothing without the `futures-io` feature.
macro_rules! impl_futures_io {
    (read: $($ty:ty),+ $(,)?) => {$(
        #[cfg(feature = "futures-io")]
        impl ::futures_io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::io::AsyncRead::poll_read(self, cx, buf)
            }
        }
    )+};
    (write: $($ty:ty),+ $(,)?) => {$(
        #[cfg(feature = "futures-io")]
        impl ::futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::io::AsyncWrite::poll_write(self, cx, buf)
            }
            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                $crate::io::AsyncWrite::poll_flush(self, cx)
            }
            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                $crate::io::AsyncWrite::poll_close(self, cx)
            }
        }
    )+};
    ($($ty:ty),+ $(,)?) => {
        $crate::io::impl_futures_io!(read: $($ty),+);
        $crate::io::impl_futures_io!(write: $($ty),+);
    };
}
pub(crate) use impl_futures_io;

// The buffered types are generic, which the macro's `$ty` cannot declare: their impls are
// written out here. A `BufReader` is also the one `AsyncBufRead`.

#[cfg(feature = "futures-io")]
impl<R: AsyncRead + Unpin> futures_io::AsyncRead for BufReader<R> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        AsyncRead::poll_read(self, cx, buf)
    }
}

#[cfg(feature = "futures-io")]
impl<R: AsyncRead + Unpin> futures_io::AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        AsyncBufRead::poll_fill_buf(self, cx)
    }
    fn consume(self: Pin<&mut Self>, amt: usize) {
        AsyncBufRead::consume(self, amt);
    }
}

#[cfg(feature = "futures-io")]
impl<W: AsyncWrite + Unpin> futures_io::AsyncWrite for BufWriter<W> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        AsyncWrite::poll_write(self, cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_flush(self, cx)
    }
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_close(self, cx)
    }
}

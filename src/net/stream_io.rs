//! The generic byte-stream traits (`io/mod.rs`) for every socket stream, written once.
//!
//! A stream type already has `poll_read`, `poll_write` and `shutdown` taking `&self`; this
//! macro turns those into [`AsyncRead`](crate::io::AsyncRead) and
//! [`AsyncWrite`](crate::io::AsyncWrite) for the type *and* for a shared reference to it, so
//! that one task can read while another writes through `&Stream` (the reactor keeps the two
//! directions apart). futures-io and tokio implement their traits for `&TcpStream` for the
//! same reason.

/// Implements `AsyncRead` and `AsyncWrite` for `$ty` and `&$ty`, given inherent
/// `poll_read(&self, cx, buf)`, `poll_write(&self, cx, buf)` and `shutdown(&self, Shutdown)`.
macro_rules! impl_stream_io {
    ($ty:ty) => {
        $crate::net::stream_io::impl_stream_io!(@one $ty, $ty);
        $crate::net::stream_io::impl_stream_io!(@one &$ty, $ty);
    };
    (@one $for:ty, $ty:ty) => {
        impl $crate::io::AsyncRead for $for {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                <$ty>::poll_read(&self, cx, buf)
            }
        }

        impl $crate::io::AsyncWrite for $for {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                <$ty>::poll_write(&self, cx, buf)
            }
            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(())) // a socket keeps no buffer of its own
            }
            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(<$ty>::shutdown(&self, ::std::net::Shutdown::Write))
            }
        }
    };
}
pub(crate) use impl_stream_io;

//! In-memory byte streams: a `&[u8]` reads, a `Vec<u8>` writes, and neither ever waits.
//!
//! Why: a parser built on [`AsyncRead`] (a [`BufReader`](super::BufReader)'s line reader, a
//! protocol) can then be tried on bytes in memory, in a doctest or a unit test, with no socket
//! and no loop turn. std (`Read for &[u8]`, `Write for Vec<u8>`) and futures-io do the same.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{AsyncRead, AsyncWrite};

/// Reading takes bytes off the front of the slice; an empty slice is the end of the stream.
impl AsyncRead for &[u8] {
    fn poll_read(mut self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let n = self.len().min(buf.len());
        let (taken, rest) = self.split_at(n);
        buf[..n].copy_from_slice(taken);
        *self = rest;
        Poll::Ready(Ok(n))
    }
}

/// Writing appends to the vector; flushing and closing have nothing to do.
impl AsyncWrite for Vec<u8> {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

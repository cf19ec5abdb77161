//! [`AsyncBufRead`]: a reader with a buffer you may look into before you take from it.
//!
//! Reading a line needs to look at bytes without committing to them: "is the delimiter here
//! yet?" `poll_fill_buf` shows what is buffered (reading more only when nothing is), and
//! `consume` says how much of it was used. The shape is `futures-io`'s `AsyncBufRead` (itself
//! std's `BufRead` made pollable); [`BufReader`](super::BufReader) is the implementation.

use std::io;
use std::ops::DerefMut;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::AsyncRead;

/// A reader that keeps a buffer of bytes read but not yet used.
pub trait AsyncBufRead: AsyncRead {
    /// Returns the buffered bytes, reading from the source first (and waiting, with `cx`'s
    /// waker kept) if none are buffered. An empty slice means end of stream.
    ///
    /// # Errors
    /// The source's reason; the buffer is unchanged.
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>>;

    /// Marks the first `amt` buffered bytes as used: later reads start after them. `amt` past
    /// the end of the buffer is clamped to it.
    fn consume(self: Pin<&mut Self>, amt: usize);
}

impl<T: AsyncBufRead + Unpin + ?Sized> AsyncBufRead for &mut T {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut **self.get_mut()).poll_fill_buf(cx)
    }
    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut **self).consume(amt);
    }
}

impl<T: AsyncBufRead + Unpin + ?Sized> AsyncBufRead for Box<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut **self.get_mut()).poll_fill_buf(cx)
    }
    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut **self).consume(amt);
    }
}

impl<P> AsyncBufRead for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncBufRead,
{
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_mut().as_mut().poll_fill_buf(cx)
    }
    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().as_mut().consume(amt);
    }
}

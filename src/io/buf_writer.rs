//! [`BufWriter`]: many small writes gathered into few large ones (asyncio's `StreamWriter`).
//!
//! Read first: [`AsyncWrite`] (`io/mod.rs`). Every write to a socket is a system call, and
//! every small one may be a packet of its own; a protocol that writes a header, a separator
//! and a body in three calls pays three times. The writer keeps the bytes in a buffer and hands
//! them to the sink when the buffer is full, or when told to [`flush`](super::AsyncWriteExt::flush).
//! asyncio's `writer.write()` buffers the same way, and `await writer.drain()` is the flush.
//! The shape is std's and futures-io's `BufWriter`: a write at least as large as the buffer
//! skips it and goes straight to the sink (copying it would gain nothing).
//!
//! Dropping a writer drops whatever it still buffers: `Drop` cannot wait for a socket, so
//! flush (or [`close`](super::AsyncWriteExt::close)) before you let it go. (std's `BufWriter`
//! flushes in `drop`, blocking the thread; tokio's and futures-io's drop the bytes, as here.)

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::AsyncWrite;

/// How many bytes a writer gathers before it writes, unless told otherwise: std's default.
const DEFAULT_CAPACITY: usize = 8 * 1024;

/// A buffer in front of a byte sink (asyncio's `StreamWriter`: `write` buffers, `flush` is
/// `drain`). Write with [`AsyncWriteExt`](super::AsyncWriteExt).
///
/// # Examples
///
/// A reply written in three pieces and sent in one write, then flushed (asyncio's
/// `writer.write(...)` three times and `await writer.drain()`):
///
/// ```
/// use evloop::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
/// use evloop::net::{TcpListener, TcpStream};
///
/// let received = evloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().expect("an address"))?;
///     let client = TcpStream::connect(listener.local_addr()?).await?;
///     let (server, _) = listener.accept().await?;
///     let mut writer = BufWriter::new(server);
///     for piece in [&b"status: ok"[..], b"\r\n", b"bye\r\n"] {
///         writer.write_all(piece).await?; // buffered: nothing is sent yet
///     }
///     writer.close().await?; // flush, then FIN
///     let mut received = Vec::new();
///     (&client).read_to_end(&mut received).await?;
///     Ok::<_, std::io::Error>(received)
/// })?;
/// assert_eq!(received, b"status: ok\r\nbye\r\n");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[doc(alias = "StreamWriter")]
pub struct BufWriter<W> {
    /// The sink.
    inner: W,
    /// Bytes written to this writer and not yet taken by the sink.
    ///
    /// # Invariant
    /// `buf.len() <= capacity`.
    buf: Vec<u8>,
    /// How many bytes to gather before writing (kept apart: a `Vec`'s own capacity may be
    /// larger than asked for).
    capacity: usize,
    /// How many bytes at the front of `buf` the sink has already taken during a flush that has
    /// not finished (a flush interrupted by `Pending`, an error or a cancel resumes here).
    ///
    /// # Invariant
    /// `written <= buf.len()`.
    written: usize,
}

impl<W: AsyncWrite + Unpin> BufWriter<W> {
    /// A writer over `inner` with an 8 KiB buffer.
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// A writer over `inner` that gathers up to `capacity` bytes before writing (at least 1).
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity.max(1)),
            capacity: capacity.max(1),
            written: 0,
        }
    }

    /// The bytes waiting to be written.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.written..]
    }

    /// The sink.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The sink; writing to it directly jumps the queue of buffered bytes.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The sink back; bytes still buffered are lost (flush first).
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// Hands every buffered byte to the sink, resuming where an interrupted flush stopped.
    fn poll_flush_buf(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            match ready!(Pin::new(&mut self.inner).poll_write(cx, &self.buf[self.written..]))? {
                0 => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                n => self.written += n,
            }
        }
        self.buf.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for BufWriter<W> {
    /// Buffers `buf`, first writing out what is buffered if `buf` does not fit beside it; a
    /// `buf` at least as large as the whole buffer is written straight to the sink.
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.buf.len() + buf.len() > this.capacity {
            ready!(this.poll_flush_buf(cx))?;
        }
        if buf.len() >= this.capacity {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        this.buf.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_flush_buf(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_flush_buf(cx))?;
        Pin::new(&mut this.inner).poll_close(cx)
    }
}

//! [`AsyncReadExt`] and [`AsyncWriteExt`]: the `async fn`s every byte stream gets for free.
//!
//! The traits in `io/mod.rs` are poll functions, which is what a stream must implement but not
//! what a program wants to call. These extension traits turn them into `read(...).await`,
//! `write_all(...).await` and friends for anything that implements [`AsyncRead`] or
//! [`AsyncWrite`] (a `BufReader`, a `BufWriter`, a socket), as `futures-lite`'s and tokio's
//! `AsyncReadExt`/`AsyncWriteExt` do. Each method is a loop around one poll function, written
//! with `std::future::poll_fn`; what a cancelled call has already done is said on each one.
//!
//! A type's own methods win over these (`TcpStream::read_exact` is its own); call these by
//! path, `AsyncReadExt::read_exact(&mut stream, buf)`, when both exist.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::task::Poll;

use super::{AsyncRead, AsyncWrite};

/// How much room `read_to_end` makes in the vector before each read, at least.
const READ_TO_END_CHUNK: usize = 4 * 1024;

/// `async fn`s over any [`AsyncRead`].
///
/// # Examples
///
/// ```
/// use evloop::io::AsyncReadExt;
///
/// let text = evloop::run(async {
///     let mut source = &b"hello, world"[..];
///     let mut greeting = [0; 5];
///     source.read_exact(&mut greeting).await?;
///     let mut rest = String::new();
///     source.read_to_string(&mut rest).await?;
///     Ok::<_, std::io::Error>((greeting, rest))
/// })?;
/// assert_eq!(text, (*b"hello", ", world".to_string()));
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf`; 0 means the end of the stream (or an empty `buf`).
    ///
    /// # Errors
    /// The source's reason.
    ///
    /// # Cancel safety
    /// Cancel-safe: no byte is taken from the source unless this returns it.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        poll_fn(move |cx| Pin::new(&mut *self).poll_read(cx, buf))
    }

    /// Reads exactly `buf.len()` bytes (asyncio's `readexactly`).
    ///
    /// # Errors
    /// `UnexpectedEof` if the stream ends first; the source's reason.
    ///
    /// # Cancel safety
    /// Not cancel-safe: the bytes already copied into `buf` are gone from the source.
    #[doc(alias = "readexactly")]
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<()>> + 'a
    where
        Self: Unpin,
    {
        let mut done = 0;
        poll_fn(move |cx| {
            while done < buf.len() {
                match std::task::ready!(Pin::new(&mut *self).poll_read(cx, &mut buf[done..]))? {
                    0 => return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into())),
                    n => done += n,
                }
            }
            Poll::Ready(Ok(()))
        })
    }

    /// Reads until the end of the stream, appending to `buf`; returns how many bytes came
    /// (asyncio's `reader.read()` with no count).
    ///
    /// # Errors
    /// The source's reason; the bytes read before it stay appended to `buf`.
    ///
    /// # Cancel safety
    /// Cancel-safe in the sense that nothing is lost: every byte read is in `buf` when the
    /// future is dropped.
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        let start = buf.len();
        poll_fn(move |cx| {
            loop {
                // Room to read into, zeroed, and taken back in this same poll: `buf` never
                // shows the zeroes to its owner, whatever happens next.
                let len = buf.len();
                buf.resize(len + READ_TO_END_CHUNK.max(buf.capacity() - len), 0);
                let read = Pin::new(&mut *self).poll_read(cx, &mut buf[len..]);
                let n = match &read {
                    Poll::Ready(Ok(n)) => *n,
                    _ => 0,
                };
                buf.truncate(len + n);
                match read {
                    Poll::Ready(Ok(0)) => return Poll::Ready(Ok(buf.len() - start)),
                    Poll::Ready(Ok(_)) => {}
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
        })
    }

    /// Reads until the end of the stream, appending to `buf`, which must come out UTF-8.
    ///
    /// # Errors
    /// `InvalidData` if the bytes are not UTF-8 (`buf` is then unchanged); the source's reason.
    ///
    /// # Cancel safety
    /// Not cancel-safe: the bytes read before the drop are lost.
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        async move {
            let mut bytes = Vec::new();
            let n = self.read_to_end(&mut bytes).await?;
            let text = String::from_utf8(bytes)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"))?;
            buf.push_str(&text);
            Ok(n)
        }
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// `async fn`s over any [`AsyncWrite`].
///
/// # Examples
///
/// ```
/// use evloop::io::{AsyncWriteExt, BufWriter};
///
/// let sent = evloop::run(async {
///     let mut writer = BufWriter::new(Vec::new());
///     writer.write_all(b"hello, ").await?;
///     writer.write_all(b"world").await?;
///     writer.flush().await?; // asyncio's `await writer.drain()`
///     Ok::<_, std::io::Error>(writer.into_inner())
/// })?;
/// assert_eq!(sent, b"hello, world");
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some of `buf`; returns how many bytes the sink took.
    ///
    /// # Errors
    /// The sink's reason.
    ///
    /// # Cancel safety
    /// Cancel-safe: nothing is written unless this returns the count.
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        poll_fn(move |cx| Pin::new(&mut *self).poll_write(cx, buf))
    }

    /// Writes all of `buf` (asyncio's `writer.write(data)`; follow it with
    /// [`flush`](Self::flush) to wait until it has left a buffered writer).
    ///
    /// # Errors
    /// `WriteZero` if the sink stops taking bytes; the sink's reason.
    ///
    /// # Cancel safety
    /// Not cancel-safe: an unknown prefix of `buf` has been written when it is dropped.
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a
    where
        Self: Unpin,
    {
        let mut done = 0;
        poll_fn(move |cx| {
            while done < buf.len() {
                match std::task::ready!(Pin::new(&mut *self).poll_write(cx, &buf[done..]))? {
                    0 => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    n => done += n,
                }
            }
            Poll::Ready(Ok(()))
        })
    }

    /// Waits until everything written so far has left this writer's buffers (asyncio's
    /// `await writer.drain()`).
    ///
    /// # Errors
    /// The sink's reason.
    ///
    /// # Cancel safety
    /// Cancel-safe: what was flushed is gone, the rest stays buffered for the next flush.
    #[doc(alias = "drain")]
    fn flush(&mut self) -> impl Future<Output = io::Result<()>> + '_
    where
        Self: Unpin,
    {
        poll_fn(move |cx| Pin::new(&mut *self).poll_flush(cx))
    }

    /// Flushes, then shuts the write side down (asyncio's `writer.write_eof()`, or
    /// `writer.close()` for a writer that will not be read from either).
    ///
    /// # Errors
    /// The sink's reason.
    ///
    /// # Cancel safety
    /// Cancel-safe as [`flush`](Self::flush); calling it again finishes the job.
    #[doc(alias = "write_eof")]
    fn close(&mut self) -> impl Future<Output = io::Result<()>> + '_
    where
        Self: Unpin,
    {
        poll_fn(move |cx| Pin::new(&mut *self).poll_close(cx))
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

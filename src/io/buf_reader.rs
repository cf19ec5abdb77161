//! [`BufReader`]: reading a byte stream a line at a time (asyncio's `StreamReader`).
//!
//! Read first: [`AsyncRead`] (`io/mod.rs`) and the line search in `io/line.rs`, which decides,
//! from the buffered bytes alone, whether a whole line is there yet.
//!
//! A socket hands over whatever the kernel has: half a line, three lines and a bit. The reader
//! keeps those bytes in a buffer and gives them out in the units a protocol speaks: a line
//! ([`read_line`](BufReader::read_line), [`lines`](BufReader::lines)), up to a delimiter
//! ([`read_until`](BufReader::read_until)), or exactly `n` bytes
//! ([`read_exact`](BufReader::read_exact)). Its shape is std's and futures-io's `BufReader`;
//! its line methods keep the unfinished line *in the buffer* until the delimiter arrives, as
//! asyncio's `readuntil` does, which makes them cancel-safe and is why a line has a
//! [limit](BufReader::set_limit).
//!
//! What production runtimes do differently: tokio's `read_line` appends to your `String` as
//! bytes arrive (so its buffer stays small, and a cancelled `read_line` leaves your `String`
//! undefined); tokio-util's `LinesCodec` and asyncio keep the line in their own buffer, as here.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::line::{Next, Search};
use super::{AsyncBufRead, AsyncRead, AsyncReadExt};

/// How many bytes a reader asks its source for at once, unless told otherwise: std's and
/// futures-io's default.
const DEFAULT_CAPACITY: usize = 8 * 1024;

/// The longest line accepted unless told otherwise, delimiter included: asyncio's stream
/// limit, `2 ** 16`.
const DEFAULT_LIMIT: usize = 64 * 1024;

/// A buffer in front of a byte stream, for reading lines, delimited records or exact counts
/// (asyncio's `StreamReader`).
///
/// # Examples
///
/// A server that reads a request line by line, as an asyncio handler would with
/// `await reader.readline()`:
///
/// ```
/// use evloop::io::{AsyncWriteExt, BufReader};
/// use evloop::net::{TcpListener, TcpStream};
///
/// let lines = evloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().expect("an address"))?;
///     let addr = listener.local_addr()?;
///     evloop::spawn(async move {
///         let mut client = TcpStream::connect(addr).await.expect("the listener is up");
///         AsyncWriteExt::write_all(&mut client, b"HELLO\r\nname: ada\r\n").await.expect("sent");
///     }); // the task ends, the socket closes: the server sees the end of the stream
///     let (stream, _) = listener.accept().await?;
///     let mut reader = BufReader::new(stream);
///     let mut lines = Vec::new();
///     let mut line = String::new();
///     while reader.read_line(&mut line).await? != 0 {
///         lines.push(std::mem::take(&mut line));
///     }
///     Ok::<_, std::io::Error>(lines)
/// })?;
/// assert_eq!(lines, ["HELLO\r\n", "name: ada\r\n"]);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[doc(alias = "StreamReader")]
pub struct BufReader<R> {
    /// The source of the bytes.
    inner: R,
    /// The buffer; its length is its size (all of it initialized once, so reads go straight
    /// into it). It starts at the capacity asked for and grows, for a long line only, to at
    /// most `limit + 1` bytes.
    buf: Vec<u8>,
    /// Where the bytes not yet given out start.
    ///
    /// # Invariant
    /// `pos <= filled <= buf.len()`.
    pos: usize,
    /// Where the bytes read from the source end.
    filled: usize,
    /// The longest line the line methods accept, delimiter included.
    limit: usize,
    /// Where the current line search stands, kept here so that a cancelled `read_line` does
    /// not forget it was skipping an over-long line. Reset by any other read or `consume`.
    search: Search,
}

impl<R: AsyncRead + Unpin> BufReader<R> {
    /// A reader over `inner` with an 8 KiB buffer and a 64 KiB line limit.
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// A reader over `inner` that asks it for `capacity` bytes at a time (at least 1).
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        BufReader {
            inner,
            buf: vec![0; capacity.max(1)],
            pos: 0,
            filled: 0,
            limit: DEFAULT_LIMIT,
            search: Search::START,
        }
    }

    /// The same reader with its line limit set to `limit` (see [`set_limit`](Self::set_limit)).
    #[must_use]
    pub fn with_limit(mut self, limit: usize) -> BufReader<R> {
        self.set_limit(limit);
        self
    }

    /// Sets the longest line, delimiter included, that the line methods accept (asyncio's
    /// `limit=`). The buffer grows to hold such a line (`limit + 1` bytes at most), so the
    /// limit is also the memory a peer may make this reader use. A longer line is read and
    /// discarded, and reported as a [`LimitOverrun`](super::LimitOverrun).
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// The line limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The bytes read from the source and not yet given out.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    /// The source.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The source, for instance to write to a socket that is also read through this reader.
    /// Reading from it directly skips whatever is in [`buffer`](Self::buffer).
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The source back; the buffered bytes are lost (read [`buffer`](Self::buffer) first).
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads a line, its `\n` included, and appends it to `line` (asyncio's
    /// `reader.readline()`, std's `read_line`). Returns the bytes read: 0 at the end of the
    /// stream, and a last line without `\n` is returned as it is.
    ///
    /// # Errors
    /// - `InvalidData` with a [`LimitOverrun`](super::LimitOverrun) inside, if the line is
    ///   longer than the [limit](Self::set_limit): the whole line has then been discarded, and
    ///   the next read starts at the next line.
    /// - `InvalidData` if the line is not UTF-8: the line is discarded, `line` is unchanged.
    /// - The source's reason.
    ///
    /// # Cancel safety
    /// Cancel-safe: the line stays in the reader's buffer until all of it has arrived, and is
    /// appended to `line` in the same step that returns; a cancelled call leaves `line`
    /// untouched and loses no byte (the next call finds the partial line still buffered).
    #[doc(alias = "readline")]
    pub async fn read_line(&mut self, line: &mut String) -> io::Result<usize> {
        let n = poll_fn(|cx| self.poll_line(cx, b'\n')).await?;
        let text = std::str::from_utf8(&self.buf[self.pos..self.pos + n]).map(|text| line.push_str(text));
        self.discard(n);
        text.map(|()| n)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"))
    }

    /// Reads up to and including the first `delimiter` and appends it to `buf` (asyncio's
    /// `reader.readuntil(separator)`, std's `read_until`). Returns the bytes read: 0 at the end
    /// of the stream; the last record may lack the delimiter.
    ///
    /// # Errors
    /// `InvalidData` with a [`LimitOverrun`](super::LimitOverrun) inside for a record longer
    /// than the [limit](Self::set_limit) (discarded whole, as for
    /// [`read_line`](Self::read_line)); the source's reason.
    ///
    /// # Cancel safety
    /// Cancel-safe, as [`read_line`](Self::read_line).
    #[doc(alias = "readuntil")]
    pub async fn read_until(&mut self, delimiter: u8, buf: &mut Vec<u8>) -> io::Result<usize> {
        let n = poll_fn(|cx| self.poll_line(cx, delimiter)).await?;
        buf.extend_from_slice(&self.buf[self.pos..self.pos + n]);
        self.discard(n);
        Ok(n)
    }

    /// Reads exactly `buf.len()` bytes (asyncio's `reader.readexactly(n)`).
    ///
    /// # Errors
    /// `UnexpectedEof` if the stream ends first (the bytes that did come are consumed); the
    /// source's reason.
    ///
    /// # Cancel safety
    /// Not cancel-safe: bytes copied into `buf` before the drop are consumed.
    #[doc(alias = "readexactly")]
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        AsyncReadExt::read_exact(self, buf).await
    }

    /// Waits until some bytes are buffered and returns them, without consuming them (call
    /// [`consume`](Self::consume) for what you used). Empty means the end of the stream.
    ///
    /// # Errors
    /// The source's reason.
    ///
    /// # Cancel safety
    /// Cancel-safe: nothing is consumed.
    pub async fn fill_buf(&mut self) -> io::Result<&[u8]> {
        poll_fn(|cx| self.poll_fill(cx)).await?;
        Ok(self.buffer())
    }

    /// Marks the first `amt` buffered bytes as used (clamped to what is buffered).
    pub fn consume(&mut self, amt: usize) {
        self.search = Search::START;
        self.discard(amt);
    }

    /// Turns this reader into the sequence of its lines, without their `\n` or `\r\n`.
    pub fn lines(self) -> Lines<R> {
        Lines { reader: self }
    }

    /// Waits for a whole line (up to `delimiter`) to be buffered, and returns its length:
    /// it is `buf[pos..pos + n]`, not yet consumed. 0 means the end of the stream.
    fn poll_line(&mut self, cx: &mut Context<'_>, delimiter: u8) -> Poll<io::Result<usize>> {
        loop {
            let next = self
                .search
                .step(&self.buf[self.pos..self.filled], delimiter, self.limit);
            if let Some(done) = self.act(next) {
                return Poll::Ready(done);
            }
            if ready!(self.poll_read_more(cx))? == 0 {
                let next = self.search.at_eof(&self.buf[self.pos..self.filled], self.limit);
                return Poll::Ready(self.act(next).unwrap_or(Ok(0)));
            }
        }
    }

    /// Performs what the line search decided; `None` means "read more and look again".
    fn act(&mut self, next: Next) -> Option<io::Result<usize>> {
        match next {
            Next::Line(n) => Some(Ok(n)),
            Next::ReadMore { discard } => {
                self.discard(discard);
                None
            }
            Next::Overrun { discard, error } => {
                self.discard(discard);
                Some(Err(io::Error::new(io::ErrorKind::InvalidData, error)))
            }
        }
    }

    /// Reads more bytes after those buffered, keeping them: moves them to the front and, if
    /// they fill the buffer, grows it, doubling, up to `limit + 1` bytes: the line search
    /// discards a window longer than the limit, so a searching window always fits. Returns
    /// how many came; 0 is the end of the stream.
    fn poll_read_more(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
        }
        if self.filled == self.buf.len() {
            let size = self.buf.len().saturating_mul(2).min(self.limit.saturating_add(1));
            // `max`: a limit lowered below the buffered bytes must still leave room to read.
            self.buf.resize(size.max(self.buf.len() + 1), 0);
        }
        let n = ready!(Pin::new(&mut self.inner).poll_read(cx, &mut self.buf[self.filled..]))?;
        self.filled += n;
        Poll::Ready(Ok(n))
    }

    /// Reads from the source if nothing is buffered.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.pos == self.filled {
            self.search = Search::START;
            (self.pos, self.filled) = (0, 0);
            self.filled = ready!(Pin::new(&mut self.inner).poll_read(cx, &mut self.buf))?;
        }
        Poll::Ready(Ok(()))
    }

    /// Consumes `amt` buffered bytes without touching the line search.
    fn discard(&mut self, amt: usize) {
        self.pos += amt.min(self.filled - self.pos);
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for BufReader<R> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, out: &mut [u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // Nothing buffered and a large read: let it go straight to the source (std does too).
        if this.pos == this.filled && out.len() >= this.buf.len() {
            this.search = Search::START;
            return Pin::new(&mut this.inner).poll_read(cx, out);
        }
        ready!(this.poll_fill(cx))?;
        let n = this.buffer().len().min(out.len());
        out[..n].copy_from_slice(&this.buffer()[..n]);
        this.consume(n);
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncRead + Unpin> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        ready!(this.poll_fill(cx))?;
        Poll::Ready(Ok(this.buffer()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        BufReader::consume(self.get_mut(), amt);
    }
}

/// The lines of a [`BufReader`], one per [`next_line`](Lines::next_line), without their line
/// ending (`\n`, or `\r\n`), as std's `lines()` and asyncio's `async for line in reader`.
///
/// evloop has no `Stream` trait: like [`AsCompleted::next`](crate::AsCompleted::next), the
/// sequence is an `async fn` that returns `None` at the end. (With the `futures-io` feature,
/// futures-lite's `AsyncBufReadExt::lines` also works on a `BufReader`.)
///
/// # Examples
///
/// ```
/// use evloop::io::BufReader;
///
/// let lines = evloop::run(async {
///     let mut lines = BufReader::new(&b"first\r\nsecond\nlast"[..]).lines();
///     let mut all = Vec::new();
///     while let Some(line) = lines.next_line().await? {
///         all.push(line);
///     }
///     Ok::<_, std::io::Error>(all)
/// })?;
/// assert_eq!(lines, ["first", "second", "last"]);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Lines<R> {
    /// Where the lines come from.
    reader: BufReader<R>,
}

impl<R: AsyncRead + Unpin> Lines<R> {
    /// The next line, without its `\n` or `\r\n`; `None` at the end of the stream.
    ///
    /// # Errors
    /// As [`BufReader::read_line`]; after an error (a line too long, or not UTF-8, which is
    /// skipped) the next call goes on with the next line.
    ///
    /// # Cancel safety
    /// Cancel-safe, as [`BufReader::read_line`].
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        if line.ends_with('\n') {
            line.pop();
            if line.ends_with('\r') {
                line.pop();
            }
        }
        Ok(Some(line))
    }

    /// The reader back, with whatever it has buffered.
    pub fn into_inner(self) -> BufReader<R> {
        self.reader
    }
}

//! Sending a request body after its head: a streamed body in chunks, and `Expect: 100-continue`.
//!
//! Why it exists: a body held in memory goes out with its head in one write (`conn.rs`). Two
//! requests cannot: a body read from a stream, whose length is unknown until it ends, and a
//! body the client should not send before the server has agreed to take it. Read first:
//! RFC 9112 §7.1 (the chunked coding a streamed body is sent in), RFC 9110 §10.1.1 (`Expect`)
//! and §15.2.1 (`100 Continue`); then `conn.rs`, whose `next_head` this file drives.
//!
//! ```text
//!  write head ─┬─────────────────────────────────────────────► write body ─► read final head
//!              └ Expect: 100-continue: read the first head ─┬─ 100 (any 1xx) ─┘
//!                (at most CONTINUE_WAIT)                    ├─ wait over ─────┘ (send anyway)
//!                                                           └─ final head: the answer; the
//!                                                              body is never sent
//! ```
//!
//! **A streamed body** ([`RequestBuilder::body_stream`]) is any evloop [`AsyncRead`]: a file's
//! pipe, a socket, a child's stdout. Each read becomes one chunk, `size-in-hex CRLF data CRLF`,
//! and the end of the stream the last chunk, `0 CRLF CRLF`; nothing is buffered beyond one read.
//! A stream can be sent once only, so it is never retried on a new connection, never sent on a
//! pooled one that might turn out stale, and a 307/308 redirect is handed back to the caller
//! rather than followed (the body is gone); a 301/302/303 turns into a bodiless GET as usual.
//!
//! **`Expect: 100-continue`** ([`RequestBuilder::expect_continue`]) asks the server to look at
//! the head first. The client then waits for the first head: a `100 Continue` (or any 1xx)
//! means go on; a final response (a 401, a 413) means the server does not want the body, so it
//! is not sent, and the connection is closed after the answer, since the server may still be
//! waiting for body bytes its framing announced. A server that says nothing (many never
//! answer `Expect`) is given [`CONTINUE_WAIT`], then the body is sent anyway, as RFC 9110
//! §10.1.1 asks of a client and as curl does.
//!
//! [`AsyncRead`]: crate::io::AsyncRead

use std::fmt;
use std::future::poll_fn;
use std::io::Write as _;
use std::pin::Pin;
use std::time::Duration;

use crate::http::conn::{Conn, ExchangeError};
use crate::http::deadline::Deadline;
use crate::http::error::{Error, TimeoutKind};
use crate::http::headers::Headers;
use crate::http::request::{Method, encode_chunked_request_head, encode_request_head};
use crate::http::response::{HeadLimits, ResponseHead, ResponseHeadReader};
use crate::http::url::Url;
use crate::io::AsyncRead;

/// How long a request with `Expect: 100-continue` waits for the server's `100 Continue` before
/// sending its body anyway: 1 s, curl's default (`--expect100-timeout`).
pub const CONTINUE_WAIT: Duration = Duration::from_secs(1);

/// The most bytes one read of a streamed body takes, and so the largest chunk sent: 16 KiB,
/// the size of one socket read in `conn.rs`.
const CHUNK: usize = 16 * 1024;

/// A request body read from a stream and sent chunked; see the module docs.
pub(crate) struct StreamBody(Pin<Box<dyn AsyncRead>>);

impl fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StreamBody")
    }
}

/// What a request sends after its head besides a body in memory: `client.rs` builds one per
/// attempt from its `RequestBuilder`.
pub(crate) struct Upload<'a> {
    /// A streamed body, sent chunked.
    pub(crate) stream: Option<&'a mut StreamBody>,
    /// Wait for `100 Continue` before the body.
    pub(crate) expect_continue: bool,
}

/// A request's bytes: the head, then the body if it is in memory.
pub(crate) struct Encoded {
    bytes: Vec<u8>,
    /// Where the head ends in `bytes`.
    head_len: usize,
    /// The head says `Expect: 100-continue` (only a request with a body does).
    expect_continue: bool,
}

impl Encoded {
    /// The buffer, to be reused for a later request once this one has been sent.
    pub(crate) fn into_buffer(self) -> Vec<u8> {
        self.bytes
    }

    /// Lets `edit` change the head (a proxy's absolute-form target and `Proxy-Authorization`,
    /// `proxy.rs`), keeping the head's length right for the body that follows it.
    pub(crate) fn edit_head(&mut self, edit: impl FnOnce(&mut Vec<u8>)) {
        let body = self.bytes.split_off(self.head_len);
        edit(&mut self.bytes);
        self.head_len = self.bytes.len();
        self.bytes.extend_from_slice(&body);
    }
}

impl Upload<'_> {
    /// Whether the body could be sent again (a retry on a fresh connection): not a stream.
    pub(crate) fn replayable(&self) -> bool {
        self.stream.is_none()
    }

    /// Encodes the head, framed for a stream (chunked) or for `body` (`Content-Length`), with
    /// `Expect: 100-continue` when asked and there is a body; then the body in memory. `bytes`
    /// is an empty buffer to write into (an earlier request's, from the pool: `into_buffer`).
    pub(crate) fn encode(
        &self,
        method: &Method,
        url: &Url,
        headers: &Headers,
        body: Option<&[u8]>,
        mut bytes: Vec<u8>,
    ) -> Result<Encoded, Error> {
        debug_assert!(bytes.is_empty(), "a request is encoded into an empty buffer");
        bytes.reserve(256 + body.map_or(0, <[u8]>::len));
        if self.stream.is_some() {
            encode_chunked_request_head(method, url, headers, &mut bytes)?;
        } else {
            encode_request_head(method, url, headers, body.map(|b| b.len() as u64), &mut bytes)?;
        }
        let expect_continue = self.expect_continue && (self.stream.is_some() || body.is_some_and(|b| !b.is_empty()));
        if expect_continue {
            // The head ends with its empty line: the header goes just before it.
            bytes.truncate(bytes.len() - 2);
            bytes.extend_from_slice(b"Expect: 100-continue\r\n\r\n");
        }
        let head_len = bytes.len();
        bytes.extend_from_slice(body.unwrap_or_default());
        Ok(Encoded {
            bytes,
            head_len,
            expect_continue,
        })
    }

    /// Sends the request and reads the final head; also says whether the whole body went out
    /// (when it did not, the connection must not be reused). A body in memory without `Expect`
    /// goes out with its head in one write (`Conn::exchange`); otherwise see [`exchange`].
    pub(crate) async fn exchange(
        &mut self,
        conn: &mut Conn,
        request: &Encoded,
        limits: HeadLimits,
        deadline: &mut Deadline,
    ) -> Result<(ResponseHead, bool), ExchangeError> {
        let (head, bytes) = request.bytes.split_at(request.head_len);
        let body = match self.stream.as_deref_mut() {
            Some(stream) => Body::Stream(stream),
            None if !request.expect_continue => {
                let head = conn.exchange(&request.bytes, limits, deadline).await?;
                return Ok((head, true));
            }
            None => Body::Bytes(bytes),
        };
        exchange(conn, head, body, request.expect_continue, limits, deadline).await
    }
}

/// The body to send after the head.
enum Body<'a> {
    /// Bytes in memory, already framed by `Content-Length`.
    Bytes(&'a [u8]),
    /// A stream, sent in chunks.
    Stream(&'a mut StreamBody),
}

/// Writes `head`, then (once the server agrees, when `expect_continue`) `body`, and reads the
/// final response head. Also says whether the whole body went out: when it did not (the server
/// answered before `100 Continue`) the connection must not be reused.
async fn exchange(
    conn: &mut Conn,
    head: &[u8],
    body: Body<'_>,
    expect_continue: bool,
    limits: HeadLimits,
    deadline: &mut Deadline,
) -> Result<(ResponseHead, bool), ExchangeError> {
    let before_response = |error| ExchangeError {
        error,
        before_response: true,
    };
    conn.write_all(head, deadline).await.map_err(before_response)?;
    let mut reader = ResponseHeadReader::new(limits);
    let mut received_any = false;
    if expect_continue {
        let first = crate::time::timeout(
            CONTINUE_WAIT,
            conn.next_head(&mut reader, &mut received_any, true, deadline),
        )
        .await;
        match first {
            // A final answer instead of 100 Continue: the body is not wanted.
            Ok(Ok(Some(head))) => return Ok((head, false)),
            Ok(Ok(None)) => {}
            Ok(Err(failure)) => return Err(failure),
            Err(_waited) => {
                log::debug!(target: "evloop::http", "no 100 Continue within {CONTINUE_WAIT:?}; sending the body")
            }
        }
    }
    let sent = match body {
        Body::Bytes(bytes) => conn.write_all(bytes, deadline).await,
        Body::Stream(stream) => send_chunked(conn, stream, deadline).await,
    };
    // A failure here is "before the response" unless a 1xx came: the caller may then retry a
    // body in memory on a fresh connection (never a stream: the client does not retry those).
    sent.map_err(|error| ExchangeError {
        error,
        before_response: !received_any,
    })?;
    let head = conn.next_head(&mut reader, &mut received_any, false, deadline).await?;
    Ok((
        head.expect("next_head returns the final head when not asked to stop"),
        true,
    ))
}

/// Sends the stream as chunks, then the last chunk; each read and write within the deadline.
async fn send_chunked(conn: &mut Conn, stream: &mut StreamBody, deadline: &mut Deadline) -> Result<(), Error> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        deadline.arm(None, TimeoutKind::Total);
        let read = deadline
            .run(async {
                poll_fn(|cx| stream.0.as_mut().poll_read(cx, &mut buf))
                    .await
                    .map_err(Error::RequestBody)
            })
            .await?;
        if read == 0 {
            return conn.write_all(b"0\r\n\r\n", deadline).await;
        }
        // One write per chunk: its size line, its data and its CRLF.
        let mut chunk = Vec::with_capacity(read + 12);
        write!(chunk, "{read:x}\r\n").expect("writing to a Vec cannot fail");
        chunk.extend_from_slice(&buf[..read]);
        chunk.extend_from_slice(b"\r\n");
        conn.write_all(&chunk, deadline).await?;
    }
}

// Named through `http/mod.rs`, as a user names it: the builder's other methods are in `client.rs`.
impl crate::http::RequestBuilder {
    /// Sends `Expect: 100-continue` with the head, and the body only once the server answers
    /// `100 Continue`, or after [`CONTINUE_WAIT`] (1 s, as curl) without an answer. A final
    /// response instead (a 401, a 413) is returned without the body having been sent. Only for
    /// a request with a body; see `upload.rs`. aiohttp's `expect100=True`.
    #[doc(alias = "expect100")]
    pub fn expect_continue(mut self, expect: bool) -> crate::http::RequestBuilder {
        self.expect_continue = expect;
        self
    }

    /// Sets the body to whatever `reader` yields until its end, sent as it is read with
    /// `Transfer-Encoding: chunked` (its length is not known up front): a pipe, a socket, a
    /// child's output. Replaces a body set before; see `upload.rs` for what a stream cannot do
    /// (be retried, follow a 307/308).
    ///
    /// ```
    /// use evloop::http::Client;
    /// use evloop::net::TcpListener;
    ///
    /// let seen = evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0".parse().expect("an address")).expect("a port");
    ///     let url = format!("http://{}/upload", listener.local_addr().expect("bound"));
    ///     let server = evloop::spawn(async move {
    ///         let (stream, _) = listener.accept().await.expect("one client");
    ///         let (mut request, mut buf) = (Vec::new(), [0; 1024]);
    ///         while !request.ends_with(b"0\r\n\r\n") {
    ///             let n = stream.read(&mut buf).await.expect("the request");
    ///             assert!(n > 0, "the client closed before the end of its request");
    ///             request.extend_from_slice(&buf[..n]);
    ///         }
    ///         stream.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await.expect("the client reads");
    ///         String::from_utf8(request).expect("ASCII")
    ///     });
    ///     // Any evloop::io::AsyncRead will do: a pipe, a socket, or here bytes in memory.
    ///     let source: &'static [u8] = b"streamed";
    ///     let response = Client::new().post(&url).body_stream(source).send().await.expect("a response");
    ///     assert_eq!(response.status(), 204);
    ///     server.await.expect("the server's task")
    /// });
    /// assert!(seen.contains("Transfer-Encoding: chunked\r\n"));
    /// assert!(seen.ends_with("\r\n\r\n8\r\nstreamed\r\n0\r\n\r\n"));
    /// ```
    pub fn body_stream(self, reader: impl AsyncRead + 'static) -> crate::http::RequestBuilder {
        self.streamed_body(StreamBody(Box::pin(reader)))
    }
}

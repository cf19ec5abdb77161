//! `Response`: aiohttp's `ClientResponse` (status, headers, `read()`/`text()`/`content`).
//!
//! The head has been read when a [`Response`] is returned; the body is read on demand, through
//! the connection, by a [`BodyDecoder`]. When the decoder says the body is complete the
//! connection's fate is decided:
//!
//! - back to the pool, if the framing allows keep-alive and **no byte is left over** (a 204
//!   that carried a body, a response longer than its Content-Length, a second unrequested
//!   response: all leave bytes behind, and all mean the connection's framing can no longer be
//!   trusted, so it is closed and those bytes are never read as the next response);
//! - closed otherwise, or if the response is dropped before its body was read to the end.
//!
//! Either way the request's pool slot is released then. Read first: `framing/` (the
//! decision and the decoder) and `pool.rs` (what a slot is).

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crate::http::conn::Conn;
use crate::http::deadline::Deadline;
use crate::http::error::Error;
use crate::http::framing::{BodyDecoder, ChunkLimits, Framing};
use crate::http::headers::Headers;
use crate::http::pool::{Pool, Slot};
use crate::http::response::{ResponseHead, Version};
use crate::http::session::Redirect;
use crate::http::url::Url;
use crate::timer::deadline_after;

/// What is left of the exchange while the body is being read.
pub(crate) struct Reading {
    conn: Conn,
    decoder: BodyDecoder,
    /// The body's length, when `Content-Length` gave it (to size the buffer of `bytes`).
    expected: Option<u64>,
    reusable: bool,
    deadline: Deadline,
    pool: Rc<Pool>,
    _slot: Slot,
    /// Inflates a gzip or deflate body after the framing decoder (`decode.rs`); `None` for a
    /// body passed through as it is.
    #[cfg(feature = "gzip")]
    content: Option<crate::http::decode::ContentDecoder>,
}

impl Reading {
    pub(crate) fn new(
        conn: Conn,
        framing: Framing,
        chunk_limits: ChunkLimits,
        reusable: bool,
        deadline: Deadline,
        pool: Rc<Pool>,
        slot: Slot,
    ) -> Box<Reading> {
        // Boxed: a response is handed up through several futures, and moving a pointer is
        // cheaper than moving the connection, decoder and timer each time.
        Box::new(Reading {
            conn,
            decoder: BodyDecoder::with_limits(framing, chunk_limits),
            expected: match framing {
                Framing::Length(n) => Some(n),
                _ => None,
            },
            reusable,
            deadline,
            pool,
            _slot: slot,
            #[cfg(feature = "gzip")]
            content: None,
        })
    }

    /// Whether the body has been read to its end: framed, and decoded if it was compressed.
    fn is_done(&self) -> bool {
        #[cfg(feature = "gzip")]
        if let Some(content) = &self.content {
            return self.decoder.is_done() && content.is_finished();
        }
        self.decoder.is_done()
    }

    /// Ends the exchange once the body is complete: the connection goes back to the pool if
    /// it may, and is closed otherwise; the pool slot is released either way.
    fn finish(self: Box<Self>) {
        let leftover = !self.conn.buffered().is_empty();
        if self.reusable && !leftover {
            self.pool.checkin(self.conn);
        } else if leftover {
            log::debug!(
                target: "evloop::http",
                "closing a connection with {} unexpected bytes after the response",
                self.conn.buffered().len()
            );
        }
    }

    /// Reads what is left of the body and throws it away, so the connection can carry the
    /// next request (a redirect's body, say). Gives up, closing the connection, on any error
    /// or after `patience`.
    pub(crate) async fn discard(mut self: Box<Self>, patience: Duration) {
        self.deadline.cap_total(deadline_after(crate::time::now(), patience));
        let mut scratch = Vec::new();
        while !self.decoder.is_done() {
            scratch.clear();
            if pump(&mut self, &mut scratch).await.is_err() {
                return;
            }
        }
        self.finish();
    }
}

/// A response whose head has arrived. Read the body with [`bytes`](Self::bytes),
/// [`text`](Self::text) or, piece by piece, [`chunk`](Self::chunk).
pub struct Response {
    head: ResponseHead,
    url: Url,
    /// `None` once the body has been read to the end (or failed).
    reading: Option<Box<Reading>>,
    /// Most bytes `bytes()`/`text()` will buffer.
    max_body: u64,
    /// The redirects followed on the way here, oldest first (`session.rs`).
    history: Vec<Redirect>,
}

impl Response {
    pub(crate) fn new(head: ResponseHead, url: Url, reading: Box<Reading>, max_body: u64) -> Response {
        let mut response = Response {
            head,
            url,
            reading: Some(reading),
            max_body,
            history: Vec::new(),
        };
        // A bodiless response (HEAD, 204, 304, Content-Length: 0) is complete already.
        response.finish_if_done();
        response
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.head.status
    }

    /// The reason phrase, as the server wrote it.
    pub fn reason(&self) -> &str {
        &self.head.reason
    }

    /// The HTTP version of the response.
    pub fn version(&self) -> Version {
        self.head.version
    }

    /// The response headers (case-insensitive lookup).
    pub fn headers(&self) -> &Headers {
        &self.head.headers
    }

    /// The URL this response came from (after redirects).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The redirects followed to get here, oldest first (aiohttp's `resp.history`); empty when
    /// the first answer was final.
    pub fn history(&self) -> &[Redirect] {
        &self.history
    }

    pub(crate) fn set_history(&mut self, history: Vec<Redirect>) {
        self.history = history;
    }

    /// `Err(Error::Status(code))` for a 4xx or 5xx status, the response otherwise
    /// (aiohttp's `raise_for_status`).
    ///
    /// # Errors
    /// [`Error::Status`] for 4xx and 5xx; [`Error::RetryAfter`] instead for a 429 or 503
    /// whose `Retry-After` says when to come back.
    pub fn error_for_status(self) -> Result<Response, Error> {
        let status = self.head.status;
        if let Some(delay) = crate::http::retry::retry_after(status, &self.head.headers) {
            Err(Error::RetryAfter { status, delay })
        } else if (400..600).contains(&status) {
            Err(Error::Status(status))
        } else {
            Ok(self)
        }
    }

    /// The next piece of the body, or `None` at its end. Unlike [`bytes`](Self::bytes), the
    /// body is not capped: it is never held in memory whole.
    ///
    /// # Errors
    /// A malformed or truncated body, an I/O error, or a timeout. After an error the
    /// connection is closed and further calls return `Ok(None)`.
    ///
    /// # Cancel safety
    /// Cancel-safe in the sense that nothing is corrupted: bytes already decoded by a dropped
    /// call are lost, so the body is incomplete; drop the response after cancelling.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let mut out = Vec::new();
        while out.is_empty() {
            let Some(reading) = self.reading.as_mut() else {
                return Ok(None);
            };
            if let Err(error) = pump(reading, &mut out).await {
                self.reading = None;
                return Err(error);
            }
            if reading.is_done() {
                self.finish_if_done();
                break;
            }
        }
        Ok(if out.is_empty() { None } else { Some(out) })
    }

    /// The whole body, up to the client's `max_body` (10 MiB by default).
    ///
    /// # Errors
    /// [`Error::BodyTooLarge`] past the cap (before reading any of it, when `Content-Length`
    /// declares more); otherwise as [`chunk`](Self::chunk).
    pub async fn bytes(mut self) -> Result<Vec<u8>, Error> {
        // A declared length says up front whether the body fits, and how much room it needs.
        let expected = self.reading.as_ref().and_then(|r| r.expected).unwrap_or(0);
        if expected > self.max_body {
            self.reading = None;
            return Err(Error::BodyTooLarge { limit: self.max_body });
        }
        let mut body = Vec::with_capacity(expected as usize);
        while let Some(reading) = self.reading.as_mut() {
            if let Err(error) = pump(reading, &mut body).await {
                self.reading = None;
                return Err(error);
            }
            // The decoded size, and (for a compressed body) the encoded size, both count.
            if body.len() as u64 > self.max_body || reading.decoder.decoded_len() > self.max_body {
                self.reading = None;
                return Err(Error::BodyTooLarge { limit: self.max_body });
            }
            self.finish_if_done();
        }
        Ok(body)
    }

    /// The whole body as text (UTF-8; invalid sequences become U+FFFD), capped like
    /// [`bytes`](Self::bytes).
    ///
    /// # Errors
    /// As [`bytes`](Self::bytes).
    pub async fn text(self) -> Result<String, Error> {
        let bytes = self.bytes().await?;
        Ok(match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Decodes the body as its `Content-Encoding` says (gzip, x-gzip, deflate), dropping that
    /// header and `Content-Length`, which describe the encoded bytes; any other coding is left
    /// as it is (see `decode.rs`).
    #[cfg(feature = "gzip")]
    pub(crate) fn decode_content(mut self) -> Response {
        if let Some(reading) = self.reading.as_mut()
            && let Some(content) = crate::http::decode::ContentDecoder::for_headers(&self.head.headers)
        {
            reading.content = Some(content);
            self.head.headers.remove("content-encoding");
            self.head.headers.remove("content-length");
        }
        self
    }

    /// Once the decoder is done, hands the connection back to the pool or closes it.
    fn finish_if_done(&mut self) {
        if self.reading.as_ref().is_some_and(|r| r.is_done()) {
            self.reading.take().expect("checked just above").finish();
        }
    }
}

/// One step of reading the body: decoded bytes appended to `out`, or progress toward its end.
async fn pump(reading: &mut Reading, out: &mut Vec<u8>) -> Result<(), Error> {
    #[cfg(feature = "gzip")]
    if reading.content.is_some() {
        return pump_decoded(reading, out).await;
    }
    pump_framed(reading, out).await
}

/// One step of a compressed body: inflate what is pending (at most `decode::STEP` bytes); once
/// that is used up, read more encoded bytes through the framing decoder, or end the stream.
#[cfg(feature = "gzip")]
async fn pump_decoded(reading: &mut Reading, out: &mut Vec<u8>) -> Result<(), Error> {
    let content = reading.content.as_mut().expect("pump checked it");
    if content.is_full() {
        return content.step(out);
    }
    if reading.decoder.is_done() {
        return content.finish();
    }
    let mut encoded = std::mem::take(content.input());
    let framed = pump_framed(reading, &mut encoded).await;
    let content = reading.content.as_mut().expect("pump checked it");
    *content.input() = encoded;
    framed?;
    content.step(out)
}

/// One step of the framing decoder: body bytes as sent appended to `out`.
async fn pump_framed(reading: &mut Reading, out: &mut Vec<u8>) -> Result<(), Error> {
    let before = out.len();
    let consumed = reading.decoder.decode(reading.conn.buffered(), out)?;
    reading.conn.consume(consumed);
    if out.len() > before || reading.decoder.is_done() {
        return Ok(());
    }
    let n = reading.conn.fill(&mut reading.deadline).await?;
    if n == 0 {
        reading.decoder.eof()?;
        // Read-until-close bodies end here; the connection is not reusable.
        reading.reusable = false;
    }
    Ok(())
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.head.status)
            .field("url", &self.url.to_string())
            .field("body_pending", &self.reading.is_some())
            .finish()
    }
}

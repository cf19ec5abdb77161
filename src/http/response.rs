//! Parsing a response head: status line and header lines, up to the empty line.
//!
//! Why it exists: the head is the first thing a server's bytes must survive, so it is
//! where the client bounds what it will buffer. The tokenizing is done by `httparse`
//! (a zero-copy, well-fuzzed parser); this module adds what `httparse` leaves to its
//! caller: limits, version and status checks, owned [`Headers`], and the interim
//! (1xx) responses that may come before the real one.
//!
//! Read first: RFC 9112 §4 (status line) and §5 (field lines), RFC 9110 §15.2 (1xx).
//!
//! ```text
//! HTTP/1.1 200 OK\r\n                 status-line (RFC 9112 §4)
//! Content-Length: 5\r\n               field lines (RFC 9112 §5)
//! \r\n                                end of head; the body follows (see `framing`)
//! ```
//!
//! **Limits.** The caller calls [`parse_response_head`] again each time more bytes
//! arrive. A head that is still incomplete once `max_head_bytes` bytes are buffered is
//! an error ([`Error::HeadTooLarge`]), so a server cannot make the client buffer (or
//! wait) forever. Only the first `max_head_bytes` bytes of the buffer are ever looked at.
//!
//! **Interim responses.** Before the final response a server may send any number of
//! 1xx heads (`100 Continue`, `103 Early Hints`), each without a body. A
//! [`ResponseHeadReader`] skips them while charging their bytes to *one* budget, so a
//! stream of 1xx heads cannot grow without bound either. `101 Switching Protocols` is
//! an error: this client never asks to switch (RFC 9110 §15.2.2).
//!
//! **Leniency, and where there is none.** Following `httparse`, a bare LF is accepted
//! as a line end in the head (RFC 9112 §2.2 allows a recipient to), but whitespace
//! between a field name and its colon is refused (RFC 9112 §5.1), as are multiple
//! spaces in the status line. Obsolete line folding is unfolded into spaces, which is
//! what RFC 9112 §5.2 requires of a user agent. Status codes outside 100–599 are
//! refused (RFC 9110 §15).

use super::error::Malformed;
use super::{Error, Headers};
use std::borrow::Cow;
use std::fmt;
use std::mem::MaybeUninit;

/// The HTTP version of a response (RFC 9112 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `HTTP/1.0`: no chunked bodies, connections close unless kept alive explicitly.
    Http10,
    /// `HTTP/1.1`.
    Http11,
}

impl fmt::Display for Version {
    /// As on the status line: `HTTP/1.0` or `HTTP/1.1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        })
    }
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The server's version: it decides persistence defaults and whether
    /// `Transfer-Encoding` may appear (RFC 9112 §6.1, §9.3).
    pub version: Version,
    /// The status code, 100–599: the outcome, and part of the framing decision.
    pub status: u16,
    /// The reason phrase, for people only: clients must ignore it (RFC 9112 §4). Empty
    /// if the server sent none or sent non-ASCII bytes in it. Borrowed when it is the
    /// standard phrase for the status (`200 OK`, `404 Not Found`: nearly every response), so
    /// that only an unusual phrase costs an allocation.
    pub reason: Cow<'static, str>,
    /// The header fields, in order; names are matched case-insensitively.
    pub headers: Headers,
}

impl ResponseHead {
    /// Whether this is an interim response (1xx), to be followed by another head.
    pub fn is_informational(&self) -> bool {
        (100..200).contains(&self.status)
    }
}

/// Bounds on a response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// At most this many header lines per head; more is [`Error::TooManyHeaders`].
    pub max_headers: usize,
    /// At most this many bytes for the final head plus every 1xx head before it;
    /// more is [`Error::HeadTooLarge`].
    pub max_head_bytes: usize,
}

impl HeadLimits {
    /// 100 header lines: hyper's default too; real responses carry 10–30.
    pub const DEFAULT_MAX_HEADERS: usize = 100;
    /// 64 KiB: ample for real heads (a few KiB, cookies included), while a hostile
    /// server can make each request buffer no more than this.
    pub const DEFAULT_MAX_HEAD_BYTES: usize = 64 * 1024;
}

impl Default for HeadLimits {
    fn default() -> HeadLimits {
        HeadLimits {
            max_headers: HeadLimits::DEFAULT_MAX_HEADERS,
            max_head_bytes: HeadLimits::DEFAULT_MAX_HEAD_BYTES,
        }
    }
}

/// Parses one response head from the start of `buf`.
///
/// Returns `Ok(None)` if the head is not complete yet (read more and call again with
/// the longer buffer), or the head and the number of bytes it used; the body starts at
/// `buf[consumed..]`. This does not skip 1xx responses: see [`ResponseHeadReader`].
///
/// # Errors
///
/// [`Error::HeadTooLarge`] once `limits.max_head_bytes` bytes hold no complete head,
/// [`Error::TooManyHeaders`], and [`Error::Malformed`] for a head breaking RFC 9112.
pub fn parse_response_head(buf: &[u8], limits: &HeadLimits) -> Result<Option<(ResponseHead, usize)>, Error> {
    parse_within(buf, limits, limits.max_head_bytes)
}

/// What a [`ResponseHeadReader`] found in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadStep {
    /// No complete head yet: read more bytes, then call again with the longer buffer.
    NeedMore,
    /// An interim (1xx) response such as `100 Continue` or `103 Early Hints`, which has
    /// no body: drop `consumed` bytes from the front of the buffer and call again.
    Interim {
        /// The interim head, for callers that care (103's `Link` hints).
        head: ResponseHead,
        /// How many bytes of the buffer it used.
        consumed: usize,
    },
    /// The final response head; its body (see `body_framing`) starts at `consumed`.
    Final {
        /// The final head.
        head: ResponseHead,
        /// How many bytes of the buffer it used.
        consumed: usize,
    },
}

/// Reads the heads of one response: any interim 1xx heads, then the final head,
/// all charged to one [`HeadLimits::max_head_bytes`] budget.
///
/// ```text
///   parse(buf) ──► NeedMore ──(read more)──► parse(buf)
///        │
///        ├─► Interim { consumed } ──(drop consumed bytes)──► parse(rest)
///        ├─► Final { head, consumed } ──► body framing
///        └─► Err(UnexpectedUpgrade) on 101, Err(HeadTooLarge) past the budget
/// ```
///
/// Use one reader per request.
#[derive(Debug, Clone)]
pub struct ResponseHeadReader {
    /// The limits for the whole exchange; `max_head_bytes` is the total budget.
    limits: HeadLimits,
    /// Bytes already used by interim heads of this response.
    /// # Invariant
    /// `spent <= limits.max_head_bytes`: an interim head is only accepted if it fit.
    spent: usize,
}

impl ResponseHeadReader {
    /// A reader with a fresh budget.
    pub fn new(limits: HeadLimits) -> ResponseHeadReader {
        ResponseHeadReader { limits, spent: 0 }
    }

    /// How many head bytes may still arrive before [`Error::HeadTooLarge`].
    pub fn remaining_budget(&self) -> usize {
        self.limits.max_head_bytes.saturating_sub(self.spent)
    }

    /// Looks for the next head at the start of `buf` (after the caller has dropped the
    /// bytes of earlier interim heads).
    ///
    /// # Errors
    ///
    /// As [`parse_response_head`], with the budget shared across heads, plus
    /// [`Error::UnexpectedUpgrade`] for `101 Switching Protocols`.
    pub fn parse(&mut self, buf: &[u8]) -> Result<HeadStep, Error> {
        let Some((head, consumed)) = parse_within(buf, &self.limits, self.remaining_budget())? else {
            return Ok(HeadStep::NeedMore);
        };
        if head.status == 101 {
            return Err(Error::UnexpectedUpgrade { status: head.status });
        }
        if head.is_informational() {
            self.spent += consumed;
            return Ok(HeadStep::Interim { head, consumed });
        }
        Ok(HeadStep::Final { head, consumed })
    }
}

/// Parses one head that must fit in `budget` bytes; errors report the configured limit.
fn parse_within(buf: &[u8], limits: &HeadLimits, budget: usize) -> Result<Option<(ResponseHead, usize)>, Error> {
    // Looking at no more than the budget both bounds the work and turns "still
    // incomplete at the limit" into an error instead of a wait.
    let window = &buf[..buf.len().min(budget)];
    // httparse wants one slot per header line. The shortest line, `a:` + LF, is 3
    // bytes, so the window cannot start more than `len / 3 + 1` lines: allocating
    // more slots than that is waste (and `usize::MAX` of them would abort), while
    // allocating that many never reports `TooManyHeaders` wrongly.
    //
    // The slots start uninitialized, so a generous array on the stack costs nothing to set
    // up; only a limit above it, on a long head, pays for a heap allocation.
    const STACK_SLOTS: usize = 128;
    let wanted = limits.max_headers.min(window.len() / 3 + 1);
    let mut on_stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_SLOTS];
    let mut on_heap;
    let slots: &mut [MaybeUninit<httparse::Header<'_>>] = if wanted <= STACK_SLOTS {
        &mut on_stack[..wanted]
    } else {
        on_heap = std::iter::repeat_with(MaybeUninit::uninit)
            .take(wanted)
            .collect::<Vec<_>>();
        &mut on_heap
    };
    let mut response = httparse::Response::new(&mut []);
    let mut config = httparse::ParserConfig::default();
    config.allow_obsolete_multiline_headers_in_responses(true);
    let consumed = match config.parse_response_with_uninit_headers(&mut response, window, slots) {
        Ok(httparse::Status::Complete(consumed)) => consumed,
        Ok(httparse::Status::Partial) if window.len() >= budget => {
            return Err(Error::HeadTooLarge {
                limit: limits.max_head_bytes,
            });
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Error::TooManyHeaders {
                limit: limits.max_headers,
            });
        }
        Err(httparse::Error::Version) => return Err(Malformed::Version.into()),
        Err(httparse::Error::Status) => return Err(Malformed::StatusLine.into()),
        Err(_) => return Err(Malformed::HeaderLine.into()),
    };
    let version = match response.version {
        Some(0) => Version::Http10,
        Some(1) => Version::Http11,
        _ => return Err(Malformed::Version.into()),
    };
    let status = response.code.ok_or(Malformed::StatusLine)?;
    if !(100..=599).contains(&status) {
        return Err(Malformed::StatusCode.into());
    }
    let headers = match keep_whole(&window[..consumed], response.headers) {
        Some(headers) => headers,
        None => decode_lines(response.headers),
    };
    let reason = reason_phrase(status, response.reason.unwrap_or(""));
    Ok(Some((
        ResponseHead {
            version,
            status,
            reason,
            headers,
        },
        consumed,
    )))
}

/// `sent` as a reason phrase: the standard phrase for `status` (RFC 9110 §15) borrowed when
/// `sent` is exactly that, a copy otherwise.
fn reason_phrase(status: u16, sent: &str) -> Cow<'static, str> {
    let standard = match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    };
    if sent == standard {
        Cow::Borrowed(standard)
    } else {
        Cow::Owned(sent.to_owned())
    }
}

/// The fields decoded line by line into one buffer (see `Headers`), sized to fit them as sent.
pub(crate) fn decode_lines(fields: &[httparse::Header<'_>]) -> Headers {
    let bytes = fields.iter().map(|h| h.name.len() + h.value.len()).sum();
    let mut headers = Headers::with_capacity(fields.len(), bytes);
    for h in fields {
        headers.append_received(h.name, h.value);
    }
    headers
}

/// The usual head, UTF-8 with one line per field (no obsolete folding, so no value needs
/// decoding), as one copy that the fields point into: `None` for any other.
pub(crate) fn keep_whole(head: &[u8], fields: &[httparse::Header<'_>]) -> Option<Headers> {
    // A status line, one line per field and the empty line: any other LF is a folded line.
    // (Counted in 8-bit lanes, a form the compiler turns into vector code; the same pass ORs
    // the bytes together, so that an ASCII head, nearly every one, needs no boundary checks.)
    let (lines, high_bits) = head.chunks(255).fold((0usize, 0u8), |(lines, high_bits), chunk| {
        let (n, high) = chunk
            .iter()
            .fold((0u8, 0u8), |(n, high), &b| (n + u8::from(b == b'\n'), high | b));
        (lines + usize::from(n), high_bits | high)
    });
    if lines != fields.len() + 2 {
        return None;
    }
    // An ASCII head needs no UTF-8 check: the pass above has looked at every byte already.
    // (`from_utf8` here was 200 instructions a response, 2 % of a keep-alive request.)
    let text = if high_bits < 0x80 {
        // SAFETY: every byte of `head` is below 0x80 (`high_bits` ORs them all together), so
        // `head` is ASCII, and ASCII bytes are UTF-8 one character each.
        unsafe { String::from_utf8_unchecked(head.to_vec()) }
    } else {
        std::str::from_utf8(head).ok()?.to_owned()
    };
    // httparse's slices point into `head`; their addresses give their offsets. (Were one
    // to point elsewhere, its range would fall outside `text` and `over_text` say `None`.)
    let base = head.as_ptr() as usize;
    let range = |bytes: &[u8]| {
        let start = (bytes.as_ptr() as usize).wrapping_sub(base);
        if bytes.is_empty() {
            (0, 0)
        } else {
            (start, start.wrapping_add(bytes.len()))
        }
    };
    let lines = fields.iter().map(|h| (range(h.name.as_bytes()), range(h.value)));
    Headers::over_text(text, high_bits < 0x80, lines)
}

//! Encoding a request head: the bytes a client writes before the body.
//!
//! Why it exists: the request head is the one place where the *caller's* strings go on
//! the wire, so it is where header injection is stopped. Everything is validated
//! first — method, every header name and value — and only then is a single byte
//! written, so a refused request leaves `out` untouched and nothing half-sent.
//!
//! The head is (RFC 9112 §3 and §5):
//!
//! ```text
//! GET /path?query HTTP/1.1\r\n        request-line, origin-form target (RFC 9112 §3.2.1)
//! Host: example.com:8080\r\n          first, as RFC 9112 §3.2 asks
//! User-Agent: evloop/0.1.0\r\n        unless the caller set one
//! Authorization: Basic dTpw\r\n       from the URL's user:password, unless the caller set one
//! Content-Length: 5\r\n               from the body; the caller may not set it
//! X-Caller: value\r\n                 the caller's headers, in order
//! \r\n                                end of head
//! ```
//!
//! A body whose length is known is framed with `Content-Length`; a streamed body of unknown
//! length with `Transfer-Encoding: chunked` (RFC 9112 §6.2, §7.1), which only the client's own
//! encoder ([`encode_chunked_request_head`]) writes. Letting a caller set either header would
//! let them lie about the framing, which is how request smuggling starts; both are refused.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use super::headers::is_token;
use super::{Error, Headers, Url};

/// The `User-Agent` sent when the caller sets none (RFC 9110 §10.1.5).
pub const USER_AGENT: &str = concat!("evloop/", env!("CARGO_PKG_VERSION"));

/// A request method: a case-sensitive token (RFC 9110 §9.1).
///
/// The standard ones are constants; [`Method::new`] validates any other.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Method(
    /// The method name, already validated as a token. `Cow` lets the constants be
    /// `&'static str` while extension methods own their name.
    Cow<'static, str>,
);

impl Method {
    /// `GET`: transfer a representation (RFC 9110 §9.3.1).
    pub const GET: Method = Method(Cow::Borrowed("GET"));
    /// `HEAD`: like GET, but the response has no body (RFC 9110 §9.3.2).
    pub const HEAD: Method = Method(Cow::Borrowed("HEAD"));
    /// `POST`: process the enclosed content (RFC 9110 §9.3.3).
    pub const POST: Method = Method(Cow::Borrowed("POST"));
    /// `PUT`: replace the target with the enclosed content (RFC 9110 §9.3.4).
    pub const PUT: Method = Method(Cow::Borrowed("PUT"));
    /// `DELETE`: remove the target (RFC 9110 §9.3.5).
    pub const DELETE: Method = Method(Cow::Borrowed("DELETE"));
    /// `CONNECT`: open a tunnel (RFC 9110 §9.3.6). Valid, but refused by
    /// [`encode_request_head`]: this client does not tunnel.
    pub const CONNECT: Method = Method(Cow::Borrowed("CONNECT"));
    /// `OPTIONS`: describe communication options (RFC 9110 §9.3.7).
    pub const OPTIONS: Method = Method(Cow::Borrowed("OPTIONS"));
    /// `TRACE`: loop the request back (RFC 9110 §9.3.8).
    pub const TRACE: Method = Method(Cow::Borrowed("TRACE"));
    /// `PATCH`: apply partial modifications (RFC 5789).
    pub const PATCH: Method = Method(Cow::Borrowed("PATCH"));

    /// Validates an extension method: one or more `tchar`s (RFC 9110 §5.6.2).
    /// Methods are case-sensitive: `get` is not `GET`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidMethod`] if `name` is empty or holds a non-token byte.
    pub fn new(name: &str) -> Result<Method, Error> {
        if !is_token(name) {
            return Err(Error::InvalidMethod {
                method: name.to_owned(),
                reason: "a method must be one or more token characters (RFC 9110 §9.1)",
            });
        }
        Ok(Method(Cow::Owned(name.to_owned())))
    }

    /// The method name as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Safe methods are read-only by definition (RFC 9110 §9.2.1).
    pub fn is_safe(&self) -> bool {
        [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE].contains(self)
    }

    /// Idempotent methods may be retried automatically after a connection failure
    /// (RFC 9110 §9.2.2).
    pub fn is_idempotent(&self) -> bool {
        self.is_safe() || *self == Method::PUT || *self == Method::DELETE
    }

    /// Methods whose semantics anticipate content, so an empty body is still
    /// announced with `Content-Length: 0` (RFC 9110 §8.6).
    fn anticipates_body(&self) -> bool {
        [Method::POST, Method::PUT, Method::PATCH].contains(self)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Method {
    type Err = Error;

    fn from_str(name: &str) -> Result<Method, Error> {
        Method::new(name)
    }
}

/// Checks one request header before it may be sent.
///
/// The name must be a token (RFC 9110 §5.1). The value may hold visible characters,
/// spaces, tabs and `obs-text`, but no CR, LF, NUL or other control (RFC 9110 §5.5):
/// a CR or LF would end the line early and let the rest of the value become a header
/// (or a second request) of the value's author's choosing.
///
/// # Errors
///
/// [`Error::InvalidHeader`] naming the header (never repeating its value).
pub fn validate_header(name: &str, value: &str) -> Result<(), Error> {
    let refuse = |reason| {
        Err(Error::InvalidHeader {
            name: name.to_owned(),
            reason,
        })
    };
    if !is_token(name) {
        return refuse("the name must be one or more token characters (RFC 9110 §5.1)");
    }
    for b in value.bytes() {
        match b {
            b'\r' => return refuse("the value contains CR, which would end the line early (header injection)"),
            b'\n' => return refuse("the value contains LF, which would end the line early (header injection)"),
            0 => return refuse("the value contains NUL (RFC 9110 §5.5)"),
            b'\t' => {}
            0..0x20 | 0x7f => return refuse("the value contains a control character (RFC 9110 §5.5)"),
            _ => {}
        }
    }
    Ok(())
}

/// Appends the head of a request for `url` to `out`.
///
/// `body_len` is the body's length in bytes, or `None` for no body. `Content-Length`
/// is sent for a non-empty body, and as `Content-Length: 0` for an empty or absent
/// body only when the method anticipates one (POST, PUT, PATCH; RFC 9110 §8.6 says
/// not to send it otherwise).
///
/// # Errors
///
/// Nothing is appended if any check fails:
/// * [`Error::InvalidMethod`] for `CONNECT`, which needs a tunnel this client lacks;
/// * [`Error::InvalidHeader`] for a header that fails [`validate_header`], for a
///   `Content-Length` or `Transfer-Encoding` (the client frames the body), and for a
///   second `Host` (RFC 9112 §3.2 tells servers to reject that with 400).
pub fn encode_request_head(
    method: &Method,
    url: &Url,
    headers: &Headers,
    body_len: Option<u64>,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    encode_head(method, url, headers, BodyFraming::Length(body_len), out)
}

/// Appends the head of a request whose body follows in chunks (`Transfer-Encoding: chunked`
/// instead of `Content-Length`): a streamed body of unknown length. Checks and errors as
/// [`encode_request_head`].
pub fn encode_chunked_request_head(
    method: &Method,
    url: &Url,
    headers: &Headers,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    encode_head(method, url, headers, BodyFraming::Chunked, out)
}

/// How the head announces the body.
enum BodyFraming {
    /// `Content-Length`, as [`encode_request_head`] decides from the length.
    Length(Option<u64>),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

fn encode_head(
    method: &Method,
    url: &Url,
    headers: &Headers,
    framing: BodyFraming,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    if *method == Method::CONNECT {
        return Err(Error::InvalidMethod {
            method: method.to_string(),
            reason: "CONNECT opens a tunnel, which this client does not support",
        });
    }
    let mut user_host = None;
    for (name, value) in headers {
        validate_header(name, value)?;
        let refuse = |reason| {
            Err(Error::InvalidHeader {
                name: name.to_owned(),
                reason,
            })
        };
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding") {
            return refuse("the client frames the body itself: pass the body and it sets Content-Length");
        }
        if name.eq_ignore_ascii_case("host") {
            if user_host.is_some() {
                return refuse("more than one Host header (RFC 9112 §3.2: servers must reject that)");
            }
            user_host = Some(value);
        }
    }

    // Every check has passed: from here on nothing can fail. The head is written piece by
    // piece into `out`, with no formatting machinery and no temporary strings.
    out.reserve(64 + url.path().len() + url.query().map_or(0, str::len));
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(url.path().as_bytes());
    if let Some(query) = url.query() {
        out.push(b'?');
        out.extend_from_slice(query.as_bytes());
    }
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    match user_host {
        Some(host) => out.extend_from_slice(host.as_bytes()),
        None => url.write_host_header(out),
    }
    out.extend_from_slice(b"\r\n");
    let mut line = |name: &str, value: &[u8]| {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    };
    if !headers.contains("user-agent") {
        line("User-Agent", USER_AGENT.as_bytes());
    }
    if let Some(credentials) = url.credentials().filter(|_| !headers.contains("authorization")) {
        let authorization = basic_authorization(credentials.username(), credentials.password());
        line("Authorization", authorization.as_bytes());
    }
    let content_length = match framing {
        BodyFraming::Chunked => {
            line("Transfer-Encoding", b"chunked");
            None
        }
        BodyFraming::Length(Some(len)) if len > 0 => Some(len),
        BodyFraming::Length(_) if method.anticipates_body() => Some(0),
        BodyFraming::Length(_) => None,
    };
    if let Some(len) = content_length {
        line("Content-Length", decimal(len, &mut [0; 20]));
    }
    for (name, value) in headers.iter().filter(|(name, _)| !name.eq_ignore_ascii_case("host")) {
        line(name, value.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// `n` in decimal, written into the end of `digits`.
pub(crate) fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &digits[at..];
        }
    }
}

/// The `Authorization` value for HTTP Basic authentication (RFC 7617 §2):
/// `Basic base64(user ":" password)`, the password empty when absent.
pub fn basic_authorization(username: &str, password: Option<&str>) -> String {
    let user_pass = format!("{username}:{}", password.unwrap_or(""));
    format!("Basic {}", base64(user_pass.as_bytes()))
}

/// Standard base64 with padding (RFC 4648 §4): every 3 input bytes become 4 letters
/// of 6 bits each; a short last group is padded with `=`.
pub(crate) fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for group in input.chunks(3) {
        let byte = |i: usize| u32::from(group.get(i).copied().unwrap_or(0));
        let bits = byte(0) << 16 | byte(1) << 8 | byte(2);
        for letter in 0..4 {
            if letter <= group.len() {
                let index = (bits >> (18 - 6 * letter)) & 0x3f;
                out.push(char::from(ALPHABET[index as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

//! One error type for the whole HTTP client.
//!
//! Why one enum: a caller of `get(url)` wants a single `match` that tells apart
//! "my URL was wrong", "the network failed", "the server broke the protocol" and
//! "the client's policy said no". The variants are grouped that way below:
//!
//! | group                   | variants                                                              |
//! |-------------------------|-----------------------------------------------------------------------|
//! | the caller's input      | `InvalidUrl`, `UnsupportedScheme`, `InvalidMethod`, `InvalidHeader`, `RequestBody` |
//! | the network             | `Io`, `Connect`, `Timeout`, `Closed`, `Tls` and `Tunnel` (feature `tls`) |
//! | the server's bytes      | `Malformed`, `HeadTooLarge`, `TooManyHeaders`, `BodyTooLarge`, `Truncated`, `UnexpectedUpgrade`, `ContentDecoding` (feature `gzip`) |
//! | the client's policy     | `TooManyRedirects`, `RedirectNotHttp`, `Status`, `RetryAfter`          |
//!
//! Every `Display` says what happened and what to try (STYLE habit 10). Two rules
//! keep secrets out of logs: an error never repeats a whole URL (it may carry
//! `user:password@`) and never repeats a header *value* (it may be a token) — it
//! names the header instead.
//!
//! [`Malformed`] lists each protocol rule a server can break, with the RFC section
//! that states it, so a test can assert exactly which rule fired.

use std::{error, fmt, io};

/// Everything that can go wrong while making an HTTP request.
///
/// `#[non_exhaustive]`: new failure modes may be added without breaking your `match`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The URL could not be parsed.
    InvalidUrl {
        /// Which rule the URL broke. The URL itself is not repeated: it may hold a password.
        reason: &'static str,
    },
    /// The URL names a scheme other than `http`.
    UnsupportedScheme {
        /// The scheme as written, lower-cased (`https`, `ftp`, …).
        scheme: String,
    },
    /// The method is not a token (RFC 9110 §9.1), or is one the client cannot send.
    InvalidMethod {
        /// The method as given (shown with escapes, so control characters are visible).
        method: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A request header was refused before anything was sent.
    InvalidHeader {
        /// The offending header's name (its value is never repeated: it may be a secret).
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An I/O error on an established connection; see [`Error::io_kind`].
    Io(io::Error),
    /// Reading a streamed request body (`RequestBuilder::body_stream`) failed; the request
    /// was cut off and its connection closed.
    RequestBody(io::Error),
    /// Connecting to the server failed (refused, unreachable, DNS failure…).
    Connect {
        /// The host we tried, as it appears in the URL.
        host: String,
        /// The port we tried.
        port: u16,
        /// What the operating system reported.
        source: io::Error,
    },
    /// A deadline passed; the kind says which one.
    Timeout(TimeoutKind),
    /// The server's bytes break a rule of HTTP/1.1; the connection cannot be reused.
    Malformed(Malformed),
    /// The response head (status line + header lines, plus any 1xx heads before it)
    /// grew past the limit without ending.
    HeadTooLarge {
        /// The limit in bytes ([`HeadLimits::max_head_bytes`](super::HeadLimits::max_head_bytes)).
        limit: usize,
    },
    /// The response head has more header lines than allowed.
    TooManyHeaders {
        /// The limit ([`HeadLimits::max_headers`](super::HeadLimits::max_headers)).
        limit: usize,
    },
    /// The response body is larger than the caller allowed.
    BodyTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The connection closed in the middle of a response: the body (or head) is
    /// incomplete, and what was received must not be mistaken for the whole.
    Truncated {
        /// Where the message was cut, e.g. `"in the middle of a chunk"`.
        during: &'static str,
    },
    /// The server switched protocols (`101`, or `2xx` to `CONNECT`) although the client
    /// never asked it to.
    UnexpectedUpgrade {
        /// The status code that announced the switch.
        status: u16,
    },
    /// A redirect chain was longer than allowed (or looped).
    TooManyRedirects {
        /// How many redirects were followed before giving up.
        limit: u32,
    },
    /// A redirect pointed at a non-`http` URL, which this client cannot follow.
    RedirectNotHttp {
        /// The scheme of the `Location` (`https`, …); the URL itself is not repeated.
        scheme: String,
    },
    /// The server answered with an error status (4xx or 5xx); produced only when the
    /// caller asks for it (`error_for_status`).
    Status(u16),
    /// The server answered 429 (Too Many Requests) or 503 (Service Unavailable) and said in
    /// `Retry-After` when to come back; produced by `error_for_status` instead of
    /// [`Error::Status`], and honoured by [`with_retry`](super::with_retry).
    RetryAfter {
        /// The status code (429 or 503).
        status: u16,
        /// How long the server asked the client to wait.
        delay: std::time::Duration,
    },
    /// The connection closed before any byte of a response arrived. On a reused
    /// connection this usually means the server had already timed it out.
    Closed,
    /// An `https://` connection failed in TLS: an untrusted, expired or wrong-host
    /// certificate, a handshake timeout, a server that speaks no TLS, a body cut short
    /// without `close_notify` (the `tls` feature).
    #[cfg(feature = "tls")]
    Tls(crate::http::tls::error::TlsError),
    /// The proxy for an `https://` URL did not open its `CONNECT` tunnel: it refused (407,
    /// 403, 502…), closed, stalled past the connect timeout or did not answer in HTTP (the
    /// `tls` feature).
    #[cfg(feature = "tls")]
    Tunnel(crate::http::tls::tunnel_error::TunnelError),
    /// A body is not what its `Content-Encoding` says: not gzip, corrupt, or cut short
    /// (feature `gzip`; aiohttp's `ContentEncodingError`).
    #[cfg(feature = "gzip")]
    ContentDecoding {
        /// The coding named by the response: `gzip` or `deflate`.
        coding: &'static str,
        /// What was wrong with the bytes.
        reason: &'static str,
    },
    /// A JSON body could not be encoded (a request's) or decoded (a response's); feature `json`.
    #[cfg(feature = "json")]
    Json(serde_json::Error),
}

/// Which deadline passed, in [`Error::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// The whole request (connect, send, receive the body) took too long.
    Total,
    /// Establishing the TCP connection took too long.
    Connect,
    /// The server stayed silent for too long between two reads.
    Read,
    /// No pooled connection became free in time.
    PoolWait,
}

/// The protocol rules a server's response can break, one variant per rule, each
/// naming where the rule is written ([`Malformed::rfc`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Malformed {
    /// The status line is not `HTTP-version SP 3DIGIT SP reason CRLF`.
    StatusLine,
    /// The version is neither `HTTP/1.0` nor `HTTP/1.1`.
    Version,
    /// The status code is outside 100–599.
    StatusCode,
    /// A header line is not `token ":" OWS value OWS CRLF` (bad name, space before the
    /// colon, forbidden byte in the value…).
    HeaderLine,
    /// `Content-Length` is not `1*DIGIT`.
    ContentLength,
    /// `Content-Length` does not fit in 64 bits.
    ContentLengthOverflow,
    /// Several `Content-Length` values that disagree.
    ConflictingContentLength,
    /// Both `Transfer-Encoding` and `Content-Length`: a request-smuggling signature.
    TransferEncodingWithContentLength,
    /// `Transfer-Encoding` in an HTTP/1.0 response, where it does not exist.
    TransferEncodingInHttp10,
    /// A transfer coding other than a single, final `chunked`.
    UnsupportedTransferCoding,
    /// A chunk-size is not `1*HEXDIG` (empty, or a stray byte in the size line).
    ChunkSize,
    /// A chunk-size does not fit in 64 bits.
    ChunkSizeOverflow,
    /// A chunk-size line (size plus extensions) is longer than allowed.
    ChunkLineTooLong,
    /// A chunk extension is not `;name[=value]` with a token name and a token or quoted-string
    /// value (RFC 9112 §7.1.1).
    ChunkExtension,
    /// Chunk data is not followed by exactly CRLF.
    ChunkDataTerminator,
    /// A line in a chunked body ended with a bare LF, or a CR not followed by LF.
    LineEnding,
    /// A trailer line is not a valid field line.
    Trailer,
    /// The trailer section has too many lines or too many bytes.
    TrailersTooLarge,
}

impl Malformed {
    /// Where the broken rule is written.
    pub fn rfc(self) -> &'static str {
        match self {
            Malformed::StatusLine => "RFC 9112 §4",
            Malformed::Version => "RFC 9112 §2.3",
            Malformed::StatusCode => "RFC 9110 §15",
            Malformed::HeaderLine => "RFC 9112 §5",
            Malformed::ContentLength | Malformed::ContentLengthOverflow => "RFC 9110 §8.6",
            Malformed::ConflictingContentLength => "RFC 9112 §6.3 rule 5",
            Malformed::TransferEncodingWithContentLength => "RFC 9112 §6.3 rule 3",
            Malformed::TransferEncodingInHttp10 => "RFC 9112 §6.1",
            Malformed::UnsupportedTransferCoding => "RFC 9112 §6.1, §7",
            Malformed::ChunkSize | Malformed::ChunkSizeOverflow => "RFC 9112 §7.1",
            Malformed::ChunkLineTooLong | Malformed::ChunkExtension => "RFC 9112 §7.1.1",
            Malformed::ChunkDataTerminator | Malformed::LineEnding => "RFC 9112 §7.1",
            Malformed::Trailer | Malformed::TrailersTooLarge => "RFC 9112 §7.1.2",
        }
    }

    /// What was wrong, in a few words.
    fn what(self) -> &'static str {
        match self {
            Malformed::StatusLine => "the status line is not `HTTP/1.x NNN reason`",
            Malformed::Version => "the HTTP version is neither 1.0 nor 1.1",
            Malformed::StatusCode => "the status code is outside 100-599",
            Malformed::HeaderLine => "a header line is not `name: value`",
            Malformed::ContentLength => "Content-Length is not a plain decimal number",
            Malformed::ContentLengthOverflow => "Content-Length does not fit in 64 bits",
            Malformed::ConflictingContentLength => "several Content-Length values disagree",
            Malformed::TransferEncodingWithContentLength => "both Transfer-Encoding and Content-Length are present",
            Malformed::TransferEncodingInHttp10 => "an HTTP/1.0 response uses Transfer-Encoding",
            Malformed::UnsupportedTransferCoding => "Transfer-Encoding is not exactly `chunked`",
            Malformed::ChunkSize => "a chunk size is not a hexadecimal number",
            Malformed::ChunkSizeOverflow => "a chunk size does not fit in 64 bits",
            Malformed::ChunkLineTooLong => "a chunk-size line (with extensions) is too long",
            Malformed::ChunkExtension => {
                "a chunk extension is not `;name` or `;name=value` (a token or a quoted string)"
            }
            Malformed::ChunkDataTerminator => "chunk data is not followed by CRLF",
            Malformed::LineEnding => "a chunked-body line does not end in CRLF",
            Malformed::Trailer => "a trailer line is not `name: value`",
            Malformed::TrailersTooLarge => "the trailer section is too large",
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.what(), self.rfc())
    }
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Total => "the request took longer than its total timeout",
            TimeoutKind::Connect => "connecting took longer than the connect timeout",
            TimeoutKind::Read => "the server sent nothing for longer than the read timeout",
            TimeoutKind::PoolWait => "no pooled connection became free within the pool timeout",
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl { reason } => {
                write!(
                    f,
                    "the URL is invalid ({reason}); write it as http://host[:port]/path?query"
                )
            }
            Error::UnsupportedScheme { scheme } if cfg!(feature = "tls") => write!(
                f,
                "unsupported URL scheme `{scheme}`: only http:// and https:// are supported; use one of those"
            ),
            Error::UnsupportedScheme { scheme } => write!(
                f,
                "unsupported URL scheme `{scheme}`: only plain http:// is supported (https:// needs evloop's \
                 `tls` feature); use an http:// URL, or a TLS-capable client for {scheme}"
            ),
            Error::InvalidMethod { method, reason } => {
                write!(
                    f,
                    "the method {method:?} was refused: {reason}; use a token such as GET or POST"
                )
            }
            Error::InvalidHeader { name, reason } => {
                write!(
                    f,
                    "the request header {name:?} was refused before anything was sent: {reason}"
                )
            }
            Error::Io(e) => write!(
                f,
                "an I/O error broke the connection ({e}); the request may be retried on a new one"
            ),
            Error::RequestBody(e) => write!(
                f,
                "reading the request body's stream failed ({e}), so the request was cut off and its connection closed"
            ),
            Error::Connect { host, port, source } => {
                write!(
                    f,
                    "connecting to {host}:{port} failed ({source}); check the host and port, and that the server is up"
                )
            }
            Error::Timeout(kind) => write!(f, "{kind}; raise that timeout, or check the server"),
            Error::Malformed(m) => write!(
                f,
                "the response is malformed: {m}, so the connection was dropped; the server (or a proxy) \
                 is not speaking HTTP/1.1 correctly"
            ),
            Error::HeadTooLarge { limit } => write!(
                f,
                "the response head is larger than {limit} bytes; raise HeadLimits::max_head_bytes if the server is trusted"
            ),
            Error::TooManyHeaders { limit } => write!(
                f,
                "the response has more than {limit} header lines; raise HeadLimits::max_headers if the server is trusted"
            ),
            Error::BodyTooLarge { limit } => {
                write!(
                    f,
                    "the response body is larger than {limit} bytes; raise ClientConfig::max_body, or read the body \
                     piece by piece with Response::chunk"
                )
            }
            Error::Truncated { during } => write!(
                f,
                "the connection closed {during}, so the response is incomplete; retry, and suspect the server or a proxy"
            ),
            Error::UnexpectedUpgrade { status } => write!(
                f,
                "the server switched protocols (status {status}) although none was requested; \
                 this client only speaks HTTP/1.1"
            ),
            Error::TooManyRedirects { limit } => {
                write!(
                    f,
                    "the client gave up after {limit} redirects; the server may be redirecting in a loop"
                )
            }
            Error::RedirectNotHttp { scheme } => write!(
                f,
                "redirected to a `{scheme}` URL, which this http-only client cannot follow; \
                 disable redirects to see the 3xx response, or use a TLS-capable client"
            ),
            Error::Status(code) => write!(f, "the server answered with the error status {code}"),
            Error::RetryAfter { status, delay } => write!(
                f,
                "the server answered with the status {status} and asked to be retried after {} s; \
                 with_retry waits that long (up to RetryPolicy::max_retry_after)",
                delay.as_secs()
            ),
            Error::Closed => write!(
                f,
                "the connection closed before the response started; an idle connection may have expired, \
                 and retrying on a new connection usually works"
            ),
            #[cfg(feature = "tls")]
            Error::Tls(e) => e.fmt(f),
            #[cfg(feature = "tls")]
            Error::Tunnel(e) => e.fmt(f),
            #[cfg(feature = "gzip")]
            Error::ContentDecoding { coding, reason } => write!(
                f,
                "the response body is not valid {coding} data ({reason}); the server's Content-Encoding \
                 does not match its body"
            ),
            #[cfg(feature = "json")]
            Error::Json(e) => write!(f, "the body is not the JSON expected ({e})"),
        }
    }
}

impl error::Error for Error {
    fn source(&self) -> Option<&(dyn error::Error + 'static)> {
        match self {
            Error::Io(e) | Error::RequestBody(e) | Error::Connect { source: e, .. } => Some(e),
            #[cfg(feature = "tls")]
            Error::Tunnel(e) => Some(e),
            #[cfg(feature = "json")]
            Error::Json(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

impl From<Malformed> for Error {
    fn from(m: Malformed) -> Error {
        Error::Malformed(m)
    }
}

impl Error {
    /// Whether a deadline passed.
    pub fn is_timeout(&self) -> bool {
        #[cfg(feature = "tls")]
        if let Error::Tls(crate::http::tls::error::TlsError::HandshakeTimeout { .. }) = self {
            return true;
        }
        #[cfg(feature = "tls")]
        if let Error::Tunnel(tunnel) = self {
            return matches!(
                tunnel.failure,
                crate::http::tls::tunnel_error::TunnelFailure::Timeout { .. }
            );
        }
        matches!(self, Error::Timeout(_))
    }

    /// Whether the failure happened while connecting (including a connect timeout, and a
    /// proxy's tunnel that was not opened).
    pub fn is_connect(&self) -> bool {
        #[cfg(feature = "tls")]
        if let Error::Tunnel(_) = self {
            return true;
        }
        matches!(self, Error::Connect { .. } | Error::Timeout(TimeoutKind::Connect))
    }

    /// Whether the server's bytes broke the protocol (malformed, too large, cut short,
    /// an unrequested protocol switch, or a body not valid for its content coding).
    pub fn is_protocol(&self) -> bool {
        matches!(
            self,
            Error::Malformed(_)
                | Error::HeadTooLarge { .. }
                | Error::TooManyHeaders { .. }
                | Error::Truncated { .. }
                | Error::UnexpectedUpgrade { .. }
        ) || {
            #[cfg(feature = "gzip")]
            let content = matches!(self, Error::ContentDecoding { .. });
            #[cfg(not(feature = "gzip"))]
            let content = false;
            content
        }
    }

    /// Whether redirect policy stopped the request.
    pub fn is_redirect(&self) -> bool {
        matches!(self, Error::TooManyRedirects { .. } | Error::RedirectNotHttp { .. })
    }

    /// The HTTP status, for [`Error::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status(code) => Some(*code),
            _ => None,
        }
    }

    /// The operating system's error kind, for [`Error::Io`] and [`Error::Connect`].
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            Error::Io(e) | Error::Connect { source: e, .. } => Some(e.kind()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    #[cfg(not(feature = "tls"))] // with it, https:// is supported
    fn unsupported_scheme_names_it_and_says_only_http_works() {
        let text = Error::UnsupportedScheme { scheme: "https".into() }.to_string();
        assert!(
            text.contains("`https`") && text.contains("only plain http://"),
            "{text}"
        );
    }

    #[test]
    fn malformed_display_cites_the_rfc_section() {
        let text = Error::from(Malformed::TransferEncodingWithContentLength).to_string();
        assert!(text.contains("Transfer-Encoding and Content-Length"), "{text}");
        assert!(text.contains("RFC 9112 §6.3 rule 3"), "{text}");
    }

    #[test]
    fn io_errors_keep_their_kind_and_source() {
        let e = Error::from(io::Error::from(io::ErrorKind::ConnectionReset));
        assert_eq!(e.io_kind(), Some(io::ErrorKind::ConnectionReset));
        assert!(e.source().is_some());
        let c = Error::Connect {
            host: "example.com".into(),
            port: 80,
            source: io::ErrorKind::ConnectionRefused.into(),
        };
        assert!(c.is_connect() && !c.is_timeout());
        assert_eq!(c.io_kind(), Some(io::ErrorKind::ConnectionRefused));
        assert!(c.to_string().contains("example.com:80"));
        assert!(Error::Closed.source().is_none());
    }

    #[test]
    fn predicates_classify_variants() {
        assert!(Error::Timeout(TimeoutKind::Connect).is_connect());
        assert!(Error::Timeout(TimeoutKind::Read).is_timeout());
        assert!(!Error::Timeout(TimeoutKind::Read).is_connect());
        assert!(Error::Truncated { during: "x" }.is_protocol());
        assert!(Error::RedirectNotHttp { scheme: "https".into() }.is_redirect());
        assert_eq!(Error::Status(503).status(), Some(503));
        assert_eq!(Error::Closed.status(), None);
    }

    #[test]
    fn invalid_header_names_the_header_and_escapes_controls() {
        let text = Error::InvalidHeader {
            name: "X-Evil\r\n".into(),
            reason: "bad",
        }
        .to_string();
        assert!(text.contains(r#""X-Evil\r\n""#), "{text}");
    }

    #[test]
    fn every_display_is_one_line() {
        let all = [
            Error::InvalidUrl { reason: "empty host" },
            Error::InvalidMethod {
                method: "G T".into(),
                reason: "not a token",
            },
            Error::Timeout(TimeoutKind::PoolWait),
            Error::Timeout(TimeoutKind::Total),
            Error::HeadTooLarge { limit: 1 },
            Error::TooManyHeaders { limit: 1 },
            Error::BodyTooLarge { limit: 1 },
            Error::UnexpectedUpgrade { status: 101 },
            Error::TooManyRedirects { limit: 10 },
            Error::Status(404),
            Error::Closed,
        ];
        for e in all {
            let text = e.to_string();
            assert!(!text.contains('\n') && text.len() > 20, "{text}");
        }
    }
}

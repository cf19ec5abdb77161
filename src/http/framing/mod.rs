//! Where a response body ends, and whether the connection outlives it.
//!
//! Why it exists: HTTP/1.1 sends messages back to back on one connection, so "where
//! does this body end?" decides where the *next* response begins. Get it wrong and
//! the client reads one response's bytes as another's — the mechanism behind request
//! smuggling and response splitting. This module is therefore strict: when framing is
//! ambiguous it refuses the response rather than guess.
//!
//! Read first: RFC 9112 §6.3 (message body length, the rules below), §7.1 (chunked
//! transfer coding), §9.3 and §9.6 (persistence).
//!
//! # The decision ([`body_framing`]), in RFC 9112 §6.3's order
//!
//! 1. A response to `HEAD`, any 1xx, 204 and 304 has **no body**, whatever its
//!    headers say (their `Content-Length` describes the resource, not this message).
//!    Bytes the server sends anyway are not a body: they poison the connection, and
//!    the connection layer must notice them as leftovers and close.
//! 2. A 2xx to `CONNECT` turns the connection into a tunnel: refused as
//!    [`Error::UnexpectedUpgrade`] (the encoder never sends `CONNECT` anyway).
//! 3. `Transfer-Encoding` **and** `Content-Length`: **refused**. The RFC lets
//!    `Transfer-Encoding` win but says such a message "ought to be handled as an
//!    error"; two length claims that different hops may read differently is exactly
//!    the smuggling shape.
//! 4. `Transfer-Encoding` in an HTTP/1.0 response: **refused** (§6.1: the framing
//!    "MUST" be treated as faulty).
//! 5. `Transfer-Encoding` must be exactly one `chunked` (any case, any lines):
//!    **chunked**. Anything else — `gzip, chunked`, `chunked, chunked`, `identity`,
//!    or a coding after `chunked`, for which §6.3 rule 4 says "read until close" — is
//!    **refused**. The client never sends `TE`, so a server may apply no coding but
//!    `chunked` (§7.4); accepting one would hand the caller still-encoded bytes as if
//!    they were the body.
//! 6. `Content-Length`: must be `1*DIGIT` and fit in a `u64`; several values (on
//!    several lines or comma-separated) must all be equal and then count as one
//!    (RFC 9110 §8.6); any disagreement is refused (§6.3 rule 5).
//! 7. Otherwise: the body runs **until the server closes** the connection.
//!
//! # Reuse ([`connection_reusable`], RFC 9112 §9.3)
//!
//! Once the body is read, the connection may carry the next request only if the body
//! was delimited without closing and the response did not say `Connection: close`
//! (§9.6); an HTTP/1.0 response must say `Connection: keep-alive`. Two more conditions
//! are the caller's, since this module cannot see them: the request did not say
//! `Connection: close`, and no byte is left over after the body.
//!
//! Applying the decision to the bytes that follow the head is the decoder's work
//! ([`BodyDecoder`], in `decoder.rs`).

use super::error::Malformed;
use super::{Error, Headers, Method, ResponseHead, Version};

mod decoder;
mod extension;

pub use decoder::{BodyDecoder, ChunkLimits};
pub use extension::check_chunk_extensions;

/// How the body of a response is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// No body at all (HEAD, 1xx, 204, 304). Bytes after the head are not this
    /// response's: the connection must not be reused if any arrive.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// A chunked body, ended by a zero-size chunk and trailers (RFC 9112 §7.1).
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
}

/// Decides how the body of `head`, a response to `request_method`, is delimited. See
/// the module docs for the rules and the choices made.
///
/// # Errors
///
/// [`Error::Malformed`] for framing that is ambiguous or invalid, and
/// [`Error::UnexpectedUpgrade`] for a 2xx to `CONNECT`.
pub fn body_framing(request_method: &Method, head: &ResponseHead) -> Result<Framing, Error> {
    let status = head.status;
    if *request_method == Method::HEAD || head.is_informational() || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    if *request_method == Method::CONNECT && (200..300).contains(&status) {
        return Err(Error::UnexpectedUpgrade { status });
    }
    let headers = &head.headers;
    if headers.contains("transfer-encoding") {
        if headers.contains("content-length") {
            return Err(Malformed::TransferEncodingWithContentLength.into());
        }
        if head.version == Version::Http10 {
            return Err(Malformed::TransferEncodingInHttp10.into());
        }
        let mut codings = headers.list("transfer-encoding");
        return match (codings.next(), codings.next()) {
            (Some(only), None) if only.eq_ignore_ascii_case("chunked") => Ok(Framing::Chunked),
            _ => Err(Malformed::UnsupportedTransferCoding.into()),
        };
    }
    if headers.contains("content-length") {
        return content_length(headers).map(Framing::Length);
    }
    Ok(Framing::UntilClose)
}

/// The single `Content-Length` value, from however many lines and list elements.
fn content_length(headers: &Headers) -> Result<u64, Error> {
    let mut agreed = None;
    for element in headers.get_all("content-length").flat_map(|value| value.split(',')) {
        let length = parse_decimal(element.trim_matches([' ', '\t']))?;
        match agreed {
            Some(previous) if previous != length => return Err(Malformed::ConflictingContentLength.into()),
            _ => agreed = Some(length),
        }
    }
    Ok(agreed.ok_or(Malformed::ContentLength)?)
}

/// `1*DIGIT` as a `u64`: no sign, no spaces, not empty, no overflow.
fn parse_decimal(digits: &str) -> Result<u64, Malformed> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Malformed::ContentLength);
    }
    digits.bytes().try_fold(0u64, |value, b| {
        value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(Malformed::ContentLengthOverflow)
    })
}

/// Whether the connection may carry another request once this response's body has
/// been read completely (RFC 9112 §9.3):
///
/// * a body delimited by the close ([`Framing::UntilClose`]) ends the connection;
/// * `Connection: close` ends it (§9.6);
/// * HTTP/1.1 persists by default; HTTP/1.0 only with `Connection: keep-alive`
///   (Appendix C.2.2).
///
/// The caller must also close if the *request* said `Connection: close`, or if bytes
/// are left over after the body.
pub fn connection_reusable(head: &ResponseHead, framing: Framing) -> bool {
    if framing == Framing::UntilClose || head.headers.contains_token("connection", "close") {
        return false;
    }
    match head.version {
        Version::Http11 => true,
        Version::Http10 => head.headers.contains_token("connection", "keep-alive"),
    }
}

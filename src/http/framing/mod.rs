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
    decide(request_method, head, &FramingFields::read(&head.headers))
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
    persists(head, framing, &FramingFields::read(&head.headers))
}

/// [`body_framing`] and [`connection_reusable`] at once, from one pass over the head's lines
/// (what the client calls for every response).
pub(crate) fn framing_and_reuse(request_method: &Method, head: &ResponseHead) -> Result<(Framing, bool), Error> {
    let fields = FramingFields::read(&head.headers);
    let framing = decide(request_method, head, &fields)?;
    Ok((framing, persists(head, framing, &fields)))
}

/// What the rules above read from a head: its `Transfer-Encoding`, `Content-Length` and
/// `Connection` lines, gathered in one pass over the lines in order (a field may come on
/// several lines, and a list's elements count across them all, RFC 9110 §5.3), instead of
/// one scan per name and question.
struct FramingFields {
    /// Some line is named `Transfer-Encoding`.
    transfer_encoding: bool,
    /// Its list elements, across every line: rule 5 accepts exactly one.
    codings: usize,
    /// Whether the first of those is `chunked`.
    first_coding_chunked: bool,
    /// `None` without a `Content-Length` line; else the value every element agreed on, or
    /// the first element that was not a valid length or disagreed (rule 6).
    content_length: Option<Result<u64, Malformed>>,
    /// `Connection` lists `close` (§9.6).
    close: bool,
    /// `Connection` lists `keep-alive` (what an HTTP/1.0 response needs to persist).
    keep_alive: bool,
}

impl FramingFields {
    fn read(headers: &Headers) -> FramingFields {
        let mut fields = FramingFields {
            transfer_encoding: false,
            codings: 0,
            first_coding_chunked: false,
            content_length: None,
            close: false,
            keep_alive: false,
        };
        // Bytes, not text: every comparison is with an ASCII token.
        for (name, value) in headers.byte_lines() {
            // The length tells the three names apart before any byte is compared.
            match name.len() {
                17 if is_token(name, b"transfer-encoding") => {
                    fields.transfer_encoding = true;
                    for coding in list_elements(value) {
                        fields.codings += 1;
                        if fields.codings == 1 {
                            fields.first_coding_chunked = coding.eq_ignore_ascii_case(b"chunked");
                        }
                    }
                }
                14 if is_token(name, b"content-length") => match parse_decimal(value) {
                    // Nearly always one plain number, read whole: the list is split only
                    // when that fails.
                    Ok(length) => fields.add_length(Ok(length)),
                    // Every element, empty ones included (`Content-Length: 5,` is refused);
                    // the first that is not a length, or disagrees, is the answer.
                    Err(_) => {
                        for element in value.split(|&b| b == b',') {
                            fields.add_length(parse_decimal(trim_ows(element)));
                        }
                    }
                },
                // `keep-alive` or `close` alone, nearly every response's, needs no list split.
                10 if is_token(name, b"connection") => {
                    if is_token(value, b"keep-alive") {
                        fields.keep_alive = true;
                    } else if is_token(value, b"close") {
                        fields.close = true;
                    } else {
                        for option in list_elements(value) {
                            fields.close |= is_token(option, b"close");
                            fields.keep_alive |= is_token(option, b"keep-alive");
                        }
                    }
                }
                _ => {}
            }
        }
        fields
    }

    /// One `Content-Length` element: the first error, or a length every element agrees on.
    fn add_length(&mut self, length: Result<u64, Malformed>) {
        self.content_length = Some(match (length, self.content_length) {
            (_, Some(Err(first))) => Err(first),
            (Ok(length), Some(Ok(agreed))) if length != agreed => Err(Malformed::ConflictingContentLength),
            (result, _) => result,
        });
    }
}

/// Whether `bytes` is `lower` (a token written in lowercase) in any case. Only `bytes` is
/// folded: where `lower` has a letter, the byte with its case bit (0x20) set must be that
/// letter (which only the letter in either case gives); anything else must match exactly.
/// (`eq_ignore_ascii_case` lowercases both sides of every byte, and on the names and options
/// read from every response that was most of the framing pass's cost.)
///
/// Eight bytes at a time, as `u64` words (a shorter last piece padded with zeros on both
/// sides): `lower` is a constant at every call, so its words and case bits fold away, and
/// what is left per word is a load, an OR and a compare, not eight.
#[inline]
fn is_token(bytes: &[u8], lower: &[u8]) -> bool {
    bytes.len() == lower.len()
        && bytes.chunks(8).zip(lower.chunks(8)).fold(0u64, |differ, (b, l)| {
            let l = word(l);
            differ | ((word(b) | case_bits(l)) ^ l)
        }) == 0
}

/// Up to eight bytes as a little-endian word, zero-padded.
#[inline]
fn word(bytes: &[u8]) -> u64 {
    let mut padded = [0u8; 8];
    padded[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(padded)
}

/// 0x20 in each byte of `ascii` (a word of ASCII bytes) that is a lowercase letter, else 0.
/// Adding 0x1f to a byte sets its top bit from `a` (0x61) up, adding 0x05 from past `z` (0x7b):
/// no byte below 0x80 carries into the next.
#[inline]
fn case_bits(ascii: u64) -> u64 {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    let from_a = ascii.wrapping_add(0x1f * ONES);
    let past_z = ascii.wrapping_add(0x05 * ONES);
    ((from_a & !past_z) & (0x80 * ONES)) >> 2
}

/// The elements of one line of a comma-separated list, trimmed, empty ones skipped (RFC 9110
/// §5.6.1), as [`Headers::list`] reads them.
fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|element| !element.is_empty())
}

/// `s` without the optional whitespace (`OWS`: spaces and tabs) at either end.
fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The framing rules, in the order the module docs list them.
fn decide(request_method: &Method, head: &ResponseHead, fields: &FramingFields) -> Result<Framing, Error> {
    let status = head.status;
    if *request_method == Method::HEAD || head.is_informational() || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    if *request_method == Method::CONNECT && (200..300).contains(&status) {
        return Err(Error::UnexpectedUpgrade { status });
    }
    if fields.transfer_encoding {
        if fields.content_length.is_some() {
            return Err(Malformed::TransferEncodingWithContentLength.into());
        }
        if head.version == Version::Http10 {
            return Err(Malformed::TransferEncodingInHttp10.into());
        }
        return match fields.codings == 1 && fields.first_coding_chunked {
            true => Ok(Framing::Chunked),
            false => Err(Malformed::UnsupportedTransferCoding.into()),
        };
    }
    match fields.content_length {
        Some(length) => Ok(Framing::Length(length?)),
        None => Ok(Framing::UntilClose),
    }
}

/// `1*DIGIT` as a `u64`: no sign, no spaces, not empty, no overflow. A byte that is not a
/// digit is the error even after an overflow (the value is not a length at all, then).
/// One pass: up to 19 digits cannot overflow, so the usual length needs no checked steps.
fn parse_decimal(digits: &[u8]) -> Result<u64, Malformed> {
    if digits.is_empty() {
        return Err(Malformed::ContentLength);
    }
    let (mut value, mut overflowed) = (0u64, false);
    for (at, &b) in digits.iter().enumerate() {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return Err(Malformed::ContentLength);
        }
        if at < 19 {
            value = value * 10 + u64::from(digit);
        } else {
            match value.checked_mul(10).and_then(|v| v.checked_add(u64::from(digit))) {
                Some(v) => value = v,
                None => overflowed = true,
            }
        }
    }
    if overflowed {
        return Err(Malformed::ContentLengthOverflow);
    }
    Ok(value)
}

/// RFC 9112 §9.3, as [`connection_reusable`] documents it.
fn persists(head: &ResponseHead, framing: Framing, fields: &FramingFields) -> bool {
    if framing == Framing::UntilClose || fields.close {
        return false;
    }
    match head.version {
        Version::Http11 => true,
        Version::Http10 => fields.keep_alive,
    }
}

#[cfg(test)]
mod tests {
    use super::{Malformed, case_bits, is_token, parse_decimal};

    #[test]
    fn a_decimal_is_every_digit_up_to_u64_max_and_nothing_else() {
        assert_eq!(parse_decimal(b"0"), Ok(0));
        assert_eq!(parse_decimal(b"007"), Ok(7));
        assert_eq!(parse_decimal(b"9999999999999999999"), Ok(9_999_999_999_999_999_999));
        assert_eq!(parse_decimal(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_decimal(b"00000000000000000000018446744073709551615"),
            Ok(u64::MAX)
        );
        assert_eq!(
            parse_decimal(b"18446744073709551616"),
            Err(Malformed::ContentLengthOverflow)
        );
        assert_eq!(
            parse_decimal(b"99999999999999999999999"),
            Err(Malformed::ContentLengthOverflow)
        );
        assert_eq!(
            parse_decimal(b"99999999999999999999999x"),
            Err(Malformed::ContentLength)
        );
        for bad in [&b""[..], b"-1", b"+1", b"1 ", b"1.0", b"0x10", b"1/", b"1:"] {
            assert_eq!(parse_decimal(bad), Err(Malformed::ContentLength), "{bad:?}");
        }
    }

    #[test]
    fn case_bits_marks_exactly_the_lowercase_letters_in_every_lane() {
        for b in 0..0x80u8 {
            for lane in 0..8 {
                let mut bytes = [b'A'; 8];
                bytes[lane] = b;
                let expected: [u8; 8] = std::array::from_fn(|i| if bytes[i].is_ascii_lowercase() { 0x20 } else { 0 });
                assert_eq!(
                    case_bits(u64::from_le_bytes(bytes)),
                    u64::from_le_bytes(expected),
                    "{b:#x} in lane {lane}"
                );
            }
        }
    }

    #[test]
    fn a_token_matches_in_any_case_and_only_itself_whatever_byte_differs() {
        for lower in [
            &b"transfer-encoding"[..],
            b"content-length",
            b"keep-alive",
            b"connection",
            b"close",
        ] {
            assert!(is_token(&lower.to_ascii_uppercase(), lower));
            assert!(!is_token(&lower[1..], lower), "a shorter name");
            // Every byte value at every position: the word compare agrees with a plain one.
            for at in 0..lower.len() {
                for b in 0..=255u8 {
                    let mut name = lower.to_vec();
                    name[at] = b;
                    assert_eq!(is_token(&name, lower), name.eq_ignore_ascii_case(lower), "{name:?}");
                }
            }
        }
    }
}

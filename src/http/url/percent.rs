//! Percent-coding (RFC 3986 §2.1): which bytes may appear raw in each part of a URL,
//! and the `%HH` escapes for the rest.
//!
//! Why it exists: a request line is split on spaces and ends at CRLF, so a path or query
//! may only carry bytes that cannot be mistaken for the line's structure. Each URL part
//! has its own alphabet (RFC 3986 §2.2, §2.3, §3.2.1, §3.3, §3.4); a byte outside it is
//! written as `%` and two hex digits. Read §2 of RFC 3986 first.
//!
//! Three operations, for three callers:
//!
//! * [`normalize`]: what [`Url::parse`](super::Url::parse) and
//!   [`Url::join`](super::Url::join) do to a path or query: keep allowed bytes and valid
//!   `%HH` escapes as written, encode everything else, refuse a `%` that starts no escape.
//! * [`encode`]: encode every byte outside an alphabet (query pairs, userinfo on display).
//! * [`decode`]: turn the userinfo back into the text of a user name or password.

use std::fmt::Write as _;

use super::{Error, invalid};

/// Keeps allowed bytes and valid `%HH` escapes, percent-encodes every other byte.
pub(super) fn normalize(component: &str, allowed: fn(u8) -> bool) -> Result<String, Error> {
    let bytes = component.as_bytes();
    // Fast path: nothing to check or encode.
    let Some(mut i) = bytes.iter().position(|&b| b == b'%' || !allowed(b)) else {
        return Ok(component.to_owned());
    };
    let mut out = String::with_capacity(bytes.len() + 8);
    out.push_str(&component[..i]);
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(&hi), Some(&lo)) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                    out.extend(['%', char::from(hi), char::from(lo)]);
                    i += 3;
                    continue;
                }
                _ => return Err(invalid("`%` is not followed by two hexadecimal digits")),
            }
        }
        if allowed(b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        i += 1;
    }
    Ok(out)
}

/// `text` with every byte outside `allowed` written as `%HH` (a `%` included).
pub(super) fn encode(text: &str, allowed: fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if allowed(b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `text` with every `%HH` escape replaced by its byte; the result must be UTF-8.
pub(super) fn decode(text: &str) -> Result<String, Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let digit = |at: usize| bytes.get(at).and_then(|&d| char::from(d).to_digit(16));
            match (digit(i + 1), digit(i + 2)) {
                (Some(hi), Some(lo)) => out.extend(u8::try_from(hi * 16 + lo)),
                _ => return Err(invalid("`%` is not followed by two hexadecimal digits")),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| invalid("the percent-decoded user info is not UTF-8"))
}

/// `unreserved` (RFC 3986 §2.3): what is never encoded, and all a query pair keeps raw.
pub(super) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `unreserved / sub-delims` (RFC 3986 §2.2, §2.3): what userinfo may hold raw, `:` aside.
pub(super) fn is_userinfo_char(b: u8) -> bool {
    is_unreserved(b) || b"!$&'()*+,;=".contains(&b)
}

/// `pchar / "/"` minus `%` (handled as escapes): RFC 3986 §3.3.
pub(super) fn is_path_char(b: u8) -> bool {
    is_userinfo_char(b) || matches!(b, b':' | b'@' | b'/')
}

/// `*( pchar / "/" / "?" )`: RFC 3986 §3.4.
pub(super) fn is_query_char(b: u8) -> bool {
    is_path_char(b) || b == b'?'
}

//! The `chunk_extension` target: evloop's byte-at-a-time chunk-extension states against a
//! reference written the other way round, as recursive descent over the whole list.

use evloop::http::{BodyDecoder, Framing, Malformed, check_chunk_extensions};

/// `tchar` (RFC 9110 §5.6.2).
fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn skip_ws(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    &s[n..]
}

/// `1*tchar` at the start of `s`: what follows it, or `None` if there is none.
fn token(s: &[u8]) -> Option<&[u8]> {
    let n = s.iter().take_while(|&&b| tchar(b)).count();
    (n > 0).then(|| &s[n..])
}

/// A quoted-string at the start of `s` (RFC 9110 §5.6.4): what follows it.
fn quoted(s: &[u8]) -> Option<&[u8]> {
    let mut rest = s.strip_prefix(b"\"")?;
    loop {
        match *rest {
            [b'"', ref after @ ..] => return Some(after),
            [b'\\', b, ref after @ ..] if b == b'\t' || b == b' ' || b > 0x20 && b != 0x7f => rest = after,
            [b, ref after @ ..] if b == b'\t' || b == b' ' || (b > 0x20 && b != 0x7f && b != b'\\') => rest = after,
            _ => return None,
        }
    }
}

/// RFC 9112 §7.1.1's `chunk-ext`, the whole of `s`:
/// `*( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`.
pub(crate) fn reference(mut s: &[u8]) -> bool {
    while !s.is_empty() {
        let Some(after_semicolon) = skip_ws(s).strip_prefix(b";") else {
            return false;
        };
        let Some(after_name) = token(skip_ws(after_semicolon)) else {
            return false;
        };
        s = after_name;
        if let Some(after_equals) = skip_ws(s).strip_prefix(b"=") {
            let value = skip_ws(after_equals);
            let Some(after_value) = quoted(value).or_else(|| token(value)) else {
                return false;
            };
            s = after_value;
        }
    }
    true
}

/// The `chunk_extension` target: `check_chunk_extensions` agrees with [`reference`], and a
/// one-byte chunk carrying these extensions decodes exactly when they are valid (unless the
/// bytes hold a CR or LF, which end the size line earlier).
pub fn chunk_extension(data: &[u8]) {
    let valid = reference(data);
    let checked = check_chunk_extensions(data);
    assert_eq!(checked.is_ok(), valid, "{:?}", String::from_utf8_lossy(data));
    if let Err(error) = checked {
        assert_eq!(error, Malformed::ChunkExtension);
    }
    if data.contains(&b'\r') || data.contains(&b'\n') || data.len() > 4000 {
        return;
    }
    let mut wire = b"1".to_vec();
    wire.extend_from_slice(data);
    wire.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
    let mut decoder = BodyDecoder::new(Framing::Chunked);
    let mut body = Vec::new();
    let decoded = decoder.decode(&wire, &mut body);
    assert_eq!(
        decoded.is_ok() && decoder.is_done(),
        valid,
        "{:?}",
        String::from_utf8_lossy(&wire)
    );
}

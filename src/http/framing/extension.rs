//! Chunk extensions: the `;name=value` pairs a chunk-size line may carry, checked byte by byte.
//!
//! Why it exists: a chunk-size line is `chunk-size [ chunk-ext ] CRLF` (RFC 9112 §7.1), and no
//! extension means anything to this client, so it would be easy to skip everything up to the CR.
//! But parsers that skip extensions loosely disagree with strict ones about where the line ends
//! (a quoted `"\r\n"`, a bare LF, a stray control byte), and such disagreements between two
//! hops are how chunked bodies get smuggled. So the extensions are parsed exactly as RFC 9112
//! §7.1.1 writes them, one byte at a time, and the first byte that breaks the grammar fails the
//! body at once ([`Malformed::ChunkExtension`]):
//!
//! ```text
//! chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! chunk-ext-name = token
//! chunk-ext-val  = token / quoted-string
//! quoted-string  = DQUOTE *( qdtext / quoted-pair ) DQUOTE      (RFC 9110 §5.6.4)
//! qdtext         = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
//! quoted-pair    = "\" ( HTAB / SP / VCHAR / obs-text )
//! BWS            = *( SP / HTAB )
//! ```
//!
//! The decoder consumes the size and the first `BWS ";"` itself, then hands every byte up to
//! the line's CR to an [`Extension`] state, and asks it at the CR whether the line may end
//! there. Whitespace is allowed only where the grammar puts `BWS`: before a `;` or around a
//! `=`, so `;a=b` followed by a space and the CR is refused, as is a `;` with no name after it.
//! The same idea in other clients: hyper's `ChunkedState::Extension` (which only looks for
//! CR/LF), and llhttp's `chunk_extension_*` states, which parse names and quoted values as here.

use crate::http::error::Malformed;
use crate::http::headers::is_tchar;

/// Where inside a chunk's extensions the decoder is. Start with [`Extension::AFTER_SEMICOLON`].
///
/// ```text
/// state         on                       next
/// ────────────  ───────────────────────  ───────────────────────────────
/// BeforeName    SP / HTAB                BeforeName
/// BeforeName    tchar                    Name
/// Name          tchar                    Name
/// Name          SP / HTAB                AfterName
/// Name          "="                      BeforeValue
/// Name          ";"                      BeforeName
/// AfterName     SP / HTAB                AfterName
/// AfterName     "=" / ";"                BeforeValue / BeforeName
/// BeforeValue   SP / HTAB                BeforeValue
/// BeforeValue   tchar / DQUOTE           Token / Quoted
/// Token         tchar                    Token
/// Token         SP / HTAB / ";"          AfterValue / BeforeName
/// Quoted        qdtext                   Quoted
/// Quoted        "\" / DQUOTE             QuotedPair / Closed
/// QuotedPair    HTAB, SP, VCHAR, obs-text Quoted
/// Closed        SP / HTAB / ";"          AfterValue / BeforeName
/// AfterValue    SP / HTAB / ";"          AfterValue / BeforeName
/// ```
///
/// The line may end (CR) in `Name`, `Token` and `Closed` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extension {
    /// After a `;`: optional whitespace, then a name.
    BeforeName,
    /// Inside a name.
    Name,
    /// Whitespace after a name: a `=` or the next `;` must follow.
    AfterName,
    /// After `=`: optional whitespace, then a token or a quoted string.
    BeforeValue,
    /// Inside a token value.
    Token,
    /// Inside a quoted-string value.
    Quoted,
    /// Just after a backslash inside a quoted string.
    QuotedPair,
    /// Just after a quoted string's closing quote.
    Closed,
    /// Whitespace after a value: only the next `;` may follow.
    AfterValue,
}

impl Extension {
    /// The state right after the `;` that opens the first extension.
    pub(crate) const AFTER_SEMICOLON: Extension = Extension::BeforeName;

    /// Takes one byte of the extensions (never the CR that ends the line: see [`end`]).
    ///
    /// [`end`]: Extension::end
    pub(crate) fn step(self, b: u8) -> Result<Extension, Malformed> {
        use Extension::*;
        let space = b == b' ' || b == b'\t';
        Ok(match self {
            BeforeName if space => BeforeName,
            BeforeName | Name if is_tchar(b) => Name,
            Name | AfterName if space => AfterName,
            Name | AfterName if b == b'=' => BeforeValue,
            Name | AfterName | Token | Closed | AfterValue if b == b';' => BeforeName,
            BeforeValue if space => BeforeValue,
            BeforeValue | Token if is_tchar(b) => Token,
            BeforeValue if b == b'"' => Quoted,
            Token | Closed | AfterValue if space => AfterValue,
            Quoted if b == b'"' => Closed,
            Quoted if b == b'\\' => QuotedPair,
            Quoted if is_qdtext(b) => Quoted,
            QuotedPair if b == b'\t' || b == b' ' || is_vchar_or_obs_text(b) => Quoted,
            _ => return Err(Malformed::ChunkExtension),
        })
    }

    /// The line's CR arrived: fine only after a complete name or value.
    pub(crate) fn end(self) -> Result<(), Malformed> {
        match self {
            Extension::Name | Extension::Token | Extension::Closed => Ok(()),
            _ => Err(Malformed::ChunkExtension),
        }
    }
}

/// `qdtext` (RFC 9110 §5.6.4): any visible byte but `"` and `\`, SP, HTAB, or `obs-text`.
fn is_qdtext(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff)
}

/// `VCHAR` (visible ASCII) or `obs-text` (0x80–0xFF).
fn is_vchar_or_obs_text(b: u8) -> bool {
    matches!(b, 0x21..=0x7e | 0x80..=0xff)
}

/// Checks a whole extension list, as it follows a chunk size: `;a=1;b="x y"` (the leading
/// `BWS ";"` included, the CRLF not). A pure helper over the `Extension` states for tests and fuzzing;
/// the decoder feeds the same states one byte at a time.
///
/// # Errors
///
/// [`Malformed::ChunkExtension`] at the first byte that breaks RFC 9112 §7.1.1, or if the list
/// is cut short (a `;` without a name, an open quote).
pub fn check_chunk_extensions(bytes: &[u8]) -> Result<(), Malformed> {
    let start = bytes
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(bytes.len());
    let Some((b';', rest)) = bytes[start..].split_first() else {
        return if bytes.is_empty() {
            Ok(())
        } else {
            Err(Malformed::ChunkExtension)
        };
    };
    rest.iter()
        .try_fold(Extension::AFTER_SEMICOLON, |state, &b| state.step(b))?
        .end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_extensions_are_accepted() {
        for good in [
            &b""[..],
            b";a",
            b";a=b",
            b" ;a",
            b"\t; a = b",
            b";a;b;c",
            b";name=\"quoted value\"",
            b";q=\"with \\\"escapes\\\" and \\\\\"",
            b";a=1 ; b=2",
            b";a=\"\"",
            b";a=\"caf\xc3\xa9\"",
            b";a=\"x\";b",
            b";!#$%&'*+-.^_`|~=tok",
        ] {
            assert_eq!(
                check_chunk_extensions(good),
                Ok(()),
                "{:?}",
                String::from_utf8_lossy(good)
            );
        }
    }

    #[test]
    fn malformed_extensions_are_refused() {
        for bad in [
            &b";"[..],
            b"; ",
            b";;a",
            b";a=",
            b";a= ",
            b";=b",
            b";a b",
            b";a=b c",
            b";a=b ",
            b";a ",
            b";a=\"open",
            b";a=\"x\\",
            b";a=\"x\"y",
            b";a=\"bell\x07\"",
            b";a=\"nul\x00\"",
            b";a=b\x7f",
            b";a(b)",
            b";a=b,c",
            b";a=\"x\\\x01\"",
            b"a",
            b" ",
        ] {
            assert_eq!(
                check_chunk_extensions(bad),
                Err(Malformed::ChunkExtension),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn every_single_byte_value_is_accepted_exactly_where_the_grammar_allows_it() {
        for b in 0..=255u8 {
            let token = is_tchar(b);
            assert_eq!(check_chunk_extensions(&[b';', b]).is_ok(), token, "name byte {b:#x}");
            assert_eq!(
                check_chunk_extensions(&[b';', b'a', b'=', b]).is_ok(),
                token,
                "value byte {b:#x}"
            );
            let quoted = is_qdtext(b);
            let line = [b';', b'a', b'=', b'"', b, b'"'];
            assert_eq!(check_chunk_extensions(&line).is_ok(), quoted, "quoted byte {b:#x}");
            let escaped = b == b'\t' || b == b' ' || is_vchar_or_obs_text(b);
            let line = [b';', b'a', b'=', b'"', b'\\', b, b'"'];
            assert_eq!(check_chunk_extensions(&line).is_ok(), escaped, "escaped byte {b:#x}");
        }
    }
}

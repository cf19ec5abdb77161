//! A small, ordered, case-insensitive header map.
//!
//! Why it exists: HTTP field names are case-insensitive (RFC 9110 §5.1), a field may
//! appear on several lines (`Set-Cookie`, or a list split over lines, RFC 9110 §5.3),
//! and the order of lines is meaningful for such lists. A `HashMap<String, String>`
//! gets all three wrong, so both requests and responses carry a [`Headers`]: a list
//! of `(name, value)` lines in arrival order.
//!
//! **Storage.** All names and values live in one `String`, and each line is a pair of
//! byte ranges into it: two allocations for a whole head, however many lines it has.
//! A received head that needs no decoding (UTF-8, no obsolete line folding) is copied
//! once, whole, and its lines point into the copy; nothing is done per line.
//!
//! Lookups are a linear scan with `eq_ignore_ascii_case`. That is the right trade for
//! messages of a few dozen lines (the response parser caps a head at 100 by default):
//! no hashing, no allocation on lookup, and names keep the case they were written in,
//! which is what goes on the wire when a request is encoded.
//!
//! The map itself stores whatever it is given. Validation happens at the edges:
//! [`encode_request_head`](super::encode_request_head) refuses bad names and values
//! before a byte is sent, and the response parser only produces valid ones.

use std::fmt;

/// A `start..end` byte range of a map's text.
pub(crate) type Range = (usize, usize);

/// Field names whose values are secrets: `Debug` prints `<redacted>` instead, so a
/// `{:?}` in a log line never leaks a password or a session cookie.
const SENSITIVE: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "set-cookie"];

/// An ordered list of header fields with case-insensitive name lookup.
///
/// ```
/// # use evloop::http::Headers;
/// let mut headers = Headers::new();
/// headers.append("Accept", "text/html");
/// headers.append("accept", "text/plain");
/// assert_eq!(headers.get("ACCEPT"), Some("text/html"));
/// assert_eq!(headers.get_all("Accept").collect::<Vec<_>>(), ["text/html", "text/plain"]);
/// ```
#[derive(Clone, Default)]
pub struct Headers {
    /// The names and values of every line, back to back: one allocation however many
    /// lines there are, rather than a string for each name and each value.
    text: String,
    /// Every field line in the order it was appended or received, as spans of `text`.
    /// Names keep their original case (they are sent as written); comparisons ignore it.
    /// A removed line leaves its bytes in `text` until the map is dropped.
    entries: Vec<Span>,
}

/// One field line: the name is `text[name.0..name.1]`, the value `text[value.0..value.1]`.
#[derive(Debug, Clone, Copy)]
struct Span {
    name: (usize, usize),
    value: (usize, usize),
}

impl Headers {
    /// An empty map.
    pub const fn new() -> Headers {
        Headers {
            text: String::new(),
            entries: Vec::new(),
        }
    }

    /// An empty map with room for `lines` lines of `bytes` bytes of names and values in
    /// all, so filling it allocates twice at most.
    pub(crate) fn with_capacity(lines: usize, bytes: usize) -> Headers {
        Headers {
            text: String::with_capacity(bytes),
            entries: Vec::with_capacity(lines),
        }
    }

    /// A map over `text`, a received head kept whole: each of `lines` is a `(name, value)`
    /// pair of byte ranges into it. The fast path for a response head that needs no decoding
    /// (UTF-8, no folded lines): one copy of the head, no work per line. `None` if a range is
    /// out of bounds or splits a character (which a parser's slices never do). `ascii` says the
    /// text is all ASCII, where every index is a character boundary and only bounds need
    /// checking.
    pub(crate) fn over_text(
        text: String,
        ascii: bool,
        lines: impl ExactSizeIterator<Item = (Range, Range)>,
    ) -> Option<Headers> {
        let fits = |(start, end): Range| {
            start <= end && end <= text.len() && (ascii || (text.is_char_boundary(start) && text.is_char_boundary(end)))
        };
        let mut entries = Vec::with_capacity(lines.len());
        for (name, value) in lines {
            if !(fits(name) && fits(value)) {
                return None;
            }
            entries.push(Span { name, value });
        }
        Some(Headers { text, entries })
    }

    /// Adds a field line after the existing ones, keeping any earlier lines with the
    /// same name (as `Set-Cookie` or a list header needs).
    pub fn append(&mut self, name: &str, value: &str) {
        let start = self.text.len();
        self.text.push_str(name);
        let split = self.text.len();
        self.text.push_str(value);
        self.push_span(start, split);
    }

    /// Adds a line whose value is the field-value bytes a server sent, decoded for reading:
    /// UTF-8 when it is, Latin-1 otherwise (RFC 9110 §5.5), with obsolete line folding
    /// (CR and LF inside the value) turned into spaces (RFC 9112 §5.2). `name` is a token.
    pub(crate) fn append_received(&mut self, name: &str, value: &[u8]) {
        let start = self.text.len();
        self.text.push_str(name);
        let split = self.text.len();
        push_field_value(&mut self.text, value);
        self.push_span(start, split);
    }

    fn push_span(&mut self, start: usize, split: usize) {
        let end = self.text.len();
        self.entries.push(Span {
            name: (start, split),
            value: (split, end),
        });
    }

    /// Replaces every line named `name` with a single one, appended at the end.
    pub fn insert(&mut self, name: &str, value: &str) {
        self.remove(name);
        self.append(name, value);
    }

    /// Removes every line named `name`; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.entries.len();
        let text = &self.text;
        self.entries
            .retain(|span| !text.as_bytes()[span.name.0..span.name.1].eq_ignore_ascii_case(name.as_bytes()));
        if self.entries.is_empty() {
            self.text.clear();
        }
        before - self.entries.len()
    }

    /// The value of the first line named `name`, if any.
    ///
    /// For fields that may repeat, use [`get_all`](Headers::get_all) or
    /// [`list`](Headers::list): taking the first of several is a classic way to read
    /// a different message than the next hop does.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// The values of every line named `name`, in arrival order.
    #[inline]
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        // Names are compared as bytes, lengths first (most lines differ there), so only the
        // matching lines' values are sliced as text.
        let bytes = self.text.as_bytes();
        self.entries
            .iter()
            .filter(move |span| {
                span.name.1 - span.name.0 == name.len()
                    && bytes[span.name.0..span.name.1].eq_ignore_ascii_case(name.as_bytes())
            })
            .map(|span| &self.text[span.value.0..span.value.1])
    }

    /// Whether at least one line is named `name`.
    #[inline]
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The elements of a comma-separated list field, across all its lines, trimmed of
    /// optional whitespace, with empty elements skipped (RFC 9110 §5.6.1).
    ///
    /// `Connection: keep-alive, Upgrade` and `Connection: keep-alive` +
    /// `Connection: Upgrade` both yield `["keep-alive", "Upgrade"]`. Do not use this
    /// for fields whose values may contain commas (`Set-Cookie`, dates).
    pub fn list<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.get_all(name)
            .flat_map(|v| v.split(','))
            .map(|element| element.trim_matches([' ', '\t']))
            .filter(|element| !element.is_empty())
    }

    /// Whether the list field `name` contains `token`, compared case-insensitively:
    /// the test for `Connection: close` (RFC 9112 §9.6).
    pub fn contains_token(&self, name: &str, token: &str) -> bool {
        // As `list`, without its chain of adapters: this runs on every request's own headers,
        // which are most often empty.
        self.get_all(name).any(|value| {
            value.split(',').any(|element| {
                let element = element.trim_matches([' ', '\t']);
                !element.is_empty() && element.eq_ignore_ascii_case(token)
            })
        })
    }

    /// Every line as `(name, value)` bytes, in order: for the protocol layer's own scans
    /// (`framing`), which compare ASCII tokens and so need no `str` (whose slicing checks
    /// character boundaries).
    pub(crate) fn byte_lines(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let bytes = self.text.as_bytes();
        self.entries
            .iter()
            .map(move |span| (&bytes[span.name.0..span.name.1], &bytes[span.value.0..span.value.1]))
    }

    /// Every line as `(name, value)`, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            text: &self.text,
            inner: self.entries.iter(),
        }
    }

    /// The number of field lines (not distinct names).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no field lines at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Two maps are equal when they hold the same lines in the same order (names compared as
/// written), whatever removed lines left behind in their buffers.
impl PartialEq for Headers {
    fn eq(&self, other: &Headers) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Headers {}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self {
            if SENSITIVE.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                map.entry(&name, &"<redacted>");
            } else {
                map.entry(&name, &value);
            }
        }
        map.finish()
    }
}

impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Headers {
        let mut headers = Headers::new();
        headers.extend(iter);
        headers
    }
}

impl<N: AsRef<str>, V: AsRef<str>> Extend<(N, V)> for Headers {
    fn extend<I: IntoIterator<Item = (N, V)>>(&mut self, iter: I) {
        for (name, value) in iter {
            self.append(name.as_ref(), value.as_ref());
        }
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Iterator over the lines of a [`Headers`], from [`Headers::iter`].
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    /// The buffer the spans point into; `Iter` turns each span into `(&str, &str)` so the
    /// storage stays private.
    text: &'a str,
    inner: std::slice::Iter<'a, Span>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    #[inline]
    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let span = self.inner.next()?;
        Some((
            &self.text[span.name.0..span.name.1],
            &self.text[span.value.0..span.value.1],
        ))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

/// Whether `b` is a `tchar`, the alphabet of tokens: method names and field names
/// (RFC 9110 §5.6.2).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `s` is a `token`: one or more `tchar`s (RFC 9110 §5.6.2).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Appends received field-value bytes to `out` without losing information.
///
/// Field values are ASCII in practice, but RFC 9110 §5.5 still allows `obs-text`
/// (bytes 0x80–0xFF), which historically meant ISO-8859-1. So: valid UTF-8 is taken
/// as UTF-8 (modern servers send UTF-8 file names in `Content-Disposition`), anything
/// else is decoded as ISO-8859-1, where every byte maps to one `char` and nothing is
/// replaced or dropped.
///
/// An obsolete line fold (`obs-fold = OWS CRLF RWS`, RFC 9112 §5.2; httparse also accepts a
/// bare LF) becomes exactly one SP, whatever spaces and tabs surround it, as §5.2 asks of a
/// user agent: `a \t\r\n\t b` is `a b`. A fold at either end of the value (nothing before or
/// after it but whitespace) leaves no space at all, since a value carries no outer whitespace.
pub(crate) fn push_field_value(out: &mut String, bytes: &[u8]) {
    let folded = bytes.iter().any(|&b| b == b'\r' || b == b'\n');
    let text = std::str::from_utf8(bytes);
    match text {
        Ok(s) if !folded => out.push_str(s),
        Ok(s) => unfold(out, s.split(['\r', '\n']), |piece, out| out.push_str(piece)),
        Err(_) => unfold(out, bytes.split(|&b| b == b'\r' || b == b'\n'), |piece, out| {
            out.extend(piece.iter().map(|&b| char::from(b)))
        }),
    }
}

/// Joins the pieces of a folded value with one SP each, dropping the whitespace around every
/// fold and the empty pieces between a CR and its LF; `push` appends one piece (UTF-8 or
/// Latin-1).
fn unfold<P: Trim>(out: &mut String, pieces: impl Iterator<Item = P>, push: impl Fn(P, &mut String)) {
    let mut first = true;
    for piece in pieces.map(Trim::trim_ws).filter(|piece| !piece.is_blank()) {
        if !first {
            out.push(' ');
        }
        first = false;
        push(piece, out);
    }
}

/// What `unfold` needs of a piece: trimming spaces and tabs from both ends, and emptiness.
trait Trim: Sized {
    fn trim_ws(self) -> Self;
    fn is_blank(&self) -> bool;
}

impl Trim for &str {
    fn trim_ws(self) -> Self {
        self.trim_matches([' ', '\t'])
    }
    fn is_blank(&self) -> bool {
        self.is_empty()
    }
}

impl Trim for &[u8] {
    fn trim_ws(self) -> Self {
        let start = self.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(self.len());
        let end = self
            .iter()
            .rposition(|&b| b != b' ' && b != b'\t')
            .map_or(start, |i| i + 1);
        &self[start..end.max(start)]
    }
    fn is_blank(&self) -> bool {
        self.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Headers {
        [
            ("Content-Type", "text/html"),
            ("Set-Cookie", "a=1"),
            ("set-cookie", "b=2"),
            ("Connection", "keep-alive, Upgrade"),
            ("CONNECTION", " , close ,"),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn lookup_ignores_case_and_returns_the_first_line() {
        let headers = sample();
        assert_eq!(headers.get("content-type"), Some("text/html"));
        assert_eq!(headers.get("SET-COOKIE"), Some("a=1"));
        assert_eq!(headers.get("missing"), None);
        assert!(headers.contains("Content-TYPE"));
        assert!(!headers.contains("Content-Length"));
    }

    #[test]
    fn get_all_keeps_arrival_order() {
        let headers = sample();
        assert_eq!(headers.get_all("Set-Cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
    }

    #[test]
    fn iteration_keeps_order_and_original_case() {
        let names: Vec<_> = sample().iter().map(|(n, _)| n.to_owned()).collect();
        assert_eq!(
            names,
            ["Content-Type", "Set-Cookie", "set-cookie", "Connection", "CONNECTION"]
        );
    }

    #[test]
    fn list_splits_commas_across_lines_and_skips_empty_elements() {
        let headers = sample();
        assert_eq!(
            headers.list("connection").collect::<Vec<_>>(),
            ["keep-alive", "Upgrade", "close"]
        );
        assert!(headers.contains_token("Connection", "CLOSE"));
        assert!(!headers.contains_token("Connection", "clos"));
        // Every element of every line, trimmed, as `list` yields them; empty ones match nothing.
        for token in ["keep-alive", "UPGRADE", "close"] {
            assert!(headers.contains_token("connection", token), "{token}");
        }
        assert!(!headers.contains_token("connection", ""));
        assert!(!Headers::new().contains_token("connection", "close"));
    }

    #[test]
    fn insert_replaces_every_line_and_remove_counts() {
        let mut headers = sample();
        headers.insert("SET-COOKIE", "c=3");
        assert_eq!(headers.get_all("set-cookie").collect::<Vec<_>>(), ["c=3"]);
        assert_eq!(headers.remove("connection"), 2);
        assert_eq!(headers.len(), 2);
        assert!(!headers.is_empty());
    }

    #[test]
    fn debug_redacts_secrets() {
        let headers: Headers = [
            ("Authorization", "Basic c2VjcmV0"),
            ("Cookie", "id=42"),
            ("Accept", "*/*"),
        ]
        .into_iter()
        .collect();
        let printed = format!("{headers:?}");
        assert!(!printed.contains("c2VjcmV0") && !printed.contains("id=42"), "{printed}");
        assert!(printed.contains("*/*"), "{printed}");
    }

    #[test]
    fn tokens_are_tchar_only() {
        assert!(is_token("X-Custom_Header.1!#$%&'*+^`|~"));
        for bad in ["", "a b", "a:b", "a\r", "é", "a(b)", "a\"b", "a,b", "a/b"] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn field_values_decode_as_utf8_or_else_latin1_and_unfold() {
        let decode = |bytes: &[u8]| {
            let mut out = String::from("x");
            push_field_value(&mut out, bytes);
            out
        };
        assert_eq!(decode(b"plain"), "xplain");
        assert_eq!(decode("caf\u{e9}".as_bytes()), "xcaf\u{e9}");
        assert_eq!(decode(b"caf\xe9"), "xcaf\u{e9}");
        assert_eq!(decode(b"\xff\xfe"), "x\u{ff}\u{fe}");
        assert_eq!(decode(b"a\r\n b"), "xa b");
        assert_eq!(decode(b"\xe9\r\n b"), "x\u{e9} b");
    }

    #[test]
    fn each_obs_fold_becomes_one_space_whatever_whitespace_surrounds_it() {
        let decode = |bytes: &[u8]| {
            let mut out = String::new();
            push_field_value(&mut out, bytes);
            out
        };
        assert_eq!(decode(b"a \t\r\n\t  b"), "a b");
        assert_eq!(decode(b"a\r\n b\r\n\tc"), "a b c");
        assert_eq!(decode(b"a\n b"), "a b", "httparse's bare-LF fold too");
        assert_eq!(
            decode(b"a  inner  spaces\r\n b"),
            "a  inner  spaces b",
            "only folds change"
        );
        assert_eq!(decode(b"\r\n b"), "b", "a fold at the start leaves no space");
        assert_eq!(decode(b"a\r\n "), "a", "nor one at the end");
        assert_eq!(decode(b"caf\xe9 \r\n b"), "caf\u{e9} b", "Latin-1 values unfold alike");
    }

    #[test]
    fn removed_lines_leave_no_trace_in_lookups_or_equality() {
        let mut headers = sample();
        headers.remove("set-cookie");
        headers.append("X-New", "1");
        let expected: Headers = [
            ("Content-Type", "text/html"),
            ("Connection", "keep-alive, Upgrade"),
            ("CONNECTION", " , close ,"),
            ("X-New", "1"),
        ]
        .into_iter()
        .collect();
        assert_eq!(headers, expected);
        assert_eq!(headers.get("x-new"), Some("1"));
        assert_eq!(headers.get("set-cookie"), None);
        let mut emptied = expected.clone();
        for name in ["content-type", "connection", "x-new"] {
            emptied.remove(name);
        }
        assert_eq!(emptied, Headers::new());
    }
}

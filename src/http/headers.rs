//! A small, ordered, case-insensitive header map.
//!
//! Why it exists: HTTP field names are case-insensitive (RFC 9110 §5.1), a field may
//! appear on several lines (`Set-Cookie`, or a list split over lines, RFC 9110 §5.3),
//! and the order of lines is meaningful for such lists. A `HashMap<String, String>`
//! gets all three wrong, so both requests and responses carry a [`Headers`]: a plain
//! `Vec` of `(name, value)` pairs in arrival order.
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
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// Every field line in the order it was appended or received. Names keep their
    /// original case (they are sent as written); comparisons ignore it.
    entries: Vec<(String, String)>,
}

impl Headers {
    /// An empty map.
    pub fn new() -> Headers {
        Headers { entries: Vec::new() }
    }

    /// Adds a field line after the existing ones, keeping any earlier lines with the
    /// same name (as `Set-Cookie` or a list header needs).
    pub fn append(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries.push((name.into(), value.into()));
    }

    /// Replaces every line named `name` with a single one, appended at the end.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.remove(&name);
        self.entries.push((name, value.into()));
    }

    /// Removes every line named `name`; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.entries.len();
        self.entries.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        before - self.entries.len()
    }

    /// The value of the first line named `name`, if any.
    ///
    /// For fields that may repeat, use [`get_all`](Headers::get_all) or
    /// [`list`](Headers::list): taking the first of several is a classic way to read
    /// a different message than the next hop does.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// The values of every line named `name`, in arrival order.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether at least one line is named `name`.
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
        self.list(name).any(|element| element.eq_ignore_ascii_case(token))
    }

    /// Every line as `(name, value)`, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
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

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Headers {
        let mut headers = Headers::new();
        headers.extend(iter);
        headers
    }
}

impl<N: Into<String>, V: Into<String>> Extend<(N, V)> for Headers {
    fn extend<I: IntoIterator<Item = (N, V)>>(&mut self, iter: I) {
        for (name, value) in iter {
            self.append(name, value);
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
    /// The underlying slice iterator; `Iter` only turns `&(String, String)` into
    /// `(&str, &str)` so the storage type stays private.
    inner: std::slice::Iter<'a, (String, String)>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        self.inner.next().map(|(n, v)| (n.as_str(), v.as_str()))
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

/// Turns received field-value bytes into a `String` without losing information.
///
/// Field values are ASCII in practice, but RFC 9110 §5.5 still allows `obs-text`
/// (bytes 0x80–0xFF), which historically meant ISO-8859-1. So: valid UTF-8 is taken
/// as UTF-8 (modern servers send UTF-8 file names in `Content-Disposition`), anything
/// else is decoded as ISO-8859-1, where every byte maps to one `char` and nothing is
/// replaced or dropped.
pub(crate) fn decode_field_value(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
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
    fn field_values_decode_as_utf8_or_else_latin1() {
        assert_eq!(decode_field_value(b"plain"), "plain");
        assert_eq!(decode_field_value("caf\u{e9}".as_bytes()), "caf\u{e9}");
        assert_eq!(decode_field_value(b"caf\xe9"), "caf\u{e9}");
        assert_eq!(decode_field_value(b"\xff\xfe"), "\u{ff}\u{fe}");
    }
}

//! Reading one `Set-Cookie` header value (RFC 6265 §5.2), as a user agent must: leniently.
//!
//! Why it exists: RFC 6265 has two grammars. §4.1 says what a server *should* send; §5.2 says
//! what a client *must accept*, because servers send far worse. This is §5.2, step by step:
//!
//! ```text
//!  session=abc123; Path=/; Max-Age=3600; HttpOnly; Domain=.example.com
//!  └──name=value──┘└────────────── attributes, split at ';' ─────────────┘
//! ```
//!
//! 1. Everything up to the first `;` is the name-value pair; without an `=` in it, or with an
//!    empty name, the whole header is ignored.
//! 2. Name and value are trimmed of spaces and tabs, nothing else (quotes stay).
//! 3. Each attribute is `name[=value]`, trimmed; names are case-insensitive; an attribute
//!    this client does not know, or whose value does not parse, is ignored — never the cookie.
//! 4. When an attribute appears twice, the last one wins (§5.3 step 3 reads "the last").
//!
//! Limits against a hostile server: a name or value holding a control character (tab aside),
//! a name and value longer than 4096 bytes together, and any attribute value longer than 1024,
//! are ignored (RFC 6265bis §5.7 steps 3, 5 and 8.3: browsers draw the same lines). The first
//! rule also keeps every `Cookie` header the jar builds a valid header: a CR, LF or NUL stored
//! from one response would otherwise make every later request to that site fail.

use std::time::SystemTime;

use super::SameSite;
use crate::http::date::parse_http_date;

/// Most bytes of name plus value (RFC 6265bis §5.7 step 5).
const MAX_NAME_VALUE: usize = 4096;
/// Most bytes of one attribute's value (RFC 6265bis §5.7 step 8.3).
const MAX_ATTRIBUTE_VALUE: usize = 1024;

/// A parsed `Set-Cookie` header: the cookie and its attributes as the server sent them, before
/// the jar applies defaults (the request's host and path) and the clock.
///
/// ```
/// use evloop::http::cookie::SetCookie;
///
/// let set = SetCookie::parse("id=a3fWa; Max-Age=2592000; Path=/docs; Secure; HttpOnly").unwrap();
/// assert_eq!((set.name.as_str(), set.value.as_str()), ("id", "a3fWa"));
/// assert_eq!((set.max_age, set.path.as_deref()), (Some(2_592_000), Some("/docs")));
/// assert!(set.secure && set.http_only);
/// assert!(SetCookie::parse("no equals sign").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    /// The cookie's name (never empty).
    pub name: String,
    /// The cookie's value (may be empty).
    pub value: String,
    /// `Expires`, when it held a date [`parse`](Self::parse) could read.
    pub expires: Option<SystemTime>,
    /// `Max-Age` in seconds (zero or negative: expire now). Wins over `Expires` (§5.3 step 3).
    pub max_age: Option<i64>,
    /// `Domain`, lower-cased, its leading dot removed; `None` when absent or empty.
    pub domain: Option<String>,
    /// `Path`, when it starts with `/` (otherwise the jar uses the default path, §5.2.4).
    pub path: Option<String>,
    /// `Secure` was present.
    pub secure: bool,
    /// `HttpOnly` was present.
    pub http_only: bool,
    /// `SameSite=Strict|Lax|None` (any case); another value is ignored.
    pub same_site: Option<SameSite>,
}

impl SetCookie {
    /// Parses one `Set-Cookie` header value; `None` when RFC 6265 §5.2 says to ignore it
    /// (no `=` before the first `;`, an empty name), or RFC 6265bis does (a control character
    /// in the name or value, or both together over 4096 bytes).
    pub fn parse(header: &str) -> Option<SetCookie> {
        let (pair, attributes) = header.split_once(';').unwrap_or((header, ""));
        let (name, value) = pair.split_once('=')?;
        let (name, value) = (trim(name), trim(value));
        let control = |text: &str| text.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f);
        if name.is_empty() || name.len() + value.len() > MAX_NAME_VALUE || control(name) || control(value) {
            return None;
        }
        let mut cookie = SetCookie {
            name: name.to_owned(),
            value: value.to_owned(),
            expires: None,
            max_age: None,
            domain: None,
            path: None,
            secure: false,
            http_only: false,
            same_site: None,
        };
        for attribute in attributes.split(';') {
            let (key, value) = attribute.split_once('=').unwrap_or((attribute, ""));
            let (key, value) = (trim(key), trim(value));
            if value.len() <= MAX_ATTRIBUTE_VALUE {
                cookie.apply(key, value);
            }
        }
        Some(cookie)
    }

    /// One attribute (§5.2.1–§5.2.6; `SameSite` from RFC 6265bis §5.6.7). Unknown names, and
    /// values that do not parse, change nothing.
    fn apply(&mut self, key: &str, value: &str) {
        let is = |name: &str| key.eq_ignore_ascii_case(name);
        if is("expires") {
            if let Some(at) = parse_http_date(value) {
                self.expires = Some(at);
            }
        } else if is("max-age") {
            if let Some(seconds) = parse_max_age(value) {
                self.max_age = Some(seconds);
            }
        } else if is("domain") {
            // "If the first character … is '.', ignore it" (§5.2.3); an empty value is ignored.
            let domain = value.strip_prefix('.').unwrap_or(value);
            self.domain = (!domain.is_empty()).then(|| domain.to_ascii_lowercase());
        } else if is("path") {
            // A path that does not start with '/' means "use the default path" (§5.2.4).
            self.path = value.starts_with('/').then(|| value.to_owned());
        } else if is("secure") {
            self.secure = true;
        } else if is("httponly") {
            self.http_only = true;
        } else if is("samesite") {
            let parsed = [
                ("strict", SameSite::Strict),
                ("lax", SameSite::Lax),
                ("none", SameSite::None),
            ]
            .into_iter()
            .find(|(name, _)| value.eq_ignore_ascii_case(name));
            if let Some((_, same_site)) = parsed {
                self.same_site = Some(same_site);
            }
        }
    }
}

/// `Max-Age` (§5.2.2): an optional `-` then digits only. Huge values saturate rather than
/// fail: "expire in 10^30 seconds" is "never", not "ignore the attribute".
fn parse_max_age(value: &str) -> Option<i64> {
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.parse::<i64>().unwrap_or(i64::MAX);
    Some(if negative { -magnitude } else { magnitude })
}

/// Strips the whitespace RFC 6265 §5.2 names: spaces and horizontal tabs, nothing else.
fn trim(text: &str) -> &str {
    text.trim_matches([' ', '\t'])
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn parse(header: &str) -> SetCookie {
        SetCookie::parse(header).unwrap_or_else(|| panic!("{header:?} should parse"))
    }

    #[test]
    fn name_and_value_are_trimmed_of_spaces_and_tabs_only() {
        let cookie = parse(" \tSID = \"31d4d96e407aad42\" \t; ");
        assert_eq!(
            (cookie.name.as_str(), cookie.value.as_str()),
            ("SID", "\"31d4d96e407aad42\"")
        );
        assert_eq!(parse("a=").value, "", "an empty value is a value");
        assert_eq!(parse("a=b=c").value, "b=c", "only the first '=' splits");
    }

    #[test]
    fn a_header_without_a_name_value_pair_is_ignored() {
        for header in ["", "novalue", "=value", " =value", "; a=b", "\t;Path=/"] {
            assert_eq!(SetCookie::parse(header), None, "{header:?}");
        }
        assert_eq!(SetCookie::parse(&format!("a={}", "x".repeat(MAX_NAME_VALUE))), None);
        for header in ["a=1\r\nX: y", "a=\u{0}", "a\u{7f}=1", "a=b\u{1}c"] {
            assert_eq!(SetCookie::parse(header), None, "{header:?}: a control character");
        }
        assert_eq!(parse("a=x\ty").value, "x\ty", "a tab inside is kept");
    }

    #[test]
    fn every_attribute_is_read_in_any_case() {
        let cookie = parse(
            "a=1; expires=Wed, 21 Oct 2015 07:28:00 GMT; MAX-AGE=60; DoMaIn=.Example.COM; \
             path=/docs; SECURE; httponly; samesite=lax",
        );
        assert_eq!(cookie.expires, Some(UNIX_EPOCH + Duration::from_secs(1_445_412_480)));
        assert_eq!(cookie.max_age, Some(60));
        assert_eq!(cookie.domain.as_deref(), Some("example.com"));
        assert_eq!(cookie.path.as_deref(), Some("/docs"));
        assert!(cookie.secure && cookie.http_only);
        assert_eq!(cookie.same_site, Some(SameSite::Lax));
    }

    #[test]
    fn bad_attribute_values_are_ignored_and_the_cookie_kept() {
        let cookie =
            parse("a=1; Expires=tomorrow; Max-Age=12s; Max-Age=; Domain=; Path=docs; SameSite=Sometimes; Flavour=mint");
        assert_eq!(
            (
                cookie.expires,
                cookie.max_age,
                cookie.domain,
                cookie.path,
                cookie.same_site
            ),
            (None, None, None, None, None)
        );
        assert_eq!(
            parse(&format!("a=1; Path=/{}", "p".repeat(MAX_ATTRIBUTE_VALUE))).path,
            None
        );
    }

    #[test]
    fn the_last_of_a_repeated_attribute_wins() {
        let cookie = parse("a=1; Path=/one; Max-Age=5; Path=/two; Max-Age=-1; Domain=a.com; Domain=b.com");
        assert_eq!(cookie.path.as_deref(), Some("/two"));
        assert_eq!(cookie.max_age, Some(-1));
        assert_eq!(cookie.domain.as_deref(), Some("b.com"));
    }

    #[test]
    fn max_age_accepts_a_sign_and_saturates() {
        assert_eq!(parse_max_age("0"), Some(0));
        assert_eq!(parse_max_age("-30"), Some(-30));
        assert_eq!(parse_max_age("99999999999999999999999"), Some(i64::MAX));
        for bad in ["", "-", "+5", "5.0", " 5", "0x10"] {
            assert_eq!(parse_max_age(bad), None, "{bad:?}");
        }
    }
}

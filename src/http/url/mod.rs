//! `http://` URLs: parsing, and resolving a redirect's `Location` against one.
//!
//! Why it exists: a URL is where every request starts, and the client needs exactly
//! four things from it: *where to connect* (host and port), *what to write on the
//! request line* (the origin-form target, RFC 9112 §3.2.1), *what to put in `Host`*
//! (RFC 9112 §3.2), and *whom to authenticate as* (the `user:password@` userinfo,
//! RFC 3986 §3.2.1, sent as `Authorization: Basic`, RFC 7617).
//!
//! Read first: RFC 3986 §3 (the generic syntax) and §5 (resolving references), and
//! RFC 9110 §4.2.1 (the `http` scheme). The shape is:
//!
//! ```text
//!   http://user:pass@example.com:8080/a/b?x=1#frag
//!   └─┬┘   └───┬───┘ └────┬────┘ └┬─┘└─┬─┘└─┬┘ └─┬┘
//!  scheme  userinfo      host   port path query fragment (dropped: never sent)
//! ```
//!
//! This parser is deliberately narrower than a browser's (the WHATWG URL Standard):
//!
//! * only `http`, plus `https` when the `tls` feature is on — everything else (and
//!   `https` without the feature) is refused with [`Error::UnsupportedScheme`];
//! * whitespace and control characters anywhere are refused, not trimmed or skipped;
//! * the host, port and userinfo follow the stricter rules in `authority.rs`;
//! * in the path and query, bytes that may not appear there raw (non-ASCII, `"`,
//!   `<`, `{`, `\`…) are percent-encoded and a `%` must start a valid `%HH` escape
//!   (`percent.rs`); dot segments are removed (RFC 3986 §5.2.4, `resolve.rs`) so
//!   `parse(x)` equals `base.join(x)`.
//!
//! | file           | concept                                                 | RFC 3986 |
//! |----------------|---------------------------------------------------------|----------|
//! | `mod.rs`       | [`Url`]: parsing, the request target, the `Host` header | §3       |
//! | `authority.rs` | [`Host`], the port, [`Credentials`]                     | §3.2     |
//! | `percent.rs`   | which bytes may appear raw where; `%HH` escapes         | §2       |
//! | `resolve.rs`   | [`Url::join`]: a reference against a base; dot segments | §5.2     |

use std::fmt::{self, Write as _};
use std::sync::Arc;

use super::Error;

mod authority;
mod percent;
pub(crate) mod resolve; // for `remove_dot_segments`, tested on its own

pub use authority::{Credentials, Host};
use authority::{parse_host_port, parse_userinfo};
use percent::{is_path_char, is_query_char, is_unreserved, is_userinfo_char, normalize};

/// The port of the `http` scheme (RFC 9110 §4.2.1), used when the URL names none.
pub const DEFAULT_PORT: u16 = 80;

/// The port of the `https` scheme (RFC 9110 §4.2.2).
pub const DEFAULT_HTTPS_PORT: u16 = 443;

/// A URL's scheme: plain `http`, or `https` (TLS, with the `tls` feature; without it an
/// `https://` URL is refused by [`Url::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http://`: HTTP over TCP.
    Http,
    /// `https://`: HTTP over TLS over TCP (RFC 9110 §4.2.2).
    Https,
}

impl Scheme {
    /// The scheme as written in a URL, lower-case.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The port used when a URL names none: 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => DEFAULT_PORT,
            Scheme::Https => DEFAULT_HTTPS_PORT,
        }
    }

    /// The scheme named `name` (any case) if this build can speak it.
    fn supported(name: &str) -> Option<Scheme> {
        if name.eq_ignore_ascii_case("http") {
            Some(Scheme::Http)
        } else if cfg!(feature = "tls") && name.eq_ignore_ascii_case("https") {
            Some(Scheme::Https)
        } else {
            None
        }
    }
}

/// A parsed `http://` (or, with the `tls` feature, `https://`) URL.
///
/// ```
/// # use evloop::http::{Host, Url};
/// let url = Url::parse("http://Example.com:8080/a/./b?x=1#top").unwrap();
/// assert_eq!(url.host(), &Host::Domain("example.com".into()));
/// assert_eq!(url.request_target(), "/a/b?x=1");
/// assert_eq!(url.host_header(), "example.com:8080");
/// assert_eq!(url.join("../c").unwrap().to_string(), "http://example.com:8080/c");
/// ```
///
/// A `Url` is one pointer to its parts, shared by clones: every response keeps the URL it
/// answers, so a program that sends many requests to one parsed URL clones it once a request,
/// and a clone is one reference count, not three, nor 128 bytes moved with each response.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Url(Arc<Parts>);

/// What a [`Url`] holds.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Parts {
    /// `http` or `https`: whether the connection is plain or TLS, and the default port.
    scheme: Scheme,
    /// Where to connect, and the first half of the `Host` header.
    host: Host,
    /// The TCP port; the scheme's default (80 or 443) when the URL names none.
    port: u16,
    /// The absolute path as sent on the request line: starts with `/`, percent-encoded,
    /// dot segments removed.
    path: Box<str>,
    /// The query without its `?`. `Some("")` for a bare `?`: RFC 3986 §6.2.3 keeps an
    /// empty query distinct from none, and servers may too.
    query: Option<Box<str>>,
    /// The `Host` header's value, written once when the URL is parsed (host and port never
    /// change after that): every request writes it, and formatting an IP literal and a port
    /// digit by digit each time cost more than the rest of the request line.
    host_header: Box<str>,
    /// The decoded userinfo, to become an `Authorization` header. Kept apart from the
    /// host so a redirect to another origin can drop it ([`Url::without_credentials`]).
    credentials: Option<Credentials>,
}

/// Appends `key=value` pairs joined by `&` to `out` (after a `&` if `out` is not empty), every
/// byte but RFC 3986's unreserved ones as `%HH`: a query for [`Url::with_query_pairs`], and an
/// `application/x-www-form-urlencoded` body for `RequestBuilder::form` (WHATWG URL §5.2 writes
/// a space as `+`; `%20` means the same to every decoder, and is one rule instead of two).
pub(crate) fn append_encoded_pairs(out: &mut String, pairs: &[(&str, &str)]) {
    for (key, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&percent::encode(key, is_unreserved));
        out.push('=');
        out.push_str(&percent::encode(value, is_unreserved));
    }
}

impl Url {
    /// Parses an absolute `http://` URL.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedScheme`] for any scheme but `http` (and `https`, with the `tls`
    /// feature); [`Error::InvalidUrl`]
    /// for everything else this module's docs list.
    pub fn parse(input: &str) -> Result<Url, Error> {
        check_characters(input)?;
        let (scheme, rest) = match split_scheme(input) {
            Some((name, rest)) => match Scheme::supported(name) {
                Some(scheme) => (scheme, rest),
                None if looks_like_port(rest) => {
                    return Err(invalid("missing scheme: start the URL with http://"));
                }
                None => {
                    return Err(Error::UnsupportedScheme {
                        scheme: name.to_ascii_lowercase(),
                    });
                }
            },
            None => return Err(invalid("missing scheme: start the URL with http://")),
        };
        let rest = rest
            .strip_prefix("//")
            .ok_or(invalid("`http:` must be followed by `//` and a host"))?;
        let scheme_port = scheme.default_port();
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, reference) = rest.split_at(authority_end);
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, _)) if userinfo.contains('@') => return Err(invalid("more than one `@` before the host")),
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        let credentials = match userinfo {
            Some(userinfo) => parse_userinfo(userinfo)?,
            None => None,
        };
        let (host, port) = parse_host_port(host_port, scheme_port)?;
        let (path, query) = parse_path_and_query(reference)?;
        // Nearly every path is already absolute with no dot segment: then it stays as it is.
        let path = if path.starts_with('/') && !path.contains("/.") {
            path
        } else {
            resolve::remove_dot_segments(&path) // "" becomes "/"
        };
        let host_header = host_header_text(scheme, &host, port).into();
        Ok(Url(Arc::new(Parts {
            scheme,
            host,
            port,
            host_header,
            path: path.into(),
            query: query.map(Into::into),
            credentials,
        })))
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> Scheme {
        self.0.scheme
    }

    /// The host to connect to.
    pub fn host(&self) -> &Host {
        &self.0.host
    }

    /// The port to connect to (80 or 443, by scheme, unless the URL names another).
    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// The path, starting with `/`, percent-encoded.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// The query, without its `?`.
    pub fn query(&self) -> Option<&str> {
        self.0.query.as_deref()
    }

    /// The `user:password@` part, decoded, if the URL had one.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.0.credentials.as_ref()
    }

    /// The same URL without credentials: what a redirect to another origin must use.
    pub fn without_credentials(&self) -> Url {
        Url(Arc::new(Parts {
            credentials: None,
            ..(*self.0).clone()
        }))
    }

    /// This URL with `key=value` pairs appended to its query, each percent-encoded so that
    /// only unreserved characters (RFC 3986 §2.3) stay as they are.
    ///
    /// # Errors
    /// None today; the `Result` leaves room for limits on URL length.
    pub fn with_query_pairs(&self, pairs: &[(&str, &str)]) -> Result<Url, Error> {
        let mut query = self.0.query.as_deref().unwrap_or_default().to_owned();
        append_encoded_pairs(&mut query, pairs);
        Ok(Url(Arc::new(Parts {
            query: Some(query.into()),
            ..(*self.0).clone()
        })))
    }

    /// `(host, port)`: two URLs with equal origins (and equal [`scheme`](Url::scheme)s) may
    /// share a connection and credentials.
    pub fn origin(&self) -> (&Host, u16) {
        (&self.0.host, self.0.port)
    }

    /// The `Host` header value (RFC 9112 §3.2, RFC 9110 §7.2): the host, IPv6 in
    /// brackets, plus `:port` unless the port is the scheme's default.
    pub fn host_header(&self) -> String {
        self.0.host_header.to_string()
    }

    /// Appends [`host_header`](Url::host_header) to `out`.
    pub(crate) fn write_host_header(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.0.host_header.as_bytes());
    }

    /// The origin-form request target (RFC 9112 §3.2.1): path plus `?query`.
    pub fn request_target(&self) -> String {
        match &self.0.query {
            Some(query) => format!("{}?{query}", self.0.path),
            None => self.0.path.to_string(),
        }
    }
}

/// The `Host` header value for `host` and `port` (see [`Url::host_header`]).
fn host_header_text(scheme: Scheme, host: &Host, port: u16) -> String {
    // Hosts are ASCII (names are checked, IP literals are digits, dots and colons).
    let mut text = match host {
        Host::Domain(name) => name.clone(),
        literal => literal.to_string(),
    };
    if port != scheme.default_port() {
        write!(text, ":{port}").expect("writing to a String cannot fail");
    }
    text
}

/// As a derived `Debug` of the parts would print them, under the name `Url`.
impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = &*self.0;
        f.debug_struct("Url")
            .field("scheme", &parts.scheme)
            .field("host", &parts.host)
            .field("port", &parts.port)
            .field("path", &parts.path)
            .field("query", &parts.query)
            .field("host_header", &parts.host_header)
            .field("credentials", &parts.credentials)
            .finish()
    }
}

/// For people and logs, not for serialization: a password is shown as `***`.
impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.scheme.as_str())?;
        f.write_str("://")?;
        if let Some(credentials) = &self.0.credentials {
            f.write_str(&percent::encode(credentials.username(), is_userinfo_char))?;
            if credentials.password().is_some() {
                f.write_str(":***")?;
            }
            f.write_char('@')?;
        }
        write!(f, "{}", self.0.host)?;
        if self.0.port != self.0.scheme.default_port() {
            write!(f, ":{}", self.0.port)?;
        }
        f.write_str(&self.request_target())
    }
}

/// The error for a URL that breaks `reason`, the one rule every refusal names.
fn invalid(reason: &'static str) -> Error {
    Error::InvalidUrl { reason }
}

/// Refuses whitespace and control characters anywhere, Unicode ones included: they
/// are how request lines get split and headers injected.
fn check_characters(input: &str) -> Result<(), Error> {
    // ASCII (nearly every URL) is checked byte by byte; only the rest needs char decoding.
    let bad = if input.is_ascii() {
        input.bytes().any(|b| b <= b' ' || b == 0x7f)
    } else {
        input.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    if bad {
        return Err(invalid("it contains whitespace or a control character"));
    }
    Ok(())
}

/// Splits `scheme ":" rest` if `input` starts with a syntactically valid scheme
/// (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`, RFC 3986 §3.1).
fn split_scheme(input: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = input.split_once(':')?;
    let mut bytes = scheme.bytes();
    let starts_alpha = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    let valid = starts_alpha && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    valid.then_some((scheme, rest))
}

/// Whether what follows a "scheme" colon is really a port (`localhost:8080/x`), so the
/// error can say "missing scheme" instead of "unsupported scheme `localhost`".
fn looks_like_port(rest: &str) -> bool {
    let digits = rest.split(['/', '?', '#']).next().unwrap_or("");
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Splits what follows the authority (or a relative reference) into path and query,
/// dropping the fragment and percent-encoding what may not appear raw.
fn parse_path_and_query(reference: &str) -> Result<(String, Option<String>), Error> {
    let without_fragment = reference.split_once('#').map_or(reference, |(before, _)| before);
    let (path, query) = match without_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (without_fragment, None),
    };
    let path = normalize(path, is_path_char)?;
    let query = query.map(|query| normalize(query, is_query_char)).transpose()?;
    Ok((path, query))
}

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
//! * only `http` — `https` and everything else is refused with
//!   [`Error::UnsupportedScheme`], because evloop has no TLS;
//! * whitespace and control characters anywhere are refused, not trimmed or skipped;
//! * a host is a name (`[A-Za-z0-9._-]`, lower-cased), a dotted-quad IPv4 address, or
//!   a bracketed IPv6 address (`[::1]`, no zone id). A host whose last label looks
//!   numeric must be a valid dotted quad: the C resolver would read `127.1` or
//!   `0x7f.1` as 127.0.0.1, and a URL should mean what it looks like;
//! * the port is `1..=65535`; an empty port (`http://h:/`) means 80 (RFC 3986 §3.2.3);
//! * in the path and query, bytes that may not appear there raw (non-ASCII, `"`,
//!   `<`, `{`, `\`…) are percent-encoded, a `%` must start a valid `%HH` escape, and
//!   dot segments are removed (RFC 3986 §5.2.4) so `parse(x)` equals `base.join(x)`.

use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr};

use super::Error;

/// The port of the `http` scheme (RFC 9110 §4.2.1), used when the URL names none.
pub const DEFAULT_PORT: u16 = 80;

/// A parsed `http://` URL.
///
/// ```
/// # use evloop::http::{Host, Url};
/// let url = Url::parse("http://Example.com:8080/a/./b?x=1#top").unwrap();
/// assert_eq!(url.host(), &Host::Domain("example.com".into()));
/// assert_eq!(url.request_target(), "/a/b?x=1");
/// assert_eq!(url.host_header(), "example.com:8080");
/// assert_eq!(url.join("../c").unwrap().to_string(), "http://example.com:8080/c");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Url {
    /// Where to connect, and the first half of the `Host` header.
    host: Host,
    /// The TCP port; [`DEFAULT_PORT`] when the URL names none.
    port: u16,
    /// The absolute path as sent on the request line: starts with `/`, percent-encoded,
    /// dot segments removed.
    path: String,
    /// The query without its `?`. `Some("")` for a bare `?`: RFC 3986 §6.2.3 keeps an
    /// empty query distinct from none, and servers may too.
    query: Option<String>,
    /// The decoded userinfo, to become an `Authorization` header. Kept apart from the
    /// host so a redirect to another origin can drop it ([`Url::without_credentials`]).
    credentials: Option<Credentials>,
}

/// The host part of a URL: what to resolve or connect to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A registered name, lower-cased (host names are case-insensitive, RFC 3986 §3.2.2).
    Domain(String),
    /// A dotted-quad IPv4 literal: connect directly, no DNS.
    Ipv4(Ipv4Addr),
    /// A bracketed IPv6 literal, stored without its brackets.
    Ipv6(Ipv6Addr),
}

/// The `user:password` of a URL, percent-decoded, for HTTP Basic authentication.
///
/// `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Credentials {
    /// The user name; never contains `:` (RFC 7617 §2: it would be ambiguous).
    username: String,
    /// The password, if a `:` followed the user name.
    password: Option<String>,
}

impl Credentials {
    /// The decoded user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The decoded password, if any.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Url {
    /// Parses an absolute `http://` URL.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedScheme`] for any scheme but `http`; [`Error::InvalidUrl`]
    /// for everything else this module's docs list.
    pub fn parse(input: &str) -> Result<Url, Error> {
        check_characters(input)?;
        let rest = match split_scheme(input) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((_, rest)) if looks_like_port(rest) => {
                return Err(invalid("missing scheme: start the URL with http://"));
            }
            Some((scheme, _)) => {
                return Err(Error::UnsupportedScheme {
                    scheme: scheme.to_ascii_lowercase(),
                });
            }
            None => return Err(invalid("missing scheme: start the URL with http://")),
        };
        let rest = rest
            .strip_prefix("//")
            .ok_or(invalid("`http:` must be followed by `//` and a host"))?;
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
        let (host, port) = parse_host_port(host_port)?;
        let (path, query) = parse_path_and_query(reference)?;
        // Nearly every path is already absolute with no dot segment: then it stays as it is.
        let path = if path.starts_with('/') && !path.contains("/.") {
            path
        } else {
            remove_dot_segments(&path) // "" becomes "/"
        };
        Ok(Url {
            host,
            port,
            path,
            query,
            credentials,
        })
    }

    /// Resolves `reference` (typically a `Location` header) against this URL, as RFC
    /// 3986 §5.2 says: an absolute URL replaces everything, `//host/p` keeps only the
    /// scheme, `/p` keeps the authority, `p` is merged with this path's directory
    /// (§5.2.3) and `?q` replaces only the query. Dot segments are removed (§5.2.4) and
    /// the fragment is dropped. A reference without an authority inherits this URL's
    /// credentials (same origin); one with an authority brings its own or none.
    ///
    /// # Errors
    ///
    /// As [`Url::parse`]. A redirect to `https:` gives [`Error::UnsupportedScheme`];
    /// the redirect layer reports it as [`Error::RedirectNotHttp`].
    pub fn join(&self, reference: &str) -> Result<Url, Error> {
        check_characters(reference)?;
        if split_scheme(reference).is_some() {
            return Url::parse(reference);
        }
        if reference.starts_with("//") {
            return Url::parse(&format!("http:{reference}"));
        }
        let (path, query) = parse_path_and_query(reference)?;
        let mut target = self.clone();
        if path.is_empty() {
            // "", "#f" and "?q": same document; only a given query replaces ours.
            if query.is_some() {
                target.query = query;
            }
        } else {
            let merged = if path.starts_with('/') {
                path
            } else {
                merge(&self.path, &path)
            };
            target.path = remove_dot_segments(&merged);
            target.query = query;
        }
        Ok(target)
    }

    /// The host to connect to.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The port to connect to (80 unless the URL names another).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The path, starting with `/`, percent-encoded.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query, without its `?`.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The `user:password@` part, decoded, if the URL had one.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The same URL without credentials: what a redirect to another origin must use.
    pub fn without_credentials(&self) -> Url {
        Url {
            credentials: None,
            ..self.clone()
        }
    }

    /// This URL with `key=value` pairs appended to its query, each percent-encoded so that
    /// only unreserved characters (RFC 3986 §2.3) stay as they are.
    ///
    /// # Errors
    /// None today; the `Result` leaves room for limits on URL length.
    pub fn with_query_pairs(&self, pairs: &[(&str, &str)]) -> Result<Url, Error> {
        let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        let mut query = self.query.clone().unwrap_or_default();
        for (key, value) in pairs {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&percent_encode(key, unreserved));
            query.push('=');
            query.push_str(&percent_encode(value, unreserved));
        }
        Ok(Url {
            query: Some(query),
            ..self.clone()
        })
    }

    /// `(host, port)`: two URLs with equal origins may share a connection and
    /// credentials. The scheme is always `http`, so it is left out.
    pub fn origin(&self) -> (&Host, u16) {
        (&self.host, self.port)
    }

    /// The `Host` header value (RFC 9112 §3.2, RFC 9110 §7.2): the host, IPv6 in
    /// brackets, plus `:port` unless the port is 80.
    pub fn host_header(&self) -> String {
        let mut out = Vec::new();
        self.write_host_header(&mut out);
        // Hosts are ASCII (names are checked, IP literals are digits and colons).
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Appends [`host_header`](Url::host_header) to `out` (with no temporary string for a
    /// name, which is what nearly every request carries).
    pub(crate) fn write_host_header(&self, out: &mut Vec<u8>) {
        match &self.host {
            Host::Domain(name) => out.extend_from_slice(name.as_bytes()),
            Host::Ipv4(ip) => {
                for (i, octet) in ip.octets().into_iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    out.extend_from_slice(super::request::decimal(octet.into(), &mut [0; 20]));
                }
            }
            literal => {
                use std::io::Write as _;
                // Writing to a Vec cannot fail.
                let _ = write!(out, "{literal}");
            }
        }
        if self.port != DEFAULT_PORT {
            out.push(b':');
            out.extend_from_slice(super::request::decimal(self.port.into(), &mut [0; 20]));
        }
    }

    /// The origin-form request target (RFC 9112 §3.2.1): path plus `?query`.
    pub fn request_target(&self) -> String {
        match &self.query {
            Some(query) => format!("{}?{query}", self.path),
            None => self.path.clone(),
        }
    }
}

/// For people and logs, not for serialization: a password is shown as `***`.
impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("http://")?;
        if let Some(credentials) = &self.credentials {
            f.write_str(&percent_encode(&credentials.username, is_userinfo_char))?;
            if credentials.password.is_some() {
                f.write_str(":***")?;
            }
            f.write_char('@')?;
        }
        write!(f, "{}", self.host)?;
        if self.port != DEFAULT_PORT {
            write!(f, ":{}", self.port)?;
        }
        f.write_str(&self.request_target())
    }
}

/// Writes the host as it appears in a URL: IPv6 in brackets.
impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(name) => f.write_str(name),
            Host::Ipv4(addr) => write!(f, "{addr}"),
            Host::Ipv6(addr) => write!(f, "[{addr}]"),
        }
    }
}

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

fn parse_userinfo(userinfo: &str) -> Result<Option<Credentials>, Error> {
    if userinfo.is_empty() {
        return Ok(None);
    }
    if !userinfo
        .bytes()
        .all(|b| is_userinfo_char(b) || b == b':' || b == b'%' || !b.is_ascii())
    {
        return Err(invalid(
            "the user info contains a character that must be percent-encoded",
        ));
    }
    let (username, password) = match userinfo.split_once(':') {
        Some((username, password)) => (percent_decode(username)?, Some(percent_decode(password)?)),
        None => (percent_decode(userinfo)?, None),
    };
    if username.contains(':') {
        return Err(invalid(
            "the user name contains `:`, which Basic authentication cannot carry (RFC 7617 §2)",
        ));
    }
    if username
        .chars()
        .chain(password.iter().flat_map(|p| p.chars()))
        .any(char::is_control)
    {
        return Err(invalid("the user name or password contains a control character"));
    }
    Ok(Some(Credentials { username, password }))
}

fn parse_host_port(host_port: &str) -> Result<(Host, u16), Error> {
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (literal, after) = bracketed
            .split_once(']')
            .ok_or(invalid("`[` without a closing `]` in the host"))?;
        let address = literal
            .parse()
            .map_err(|_| invalid("the bracketed host is not an IPv6 address"))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or(invalid("unexpected characters after `]`"))?,
            ),
        };
        (Host::Ipv6(address), port)
    } else {
        if host_port.contains(['[', ']']) {
            return Err(invalid("`[` or `]` outside a bracketed IPv6 address"));
        }
        let (host, port) = match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        };
        if port.is_some_and(|p| p.contains(':')) {
            return Err(invalid(
                "an IPv6 address must be written in brackets, like http://[::1]/",
            ));
        }
        (parse_host(host)?, port)
    };
    let port = match port {
        None | Some("") => DEFAULT_PORT,
        Some(digits) => parse_port(digits)?,
    };
    Ok((host, port))
}

fn parse_host(host: &str) -> Result<Host, Error> {
    if host.is_empty() {
        return Err(invalid("the host is empty"));
    }
    if !host.is_ascii() {
        return Err(invalid(
            "non-ASCII host: write internationalized names in punycode (xn--…) form",
        ));
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err(invalid("the host contains a character not allowed in a host name"));
    }
    let last_label = host.strip_suffix('.').unwrap_or(host).rsplit('.').next().unwrap_or("");
    let hex = last_label.strip_prefix("0x").or_else(|| last_label.strip_prefix("0X"));
    let numeric = (!last_label.is_empty() && last_label.bytes().all(|b| b.is_ascii_digit()))
        || hex.is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
    if numeric {
        return host
            .parse()
            .map(Host::Ipv4)
            .map_err(|_| invalid("a host ending in a number must be a dotted-quad IPv4 address like 192.0.2.1"));
    }
    Ok(Host::Domain(host.to_ascii_lowercase()))
}

fn parse_port(digits: &str) -> Result<u16, Error> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("the port is not a decimal number"));
    }
    // Saturate just above the largest port so a thousand digits cannot overflow.
    let value = digits
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')).min(65_536));
    match u16::try_from(value) {
        Ok(0) => Err(invalid("port 0 cannot be connected to")),
        Ok(port) => Ok(port),
        Err(_) => Err(invalid("the port is above 65535")),
    }
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

/// Keeps allowed bytes and valid `%HH` escapes, percent-encodes every other byte.
fn normalize(component: &str, allowed: fn(u8) -> bool) -> Result<String, Error> {
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

fn percent_encode(text: &str, allowed: fn(u8) -> bool) -> String {
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

fn percent_decode(text: &str) -> Result<String, Error> {
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

/// `unreserved / sub-delims` (RFC 3986 §2.2, §2.3): what userinfo may hold raw, `:` aside.
fn is_userinfo_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b)
}

/// `pchar / "/"` minus `%` (handled as escapes): RFC 3986 §3.3.
fn is_path_char(b: u8) -> bool {
    is_userinfo_char(b) || matches!(b, b':' | b'@' | b'/')
}

/// `*( pchar / "/" / "?" )`: RFC 3986 §3.4.
fn is_query_char(b: u8) -> bool {
    is_path_char(b) || b == b'?'
}

/// RFC 3986 §5.2.3: a relative path replaces the last segment of the base path.
fn merge(base_path: &str, relative: &str) -> String {
    let directory = base_path.rfind('/').map_or("/", |slash| &base_path[..=slash]);
    format!("{directory}{relative}")
}

/// RFC 3986 §5.2.4, step by step: `.` and `..` segments are removed from an input
/// buffer while complete segments move to the output. An empty result (from an empty
/// path, or `/..`) is `/`: an origin-form target is never empty (RFC 9112 §3.2.1).
pub(crate) fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut output = String::with_capacity(path.len());
    while !input.is_empty() {
        if let Some(rest) = input.strip_prefix("../").or_else(|| input.strip_prefix("./")) {
            input = rest; // A: a leading relative prefix goes
        } else if input.starts_with("/./") || input == "/." {
            input = if input == "/." { "/" } else { &input[2..] }; // B: "/./" becomes "/"
        } else if input.starts_with("/../") || input == "/.." {
            input = if input == "/.." { "/" } else { &input[3..] }; // C: "/../" pops a segment
            output.truncate(output.rfind('/').unwrap_or(0));
        } else if input == "." || input == ".." {
            input = ""; // D: a lone dot segment goes
        } else {
            // E: move "/segment" (or a first "segment") to the output.
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            output.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    if output.is_empty() { "/".to_owned() } else { output }
}

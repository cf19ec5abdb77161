//! The authority of an `http://` URL: who to authenticate as, where to connect.
//!
//! Why it exists: the authority (`user:pass@host:port`, RFC 3986 §3.2) is the part of a
//! URL that decides *which machine* a request goes to, so its rules are stricter than
//! the rest of the URL's: a host must mean what it looks like to a person reading it,
//! and the resolver must never see a spelling it reads differently. Read
//! [`super`]'s docs first (the whole URL and what this parser refuses), then RFC 3986
//! §3.2.1 (userinfo), §3.2.2 (host) and §3.2.3 (port).
//!
//! * A host is a name (`[A-Za-z0-9._-]`, lower-cased), a dotted-quad IPv4 address, or a
//!   bracketed IPv6 address (`[::1]`, no zone id). A host whose last label looks numeric
//!   must be a valid dotted quad: the C resolver would read `127.1` or `0x7f.1` as
//!   127.0.0.1.
//! * The port is `1..=65535`; an empty port (`http://h:/`) means the scheme's default (80, or 443 for https).
//! * The userinfo is percent-decoded into [`Credentials`], kept apart from the host so a
//!   redirect to another origin can drop it; a user name cannot hold `:` (RFC 7617 §2).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::percent::{decode as percent_decode, is_userinfo_char};
use super::{Error, invalid};

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

/// The `user[:password]` before the `@`, percent-decoded: `None` when empty.
pub(super) fn parse_userinfo(userinfo: &str) -> Result<Option<Credentials>, Error> {
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

/// The host and port after the `@`: `[v6]`, `[v6]:port`, `host` or `host:port`.
pub(super) fn parse_host_port(host_port: &str, default_port: u16) -> Result<(Host, u16), Error> {
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
        None | Some("") => default_port,
        Some(digits) => parse_port(digits)?,
    };
    Ok((host, port))
}

/// A host outside brackets: a dotted quad if it looks numeric, a lower-cased name otherwise.
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

/// `1*DIGIT` in `1..=65535`.
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

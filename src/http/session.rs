//! What makes a [`Client`](crate::http::Client) a *session* (aiohttp's `ClientSession`) rather
//! than a function that sends one request: state and defaults shared by every request it sends.
//!
//! Why it exists: a program talking to one site sends many requests that share a base URL,
//! a few headers (an API key, an `Accept`) and cookies. aiohttp keeps these on the session —
//! `ClientSession(base_url=…, headers=…, cookie_jar=…)` — and so does evloop's `Client`, with
//! the same rules:
//!
//! | aiohttp                           | evloop                                   | rule                                                |
//! |-----------------------------------|------------------------------------------|-----------------------------------------------------|
//! | `session.get("/users")` + `base_url` | [`IntoUrl`] + `ClientConfig::base_url` | a string resolves against the base (RFC 3986 §5.2)  |
//! | `ClientSession(headers=…)`        | `ClientConfig::default_headers`          | a request's own header of the same name wins        |
//! | `cookie_jar=CookieJar()`          | `ClientConfig::cookies`                  | applied to, and filled by, every hop of a redirect  |
//! | `resp.history`                    | [`Response::history`](crate::http::Response::history), [`Redirect`] | one entry per redirect followed, oldest first |
//!
//! The request side of each hop, in the order `send` applies it: the base URL (once), the
//! default headers (once), then for every hop the jar's `Cookie` (RFC 6265 §5.4 allows one
//! `Cookie` line, so the jar's pairs are appended to a caller's own), and after every hop's
//! head the jar takes its `Set-Cookie`s — a login that answers `302` with a cookie is how most
//! sessions start. Read first: `client.rs` (the request loop) and `cookie/`.

#[cfg(feature = "cookies")]
use std::borrow::Cow;

#[cfg(feature = "cookies")]
use crate::http::cookie::CookieJar;
use crate::http::error::Error;
use crate::http::headers::Headers;
use crate::http::url::Url;

/// Anything a request can be sent to: a string to parse (relative to the client's base URL,
/// if it has one) or a [`Url`] parsed already, so a program can parse once and send many
/// times.
///
/// ```
/// use evloop::http::{IntoUrl, Url};
///
/// let base = Url::parse("http://api.example.com/v1/").unwrap();
/// assert_eq!("users?id=7".into_url(Some(&base)).unwrap().to_string(), "http://api.example.com/v1/users?id=7");
/// assert_eq!("/health".into_url(Some(&base)).unwrap().to_string(), "http://api.example.com/health");
/// let parsed = Url::parse("http://other.example/").unwrap();
/// assert_eq!((&parsed).into_url(Some(&base)).unwrap(), parsed, "a Url is used as it is");
/// assert!("users".into_url(None).is_err(), "no base: a relative URL is an error");
/// ```
///
/// Borrowed text of any kind is accepted. There is deliberately no implementation for an owned
/// `String`: with one, `get(&url)` and
/// `get(url)` would both compile and Clippy would ask for the second everywhere. Lend it:
/// `client.get(&url)`.
pub trait IntoUrl {
    /// The absolute URL: a string is resolved against `base` when there is one (RFC 3986
    /// §5.2, as a redirect's `Location` is) and parsed otherwise; a `Url` is itself.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] (with the rule broken) or [`Error::UnsupportedScheme`].
    fn into_url(self, base: Option<&Url>) -> Result<Url, Error>;
}

/// Any borrowed text: `&str`, `&String`, `&Rc<str>`, `&Cow<str>`…
impl<T: AsRef<str> + ?Sized> IntoUrl for &T {
    fn into_url(self, base: Option<&Url>) -> Result<Url, Error> {
        match base {
            Some(base) => base.join(self.as_ref()),
            None => Url::parse(self.as_ref()),
        }
    }
}

impl IntoUrl for Url {
    fn into_url(self, _base: Option<&Url>) -> Result<Url, Error> {
        Ok(self)
    }
}

impl IntoUrl for &Url {
    fn into_url(self, _base: Option<&Url>) -> Result<Url, Error> {
        Ok(self.clone())
    }
}

/// One redirect a response went through (an entry of aiohttp's `resp.history`): the 3xx
/// response's status and headers, and the URL that answered with it. Its body was read and
/// thrown away, so that its connection could carry the next hop.
#[derive(Debug, Clone)]
pub struct Redirect {
    /// The redirect's status (301, 302, 303, 307 or 308).
    pub status: u16,
    /// The URL that was requested and answered with the redirect.
    pub url: Url,
    /// The redirect response's headers (`Location`, any `Set-Cookie`…).
    pub headers: Headers,
}

/// Adds each default header whose name the request does not set itself (aiohttp merges
/// `ClientSession(headers=…)` the same way: the request's own value wins).
pub(crate) fn add_default_headers(headers: &mut Headers, defaults: &Headers) {
    for (name, value) in defaults {
        if !headers.contains(name) {
            headers.append(name, value);
        }
    }
}

/// The headers of one hop: the request's, plus the jar's cookies for `url`, appended to the
/// caller's own `Cookie` line if there is one (RFC 6265 §5.4: a single `Cookie` header).
#[cfg(feature = "cookies")]
pub(crate) fn with_cookies<'a>(headers: &'a Headers, jar: Option<&CookieJar>, url: &Url) -> Cow<'a, Headers> {
    let Some(from_jar) = jar.and_then(|jar| jar.header_for(url)) else {
        return Cow::Borrowed(headers);
    };
    let mut hop = headers.clone();
    let value = match headers.get("cookie") {
        Some(own) => format!("{own}; {from_jar}"),
        None => from_jar,
    };
    hop.insert("Cookie", &value);
    Cow::Owned(hop)
}

/// Stores every `Set-Cookie` of a response to `url` (each line is one cookie: `Set-Cookie` is
/// the one field that may not be folded into a comma-separated list, RFC 9110 §5.3).
#[cfg(feature = "cookies")]
pub(crate) fn store_cookies(jar: Option<&CookieJar>, url: &Url, response_headers: &Headers) {
    if let Some(jar) = jar {
        for set_cookie in response_headers.get_all("set-cookie") {
            if !jar.store(url, set_cookie) {
                log::debug!(target: "evloop::http", "ignored a Set-Cookie from {url} (RFC 6265 §5.3)");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_header_wins_over_a_default_of_the_same_name() {
        let mut headers: Headers = [("accept", "text/html")].into_iter().collect();
        let defaults: Headers = [("Accept", "*/*"), ("X-Api-Key", "k")].into_iter().collect();
        add_default_headers(&mut headers, &defaults);
        let lines: Vec<(&str, &str)> = headers.iter().collect();
        assert_eq!(lines, [("accept", "text/html"), ("X-Api-Key", "k")]);
    }

    #[test]
    #[cfg(feature = "cookies")]
    fn jar_cookies_join_the_callers_cookie_line() {
        let jar = CookieJar::new();
        let url = Url::parse("http://h.test/").unwrap();
        assert!(jar.store(&url, "b=2"));
        let own: Headers = [("Cookie", "a=1")].into_iter().collect();
        assert_eq!(
            with_cookies(&own, Some(&jar), &url)
                .get_all("cookie")
                .collect::<Vec<_>>(),
            ["a=1; b=2"]
        );
        let none = Headers::new();
        assert!(
            matches!(with_cookies(&none, None, &url), Cow::Borrowed(_)),
            "no jar: no copy"
        );
    }
}

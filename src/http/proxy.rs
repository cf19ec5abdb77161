//! Forward proxies: `http_proxy=http://proxy:3128`, as curl and aiohttp read it, and (with the
//! `tls` feature) `https_proxy` through a `CONNECT` tunnel.
//!
//! Why it exists: many networks only reach the web through a proxy. For an `http://` URL a
//! forward proxy needs little (RFC 9112 §3.2.2): the client connects to the *proxy*, and
//! writes the request line with the **absolute-form** target, the whole URL, so the proxy knows
//! where to forward it; `Host` still names the target. Credentials for the proxy itself travel
//! in `Proxy-Authorization` (RFC 9110 §11.7.2), taken from the proxy URL's `user:pass@`:
//!
//! ```text
//!  GET http://example.com/page?q=1 HTTP/1.1      ← absolute-form, on a connection to the proxy
//!  Host: example.com
//!  Proxy-Authorization: Basic dTpw                ← from http://u:p@proxy:3128
//! ```
//!
//! An `https://` URL cannot be handed over like that: the proxy would see the request in the
//! clear, and the client could not check the server's certificate. Instead the client asks the
//! proxy for a **tunnel** (`CONNECT`, RFC 9110 §9.3.6) to the target's host and port; once the
//! proxy answers 2xx it only copies bytes, and the client runs TLS *through* it with the target
//! itself, SNI and certificate checks naming the target, then sends requests in origin-form as
//! on a direct connection (`tls/tunnel.rs` does this):
//!
//! ```text
//!  client                                proxy:3128                          example.com:443
//!    │ CONNECT example.com:443 HTTP/1.1     │                                        │
//!    │ Host: example.com:443                │                                        │
//!    │ Proxy-Authorization: Basic dTpw      │                                        │
//!    │ ────────────────────────────────────►│ TCP connect ──────────────────────────►│
//!    │ ◄──── HTTP/1.1 200 Connection established                                     │
//!    │ ═══════ TLS handshake (SNI example.com) ══════ copied ══════════════════════► │
//!    │ ═══════ GET /page?q=1 HTTP/1.1, Host: example.com (encrypted) ══════════════► │
//! ```
//!
//! Where the proxy comes from: `ClientConfig::proxy` (a [`Proxy::new`] serves both schemes, as
//! curl's `-x` does), or — only when the program asks, with `ClientConfig::trust_env`
//! (aiohttp's `trust_env=True`; aiohttp, like evloop, ignores the environment by default) — the
//! `http_proxy` variable, then `HTTP_PROXY`, for `http://` URLs, and `https_proxy`, then
//! `HTTPS_PROXY`, for `https://` ones (each scheme its own, as curl and aiohttp read them: with
//! only `http_proxy` set, `https://` goes directly). `HTTP_PROXY` is skipped when
//! `REQUEST_METHOD` is set: in a CGI program a request's `Proxy:` header arrives as
//! `HTTP_PROXY`, and obeying it lets any client redirect the program's requests ("httpoxy",
//! CVE-2016-5385; curl and Go skip it there too). No header can become `HTTPS_PROXY` (it would
//! be `HTTP_HTTPS_PROXY`), so it is read in CGI too, as Go does. `no_proxy`/`NO_PROXY` lists
//! the hosts to reach directly, whatever the scheme.
//!
//! Pooling: connections to a proxy for `http://` URLs are pooled, and counted by
//! `limit_per_host`, as connections to the proxy's host:port. A tunnel belongs to one target:
//! it is pooled, and counted by `limit_per_host`, under the target's origin *and* the proxy (its
//! URL, credentials included), as aiohttp keys its connections; so it is never handed to a
//! direct connection's request, nor to another proxy's, nor to a plain proxied one.

use crate::http::error::Error;
use crate::http::request::{Method, basic_authorization};
use crate::http::session::IntoUrl;
use crate::http::url::{Host, Scheme, Url};

/// A forward proxy (one for `http://` URLs, and with the `tls` feature one for `https://`
/// URLs, often the same), and the hosts that bypass it.
///
/// ```
/// use evloop::http::{Proxy, Url};
///
/// let proxy = Proxy::new("http://proxy.internal:3128").unwrap().no_proxy("localhost, .corp.example");
/// let goes_through = |url: &str| proxy.applies_to(&Url::parse(url).unwrap());
/// assert!(goes_through("http://example.com/"));
/// assert!(!goes_through("http://localhost:8080/"));
/// assert!(!goes_through("http://wiki.corp.example/"));
/// ```
#[derive(Debug, Clone)]
#[doc(alias = "proxy")]
pub struct Proxy {
    /// Where `http://` requests go (absolute-form); `None`: directly. Its credentials, if any,
    /// become `Proxy-Authorization`.
    http: Option<Url>,
    /// Where `https://` requests go, through a `CONNECT` tunnel; `None`: directly.
    #[cfg(feature = "tls")]
    https: Option<Url>,
    /// The `no_proxy` entries: host names or suffixes (lower-case, no leading dot), each with
    /// an optional port; `*` bypasses every host.
    bypass: Vec<(String, Option<u16>)>,
}

impl Proxy {
    /// A proxy at `url` (`http://[user:password@]host:port`; a path is ignored) for every
    /// request: `http://` URLs, and with the `tls` feature `https://` ones through a tunnel
    /// (curl's `-x`, aiohttp's `proxy=`).
    ///
    /// # Errors
    /// As [`Url::parse`]; and a URL that is not `http://` (TLS to the proxy itself, an
    /// `https://` proxy, is not supported).
    pub fn new(url: impl IntoUrl) -> Result<Proxy, Error> {
        let url = proxy_url(url.into_url(None)?)?;
        Ok(Proxy {
            #[cfg(feature = "tls")]
            https: Some(url.clone()),
            http: Some(url),
            bypass: Vec::new(),
        })
    }

    /// Adds hosts to reach directly, in `no_proxy` syntax: comma-separated names (`example.com`
    /// also covers its subdomains; a leading dot changes nothing), IP addresses (matched
    /// exactly: there are no CIDR ranges), each with an optional `:port`, or `*` for all.
    pub fn no_proxy(mut self, list: &str) -> Proxy {
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (host, port) = match entry.rsplit_once(':') {
                Some((host, port)) if !host.contains(':') || host.ends_with(']') => (host, port.parse().ok()),
                _ => (entry, None),
            };
            let host = host
                .trim_start_matches('.')
                .trim_start_matches('[')
                .trim_end_matches(']');
            self.bypass.push((host.to_ascii_lowercase(), port));
        }
        self
    }

    /// The proxies named by the environment (`http_proxy`, then `HTTP_PROXY` outside CGI, for
    /// `http://` URLs; with the `tls` feature `https_proxy`, then `HTTPS_PROXY`, for `https://`
    /// ones; and `no_proxy`/`NO_PROXY`), or `None` when no proxy variable is set or they are
    /// empty. A value without a scheme (`proxy:3128`) means `http://proxy:3128`, as in curl.
    ///
    /// # Errors
    /// A proxy variable that is not an `http://` URL.
    pub fn from_env() -> Result<Option<Proxy>, Error> {
        Proxy::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables read by `lookup`, for tests and for
    /// programs that keep their settings elsewhere.
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Proxy>, Error> {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let in_cgi = lookup("REQUEST_METHOD").is_some();
        let http = set("http_proxy").or_else(|| if in_cgi { None } else { set("HTTP_PROXY") });
        #[cfg(feature = "tls")]
        let https = set("https_proxy").or_else(|| set("HTTPS_PROXY"));
        #[cfg(not(feature = "tls"))]
        let https: Option<String> = None;
        if http.is_none() && https.is_none() {
            return Ok(None);
        }
        let bypass = set("no_proxy").or_else(|| set("NO_PROXY")).unwrap_or_default();
        let proxy = Proxy {
            http: http.as_deref().map(env_url).transpose()?,
            #[cfg(feature = "tls")]
            https: https.as_deref().map(env_url).transpose()?,
            bypass: Vec::new(),
        };
        Ok(Some(proxy.no_proxy(&bypass)))
    }

    /// The proxy that URLs of `scheme` go through, if any (`no_proxy` aside).
    pub fn url_for(&self, scheme: Scheme) -> Option<&Url> {
        match scheme {
            Scheme::Http => self.http.as_ref(),
            #[cfg(feature = "tls")]
            Scheme::Https => self.https.as_ref(),
            #[cfg(not(feature = "tls"))]
            Scheme::Https => None,
        }
    }

    /// Whether a request for `url` goes through a proxy: its scheme has one, and its host is
    /// not in `no_proxy`.
    pub fn applies_to(&self, url: &Url) -> bool {
        self.route(url).is_some()
    }

    /// The proxy a request for `url` goes through, or `None` to go directly.
    pub(crate) fn route(&self, url: &Url) -> Option<&Url> {
        let proxy = self.url_for(url.scheme())?;
        let host = match url.host() {
            Host::Domain(name) => name.clone(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => ip.to_string(),
        };
        let bypassed = self.bypass.iter().any(|(entry, port)| {
            let port_ok = port.is_none_or(|p| p == url.port());
            let host_ok = entry == "*"
                || host == *entry
                || (matches!(url.host(), Host::Domain(_))
                    && host.ends_with(entry.as_str())
                    && host.as_bytes().get(host.len().wrapping_sub(entry.len() + 1)) == Some(&b'.'));
            host_ok && port_ok
        });
        (!bypassed).then_some(proxy)
    }

    /// Turns an encoded origin-form request head for the `http://` URL `url` into the proxy's
    /// form: the absolute-form target, and `Proxy-Authorization` after `Host` when the proxy
    /// URL has credentials and the caller set no such header (`caller_set_auth`).
    pub(crate) fn rewrite_head(&self, head: &mut Vec<u8>, method: &Method, url: &Url, caller_set_auth: bool) {
        // `encode_request_head` wrote "METHOD SP /path…": the target starts after the space.
        let target = method.as_str().len() + 1;
        let mut prefix = b"http://".to_vec();
        url.write_host_header(&mut prefix);
        head.splice(target..target, prefix);
        let credentials = self.http.as_ref().and_then(Url::credentials);
        let Some(credentials) = credentials.filter(|_| !caller_set_auth) else {
            return;
        };
        // After the request line and the Host line, which the encoder always writes first.
        let Some(after_host) = nth_line_end(head, 2) else {
            return;
        };
        let value = basic_authorization(credentials.username(), credentials.password());
        let line = format!("Proxy-Authorization: {value}\r\n");
        head.splice(after_host..after_host, line.into_bytes());
    }
}

/// A proxy variable's value as a URL: `proxy:3128` means `http://proxy:3128`, as in curl.
fn env_url(value: &str) -> Result<Url, Error> {
    let value = value.trim();
    if value.contains("://") {
        proxy_url(Url::parse(value)?)
    } else {
        proxy_url(Url::parse(&format!("http://{value}"))?)
    }
}

/// `url` if it can name a proxy: plain `http://` only. (Without the `tls` feature no other
/// scheme parses, so there is nothing to check.)
fn proxy_url(url: Url) -> Result<Url, Error> {
    #[cfg(feature = "tls")]
    if url.scheme() != Scheme::Http {
        return Err(Error::InvalidUrl {
            reason: "a proxy URL must be http:// (TLS to the proxy itself, an https:// proxy, is not supported)",
        });
    }
    Ok(url)
}

/// The offset just past the `n`th CRLF of `head`.
fn nth_line_end(head: &[u8], n: usize) -> Option<usize> {
    head.windows(2)
        .enumerate()
        .filter(|(_, pair)| pair == b"\r\n")
        .nth(n - 1)
        .map(|(i, _)| i + 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::headers::Headers;
    use crate::http::request::encode_request_head;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn the_head_gets_the_absolute_form_and_proxy_credentials() {
        let proxy = Proxy::new("http://u:p@proxy.test:3128").unwrap();
        let target = url("http://example.com:8080/a?b=1");
        let mut head = Vec::new();
        encode_request_head(&Method::GET, &target, &Headers::new(), None, &mut head).unwrap();
        proxy.rewrite_head(&mut head, &Method::GET, &target, false);
        let text = String::from_utf8(head).unwrap();
        assert!(
            text.starts_with(
                "GET http://example.com:8080/a?b=1 HTTP/1.1\r\nHost: example.com:8080\r\n\
                 Proxy-Authorization: Basic dTpw\r\nUser-Agent: "
            ),
            "{text}"
        );
    }

    #[test]
    fn no_proxy_matches_names_suffixes_addresses_and_ports() {
        let proxy = Proxy::new("http://proxy.test:3128")
            .unwrap()
            .no_proxy(" example.com, .corp.test,10.0.0.1, [::1], only.test:81 ,");
        let table = [
            ("http://example.com/", false),
            ("http://www.example.com/", false),
            ("http://badexample.com/", true),
            ("http://corp.test/", false),
            ("http://a.corp.test/", false),
            ("http://10.0.0.1:8080/", false),
            ("http://10.0.0.2/", true),
            ("http://[::1]/", false),
            ("http://only.test:81/", false),
            ("http://only.test/", true),
            ("http://other.test/", true),
        ];
        for (target, proxied) in table {
            assert_eq!(proxy.applies_to(&url(target)), proxied, "{target}");
        }
        assert!(
            !Proxy::new("http://p.test/")
                .unwrap()
                .no_proxy("*")
                .applies_to(&url("http://x.test/"))
        );
    }

    #[test]
    fn the_environment_is_read_lower_case_first_and_upper_case_outside_cgi() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        let found = |vars| {
            let proxy = Proxy::from_lookup(env(vars)).unwrap();
            proxy.and_then(|p| p.url_for(Scheme::Http).map(Url::to_string))
        };
        assert_eq!(found(&[]), None);
        assert_eq!(found(&[("http_proxy", " ")]), None, "empty means unset");
        assert_eq!(
            found(&[("http_proxy", "lower:1"), ("HTTP_PROXY", "http://upper:2")]).as_deref(),
            Some("http://lower:1/")
        );
        assert_eq!(
            found(&[("HTTP_PROXY", "http://upper:2")]).as_deref(),
            Some("http://upper:2/")
        );
        assert_eq!(
            found(&[("HTTP_PROXY", "http://evil:2"), ("REQUEST_METHOD", "GET")]),
            None,
            "httpoxy"
        );
        let proxy = Proxy::from_lookup(env(&[("http_proxy", "p:1"), ("NO_PROXY", "direct.test")]))
            .unwrap()
            .unwrap();
        assert!(!proxy.applies_to(&url("http://direct.test/")));
        assert!(Proxy::from_lookup(env(&[("http_proxy", "https://p:1")])).is_err());
    }

    #[test]
    #[cfg(feature = "tls")]
    fn https_urls_use_the_https_variables_and_new_serves_both_schemes() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        let routes = |vars| {
            let proxy = Proxy::from_lookup(env(vars)).unwrap();
            let route = |target: &str| {
                let proxy = proxy.as_ref()?;
                proxy.route(&url(target)).map(Url::to_string)
            };
            (route("http://a.test/"), route("https://a.test/"))
        };
        // Each scheme its own variable, as curl and aiohttp read them.
        assert_eq!(
            routes(&[("http_proxy", "h:1")]),
            (Some("http://h:1/".into()), None),
            "https:// goes directly"
        );
        assert_eq!(
            routes(&[("https_proxy", "s:2"), ("HTTPS_PROXY", "http://upper:3")]),
            (None, Some("http://s:2/".into()))
        );
        assert_eq!(
            routes(&[("HTTPS_PROXY", "http://upper:3"), ("REQUEST_METHOD", "GET")]),
            (None, Some("http://upper:3/".into())),
            "no request header can become HTTPS_PROXY, so CGI does not hide it"
        );
        assert_eq!(
            routes(&[("https_proxy", "s:2"), ("no_proxy", "a.test")]),
            (None, None),
            "no_proxy covers both schemes"
        );
        // An https:// proxy would need TLS to the proxy itself (and TLS in TLS for a tunnel).
        assert!(Proxy::from_lookup(env(&[("https_proxy", "https://s:2")])).is_err());
        assert!(Proxy::new("https://p.test:3128").is_err());
        let both = Proxy::new("http://p.test:3128").unwrap();
        assert!(both.applies_to(&url("https://x.test/")) && both.applies_to(&url("http://x.test/")));
    }
}

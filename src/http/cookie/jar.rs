//! The cookie jar: which cookies to keep (RFC 6265 §5.3) and which to send back (§5.4).
//!
//! Why it exists: parsing a `Set-Cookie` says what the server asked for; whether to *obey* is
//! the jar's business, and it is where the security of cookies lives. A server may only set a
//! cookie for its own host or a domain above it (`www.example.com` may set one for
//! `example.com`, never for `other.com`); a cookie goes back only to hosts its domain matches
//! and paths its path matches; a `Secure` cookie travels only over a secure channel. Read
//! first: RFC 6265 §5.1.3 (domain matching), §5.1.4 (paths and path matching), then §5.3 and
//! §5.4, which the methods below follow step by step.
//!
//! Creation order, which §5.4 uses to break ties, is a counter rather than a clock reading, so
//! two cookies set in the same microsecond still have an order, and tests repeat exactly.
//!
//! Limits (RFC 6265 §6.1 asks for *at least* these, and browsers keep about these): 50 cookies
//! per domain and 3000 in all; past either, the least recently used cookie goes. No expiry is
//! further away than 400 days (RFC 6265bis §5.5), which also keeps the arithmetic finite.

use std::cell::RefCell;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Cookie, SetCookie};
use crate::http::url::{Host, Url};

/// Most cookies kept for one domain.
const MAX_PER_DOMAIN: usize = 50;
/// Most cookies kept in all.
const MAX_TOTAL: usize = 3000;
/// The furthest expiry accepted: 400 days (RFC 6265bis §5.5).
const MAX_LIFETIME: Duration = Duration::from_secs(400 * 24 * 3600);

/// A cookie jar (aiohttp's `CookieJar`): stores what `Set-Cookie` headers ask for and builds
/// the `Cookie` header of each request. A [`Client`](crate::http::Client) has one by default
/// (`ClientConfig::cookies`); share one between clients with an `Rc`.
///
/// Interior mutability (a `RefCell`): every method takes `&self` and none awaits, so a jar
/// shared by many requests on the loop is never borrowed across a suspension.
///
/// # Examples
///
/// ```
/// use evloop::http::{CookieJar, Url};
///
/// let jar = CookieJar::new();
/// let login = Url::parse("http://www.example.com/login").unwrap();
/// jar.store(&login, "session=abc; Domain=example.com; Path=/");
/// jar.store(&login, "theme=dark"); // host-only, path /: the default path of /login
/// jar.store(&login, "evil=1; Domain=other.com"); // refused: not this server's domain
///
/// let page = Url::parse("http://www.example.com/account").unwrap();
/// assert_eq!(jar.header_for(&page).as_deref(), Some("session=abc; theme=dark"));
/// let sub = Url::parse("http://api.example.com/").unwrap();
/// assert_eq!(jar.header_for(&sub).as_deref(), Some("session=abc"));
/// ```
#[derive(Default)]
#[doc(alias = "aiohttp.CookieJar")]
pub struct CookieJar {
    store: RefCell<Store>,
}

#[derive(Default)]
struct Store {
    entries: Vec<Entry>,
    /// The next value of the counter that orders creations and uses.
    next: u64,
}

struct Entry {
    cookie: Cookie,
    /// When it was first stored; kept when a newer `Set-Cookie` replaces it (§5.3 step 11.3).
    created: u64,
    /// When it was last sent or stored: the least recent goes first when a limit is hit.
    used: u64,
}

impl CookieJar {
    /// An empty jar.
    pub fn new() -> CookieJar {
        CookieJar::default()
    }

    /// Stores the cookie of one `Set-Cookie` header received in answer to a request for `url`,
    /// now. Returns whether it was stored (a deletion — an expiry in the past — counts).
    pub fn store(&self, url: &Url, set_cookie: &str) -> bool {
        self.store_at(url, is_secure(url), set_cookie, SystemTime::now())
    }

    /// [`store`](Self::store) with the channel's security and the time given: RFC 6265 §5.3.
    ///
    /// Refused: a header [`SetCookie::parse`] ignores; a `Domain` the request's host does not
    /// domain-match, or a single-label one (`com`) that is not the host itself (there is no
    /// public suffix list: see the module docs); a `Secure` cookie from an insecure channel
    /// (RFC 6265bis §5.7 step 14: it could overwrite one an `https` page set).
    pub fn store_at(&self, url: &Url, secure: bool, set_cookie: &str, now: SystemTime) -> bool {
        let Some(set) = SetCookie::parse(set_cookie) else {
            return false;
        };
        let (host, is_ip) = host_name(url);
        let (domain, host_only) = match set.domain {
            // A single label ("com", "localhost") is treated as a public suffix (§5.3 step 5).
            Some(domain) if !domain.contains('.') => match domain == host {
                true => (host, true),
                false => return false,
            },
            Some(domain) if domain_match(&host, is_ip, &domain) => (domain, false),
            Some(_) => return false,
            None => (host, true),
        };
        if set.secure && !secure {
            return false;
        }
        let latest = now.checked_add(MAX_LIFETIME).unwrap_or(now);
        let expires = match set.max_age {
            // Max-Age wins over Expires (§5.3 step 3); zero or less means "already expired".
            Some(seconds) if seconds <= 0 => Some(UNIX_EPOCH),
            Some(seconds) => Some(
                now.checked_add(Duration::from_secs(seconds as u64))
                    .unwrap_or(latest)
                    .min(latest),
            ),
            None => set.expires.map(|at| at.min(latest)),
        };
        let cookie = Cookie {
            name: set.name,
            value: set.value,
            domain,
            path: set.path.unwrap_or_else(|| default_path(url.path()).to_owned()),
            expires,
            secure: set.secure,
            http_only: set.http_only,
            host_only,
            same_site: set.same_site,
        };
        self.insert_at(cookie, now);
        true
    }

    /// Puts `cookie` in the jar as it is (no domain or path checks: the caller vouches for it,
    /// as when loading a saved jar), replacing one with the same name, domain and path.
    pub fn insert(&self, cookie: Cookie) {
        self.insert_at(cookie, SystemTime::now());
    }

    fn insert_at(&self, cookie: Cookie, now: SystemTime) {
        let mut store = self.store.borrow_mut();
        let stamp = store.tick();
        store.entries.retain(|e| !e.cookie.is_expired_at(now));
        let same = |e: &Entry| {
            e.cookie.name == cookie.name && e.cookie.domain == cookie.domain && e.cookie.path == cookie.path
        };
        let created = match store.entries.iter().position(same) {
            Some(i) => store.entries.swap_remove(i).created,
            None => stamp,
        };
        if cookie.is_expired_at(now) {
            return; // a deletion: the old cookie is gone, and the new one is not kept
        }
        let domain = cookie.domain.clone();
        store.entries.push(Entry {
            cookie,
            created,
            used: stamp,
        });
        store.evict_least_used(|e| e.cookie.domain == domain, MAX_PER_DOMAIN);
        store.evict_least_used(|_| true, MAX_TOTAL);
    }

    /// The `Cookie` header for a request to `url` now, or `None` if no cookie applies.
    pub fn header_for(&self, url: &Url) -> Option<String> {
        // An empty jar (most clients, most of the time) answers before reading the clock.
        if self.is_empty() {
            return None;
        }
        self.header_for_at(url, is_secure(url), SystemTime::now())
    }

    /// [`header_for`](Self::header_for) with the channel's security and the time given: RFC
    /// 6265 §5.4. A cookie goes when its domain matches the host (exactly, if host-only), its
    /// path matches the request's, it is not `Secure` or the channel is, and it has not
    /// expired. Longer paths come first, then older cookies; `name=value` pairs are joined
    /// with `"; "`.
    pub fn header_for_at(&self, url: &Url, secure: bool, now: SystemTime) -> Option<String> {
        let mut store = self.store.borrow_mut();
        if store.entries.is_empty() {
            return None; // before the host is written out as text for the comparisons
        }
        let (host, is_ip) = host_name(url);
        store.entries.retain(|e| !e.cookie.is_expired_at(now));
        let stamp = store.tick();
        let mut chosen: Vec<&mut Entry> = store
            .entries
            .iter_mut()
            .filter(|e| {
                let c = &e.cookie;
                let host_ok = if c.host_only {
                    c.domain == host
                } else {
                    domain_match(&host, is_ip, &c.domain)
                };
                host_ok && path_match(url.path(), &c.path) && (secure || !c.secure)
            })
            .collect();
        if chosen.is_empty() {
            return None;
        }
        // `created` is unique, so the key is too: an unstable sort gives the same order as a stable
        // one, with 1.8 KB less code in every program that links the jar (scripts/footprint.sh).
        chosen.sort_unstable_by_key(|e| (std::cmp::Reverse(e.cookie.path.len()), e.created));
        let mut header = String::new();
        for entry in chosen {
            entry.used = stamp;
            if !header.is_empty() {
                header.push_str("; ");
            }
            header.push_str(&entry.cookie.name);
            header.push('=');
            header.push_str(&entry.cookie.value);
        }
        Some(header)
    }

    /// A copy of every cookie kept (expired ones included until the next store or lookup),
    /// oldest first: to print or save the jar.
    pub fn cookies(&self) -> Vec<Cookie> {
        let store = self.store.borrow();
        let mut entries: Vec<&Entry> = store.entries.iter().collect();
        entries.sort_unstable_by_key(|e| e.created);
        entries.into_iter().map(|e| e.cookie.clone()).collect()
    }

    /// How many cookies are kept.
    pub fn len(&self) -> usize {
        self.store.borrow().entries.len()
    }

    /// Whether the jar is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every cookie (aiohttp's `clear()`).
    pub fn clear(&self) {
        self.store.borrow_mut().entries.clear();
    }
}

impl Store {
    fn tick(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// While more than `limit` entries satisfy `which`, removes the least recently used one.
    fn evict_least_used(&mut self, which: impl Fn(&Entry) -> bool, limit: usize) {
        while self.entries.iter().filter(|e| which(e)).count() > limit {
            let oldest = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| which(e))
                .min_by_key(|(_, e)| e.used);
            let Some((index, _)) = oldest else { return };
            self.entries.swap_remove(index);
        }
    }
}

/// Values are secrets: `Debug` shows how many cookies there are, and their names.
impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let store = self.store.borrow();
        let names: Vec<&str> = store.entries.iter().map(|e| e.cookie.name.as_str()).collect();
        f.debug_struct("CookieJar").field("names", &names).finish()
    }
}

/// Whether a request to `url` travels over a secure channel. Every URL evloop can parse is
/// `http://` (it has no TLS), so none does: `Secure` cookies are never sent, nor accepted.
fn is_secure(_url: &Url) -> bool {
    false
}

/// The request's host as cookies name it (lower-case; IP literals as written, IPv6 without
/// brackets), and whether it is an IP address.
fn host_name(url: &Url) -> (String, bool) {
    match url.host() {
        Host::Domain(name) => (name.clone(), false),
        Host::Ipv4(ip) => (ip.to_string(), true),
        Host::Ipv6(ip) => (ip.to_string(), true),
    }
}

/// Domain matching (RFC 6265 §5.1.3): `host` is `domain`, or ends with `.domain` and is a
/// name, not an IP address (`1.2.3.4` must not match `3.4`).
pub(crate) fn domain_match(host: &str, host_is_ip: bool, domain: &str) -> bool {
    host == domain
        || (!host_is_ip
            && host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

/// Path matching (RFC 6265 §5.1.4): `request_path` is `cookie_path`, or begins with it and
/// either the cookie path ends in `/` or the next request character is `/` (so `/docs`
/// matches `/docs/a` but not `/docsearch`).
pub(crate) fn path_match(request_path: &str, cookie_path: &str) -> bool {
    request_path == cookie_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/') || request_path.as_bytes().get(cookie_path.len()) == Some(&b'/')))
}

/// The default path (RFC 6265 §5.1.4): the request path up to, not including, its last `/`;
/// `/` when that leaves nothing (`/login` → `/`, `/a/b/c` → `/a/b`).
pub(crate) fn default_path(request_path: &str) -> &str {
    match request_path.rfind('/') {
        Some(0) | None => "/",
        Some(last) => &request_path[..last],
    }
}

#[cfg(test)]
#[path = "jar_tests.rs"]
mod tests;

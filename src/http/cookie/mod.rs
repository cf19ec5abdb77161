//! Cookies (RFC 6265): what a server asks the client to remember, and send back.
//!
//! Why it exists: most real sites keep a session in a cookie — log in, get `Set-Cookie:
//! session=…`, send `Cookie: session=…` on every later request — so an HTTP client for real
//! sites needs a cookie jar, on by default, as aiohttp's `ClientSession` has one
//! (`aiohttp.CookieJar`). Read first: RFC 6265 §4.1 (what `Set-Cookie` looks like) and §5 (how
//! a user agent must read and store it, the part implemented here).
//!
//! | file       | what it does                                                       | RFC 6265      |
//! |------------|--------------------------------------------------------------------|---------------|
//! | `parse.rs` | [`SetCookie::parse`]: one `Set-Cookie` value into name, value and attributes | §5.2 |
//! | `jar.rs`   | [`CookieJar`]: store (domain and path rules), expire, and pick what to send | §5.1.3, §5.1.4, §5.3, §5.4 |
//! | `../date.rs` | the lenient date parser of `Expires` (shared with `Retry-After`)  | §5.1.1        |
//!
//! The life of a cookie:
//!
//! ```text
//!  response ──Set-Cookie──► SetCookie::parse ──► CookieJar::store (§5.3: domain? path? expired?)
//!                                                      │ replaces any cookie of the same
//!                                                      │ name, domain and path
//!  request  ◄──Cookie: a=1; b=2── CookieJar::header_for (§5.4: domain-match, path-match,
//!                                 Secure, not expired; longest path first, then oldest)
//! ```
//!
//! What this jar does **not** do, and what that means for a program:
//!
//! * **No public suffix list.** Browsers refuse `Domain=co.uk` with Mozilla's list of ~9000
//!   registry suffixes; evloop refuses only single-label domains (`Domain=com`,
//!   `Domain=localhost` from another host), as RFC 6265 §5.3 step 5 permits. So
//!   `a.example.co.uk` *can* set a cookie that `b.other.co.uk` receives. For a client talking
//!   to a handful of known sites that is harmless; a crawler of untrusted sites should give
//!   each site its own [`CookieJar`] (or switch cookies off).
//! * **`HttpOnly`** is stored and reported ([`Cookie::http_only`]), but means nothing here:
//!   it hides a cookie from a browser's scripts, and evloop runs none. Every cookie is sent.
//! * **`SameSite`** is parsed and stored ([`SameSite`]), not enforced: it is about which *site*
//!   a browser's request came from (a link, an embedded image), and a program's requests come
//!   from no site at all.
//! * **Time.** `Expires` names a wall-clock date, so expiry is checked against
//!   [`SystemTime::now`], not the loop's clock: the virtual clock of a test does not age
//!   cookies. Methods ending in `_at` take the time as an argument, for tests and for
//!   programs that keep their own.

use std::time::SystemTime;

mod jar;
mod parse;

pub use jar::CookieJar;
pub use parse::SetCookie;

/// `SameSite` (RFC 6265bis §4.1.2.7): which cross-site requests a browser may send the
/// cookie with. Stored, not enforced (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// Only same-site requests.
    Strict,
    /// Same-site requests, and top-level navigations from other sites.
    Lax,
    /// Every request (browsers require `Secure` with it).
    None,
}

/// A cookie as the jar keeps it (RFC 6265 §5.3's storage model), after the defaults have
/// been applied: its domain and path are always set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// The name, as the server wrote it (case-sensitive).
    pub name: String,
    /// The value, as the server wrote it (quotes included, if any: RFC 6265 does not strip
    /// them).
    pub value: String,
    /// The host (`host_only`) or domain (otherwise) the cookie belongs to, lower-cased and
    /// without a leading dot.
    pub domain: String,
    /// Only requests whose path path-matches this one carry the cookie (§5.1.4).
    pub path: String,
    /// When the cookie dies; `None` for a session cookie, which lives as long as the jar.
    pub expires: Option<SystemTime>,
    /// Sent only over a secure channel (`https`).
    pub secure: bool,
    /// Hidden from scripts in a browser; stored only, here.
    pub http_only: bool,
    /// Sent only to `domain` itself (the server gave no `Domain` attribute), not to its
    /// subdomains.
    pub host_only: bool,
    /// The `SameSite` attribute, if any.
    pub same_site: Option<SameSite>,
}

impl Cookie {
    /// Whether the cookie has expired at `now`.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expires.is_some_and(|at| at <= now)
    }
}

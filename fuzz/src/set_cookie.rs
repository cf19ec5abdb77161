//! The `set_cookie` target's check: `Set-Cookie` parsing and the cookie jar's rules.
//!
//! The input's first line is the URL the response came from (a fixed one when it does not
//! parse), its first byte whether the channel counts as secure; every further line is one
//! `Set-Cookie` value. Whatever the bytes: nothing panics; what `SetCookie::parse` returns has
//! a non-empty trimmed name and no control character; what the jar keeps belongs to the
//! request's host (RFC 6265 §5.1.3 domain matching, checked here by a reference written
//! independently), has an absolute path, and expires at most 400 days from now; and the
//! `Cookie` header the jar builds for the same URL is a valid header carrying every kept
//! cookie whose path matches.

use std::time::{Duration, UNIX_EPOCH};

use evloop::http::cookie::SetCookie;
use evloop::http::{CookieJar, Host, Url, validate_header};

pub fn set_cookie(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let secure = data.first().is_some_and(|b| b % 2 == 1);
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let url =
        Url::parse(first).unwrap_or_else(|_| Url::parse("http://www.example.com/a/b").expect("the fixed URL parses"));
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let jar = CookieJar::new();
    for line in rest.split('\n') {
        if let Some(parsed) = SetCookie::parse(line) {
            check_parsed(&parsed);
        }
        jar.store_at(&url, secure, line, now);
    }
    let host = match url.host() {
        Host::Domain(name) => name.clone(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    };
    let latest = now + Duration::from_secs(400 * 24 * 3600);
    let mut expected = 0;
    for cookie in jar.cookies() {
        let belongs = if cookie.host_only || !matches!(url.host(), Host::Domain(_)) {
            cookie.domain == host
        } else {
            host == cookie.domain || host.ends_with(&format!(".{}", cookie.domain))
        };
        assert!(belongs, "{:?} kept for {host}", cookie.domain);
        assert!(cookie.path.starts_with('/'), "{:?}", cookie.path);
        assert!(cookie.expires.is_none_or(|at| at <= latest), "{:?}", cookie.expires);
        assert!(!cookie.secure || secure, "a Secure cookie from an insecure channel");
        if !cookie.is_expired_at(now) && path_matches(url.path(), &cookie.path) {
            expected += 1;
        }
    }
    let header = jar.header_for_at(&url, secure, now);
    match &header {
        Some(value) => {
            assert!(validate_header("Cookie", value).is_ok(), "{value:?}");
            assert_eq!(value.split("; ").count(), expected, "{value:?}");
        }
        None => assert_eq!(expected, 0),
    }
}

fn check_parsed(parsed: &SetCookie) {
    let trimmed = |s: &str| s.trim_matches([' ', '\t']).len() == s.len();
    assert!(!parsed.name.is_empty() && trimmed(&parsed.name) && trimmed(&parsed.value));
    assert!(!parsed.name.contains(['=', ';']) && !parsed.value.contains(';'));
    let control = |s: &str| s.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f);
    assert!(!control(&parsed.name) && !control(&parsed.value));
    assert!(parsed.name.len() + parsed.value.len() <= 4096);
    if let Some(domain) = &parsed.domain {
        // One leading dot is dropped (§5.2.3), so `Domain=..com` leaves `.com`.
        assert!(!domain.is_empty() && *domain == domain.to_ascii_lowercase());
    }
    assert!(parsed.path.as_ref().is_none_or(|p| p.starts_with('/')));
}

/// RFC 6265 §5.1.4, written again from the RFC's words (the reference the jar is checked by).
fn path_matches(request: &str, cookie: &str) -> bool {
    if request == cookie {
        return true;
    }
    let Some(after) = request.strip_prefix(cookie) else {
        return false;
    };
    cookie.ends_with('/') || after.starts_with('/')
}

//! The jar's rules, as tables: RFC 6265's matching algorithms and its §5.3/§5.4 steps.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

fn url(text: &str) -> Url {
    Url::parse(text).expect("a test URL")
}

/// A fixed "now" (2021-01-01T00:00:00Z), so expiry tests never depend on the machine's clock.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_609_459_200)
}

fn store(jar: &CookieJar, at: &str, set_cookie: &str) -> bool {
    jar.store_at(&url(at), false, set_cookie, now())
}

fn header(jar: &CookieJar, at: &str) -> Option<String> {
    jar.header_for_at(&url(at), false, now())
}

#[test]
fn domain_matching_follows_rfc_6265_section_5_1_3() {
    let table = [
        ("example.com", false, "example.com", true),
        ("www.example.com", false, "example.com", true),
        ("a.b.example.com", false, "example.com", true),
        ("badexample.com", false, "example.com", false), // no dot before the suffix
        ("example.com", false, "www.example.com", false),
        ("example.org", false, "example.com", false),
        ("1.2.3.4", true, "1.2.3.4", true),
        ("1.2.3.4", true, "3.4", false), // IP addresses match only exactly
    ];
    for (host, is_ip, domain, expected) in table {
        assert_eq!(domain_match(host, is_ip, domain), expected, "{host} vs {domain}");
    }
}

#[test]
fn path_matching_follows_rfc_6265_section_5_1_4() {
    let table = [
        ("/", "/", true),
        ("/docs", "/docs", true),
        ("/docs/", "/docs", true),
        ("/docs/web", "/docs", true),
        ("/docs/web", "/docs/", true),
        ("/docsearch", "/docs", false),
        ("/doc", "/docs", false),
        ("/", "/docs", false),
        ("/anything", "/", true),
    ];
    for (request, cookie, expected) in table {
        assert_eq!(path_match(request, cookie), expected, "{request} vs {cookie}");
    }
}

#[test]
fn the_default_path_is_the_request_path_up_to_its_last_slash() {
    for (request, expected) in [("/", "/"), ("/login", "/"), ("/a/b/c", "/a/b"), ("/a/b/", "/a/b")] {
        assert_eq!(default_path(request), expected, "{request}");
    }
    let jar = CookieJar::new();
    assert!(store(&jar, "http://h.test/shop/cart/add", "a=1"));
    assert_eq!(jar.cookies()[0].path, "/shop/cart");
    assert_eq!(header(&jar, "http://h.test/shop/cart/view").as_deref(), Some("a=1"));
    assert_eq!(header(&jar, "http://h.test/shop/other"), None);
}

#[test]
fn a_cookie_without_domain_is_host_only() {
    let jar = CookieJar::new();
    assert!(store(&jar, "http://www.example.com/", "a=1"));
    assert!(jar.cookies()[0].host_only);
    assert_eq!(header(&jar, "http://www.example.com/x").as_deref(), Some("a=1"));
    assert_eq!(header(&jar, "http://sub.www.example.com/"), None, "not to subdomains");
    assert_eq!(header(&jar, "http://example.com/"), None, "not to the parent");
}

#[test]
fn a_domain_cookie_reaches_the_domain_and_its_subdomains() {
    let jar = CookieJar::new();
    assert!(store(&jar, "http://www.example.com/", "a=1; Domain=.EXAMPLE.com"));
    let cookie = &jar.cookies()[0];
    assert_eq!((cookie.domain.as_str(), cookie.host_only), ("example.com", false));
    for host in ["example.com", "www.example.com", "deep.api.example.com"] {
        assert_eq!(
            header(&jar, &format!("http://{host}/")).as_deref(),
            Some("a=1"),
            "{host}"
        );
    }
    assert_eq!(header(&jar, "http://notexample.com/"), None);
}

#[test]
fn a_server_may_not_set_a_cookie_for_another_domain_or_a_public_suffix() {
    let jar = CookieJar::new();
    assert!(!store(&jar, "http://www.example.com/", "a=1; Domain=other.com"));
    assert!(!store(
        &jar,
        "http://www.example.com/",
        "a=1; Domain=sub.www.example.com"
    ));
    assert!(!store(&jar, "http://www.example.com/", "a=1; Domain=com"));
    assert!(!store(&jar, "http://1.2.3.4/", "a=1; Domain=3.4"));
    assert!(jar.is_empty());
    // A single label that is the host itself becomes a host-only cookie (§5.3 step 5).
    assert!(store(&jar, "http://localhost/", "a=1; Domain=localhost"));
    assert!(jar.cookies()[0].host_only);
    assert!(store(&jar, "http://127.0.0.1/", "b=2; Domain=127.0.0.1"));
    assert_eq!(header(&jar, "http://127.0.0.1/").as_deref(), Some("b=2"));
}

#[test]
fn max_age_wins_over_expires_and_cookies_expire_on_time() {
    let jar = CookieJar::new();
    // Expires is in the past, but Max-Age (in either order) says 60 s from now.
    assert!(store(
        &jar,
        "http://h.test/",
        "a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60"
    ));
    assert!(store(
        &jar,
        "http://h.test/",
        "b=2; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    ));
    assert!(store(
        &jar,
        "http://h.test/",
        "c=3; Expires=Fri, 01 Jan 2021 00:00:30 GMT"
    ));
    assert!(store(&jar, "http://h.test/", "session=4"));
    let at = |secs| jar.header_for_at(&url("http://h.test/"), false, now() + Duration::from_secs(secs));
    assert_eq!(at(0).as_deref(), Some("a=1; b=2; c=3; session=4"));
    assert_eq!(at(30).as_deref(), Some("a=1; b=2; session=4"), "c expires at its date");
    assert_eq!(at(60).as_deref(), Some("session=4"), "a and b after 60 s");
    assert_eq!(jar.len(), 1, "expired cookies are dropped");
}

#[test]
fn no_cookie_lives_longer_than_400_days() {
    let jar = CookieJar::new();
    assert!(store(&jar, "http://h.test/", "a=1; Max-Age=99999999999999"));
    assert!(store(
        &jar,
        "http://h.test/",
        "b=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT"
    ));
    for cookie in jar.cookies() {
        assert_eq!(cookie.expires, Some(now() + MAX_LIFETIME), "{}", cookie.name);
    }
}

#[test]
fn an_expired_set_cookie_deletes_the_stored_one() {
    let jar = CookieJar::new();
    assert!(store(&jar, "http://h.test/", "a=1"));
    assert!(store(&jar, "http://h.test/", "a=gone; Max-Age=0"));
    assert!(jar.is_empty());
    assert!(store(&jar, "http://h.test/", "b=1"));
    assert!(store(
        &jar,
        "http://h.test/",
        "b=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    ));
    assert_eq!(header(&jar, "http://h.test/"), None);
}

#[test]
fn the_header_lists_longer_paths_first_then_older_cookies() {
    let jar = CookieJar::new();
    assert!(store(&jar, "http://h.test/", "root=1; Path=/"));
    assert!(store(&jar, "http://h.test/", "deep=2; Path=/a/b"));
    assert!(store(&jar, "http://h.test/", "mid=3; Path=/a"));
    assert!(store(&jar, "http://h.test/", "root2=4; Path=/"));
    assert_eq!(
        header(&jar, "http://h.test/a/b/c").as_deref(),
        Some("deep=2; mid=3; root=1; root2=4")
    );
    // Replacing a cookie keeps its creation time, so its place among equals (§5.3 step 11.3).
    assert!(store(&jar, "http://h.test/", "root=new; Path=/"));
    assert_eq!(header(&jar, "http://h.test/").as_deref(), Some("root=new; root2=4"));
    assert_eq!(jar.len(), 4, "replaced, not added");
}

#[test]
fn same_name_with_another_path_or_domain_is_another_cookie() {
    let jar = CookieJar::new();
    assert!(store(&jar, "http://www.h.test/", "a=1; Path=/"));
    assert!(store(&jar, "http://www.h.test/", "a=2; Path=/x"));
    assert!(store(&jar, "http://www.h.test/", "a=3; Domain=h.test"));
    assert_eq!(jar.len(), 3);
    assert_eq!(header(&jar, "http://www.h.test/x").as_deref(), Some("a=2; a=1; a=3"));
}

#[test]
fn secure_cookies_need_a_secure_channel_both_ways() {
    let jar = CookieJar::new();
    let target = url("http://h.test/");
    assert!(
        !jar.store_at(&target, false, "s=1; Secure", now()),
        "not accepted over http"
    );
    assert!(jar.store_at(&target, true, "s=1; Secure", now()));
    assert!(jar.store_at(&target, true, "plain=2", now()));
    assert_eq!(jar.header_for_at(&target, false, now()).as_deref(), Some("plain=2"));
    assert_eq!(jar.header_for_at(&target, true, now()).as_deref(), Some("s=1; plain=2"));
}

#[test]
fn http_only_and_same_site_are_stored_not_enforced() {
    let jar = CookieJar::new();
    assert!(store(&jar, "http://h.test/", "a=1; HttpOnly; SameSite=Strict"));
    let cookie = &jar.cookies()[0];
    assert!(cookie.http_only);
    assert_eq!(cookie.same_site, Some(crate::http::cookie::SameSite::Strict));
    assert_eq!(header(&jar, "http://h.test/").as_deref(), Some("a=1"));
}

#[test]
fn a_domain_keeps_at_most_50_cookies_and_the_least_used_goes() {
    let jar = CookieJar::new();
    assert!(store(&jar, "http://h.test/", "first=1; Path=/first"));
    assert!(store(&jar, "http://h.test/", "second=2; Path=/keep"));
    for i in 0..MAX_PER_DOMAIN - 2 {
        assert!(store(&jar, "http://h.test/", &format!("c{i}=x; Path=/c")));
    }
    assert_eq!(header(&jar, "http://h.test/keep").as_deref(), Some("second=2"));
    assert!(store(&jar, "http://h.test/", "one_more=1"));
    let names: Vec<String> = jar.cookies().into_iter().map(|c| c.name).collect();
    assert_eq!(names.len(), MAX_PER_DOMAIN);
    assert!(!names.contains(&"first".to_string()), "the least recently used went");
    assert!(names.contains(&"second".to_string()), "the one just sent stayed");
    assert!(
        store(&jar, "http://other.test/", "elsewhere=1"),
        "other domains are not affected"
    );
}

#[test]
fn debug_shows_names_never_values() {
    let jar = CookieJar::new();
    assert!(store(&jar, "http://h.test/", "session=secret-token"));
    let shown = format!("{jar:?}");
    assert!(shown.contains("session") && !shown.contains("secret-token"), "{shown}");
}

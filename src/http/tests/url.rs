//! Tests for `url/`: parsing rules, then RFC 3986 §5.4's reference-resolution table.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::http::Error;
use crate::http::url::resolve::remove_dot_segments;
use crate::http::url::*;

fn url(s: &str) -> Url {
    Url::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

fn reason(s: &str) -> &'static str {
    match Url::parse(s) {
        Err(Error::InvalidUrl { reason }) => reason,
        other => panic!("{s:?} should be an invalid URL, got {other:?}"),
    }
}

#[test]
fn a_plain_url_defaults_port_80_and_path_slash() {
    let u = url("http://example.com");
    assert_eq!(u.host(), &Host::Domain("example.com".into()));
    assert_eq!(u.port(), 80);
    assert_eq!(u.path(), "/");
    assert_eq!(u.query(), None);
    assert_eq!(u.credentials(), None);
    assert_eq!(u.request_target(), "/");
    assert_eq!(u.host_header(), "example.com");
    assert_eq!(u.to_string(), "http://example.com/");
}

#[test]
fn scheme_and_host_are_case_insensitive_and_host_is_lowercased() {
    let u = url("HTTP://WWW.Example.COM/Path");
    assert_eq!(u.host(), &Host::Domain("www.example.com".into()));
    assert_eq!(u.path(), "/Path");
}

#[test]
fn port_query_are_kept_and_fragment_is_dropped() {
    let u = url("http://h:8080/a/b?x=1&y=2#frag");
    assert_eq!(u.port(), 8080);
    assert_eq!(u.path(), "/a/b");
    assert_eq!(u.query(), Some("x=1&y=2"));
    assert_eq!(u.request_target(), "/a/b?x=1&y=2");
    assert_eq!(u.host_header(), "h:8080");
    assert_eq!(u.to_string(), "http://h:8080/a/b?x=1&y=2");
}

#[test]
fn query_or_fragment_right_after_the_host_gets_path_slash() {
    assert_eq!(url("http://h?q").request_target(), "/?q");
    assert_eq!(url("http://h#f").request_target(), "/");
    assert_eq!(url("http://h/?").request_target(), "/?", "an empty query is kept");
    assert_eq!(
        url("http://h/p?a?b/c").query(),
        Some("a?b/c"),
        "`?` and `/` are allowed in a query"
    );
}

#[test]
fn ip_literals_are_recognised_and_ipv6_keeps_brackets_in_host_header() {
    let v4 = url("http://127.0.0.1:3000/");
    assert_eq!(v4.host(), &Host::Ipv4(Ipv4Addr::new(127, 0, 0, 1)));
    assert_eq!(v4.host_header(), "127.0.0.1:3000");
    assert_eq!(url("http://10.200.3.255/").host_header(), "10.200.3.255");
    assert_eq!(url("http://0.0.0.0:80/").host_header(), "0.0.0.0");
    let v6 = url("http://[::1]/x");
    assert_eq!(v6.host(), &Host::Ipv6(Ipv6Addr::LOCALHOST));
    assert_eq!(v6.host_header(), "[::1]");
    assert_eq!(url("http://[2001:db8::7]:8080").host_header(), "[2001:db8::7]:8080");
    assert_eq!(v6.to_string(), "http://[::1]/x");
}

#[test]
fn every_ipv4_octet_goes_into_host_as_std_writes_it() {
    for octet in 0..=255u8 {
        let ip = Ipv4Addr::new(octet, 9, 10, octet);
        assert_eq!(url(&format!("http://{ip}/")).host_header(), ip.to_string());
    }
}

#[test]
fn other_schemes_are_refused_by_name() {
    for (input, scheme) in [
        ("https://example.com/", "https"),
        ("FTP://h/", "ftp"),
        ("ws://h", "ws"),
        ("mailto:a@b", "mailto"),
    ] {
        if cfg!(feature = "tls") && scheme == "https" {
            continue; // supported then: see `https_urls_default_to_port_443`
        }
        match Url::parse(input) {
            Err(Error::UnsupportedScheme { scheme: s }) => assert_eq!(s, scheme),
            other => panic!("{input}: {other:?}"),
        }
    }
}

#[test]
fn a_missing_scheme_is_reported_as_such() {
    assert!(reason("example.com/x").contains("missing scheme"));
    assert!(reason("localhost:8080/x").contains("missing scheme"));
    assert!(reason("/relative").contains("missing scheme"));
    assert!(reason("http:example.com").contains("`//`"));
    assert!(reason("http:/example.com").contains("`//`"));
}

#[test]
fn whitespace_and_controls_are_refused_anywhere() {
    for input in [
        " http://h/",
        "http://h/ ",
        "http://h/a b",
        "http://h/a\tb",
        "http://h/\r\nX-Injected: 1",
        "http://h/\0",
        "http://h/\u{7f}",
        "http://h/\u{a0}",
        "http://h/#frag ment",
    ] {
        assert!(reason(input).contains("whitespace or a control"), "{input:?}");
    }
}

#[test]
fn bad_hosts_are_refused() {
    assert!(reason("http:///path").contains("empty"));
    assert!(reason("http://:80/").contains("empty"));
    assert!(reason("http://user@/").contains("empty"));
    assert!(reason("http://exa mple.com").contains("whitespace"));
    assert!(reason("http://ex%41mple.com/").contains("not allowed"));
    assert!(reason("http://ex\"ample/").contains("not allowed"));
    assert!(reason("http://bücher.de/").contains("punycode"));
}

#[test]
fn malformed_brackets_are_refused() {
    assert!(reason("http://[::1/").contains("closing"));
    assert!(reason("http://::1]/").contains("outside"));
    assert!(reason("http://h]/").contains("outside"));
    assert!(reason("http://[::1]x/").contains("after `]`"));
    assert!(reason("http://[]/").contains("IPv6"));
    assert!(reason("http://[example.com]/").contains("IPv6"));
    assert!(
        reason("http://[fe80::1%25eth0]/").contains("IPv6"),
        "zone ids are not supported"
    );
    assert!(reason("http://::1/").contains("brackets"));
}

#[test]
fn hosts_that_look_numeric_must_be_real_dotted_quads() {
    for input in [
        "http://127.1/",
        "http://0x7f.1/",
        "http://256.0.0.1/",
        "http://1.2.3.4.5/",
        "http://010.0.0.1/",
    ] {
        assert!(reason(input).contains("dotted-quad"), "{input}");
    }
    assert_eq!(
        url("http://1.2.3.example/").host(),
        &Host::Domain("1.2.3.example".into())
    );
    assert_eq!(url("http://0xfoo/").host(), &Host::Domain("0xfoo".into()));
}

#[test]
fn ports_must_be_1_to_65535_in_decimal() {
    assert_eq!(url("http://h:65535/").port(), 65535);
    assert_eq!(url("http://h:1/").port(), 1);
    assert_eq!(url("http://h:0080/").port(), 80);
    assert_eq!(
        url("http://h:/").port(),
        80,
        "an empty port means the default (RFC 3986 §3.2.3)"
    );
    assert!(reason("http://h:0/").contains("port 0"));
    assert!(reason("http://h:65536/").contains("above 65535"));
    assert!(reason("http://h:99999999999999999999999/").contains("above 65535"));
    assert!(reason("http://h:8o/").contains("not a decimal"));
    assert!(reason("http://h:+80/").contains("not a decimal"));
    assert!(reason("http://h:-1/").contains("not a decimal"));
    assert!(reason("http://h:80:80/").contains("brackets"));
}

#[test]
fn userinfo_is_decoded_and_kept_apart_from_the_host() {
    let u = url("http://alice:s%3Acr%40t@h:81/p");
    let c = u.credentials().expect("credentials");
    assert_eq!(c.username(), "alice");
    assert_eq!(c.password(), Some("s:cr@t"));
    assert_eq!(u.host_header(), "h:81");
    assert_eq!(u.to_string(), "http://alice:***@h:81/p", "Display hides the password");
    assert!(!format!("{u:?}").contains("cr@t"), "Debug hides the password");
    assert_eq!(u.without_credentials().to_string(), "http://h:81/p");

    let user_only = url("http://bob@h/");
    assert_eq!(user_only.credentials().map(Credentials::password), Some(None));
    assert_eq!(
        url("http://@h/").credentials(),
        None,
        "empty userinfo is no credentials"
    );
    assert_eq!(url("http://:pw@h/").credentials().map(Credentials::username), Some(""));
}

#[test]
fn bad_userinfo_is_refused() {
    assert!(reason("http://a@b@h/").contains("more than one `@`"));
    assert!(reason("http://a%3Ab:c@h/").contains("RFC 7617"));
    assert!(reason("http://a:b%0D%0A@h/").contains("control"));
    assert!(reason("http://a:%zz@h/").contains("hexadecimal"));
    assert!(reason("http://a:%ff@h/").contains("UTF-8"));
    assert!(reason("http://a\"b@h/").contains("percent-encoded"));
}

#[test]
fn path_and_query_bytes_that_may_not_appear_raw_are_percent_encoded() {
    let u = url("http://h/caf\u{e9}/a\"b<c>{d}|\\^`[e]?q=\u{e9}");
    assert_eq!(u.path(), "/caf%C3%A9/a%22b%3Cc%3E%7Bd%7D%7C%5C%5E%60%5Be%5D");
    assert_eq!(u.query(), Some("q=%C3%A9"));
    assert_eq!(
        url("http://h/%2f%41").path(),
        "/%2f%41",
        "valid escapes are kept as written"
    );
    assert!(reason("http://h/100%").contains("hexadecimal"));
    assert!(reason("http://h/?a=%g1").contains("hexadecimal"));
}

#[test]
fn dot_segments_are_removed_on_parse() {
    assert_eq!(url("http://h/a/./b/../c").path(), "/a/c");
    assert_eq!(url("http://h/../../x").path(), "/x");
    assert_eq!(url("http://h/a/..").path(), "/");
    assert_eq!(url("http://h/a/b/").path(), "/a/b/");
    assert_eq!(
        url("http://h/a/%2E%2E/b").path(),
        "/a/%2E%2E/b",
        "encoded dots are data, not segments"
    );
}

#[test]
fn origin_compares_host_and_port_only() {
    assert_eq!(url("http://h/a").origin(), url("http://u:p@H:80/b?c").origin());
    assert_ne!(url("http://h/").origin(), url("http://h:8080/").origin());
    assert_ne!(url("http://h/").origin(), url("http://g/").origin());
}

/// RFC 3986 §5.4: every http example, with fragments dropped as this client does.
#[test]
fn join_follows_the_rfc_3986_examples() {
    let base = url("http://a/b/c/d;p?q");
    let cases = [
        // §5.4.1 normal examples
        ("g", "http://a/b/c/g"),
        ("./g", "http://a/b/c/g"),
        ("g/", "http://a/b/c/g/"),
        ("/g", "http://a/g"),
        ("//g", "http://g/"),
        ("?y", "http://a/b/c/d;p?y"),
        ("g?y", "http://a/b/c/g?y"),
        ("#s", "http://a/b/c/d;p?q"),
        ("g#s", "http://a/b/c/g"),
        ("g?y#s", "http://a/b/c/g?y"),
        (";x", "http://a/b/c/;x"),
        ("g;x", "http://a/b/c/g;x"),
        ("g;x?y#s", "http://a/b/c/g;x?y"),
        ("", "http://a/b/c/d;p?q"),
        (".", "http://a/b/c/"),
        ("./", "http://a/b/c/"),
        ("..", "http://a/b/"),
        ("../", "http://a/b/"),
        ("../g", "http://a/b/g"),
        ("../..", "http://a/"),
        ("../../", "http://a/"),
        ("../../g", "http://a/g"),
        // §5.4.2 abnormal examples
        ("../../../g", "http://a/g"),
        ("../../../../g", "http://a/g"),
        ("/./g", "http://a/g"),
        ("/../g", "http://a/g"),
        ("g.", "http://a/b/c/g."),
        (".g", "http://a/b/c/.g"),
        ("g..", "http://a/b/c/g.."),
        ("..g", "http://a/b/c/..g"),
        ("./../g", "http://a/b/g"),
        ("./g/.", "http://a/b/c/g/"),
        ("g/./h", "http://a/b/c/g/h"),
        ("g/../h", "http://a/b/c/h"),
        ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
        ("g;x=1/../y", "http://a/b/c/y"),
        ("g?y/./x", "http://a/b/c/g?y/./x"),
        ("g?y/../x", "http://a/b/c/g?y/../x"),
        ("g#s/./x", "http://a/b/c/g"),
        ("g#s/../x", "http://a/b/c/g"),
        // absolute references
        ("http://other:81/x/../y", "http://other:81/y"),
        ("HTTP://a/g", "http://a/g"),
    ];
    for (reference, expected) in cases {
        let joined = base.join(reference).unwrap_or_else(|e| panic!("{reference:?}: {e}"));
        assert_eq!(joined.to_string(), expected, "reference {reference:?}");
    }
}

#[test]
fn join_refuses_other_schemes_and_http_without_authority() {
    assert!(matches!(base().join("g:h"), Err(Error::UnsupportedScheme { scheme }) if scheme == "g"));
    if !cfg!(feature = "tls") {
        assert!(matches!(base().join("https://a/"), Err(Error::UnsupportedScheme { scheme }) if scheme == "https"));
    }
    assert!(
        matches!(base().join("http:g"), Err(Error::InvalidUrl { .. })),
        "RFC 3986 strict parsers read http:g as absolute"
    );
    assert!(matches!(base().join("/a b"), Err(Error::InvalidUrl { .. })));
    assert!(matches!(base().join("/%"), Err(Error::InvalidUrl { .. })));
}

fn base() -> Url {
    url("http://a/b/c/d;p?q")
}

#[test]
fn join_keeps_credentials_within_the_origin_and_takes_new_ones_across() {
    let base = url("http://u:p@a/b/c");
    assert_eq!(
        base.join("/x").expect("join").credentials().map(Credentials::username),
        Some("u")
    );
    assert_eq!(base.join("//other/x").expect("join").credentials(), None);
    let theirs = base.join("http://v@other/").expect("join");
    assert_eq!(theirs.credentials().map(Credentials::username), Some("v"));
}

#[test]
fn join_percent_encodes_the_reference_like_parse_does() {
    assert_eq!(
        base().join("caf\u{e9}?\u{e9}").expect("join").request_target(),
        "/b/c/caf%C3%A9?%C3%A9"
    );
}

#[test]
fn remove_dot_segments_matches_rfc_3986_section_5_2_4_walkthroughs() {
    assert_eq!(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
    assert_eq!(remove_dot_segments("/mid/content=5/../6"), "/mid/6");
    assert_eq!(remove_dot_segments("/.."), "/");
    assert_eq!(remove_dot_segments("/."), "/");
    assert_eq!(remove_dot_segments("/a/b/.."), "/a/");
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// What every parsed URL promises: a target that is safe to put on a request line
    /// and a Display that parses back to the same URL (passwords aside).
    fn check_invariants(u: &Url) -> Result<(), TestCaseError> {
        let target = u.request_target();
        prop_assert!(target.starts_with('/'));
        prop_assert!(target.bytes().all(|b| b.is_ascii_graphic()), "{target:?}");
        prop_assert!(!u.host_header().is_empty());
        prop_assert!(u.port() != 0);
        if u.credentials().and_then(Credentials::password).is_none() {
            prop_assert_eq!(&Url::parse(&u.to_string()).expect("Display parses back"), u);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(crate::http::tests::proptest_config())]

        #[test]
        fn arbitrary_strings_never_panic_and_parsed_urls_keep_their_promises(input in "\\PC{0,40}") {
            for candidate in [input.clone(), format!("http://{input}")] {
                if let Ok(u) = Url::parse(&candidate) {
                    check_invariants(&u)?;
                }
            }
        }

        #[test]
        fn url_like_strings_parse_and_round_trip(
            input in "http://([a-z]{1,3}(:[a-z%0-9]{0,3})?@)?([a-z0-9.-]{1,8}|\\[::[0-9a-f]{1,4}\\])(:[0-9]{1,5})?(/[a-z.%2E\u{e9}\"]{0,4}){0,4}(\\?[a-z=&/?.]{0,6})?(#.{0,3})?",
        ) {
            if let Ok(u) = Url::parse(&input) {
                check_invariants(&u)?;
            }
        }

        #[test]
        fn joined_references_keep_the_same_promises(reference in "[a-z./?#:%@;=]{0,12}|//[a-z]{1,4}/[a-z./]{0,6}") {
            if let Ok(u) = base().join(&reference) {
                check_invariants(&u)?;
            }
        }
    }
}

#[test]
#[cfg(feature = "tls")]
fn https_urls_default_to_port_443_and_keep_their_scheme_through_joins() {
    use crate::http::Scheme;
    let secure = url("HTTPS://Example.com/a/b");
    assert_eq!((secure.scheme(), secure.port()), (Scheme::Https, 443));
    assert_eq!(secure.host_header(), "example.com");
    assert_eq!(secure.to_string(), "https://example.com/a/b");
    assert_eq!(url("https://example.com:80/").host_header(), "example.com:80");
    assert_eq!(
        secure
            .join("//other.example/x")
            .expect("a network-path reference")
            .to_string(),
        "https://other.example/x"
    );
    let plain = secure.join("http://example.com/").expect("https -> http parses");
    assert_eq!((plain.scheme(), plain.port()), (Scheme::Http, 80));
}

#[test]
fn a_clone_shares_the_path_and_query_instead_of_copying_them() {
    let url = Url::parse("http://h.test/a/b?x=1").unwrap();
    let clone = url.clone();
    assert!(std::ptr::eq(url.path(), clone.path()));
    assert!(std::ptr::eq(url.query().unwrap(), clone.query().unwrap()));
    assert_eq!(clone, url);
    let other = url.with_query_pairs(&[("y", "2")]).unwrap();
    assert_eq!((other.path(), other.query()), ("/a/b", Some("x=1&y=2")));
    assert_eq!(url.query(), Some("x=1"), "the original is untouched");
}

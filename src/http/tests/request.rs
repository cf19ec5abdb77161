//! Tests for `request.rs`: exact bytes of encoded heads, and every refusal.

use crate::http::request::*;
use crate::http::{Error, Headers, Url};

fn url(s: &str) -> Url {
    Url::parse(s).expect("test URL parses")
}

fn encode(method: &Method, u: &str, headers: &[(&str, &str)], body_len: Option<u64>) -> Result<String, Error> {
    let headers: Headers = headers.iter().copied().collect();
    let mut out = b"previous bytes|".to_vec();
    let result = encode_request_head(method, &url(u), &headers, body_len, &mut out);
    match result {
        Ok(()) => {
            let text = String::from_utf8(out).expect("heads are UTF-8 here");
            Ok(text
                .strip_prefix("previous bytes|")
                .expect("encoding appends")
                .to_owned())
        }
        Err(e) => {
            assert_eq!(out, b"previous bytes|", "a refused request must leave `out` untouched");
            Err(e)
        }
    }
}

fn refused_header(method: &Method, headers: &[(&str, &str)]) -> (String, &'static str) {
    match encode(method, "http://h/", headers, None) {
        Err(Error::InvalidHeader { name, reason }) => (name, reason),
        other => panic!("expected InvalidHeader, got {other:?}"),
    }
}

#[test]
fn a_get_has_request_line_host_and_user_agent_only() {
    let head = encode(&Method::GET, "http://example.com/", &[], None).expect("encodes");
    assert_eq!(
        head,
        format!("GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: {USER_AGENT}\r\n\r\n")
    );
    assert!(USER_AGENT.starts_with("evloop/"));
}

#[test]
fn the_target_is_path_and_query_and_host_carries_a_non_default_port() {
    let head = encode(&Method::GET, "http://[::1]:8080/a%20b?x=1#frag", &[], None).expect("encodes");
    assert_eq!(
        head,
        format!("GET /a%20b?x=1 HTTP/1.1\r\nHost: [::1]:8080\r\nUser-Agent: {USER_AGENT}\r\n\r\n")
    );
}

#[test]
fn a_post_body_gets_content_length_before_the_callers_headers() {
    let head = encode(
        &Method::POST,
        "http://h/submit",
        &[("Content-Type", "text/plain"), ("X-A", "1")],
        Some(5),
    )
    .expect("encodes");
    assert_eq!(
        head,
        format!(
            "POST /submit HTTP/1.1\r\nHost: h\r\nUser-Agent: {USER_AGENT}\r\nContent-Length: 5\r\n\
             Content-Type: text/plain\r\nX-A: 1\r\n\r\n"
        )
    );
}

#[test]
fn post_put_patch_without_a_body_send_content_length_zero() {
    for method in [Method::POST, Method::PUT, Method::PATCH] {
        for body in [None, Some(0)] {
            let head = encode(&method, "http://h/", &[("User-Agent", "t")], body).expect("encodes");
            assert_eq!(
                head,
                format!("{method} / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nUser-Agent: t\r\n\r\n")
            );
        }
    }
}

#[test]
fn get_and_delete_without_a_body_send_no_content_length() {
    for method in [Method::GET, Method::DELETE, Method::HEAD, Method::OPTIONS] {
        let head = encode(&method, "http://h/", &[("User-Agent", "t")], Some(0)).expect("encodes");
        assert_eq!(head, format!("{method} / HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\n\r\n"));
    }
    let head = encode(&Method::DELETE, "http://h/", &[("User-Agent", "t")], Some(2)).expect("encodes");
    assert_eq!(
        head,
        "DELETE / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nUser-Agent: t\r\n\r\n"
    );
}

#[test]
fn a_callers_host_and_user_agent_replace_the_defaults_and_host_stays_first() {
    let head = encode(
        &Method::GET,
        "http://h/",
        &[("X-A", "1"), ("user-agent", "mine/2"), ("HOST", "virtual.example")],
        None,
    )
    .expect("encodes");
    assert_eq!(
        head,
        "GET / HTTP/1.1\r\nHost: virtual.example\r\nX-A: 1\r\nuser-agent: mine/2\r\n\r\n"
    );
}

#[test]
fn url_credentials_become_basic_authorization_unless_the_caller_sets_one() {
    let head = encode(
        &Method::GET,
        "http://Aladdin:open%20sesame@h/",
        &[("User-Agent", "t")],
        None,
    )
    .expect("encodes");
    assert_eq!(
        head,
        "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\nUser-Agent: t\r\n\r\n"
    );
    let head = encode(
        &Method::GET,
        "http://a:b@h/",
        &[("User-Agent", "t"), ("authorization", "Bearer x")],
        None,
    )
    .expect("encodes");
    assert_eq!(
        head,
        "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\nauthorization: Bearer x\r\n\r\n"
    );
}

#[test]
fn basic_authorization_matches_rfc_7617_and_base64_pads_correctly() {
    assert_eq!(
        basic_authorization("Aladdin", Some("open sesame")),
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
    assert_eq!(
        basic_authorization("test", Some("123\u{a3}")),
        "Basic dGVzdDoxMjPCow==",
        "RFC 7617 §2.1 example"
    );
    assert_eq!(basic_authorization("u", None), "Basic dTo=");
    // RFC 4648 §10 test vectors.
    for (input, expected) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(input.as_bytes()), expected, "{input:?}");
    }
}

#[test]
fn header_values_with_cr_lf_nul_or_controls_are_refused_by_name() {
    let cases = [
        ("X-Evil", "a\r\nInjected: 1", "CR"),
        ("X-Evil", "a\nInjected: 1", "LF"),
        ("X-Nul", "a\0b", "NUL"),
        ("X-Bell", "a\u{7}b", "control"),
        ("X-Del", "a\u{7f}b", "control"),
        ("X-Esc", "\u{1b}[31m", "control"),
    ];
    for (name, value, word) in cases {
        let (refused, reason) = refused_header(&Method::GET, &[("Accept", "*/*"), (name, value)]);
        assert_eq!(refused, name);
        assert!(reason.contains(word), "{reason}");
    }
}

#[test]
fn tabs_spaces_and_non_ascii_are_fine_in_values() {
    let head = encode(
        &Method::GET,
        "http://h/",
        &[("User-Agent", "t"), ("X-V", "a\tb c \u{e9}")],
        None,
    )
    .expect("encodes");
    assert!(head.ends_with("X-V: a\tb c \u{e9}\r\n\r\n"), "{head:?}");
}

#[test]
fn header_names_must_be_tokens() {
    for name in ["", "Bad Name", "Bad:Name", "Bad\r\nName", "Ünicode", "(x)"] {
        let (refused, reason) = refused_header(&Method::GET, &[(name, "v")]);
        assert_eq!(refused, name);
        assert!(reason.contains("token"), "{reason}");
    }
}

#[test]
fn callers_may_not_frame_the_body_themselves() {
    for name in [
        "Content-Length",
        "content-length",
        "Transfer-Encoding",
        "TRANSFER-ENCODING",
    ] {
        let (refused, reason) = refused_header(&Method::POST, &[(name, "5")]);
        assert_eq!(refused, name);
        assert!(reason.contains("frames the body"), "{reason}");
    }
}

#[test]
fn two_host_headers_are_refused() {
    let (refused, reason) = refused_header(&Method::GET, &[("Host", "a"), ("host", "b")]);
    assert_eq!(refused, "host");
    assert!(reason.contains("more than one Host"), "{reason}");
}

#[test]
fn connect_is_refused_before_sending() {
    assert!(matches!(
        encode(&Method::CONNECT, "http://h/", &[], None),
        Err(Error::InvalidMethod { .. })
    ));
}

#[test]
fn methods_are_case_sensitive_tokens() {
    assert_eq!(Method::new("GET").expect("valid"), Method::GET);
    assert_ne!(Method::new("get").expect("valid"), Method::GET);
    assert_eq!("PROPFIND".parse::<Method>().expect("valid").as_str(), "PROPFIND");
    let head = encode(
        &Method::new("M-SEARCH").expect("valid"),
        "http://h/",
        &[("User-Agent", "t")],
        None,
    )
    .expect("encodes");
    assert_eq!(head, "M-SEARCH / HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\n\r\n");
    for bad in ["", "GE T", "GET\r\n", "GET/", "G\u{e9}T", "GET:"] {
        assert!(matches!(Method::new(bad), Err(Error::InvalidMethod { .. })), "{bad:?}");
    }
}

#[test]
fn safe_and_idempotent_methods_follow_rfc_9110() {
    assert!(Method::GET.is_safe() && Method::HEAD.is_idempotent());
    assert!(!Method::PUT.is_safe() && Method::PUT.is_idempotent() && Method::DELETE.is_idempotent());
    assert!(!Method::POST.is_idempotent() && !Method::PATCH.is_idempotent());
}

#[test]
fn decimal_writes_every_digit_of_the_full_range() {
    for (n, text) in [(0, "0"), (7, "7"), (10, "10"), (80, "80"), (65535, "65535")] {
        assert_eq!(decimal(n, &mut [0; 20]), text.as_bytes());
    }
    assert_eq!(decimal(u64::MAX, &mut [0; 20]), u64::MAX.to_string().as_bytes());
}

#[test]
fn a_chunked_head_says_transfer_encoding_chunked_and_no_content_length() {
    let headers: Headers = [("X-Up", "1")].into_iter().collect();
    let mut out = Vec::new();
    encode_chunked_request_head(&Method::POST, &url("http://h/up"), &headers, &mut out).expect("encodes");
    let head = String::from_utf8(out).expect("UTF-8");
    assert_eq!(
        head,
        format!(
            "POST /up HTTP/1.1\r\nHost: h\r\nUser-Agent: {USER_AGENT}\r\nTransfer-Encoding: chunked\r\nX-Up: 1\r\n\r\n"
        )
    );
    let refused: Headers = [("Transfer-Encoding", "chunked")].into_iter().collect();
    let mut out = Vec::new();
    let error = encode_chunked_request_head(&Method::POST, &url("http://h/"), &refused, &mut out).unwrap_err();
    assert!(
        matches!(error, Error::InvalidHeader { .. }) && out.is_empty(),
        "{error:?}"
    );
}

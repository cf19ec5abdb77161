//! Tests for the framing decision in `framing/mod.rs`: exact heads, and a proptest.

use proptest::prelude::*;

use crate::http::framing::*;
use crate::http::{Error, HeadLimits, Headers, Malformed, Method, ResponseHead, Version, parse_response_head};

/// Parses a complete head from wire text.
fn head(wire: &str) -> ResponseHead {
    let (head, consumed) = parse_response_head(wire.as_bytes(), &HeadLimits::default())
        .expect("valid head")
        .expect("complete head");
    assert_eq!(consumed, wire.len(), "test heads are exactly one head");
    head
}

fn framing(method: &Method, wire: &str) -> Result<Framing, Error> {
    body_framing(method, &head(wire))
}

fn framing_error(wire: &str) -> Malformed {
    match framing(&Method::GET, wire) {
        Err(Error::Malformed(m)) => m,
        other => panic!("{wire:?}: expected a framing error, got {other:?}"),
    }
}

// ── The framing decision ────────────────────────────────────────────────────────

#[test]
fn head_1xx_204_and_304_have_no_body_whatever_the_headers_say() {
    let cases = [
        (Method::HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
        (Method::HEAD, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
        (Method::GET, "HTTP/1.1 100 Continue\r\n\r\n"),
        (Method::GET, "HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\n\r\n"),
        (Method::GET, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"),
        (Method::GET, "HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n"),
        (
            Method::GET,
            "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        ),
        (
            Method::GET,
            "HTTP/1.0 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
        ),
        (Method::HEAD, "HTTP/1.1 200 OK\r\nContent-Length: not-a-number\r\n\r\n"),
    ];
    for (method, wire) in cases {
        assert_eq!(
            framing(&method, wire).expect("no body"),
            Framing::Empty,
            "{method} {wire:?}"
        );
    }
}

#[test]
fn a_2xx_to_connect_is_an_unexpected_tunnel() {
    let result = framing(&Method::CONNECT, "HTTP/1.1 200 Connection Established\r\n\r\n");
    assert!(matches!(result, Err(Error::UnexpectedUpgrade { status: 200 })));
    let refused = framing(&Method::CONNECT, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(refused.expect("ordinary"), Framing::Length(0));
}

#[test]
fn exactly_one_chunked_coding_means_chunked() {
    for te in ["chunked", "Chunked", "CHUNKED", "chunked, ", " , chunked"] {
        let wire = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {te}\r\n\r\n");
        assert_eq!(
            framing(&Method::GET, &wire).expect("chunked"),
            Framing::Chunked,
            "{te:?}"
        );
    }
}

#[test]
fn any_other_transfer_coding_is_refused() {
    for te in [
        "gzip, chunked",
        "chunked, gzip",
        "chunked, chunked",
        "identity",
        "gzip",
        "",
        "chunked;q=1",
    ] {
        let wire = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {te}\r\n\r\n");
        assert_eq!(framing_error(&wire), Malformed::UnsupportedTransferCoding, "{te:?}");
    }
    let two_lines = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_eq!(framing_error(two_lines), Malformed::UnsupportedTransferCoding);
    let gzip_then_chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_eq!(framing_error(gzip_then_chunked), Malformed::UnsupportedTransferCoding);
}

#[test]
fn transfer_encoding_with_content_length_is_refused() {
    for wire in [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: 0\r\ntransfer-encoding: chunked\r\n\r\n",
    ] {
        assert_eq!(
            framing_error(wire),
            Malformed::TransferEncodingWithContentLength,
            "{wire:?}"
        );
    }
}

#[test]
fn transfer_encoding_in_http_1_0_is_refused() {
    assert_eq!(
        framing_error("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
        Malformed::TransferEncodingInHttp10
    );
}

#[test]
fn content_length_values_that_agree_count_once() {
    let cases = [
        ("Content-Length: 5\r\n", 5),
        ("Content-Length: 007\r\n", 7),
        ("Content-Length: 0\r\n", 0),
        ("Content-Length: 5, 5\r\n", 5),
        ("Content-Length: 5,5 ,\t5\r\n", 5),
        ("Content-Length: 5\r\ncontent-length: 5\r\n", 5),
        ("Content-Length: 18446744073709551615\r\n", u64::MAX),
    ];
    for (lines, length) in cases {
        let wire = format!("HTTP/1.1 200 OK\r\n{lines}\r\n");
        assert_eq!(
            framing(&Method::GET, &wire).expect("valid"),
            Framing::Length(length),
            "{lines:?}"
        );
    }
}

#[test]
fn content_length_must_be_plain_digits_that_agree_and_fit() {
    let cases = [
        ("Content-Length: +5\r\n", Malformed::ContentLength),
        ("Content-Length: -5\r\n", Malformed::ContentLength),
        ("Content-Length: 5 5\r\n", Malformed::ContentLength),
        ("Content-Length: \r\n", Malformed::ContentLength),
        ("Content-Length: 0x5\r\n", Malformed::ContentLength),
        ("Content-Length: 5.0\r\n", Malformed::ContentLength),
        ("Content-Length: 5,\r\n", Malformed::ContentLength),
        ("Content-Length: ,5\r\n", Malformed::ContentLength),
        ("Content-Length: \u{665}\r\n", Malformed::ContentLength),
        (
            "Content-Length: 18446744073709551616\r\n",
            Malformed::ContentLengthOverflow,
        ),
        (
            "Content-Length: 99999999999999999999999999\r\n",
            Malformed::ContentLengthOverflow,
        ),
        ("Content-Length: 5, 6\r\n", Malformed::ConflictingContentLength),
        (
            "Content-Length: 5\r\nContent-Length: 6\r\n",
            Malformed::ConflictingContentLength,
        ),
        (
            "Content-Length: 5\r\nContent-Length: 05, 6\r\n",
            Malformed::ConflictingContentLength,
        ),
    ];
    for (lines, expected) in cases {
        let wire = format!("HTTP/1.1 200 OK\r\n{lines}\r\n");
        assert_eq!(framing_error(&wire), expected, "{lines:?}");
    }
}

#[test]
fn without_length_or_chunked_the_body_runs_until_close() {
    assert_eq!(
        framing(&Method::GET, "HTTP/1.1 200 OK\r\n\r\n").expect("valid"),
        Framing::UntilClose
    );
    assert_eq!(
        framing(&Method::POST, "HTTP/1.0 404 Not Found\r\n\r\n").expect("valid"),
        Framing::UntilClose
    );
}

#[test]
fn persistence_follows_version_connection_header_and_framing() {
    let cases = [
        ("HTTP/1.1 200 OK\r\n\r\n", Framing::Length(0), true),
        (
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
            Framing::Length(0),
            false,
        ),
        (
            "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\n\r\n",
            Framing::Chunked,
            false,
        ),
        ("HTTP/1.1 200 OK\r\n\r\n", Framing::UntilClose, false),
        ("HTTP/1.0 200 OK\r\n\r\n", Framing::Length(0), false),
        (
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n",
            Framing::Length(3),
            true,
        ),
        (
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n",
            Framing::UntilClose,
            false,
        ),
        (
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
            Framing::Empty,
            false,
        ),
        ("HTTP/1.1 204 No Content\r\n\r\n", Framing::Empty, true),
    ];
    for (wire, framing, reusable) in cases {
        assert_eq!(
            connection_reusable(&head(wire), framing),
            reusable,
            "{wire:?} {framing:?}"
        );
    }
}

proptest! {
    #![proptest_config(crate::http::tests::proptest_config())]

    /// The framing decision never panics on odd Content-Length / Transfer-Encoding
    /// values, and what it decides is consistent with the headers.
    #[test]
    fn framing_decisions_are_consistent(
        lengths in prop::collection::vec("[0-9, +\t-]{0,6}|[0-9]{18,22}", 0..3),
        codings in prop::collection::vec("(chunked|gzip|identity|,| )*", 0..3),
        status in 100u16..600,
        http10 in any::<bool>(),
        head_request in any::<bool>(),
    ) {
        let mut headers = Headers::new();
        headers.extend(lengths.iter().map(|v| ("Content-Length", v.clone())));
        headers.extend(codings.iter().map(|v| ("Transfer-Encoding", v.clone())));
        let version = if http10 { Version::Http10 } else { Version::Http11 };
        let response = ResponseHead { version, status, reason: "".into(), headers };
        let method = if head_request { Method::HEAD } else { Method::GET };
        match body_framing(&method, &response) {
            Ok(Framing::Empty) => prop_assert!(head_request || status < 200 || status == 204 || status == 304),
            Ok(Framing::Chunked) => prop_assert!(lengths.is_empty() && !codings.is_empty() && !http10),
            Ok(Framing::Length(n)) => {
                prop_assert!(codings.is_empty());
                for element in lengths.iter().flat_map(|v| v.split(',')) {
                    prop_assert_eq!(element.trim_matches([' ', '\t']).parse::<u64>().ok(), Some(n));
                }
            }
            Ok(Framing::UntilClose) => prop_assert!(lengths.is_empty() && codings.is_empty()),
            Err(_) => {}
        }
    }
}

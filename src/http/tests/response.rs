//! Tests for `response.rs`: exact heads, limits, 1xx sequences, and fuzzing.

use proptest::prelude::*;

use crate::http::response::*;
use crate::http::{Error, Malformed};

fn parse(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, Error> {
    parse_response_head(buf, &HeadLimits::default())
}

fn complete(buf: &[u8]) -> (ResponseHead, usize) {
    parse(buf).expect("valid head").expect("complete head")
}

fn malformed(buf: &[u8]) -> Malformed {
    match parse(buf) {
        Err(Error::Malformed(m)) => m,
        other => panic!("{:?} should be malformed, got {other:?}", String::from_utf8_lossy(buf)),
    }
}

const OK_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n";

#[test]
fn a_complete_head_reports_what_it_consumed_and_leaves_the_body() {
    let buf = [OK_HEAD, b"hello"].concat();
    let (head, consumed) = complete(&buf);
    assert_eq!(consumed, OK_HEAD.len());
    assert_eq!(&buf[consumed..], b"hello");
    assert_eq!(head.version, Version::Http11);
    assert_eq!(head.status, 200);
    assert_eq!(head.reason, "OK");
    assert_eq!(head.headers.get("content-type"), Some("text/plain"));
    assert_eq!(
        head.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        ["Content-Type", "Content-Length"]
    );
}

#[test]
fn every_proper_prefix_of_a_head_is_incomplete() {
    for end in 0..OK_HEAD.len() {
        assert_eq!(parse(&OK_HEAD[..end]).expect("no error"), None, "prefix of {end} bytes");
    }
}

#[test]
fn http_1_0_and_a_missing_reason_are_accepted() {
    let (head, _) = complete(b"HTTP/1.0 404\r\n\r\n");
    assert_eq!((head.version, head.status, &*head.reason), (Version::Http10, 404, ""));
    let (head, _) = complete(b"HTTP/1.1 503 Service  Unavailable \r\n\r\n");
    assert_eq!(head.reason, "Service  Unavailable ");
}

#[test]
fn a_standard_reason_is_borrowed_and_any_other_kept_as_sent() {
    use std::borrow::Cow;
    let (head, _) = complete(b"HTTP/1.1 404 Not Found\r\n\r\n");
    assert!(matches!(head.reason, Cow::Borrowed("Not Found")), "{:?}", head.reason);
    for (head, reason) in [
        (&b"HTTP/1.1 200 ok\r\n\r\n"[..], "ok"),
        (b"HTTP/1.1 404 OK\r\n\r\n", "OK"),
        (b"HTTP/1.1 200 Okay then\r\n\r\n", "Okay then"),
        (b"HTTP/1.1 299 \r\n\r\n", ""),
    ] {
        let (parsed, _) = complete(head);
        assert_eq!(parsed.reason, reason);
        assert_eq!(
            matches!(parsed.reason, Cow::Borrowed(_)),
            reason.is_empty(),
            "{reason:?}"
        );
    }
}

#[test]
fn other_versions_and_bad_status_lines_are_malformed() {
    assert_eq!(malformed(b"HTTP/2.0 200 OK\r\n\r\n"), Malformed::Version);
    assert_eq!(malformed(b"HTTP/1.2 200 OK\r\n\r\n"), Malformed::Version);
    assert_eq!(malformed(b"ICY 200 OK\r\n\r\n"), Malformed::Version);
    assert_eq!(malformed(b"HTTP/1.1 20 OK\r\n\r\n"), Malformed::StatusLine);
    assert_eq!(malformed(b"HTTP/1.1 2000 OK\r\n\r\n"), Malformed::StatusLine);
    assert_eq!(malformed(b"HTTP/1.1  200 OK\r\n\r\n"), Malformed::StatusLine);
    assert_eq!(malformed(b"HTTP/1.1 099 Low\r\n\r\n"), Malformed::StatusCode);
    assert_eq!(malformed(b"HTTP/1.1 600 High\r\n\r\n"), Malformed::StatusCode);
}

#[test]
fn bad_header_lines_are_malformed() {
    assert_eq!(
        malformed(b"HTTP/1.1 200 OK\r\nName : v\r\n\r\n"),
        Malformed::HeaderLine,
        "space before colon"
    );
    assert_eq!(malformed(b"HTTP/1.1 200 OK\r\nNa me: v\r\n\r\n"), Malformed::HeaderLine);
    assert_eq!(
        malformed(b"HTTP/1.1 200 OK\r\nName: a\0b\r\n\r\n"),
        Malformed::HeaderLine,
        "NUL in value"
    );
    assert_eq!(
        malformed(b"HTTP/1.1 200 OK\r\nName: a\x7fb\r\n\r\n"),
        Malformed::HeaderLine,
        "DEL in value"
    );
    assert_eq!(malformed(b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n"), Malformed::HeaderLine);
    assert_eq!(
        malformed(b"HTTP/1.1 200 OK\r\nName: v\rX: y\r\n\r\n"),
        Malformed::HeaderLine,
        "bare CR"
    );
}

#[test]
fn each_obsolete_line_fold_is_replaced_by_one_space() {
    let (head, _) = complete(b"HTTP/1.1 200 OK\r\nX-Folded: one \r\n  two\t\r\n\ttwo-b\r\nNext: 1\r\n\r\n");
    assert_eq!(head.headers.get("x-folded"), Some("one two two-b"));
    assert_eq!(head.headers.get("next"), Some("1"));
}

#[test]
fn a_bare_lf_is_accepted_as_a_line_end_in_the_head() {
    let (head, consumed) = complete(b"HTTP/1.1 204 No Content\nX: 1\n\nrest");
    assert_eq!((head.status, head.headers.get("x"), consumed), (204, Some("1"), 30));
}

#[test]
fn values_are_trimmed_and_non_utf8_values_decode_as_latin1() {
    let (head, _) = complete(b"HTTP/1.1 200 OK\r\nA:   spaced\t \r\nB: caf\xe9\r\nC:\r\n\r\n");
    assert_eq!(head.headers.get("a"), Some("spaced"));
    assert_eq!(head.headers.get("b"), Some("caf\u{e9}"));
    assert_eq!(head.headers.get("c"), Some(""));
}

#[test]
fn a_head_still_incomplete_at_the_byte_limit_is_an_error_not_a_wait() {
    let limits = HeadLimits {
        max_head_bytes: 32,
        ..HeadLimits::default()
    };
    let buf = b"HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert_eq!(
        parse_response_head(&buf[..31], &limits).expect("still within the limit"),
        None
    );
    assert!(matches!(
        parse_response_head(&buf[..32], &limits),
        Err(Error::HeadTooLarge { limit: 32 })
    ));
    assert!(matches!(
        parse_response_head(buf, &limits),
        Err(Error::HeadTooLarge { limit: 32 })
    ));
}

#[test]
fn a_head_of_exactly_the_limit_fits_and_one_byte_more_does_not() {
    let head = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
    let fits = HeadLimits {
        max_head_bytes: head.len(),
        ..HeadLimits::default()
    };
    assert!(
        parse_response_head(&[&head[..], b"body"].concat(), &fits)
            .expect("fits")
            .is_some()
    );
    let tight = HeadLimits {
        max_head_bytes: head.len() - 1,
        ..HeadLimits::default()
    };
    assert!(matches!(
        parse_response_head(head, &tight),
        Err(Error::HeadTooLarge { .. })
    ));
}

#[test]
fn too_many_header_lines_is_an_error() {
    let limits = HeadLimits {
        max_headers: 2,
        ..HeadLimits::default()
    };
    let two = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n";
    assert_eq!(
        parse_response_head(two, &limits)
            .expect("two fit")
            .map(|(h, _)| h.headers.len()),
        Some(2)
    );
    let three = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    assert!(matches!(
        parse_response_head(three, &limits),
        Err(Error::TooManyHeaders { limit: 2 })
    ));
    // Detected as soon as the line after the extra one starts, before the head ends.
    let streaming = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD";
    assert!(matches!(
        parse_response_head(streaming, &limits),
        Err(Error::TooManyHeaders { limit: 2 })
    ));
}

#[test]
fn huge_limits_are_safe() {
    let limits = HeadLimits {
        max_headers: usize::MAX,
        max_head_bytes: usize::MAX,
    };
    let (head, consumed) = parse_response_head(OK_HEAD, &limits).expect("valid").expect("complete");
    assert_eq!((head.headers.len(), consumed), (2, OK_HEAD.len()));
}

#[test]
fn the_slot_cap_never_reports_too_many_headers_for_dense_short_lines() {
    let wire = [&b"HTTP/1.1 200 OK\n"[..], &b"a:\n".repeat(50), b"\n"].concat();
    let exact = HeadLimits {
        max_headers: 50,
        ..HeadLimits::default()
    };
    for end in 0..wire.len() {
        assert_eq!(
            parse_response_head(&wire[..end], &exact).expect("never too many"),
            None,
            "prefix {end}"
        );
    }
    assert_eq!(
        parse_response_head(&wire, &exact)
            .expect("fits")
            .map(|(h, _)| h.headers.len()),
        Some(50)
    );
    let fewer = HeadLimits {
        max_headers: 49,
        ..HeadLimits::default()
    };
    assert!(matches!(
        parse_response_head(&wire, &fewer),
        Err(Error::TooManyHeaders { limit: 49 })
    ));
}

/// The sequence: `100 Continue`, then `103 Early Hints`, then `200`.
#[test]
fn a_reader_skips_100_and_103_then_returns_the_final_head() {
    let wire: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n\
        HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n\
        HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    let mut reader = ResponseHeadReader::new(HeadLimits::default());
    let mut buf = wire;

    let HeadStep::Interim { head, consumed } = reader.parse(buf).expect("valid") else {
        panic!("expected 100")
    };
    assert_eq!((head.status, consumed), (100, 25));
    buf = &buf[consumed..];

    let HeadStep::Interim { head, consumed } = reader.parse(buf).expect("valid") else {
        panic!("expected 103")
    };
    assert_eq!(
        (head.status, head.headers.get("link")),
        (103, Some("</style.css>; rel=preload"))
    );
    assert_eq!(consumed, 61);
    buf = &buf[consumed..];
    assert_eq!(reader.remaining_budget(), HeadLimits::DEFAULT_MAX_HEAD_BYTES - 86);

    let HeadStep::Final { head, consumed } = reader.parse(buf).expect("valid") else {
        panic!("expected 200")
    };
    assert_eq!((head.status, &buf[consumed..]), (200, &b"hi"[..]));
}

#[test]
fn a_reader_needs_more_until_the_final_head_arrives() {
    let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
    let mut reader = ResponseHeadReader::new(HeadLimits::default());
    assert_eq!(reader.parse(&wire[..10]).expect("valid"), HeadStep::NeedMore);
    let HeadStep::Interim { consumed, .. } = reader.parse(wire).expect("valid") else {
        panic!("expected 100")
    };
    assert_eq!(
        reader.parse(&wire[consumed..wire.len() - 1]).expect("valid"),
        HeadStep::NeedMore
    );
    assert!(matches!(reader.parse(&wire[consumed..]), Ok(HeadStep::Final { .. })));
}

#[test]
fn interim_heads_count_against_the_same_byte_budget() {
    let interim = b"HTTP/1.1 100 Continue\r\n\r\n"; // 25 bytes
    let limits = HeadLimits {
        max_head_bytes: 60,
        ..HeadLimits::default()
    };
    let mut reader = ResponseHeadReader::new(limits);
    for _ in 0..2 {
        assert!(matches!(
            reader.parse(interim),
            Ok(HeadStep::Interim { consumed: 25, .. })
        ));
    }
    assert_eq!(reader.remaining_budget(), 10);
    // A third interim head no longer fits: an error, however the bytes are split.
    assert!(matches!(reader.parse(interim), Err(Error::HeadTooLarge { limit: 60 })));
    assert!(matches!(
        reader.parse(&interim[..10]),
        Err(Error::HeadTooLarge { limit: 60 })
    ));
    assert_eq!(reader.parse(&interim[..9]).expect("within budget"), HeadStep::NeedMore);
}

#[test]
fn an_unrequested_101_is_an_error() {
    let mut reader = ResponseHeadReader::new(HeadLimits::default());
    let wire = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    assert!(matches!(
        reader.parse(wire),
        Err(Error::UnexpectedUpgrade { status: 101 })
    ));
}

#[test]
fn the_plain_parser_returns_1xx_heads_as_they_are() {
    let (head, _) = complete(b"HTTP/1.1 100 Continue\r\n\r\n");
    assert!(head.is_informational());
    assert!(!complete(OK_HEAD).0.is_informational());
}

proptest! {
    #![proptest_config(crate::http::tests::proptest_config())]

    /// Whatever the bytes, the parser returns (never panics), and what it returns is
    /// consistent: consumed within the buffer and the limit, status within 100–599.
    #[test]
    fn random_bytes_never_panic_and_results_are_consistent(
        buf in prop::collection::vec(any::<u8>(), 0..300),
        max_head_bytes in 0usize..400,
        max_headers in 0usize..8,
    ) {
        let limits = HeadLimits { max_headers, max_head_bytes };
        if let Ok(Some((head, consumed))) = parse_response_head(&buf, &limits) {
            prop_assert!(consumed <= buf.len() && consumed <= max_head_bytes);
            prop_assert!((100..=599).contains(&head.status));
            prop_assert!(head.headers.len() <= max_headers);
        }
    }

    /// Random bytes after a valid status line reach the header parser proper.
    #[test]
    fn random_header_bytes_never_panic(tail in prop::collection::vec(any::<u8>(), 0..300)) {
        let buf = [&b"HTTP/1.1 200 OK\r\n"[..], &tail].concat();
        let mut reader = ResponseHeadReader::new(HeadLimits::default());
        if let Ok(HeadStep::Final { consumed, .. } | HeadStep::Interim { consumed, .. }) = reader.parse(&buf) {
            prop_assert!(consumed <= buf.len());
        }
    }

    /// A valid head is incomplete at every split point before its end and complete at
    /// its end, with trailing bytes left alone.
    #[test]
    fn a_valid_head_is_recognised_exactly_at_its_end(
        names in prop::collection::vec("[A-Za-z][A-Za-z0-9-]{0,10}", 0..6),
        value in "[ -~]{0,20}",
        status in 100u16..600,
        tail in prop::collection::vec(any::<u8>(), 0..20),
    ) {
        let mut head = format!("HTTP/1.1 {status} Reason\r\n");
        for name in &names {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let wire = [head.as_bytes(), &tail].concat();
        for end in 0..head.len() {
            prop_assert_eq!(parse(&wire[..end]).expect("valid prefix"), None);
        }
        let (parsed, consumed) = complete(&wire);
        prop_assert_eq!(consumed, head.len());
        prop_assert_eq!(parsed.status, status);
        prop_assert_eq!(parsed.headers.len(), names.len());
        for (name, got) in &parsed.headers {
            prop_assert!(names.iter().any(|n| n == name));
            prop_assert_eq!(got, value.trim_matches([' ', '\t']));
        }
    }

    /// Keeping a head whole and decoding it line by line give the same map, whenever the
    /// first applies: line ends, folding, Latin-1 and UTF-8 values, empty values.
    #[test]
    fn a_head_kept_whole_reads_like_one_decoded_line_by_line(
        lines in prop::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,8}", prop::collection::vec(
            prop_oneof![Just(b'a'), Just(b' '), Just(b'\t'), Just(0xe9u8), Just(b'~')], 0..8),
            any::<bool>(), any::<bool>()), 0..6),
    ) {
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        for (name, value, bare_lf, folded) in &lines {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value);
            if *folded {
                head.extend_from_slice(b"\r\n more");
            }
            head.extend_from_slice(if *bare_lf { b"\n" } else { b"\r\n" });
        }
        head.extend_from_slice(b"\r\n");
        let mut slots = vec![httparse::EMPTY_HEADER; 16];
        let mut response = httparse::Response::new(&mut slots);
        let mut config = httparse::ParserConfig::default();
        config.allow_obsolete_multiline_headers_in_responses(true);
        prop_assert!(matches!(config.parse_response(&mut response, &head), Ok(httparse::Status::Complete(_))));
        let decoded = decode_lines(response.headers);
        let whole = keep_whole(&head, response.headers);
        // (A fold right after the colon may leave no line break in the value: kept whole too.)
        let simple = lines.iter().all(|(_, value, _, folded)| !folded && value.is_ascii());
        prop_assert!(whole.is_some() || !simple);
        if let Some(whole) = whole {
            prop_assert_eq!(&whole, &decoded);
        }
        prop_assert_eq!(complete(&head).0.headers, decoded);
    }
}

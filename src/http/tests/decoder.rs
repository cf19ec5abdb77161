//! Tests for `BodyDecoder` on exact bodies: each is fed whole, byte by byte and split
//! at every point, and must give the same outcome every way.

use crate::http::framing::*;
use crate::http::{Error, Malformed};

/// What a caller ends up with after feeding a decoder: the body, how many input
/// bytes belonged to it, whether it completed, and the error if one was hit.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Outcome {
    pub(super) body: Vec<u8>,
    pub(super) consumed: usize,
    pub(super) done: bool,
    pub(super) error: Option<String>,
}

/// Feeds `wire` in the given pieces, as a connection would, stopping at completion or
/// at the first error.
pub(super) fn feed(framing: Framing, limits: ChunkLimits, pieces: &[&[u8]]) -> (Outcome, BodyDecoder) {
    let mut decoder = BodyDecoder::with_limits(framing, limits);
    let mut outcome = Outcome {
        body: Vec::new(),
        consumed: 0,
        done: false,
        error: None,
    };
    for piece in pieces {
        match decoder.decode(piece, &mut outcome.body) {
            Ok(used) => {
                assert!(used <= piece.len());
                outcome.consumed += used;
                if used < piece.len() {
                    assert!(decoder.is_done(), "input is only left over once the body is complete");
                    break;
                }
            }
            Err(e) => {
                // After an error the connection is dropped: how far the decoder got is
                // meaningless (and depends on the split), so it is not compared.
                outcome.consumed = 0;
                outcome.error = Some(format!("{e:?}"));
                break;
            }
        }
    }
    outcome.done = decoder.is_done();
    assert_eq!(decoder.decoded_len(), outcome.body.len() as u64);
    (outcome, decoder)
}

/// Decodes `wire` whole, then one byte at a time, then split at every point, and
/// checks the outcome never depends on how the bytes arrived.
fn decode_every_way(framing: Framing, limits: ChunkLimits, wire: &[u8]) -> (Outcome, BodyDecoder) {
    let (whole, decoder) = feed(framing, limits, &[wire]);
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(
        feed(framing, limits, &bytes).0,
        whole,
        "byte by byte: {:?}",
        String::from_utf8_lossy(wire)
    );
    for split in 0..=wire.len() {
        let (a, b) = wire.split_at(split);
        assert_eq!(feed(framing, limits, &[a, b]).0, whole, "split at {split}");
    }
    (whole, decoder)
}

fn decode(framing: Framing, wire: &[u8]) -> Outcome {
    decode_every_way(framing, ChunkLimits::default(), wire).0
}

fn chunked_error(wire: &[u8]) -> String {
    decode(Framing::Chunked, wire)
        .error
        .unwrap_or_else(|| panic!("{:?} should fail", String::from_utf8_lossy(wire)))
}

pub(super) fn complete(body: &[u8], consumed: usize) -> Outcome {
    Outcome {
        body: body.to_vec(),
        consumed,
        done: true,
        error: None,
    }
}

#[test]
fn content_length_takes_exactly_that_many_bytes_and_leaves_the_rest() {
    assert_eq!(
        decode(Framing::Length(5), b"helloHTTP/1.1 200 OK"),
        complete(b"hello", 5)
    );
    assert_eq!(
        decode(Framing::Length(5), b"hel"),
        Outcome {
            body: b"hel".to_vec(),
            consumed: 3,
            done: false,
            error: None
        }
    );
}

#[test]
fn empty_and_zero_length_bodies_are_done_before_any_byte() {
    for framing in [Framing::Empty, Framing::Length(0)] {
        assert_eq!(decode(framing, b"leftover"), complete(b"", 0));
        assert!(BodyDecoder::new(framing).eof().is_ok());
    }
}

#[test]
fn until_close_takes_everything_and_completes_at_eof() {
    let (outcome, mut decoder) = decode_every_way(Framing::UntilClose, ChunkLimits::default(), b"all of it\r\n0\r\n");
    assert_eq!(
        outcome,
        Outcome {
            body: b"all of it\r\n0\r\n".to_vec(),
            consumed: 14,
            done: false,
            error: None
        }
    );
    decoder.eof().expect("closing ends an until-close body");
    assert!(decoder.is_done());
}

#[test]
fn a_chunked_body_is_reassembled_and_stops_after_the_last_chunk() {
    let wire = b"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n";
    assert_eq!(decode(Framing::Chunked, wire), complete(b"hello, world", 27));
}

#[test]
fn chunk_sizes_are_hex_in_either_case_with_leading_zeros() {
    let wire = b"000A\r\n0123456789\r\na\r\nabcdefghij\r\n1F\r\n0123456789012345678901234567890\r\n0000\r\n\r\n";
    let outcome = decode(Framing::Chunked, wire);
    assert_eq!(outcome.body.len(), 10 + 10 + 31);
    assert!(outcome.done && outcome.consumed == wire.len());
}

#[test]
fn well_formed_chunk_extensions_are_checked_and_dropped() {
    let wire = b"5;name=value;flag\r\nhello\r\n5 ;a=\"quoted; \\\" string\"\r\nworld\r\n0;last\r\n\r\n";
    assert_eq!(decode(Framing::Chunked, wire), complete(b"helloworld", wire.len()));
}

#[test]
fn a_malformed_chunk_extension_fails_the_body_at_once() {
    let expected = format!("{:?}", Error::Malformed(Malformed::ChunkExtension));
    // A `;` with no name, an empty value, a space inside a token, whitespace before the CR, an
    // unclosed quote, a byte after the closing quote: RFC 9112 §7.1.1 allows none of them.
    for wire in [
        &b"5;\r\n"[..],
        b"5;a=\r\n",
        b"5;a=b c\r\n",
        b"5;a \r\n",
        b"5;a=\"open\r\n",
        b"5;a=\"x\"y\r\n",
        b"5;;a\r\n",
    ] {
        assert_eq!(chunked_error(wire), expected, "{:?}", String::from_utf8_lossy(wire));
    }
    // "At once": the decoder fails on the first bad byte, before the line's end arrives.
    let mut decoder = BodyDecoder::new(Framing::Chunked);
    let error = decoder.decode(b"5;a b", &mut Vec::new()).unwrap_err();
    assert_eq!(format!("{error:?}"), expected);
}

#[test]
fn trailers_are_parsed_after_the_last_chunk() {
    let wire = b"3\r\nabc\r\n0\r\nExpires: never\r\nX-Checksum:  \t 42 \r\nX-Empty:\r\n\r\nnext";
    let (outcome, decoder) = decode_every_way(Framing::Chunked, ChunkLimits::default(), wire);
    assert_eq!(outcome, complete(b"abc", wire.len() - 4));
    let trailers: Vec<_> = decoder.trailers().iter().collect();
    assert_eq!(trailers, [("Expires", "never"), ("X-Checksum", "42"), ("X-Empty", "")]);
}

#[test]
fn bad_chunk_sizes_are_refused() {
    let malformed = |m: Malformed| format!("{:?}", Error::Malformed(m));
    for wire in [
        &b"\r\n"[..],
        b"\n",
        b"g\r\n",
        b";ext\r\n",
        b" 5\r\n",
        b"-5\r\n",
        b"+5\r\n",
        b"0x5\r\n",
        b"5 \r\n",
        b"5 x\r\n",
    ] {
        assert_eq!(
            chunked_error(wire),
            malformed(Malformed::ChunkSize),
            "{:?}",
            String::from_utf8_lossy(wire)
        );
    }
    assert_eq!(
        chunked_error(b"10000000000000000\r\n"),
        malformed(Malformed::ChunkSizeOverflow)
    );
    let max = decode(Framing::Chunked, b"ffffffffffffffff\r\nabc");
    assert_eq!((max.body.as_slice(), max.done, max.error), (&b"abc"[..], false, None));
}

#[test]
fn every_chunked_line_must_end_in_crlf() {
    let malformed = |m: Malformed| format!("{:?}", Error::Malformed(m));
    let line_ending = malformed(Malformed::LineEnding);
    for wire in [
        &b"5\nhello\r\n"[..],
        b"5;ext\nhello\r\n",
        b"5\rhello\r\n",
        b"0\r\n\n",
        b"0\n\r\n",
        b"0\r\nA: b\n\r\n",
        b"0\r\nA: b\rX\r\n",
        b"0\r\n\rX",
        b"0\r\nA: b\r\n\n",
    ] {
        assert_eq!(chunked_error(wire), line_ending, "{:?}", String::from_utf8_lossy(wire));
    }
}

#[test]
fn chunk_data_must_be_followed_by_exactly_crlf() {
    let expected = format!("{:?}", Error::Malformed(Malformed::ChunkDataTerminator));
    for wire in [
        &b"5\r\nhelloX\r\n"[..],
        b"5\r\nhello\rX",
        b"5\r\nhello\n0\r\n\r\n",
        b"3\r\nhello\r\n",
        b"1\r\nab",
    ] {
        assert_eq!(chunked_error(wire), expected, "{:?}", String::from_utf8_lossy(wire));
    }
    let partial = decode(Framing::Chunked, b"3\r\nhello\r\n");
    assert_eq!(
        partial.body, b"hel",
        "what was decoded before the error is still reported"
    );
}

#[test]
fn control_characters_in_extensions_are_refused() {
    let expected = format!("{:?}", Error::Malformed(Malformed::ChunkExtension));
    for wire in [&b"5;a\x01b\r\n"[..], b"5;a\0\r\n", b"5;\x7f\r\n", b"5;\x1b[m\r\n"] {
        assert_eq!(chunked_error(wire), expected);
    }
    assert_eq!(
        decode(Framing::Chunked, b"1;a=\t\"b\xff\"\r\nx\r\n0\r\n\r\n"),
        complete(b"x", 19),
        "a tab around `=`, and obs-text inside a quoted string, pass"
    );
}

#[test]
fn a_chunk_size_line_longer_than_the_limit_is_refused() {
    let limits = |max_line_bytes| ChunkLimits {
        max_line_bytes,
        ..ChunkLimits::default()
    };
    let wire = b"5;abcde\r\nhello\r\n0\r\n\r\n"; // the first line is 9 bytes with its CRLF
    assert!(decode_every_way(Framing::Chunked, limits(9), wire).0.done);
    let error = decode_every_way(Framing::Chunked, limits(8), wire).0.error;
    assert_eq!(
        error,
        Some(format!("{:?}", Error::Malformed(Malformed::ChunkLineTooLong)))
    );
    let zeros = [vec![b'0'; 5000], b"5\r\nhello\r\n".to_vec()].concat();
    let error = feed(Framing::Chunked, ChunkLimits::default(), &[&zeros]).0.error;
    assert_eq!(
        error,
        Some(format!("{:?}", Error::Malformed(Malformed::ChunkLineTooLong))),
        "leading zeros count"
    );
}

#[test]
fn bad_trailer_lines_are_refused() {
    let expected = format!("{:?}", Error::Malformed(Malformed::Trailer));
    for wire in [
        &b"0\r\nNo colon\r\n\r\n"[..],
        b"0\r\n: empty-name\r\n\r\n",
        b"0\r\nBad Name: v\r\n\r\n",
        b"0\r\nName : v\r\n\r\n",
        b"0\r\nA: 1\r\n folded\r\n\r\n",
        b"0\r\nA: \x01\r\n\r\n",
        b"0\r\n\xff: v\r\n\r\n",
    ] {
        assert_eq!(chunked_error(wire), expected, "{:?}", String::from_utf8_lossy(wire));
    }
}

#[test]
fn trailers_are_capped_in_count_and_bytes() {
    let too_large = Some(format!("{:?}", Error::Malformed(Malformed::TrailersTooLarge)));
    let wire = b"0\r\nA: 1\r\nB: 2\r\n\r\n"; // 14 bytes of trailer section
    let fields = |n| ChunkLimits {
        max_trailer_fields: n,
        ..ChunkLimits::default()
    };
    assert!(decode_every_way(Framing::Chunked, fields(2), wire).0.done);
    assert_eq!(decode_every_way(Framing::Chunked, fields(1), wire).0.error, too_large);
    let bytes = |n| ChunkLimits {
        max_trailer_bytes: n,
        ..ChunkLimits::default()
    };
    assert!(decode_every_way(Framing::Chunked, bytes(14), wire).0.done);
    assert_eq!(decode_every_way(Framing::Chunked, bytes(13), wire).0.error, too_large);
}

#[test]
fn a_failed_decoder_stays_failed() {
    let mut decoder = BodyDecoder::new(Framing::Chunked);
    let mut out = Vec::new();
    assert!(decoder.decode(b"z", &mut out).is_err());
    assert!(matches!(
        decoder.decode(b"5\r\nhello\r\n", &mut out),
        Err(Error::Malformed(Malformed::ChunkSize))
    ));
    assert!(matches!(decoder.eof(), Err(Error::Malformed(Malformed::ChunkSize))));
    assert!(out.is_empty() && !decoder.is_done());
}

/// Cuts a valid chunked body at every point and checks that closing there is
/// reported as truncation, naming where, and never as a short success.
#[test]
fn a_chunked_body_cut_anywhere_is_truncated_never_short() {
    let wire = b"5;x\r\nhello\r\n0\r\nA: b\r\n\r\n";
    let during = |cut: usize| match cut {
        0 | 12 => "before the last (zero-size) chunk",
        1..=4 | 13..=14 => "in a chunk-size line",
        5..=11 => "in the middle of a chunk",
        _ => "in the trailers after the last chunk",
    };
    for cut in 0..wire.len() {
        let (outcome, mut decoder) = feed(Framing::Chunked, ChunkLimits::default(), &[&wire[..cut]]);
        assert!(!outcome.done && outcome.error.is_none(), "cut at {cut}");
        match decoder.eof() {
            Err(Error::Truncated { during: got }) => assert_eq!(got, during(cut), "cut at {cut}"),
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    let (_, mut decoder) = feed(Framing::Chunked, ChunkLimits::default(), &[wire]);
    decoder.eof().expect("a complete body survives the close");
}

#[test]
fn a_content_length_body_cut_short_is_truncated() {
    let (_, mut decoder) = feed(Framing::Length(10), ChunkLimits::default(), &[b"12345"]);
    assert!(matches!(
        decoder.eof(),
        Err(Error::Truncated {
            during: "before Content-Length bytes of body arrived"
        })
    ));
    let (_, mut decoder) = feed(Framing::Length(5), ChunkLimits::default(), &[b"12345"]);
    decoder.eof().expect("complete");
}

//! Property tests for `BodyDecoder`: valid bodies under random splits, and random
//! bytes (no panics, and the outcome never depends on the split).

use proptest::prelude::*;

use super::decoder::{complete, feed};
use crate::http::framing::*;

/// A chunked encoding of `chunks`, with optional extensions and trailers, in the many
/// legal spellings (hex case, leading zeros).
fn encode_chunked(chunks: &[(Vec<u8>, Option<String>, bool, usize)], trailers: &[(String, String)]) -> Vec<u8> {
    let mut wire = Vec::new();
    for (data, extension, upper, zeros) in chunks {
        let size = if *upper {
            format!("{:X}", data.len())
        } else {
            format!("{:x}", data.len())
        };
        wire.extend("0".repeat(*zeros).bytes().chain(size.bytes()));
        if let Some(extension) = extension {
            wire.extend(format!(";{extension}").bytes());
        }
        wire.extend(b"\r\n".iter().chain(data).chain(b"\r\n"));
    }
    wire.extend(b"0\r\n");
    for (name, value) in trailers {
        wire.extend(format!("{name}: {value}\r\n").bytes());
    }
    wire.extend(b"\r\n");
    wire
}

/// Splits `wire` at the given (sorted, deduplicated) cut points.
fn pieces<'a>(wire: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([wire.len()]) {
        pieces.push(&wire[start..cut]);
        start = cut;
    }
    pieces
}

fn chunk_strategy() -> impl Strategy<Value = (Vec<u8>, Option<String>, bool, usize)> {
    (
        prop::collection::vec(any::<u8>(), 1..40),
        prop::option::of("[a-z]{1,5}(=([a-z0-9]{1,5}|\"[a-z ;=]{0,5}\"))?"),
        any::<bool>(),
        0usize..3,
    )
}

proptest! {
    #![proptest_config(crate::http::tests::proptest_config())]

    /// Any valid chunked body decodes to its chunks' concatenation, with its trailers,
    /// however the bytes are split, and bytes after it are left alone.
    #[test]
    fn valid_chunked_bodies_decode_the_same_under_any_split(
        chunks in prop::collection::vec(chunk_strategy(), 0..8),
        trailers in prop::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,8}", "[!-~]([ -~]{0,10}[!-~])?"), 0..3),
        tail in prop::collection::vec(any::<u8>(), 0..10),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let body_wire = encode_chunked(&chunks, &trailers);
        let wire = [body_wire.clone(), tail].concat();
        let (outcome, decoder) = feed(Framing::Chunked, ChunkLimits::default(), &pieces(&wire, &cuts));
        let expected: Vec<u8> = chunks.iter().flat_map(|(data, ..)| data.clone()).collect();
        prop_assert_eq!(outcome, complete(&expected, body_wire.len()));
        let got: Vec<(String, String)> =
            decoder.trailers().iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
        prop_assert_eq!(got, trailers);
    }

    /// Random bytes never panic the chunked decoder, and the outcome (body so far,
    /// bytes used, completion, error) does not depend on how they were split.
    #[test]
    fn random_bytes_never_panic_and_splits_never_matter(
        wire in prop::collection::vec(prop_oneof![any::<u8>(), Just(b'\r'), Just(b'\n'), Just(b'0'), Just(b';')], 0..200),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let limits = ChunkLimits { max_line_bytes: 16, max_trailer_fields: 3, max_trailer_bytes: 40 };
        let (whole, mut decoder) = feed(Framing::Chunked, limits, &[&wire]);
        let (split, _) = feed(Framing::Chunked, limits, &pieces(&wire, &cuts));
        prop_assert_eq!(&whole, &split);
        prop_assert!(whole.consumed <= wire.len());
        if !whole.done {
            prop_assert!(decoder.eof().is_err(), "an unfinished chunked body is never complete at EOF");
        }
    }

    /// Random bytes behind a valid chunk-size prefix reach the data and trailer states.
    #[test]
    fn random_bytes_after_a_valid_start_never_panic(
        tail in prop::collection::vec(any::<u8>(), 0..100),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        for start in [&b"3\r\n"[..], b"3\r\nabc", b"0\r\n", b"0\r\nA: b\r\n", b"1;"] {
            let wire = [start, &tail].concat();
            let (whole, _) = feed(Framing::Chunked, ChunkLimits::default(), &[&wire]);
            prop_assert_eq!(whole, feed(Framing::Chunked, ChunkLimits::default(), &pieces(&wire, &cuts)).0);
        }
    }

    /// A Content-Length body takes exactly its length, whatever the split.
    #[test]
    fn content_length_bodies_take_exactly_their_length(
        length in 0u64..64,
        wire in prop::collection::vec(any::<u8>(), 0..100),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let (outcome, mut decoder) = feed(Framing::Length(length), ChunkLimits::default(), &pieces(&wire, &cuts));
        let taken = wire.len().min(length as usize);
        prop_assert_eq!(&outcome.body[..], &wire[..taken]);
        prop_assert_eq!(outcome.consumed, taken);
        prop_assert_eq!(outcome.done, wire.len() as u64 >= length);
        prop_assert_eq!(decoder.eof().is_ok(), outcome.done);
    }
}

//! The checks behind evloop's fuzz targets: one public function per target, each driving a
//! parser of `evloop::http` on arbitrary bytes and asserting what must hold whatever the bytes.
//!
//! Why it is a library of its own: the targets in `fuzz_targets/` are one line each, so what a
//! target checks is read here, in one place, and the same check can be run by hand on a saved
//! input. Every parser is reached through evloop's public API; nothing is exposed for fuzzing.
//!
//! | target            | input                               | what must hold                                   |
//! |-------------------|-------------------------------------|--------------------------------------------------|
//! | `response_head`   | limits byte, then head bytes        | [`response_head`]: heads within limits, every prefix incomplete or the same, 1xx skipped |
//! | `body_framing`    | method byte, then head + body bytes | [`body_framing`]: framing as RFC 9112 §6.3 says, the body decoded the same however split |
//! | `chunked_decoder` | limits byte, then chunked bytes     | [`chunked_decoder`]: whole = split anywhere = a reference decoder |
//! | `url`             | `base` LF `reference` (UTF-8)       | [`url`]: parse → to_string → parse is a fixed point; join's result parses |
//! | `line_reader`     | limit byte, piece sizes, then text  | [`line_reader`]: `BufReader::read_line` split anywhere = a reference split |
//! | `set_cookie`      | request URL LF `Set-Cookie` lines   | [`set_cookie`]: parsed cookies are sane; the jar keeps only the host's own; its `Cookie` header is valid |
//! | `chunk_extension` | the extensions after a chunk size   | [`chunk_extension`]: byte-at-a-time states = recursive descent = the decoder |
//! | `gzip_header`     | the start of a gzip body            | [`gzip_header`]: every prefix measures the header as the whole does |
//!
//! A panic anywhere (a failed assertion, an overflow, an index out of range) is a crash for
//! libFuzzer. The first byte of the `response_head` and `chunked_decoder` inputs picks the limits,
//! 0 meaning the defaults, so the fuzzer reaches every limit's edge with short inputs.

use evloop::http::{
    BodyDecoder, ChunkLimits, Error, Framing, HeadLimits, HeadStep, Malformed, Method, ResponseHead,
    ResponseHeadReader, Url, Version, body_framing as framing_of, connection_reusable, parse_response_head,
};

// The streams' line reader (evloop::io::BufReader), in a file of its own.
mod line_reader;
pub use line_reader::line_reader;

// Set-Cookie parsing and the cookie jar (evloop::http::cookie), in a file of its own.
mod set_cookie;
pub use set_cookie::set_cookie;

// Chunk extensions (RFC 9112 §7.1.1), in a file of its own; its reference also serves `size_line`.
mod chunk_extension;
pub use chunk_extension::chunk_extension;

// The gzip wrapper's header (evloop's `gzip` feature), in a file of its own.
mod gzip_header;
pub use gzip_header::gzip_header;

/// An error as compared across runs: its variant and fields (errors have no `PartialEq`).
fn kind(error: &Error) -> String {
    format!("{error:?}")
}

// ─── response heads ─────────────────────────────────────────────────────────────────────────

/// The head limits that the first input byte selects: bits 0–2 the header count, bits 3–5 the
/// byte budget; 0 in either is the default.
fn head_limits(config: u8) -> HeadLimits {
    const HEADERS: [usize; 8] = [HeadLimits::DEFAULT_MAX_HEADERS, 0, 1, 2, 3, 5, 8, 1000];
    const BYTES: [usize; 8] = [HeadLimits::DEFAULT_MAX_HEAD_BYTES, 1, 16, 32, 64, 100, 128, 1024];
    HeadLimits {
        max_headers: HEADERS[usize::from(config & 7)],
        max_head_bytes: BYTES[usize::from((config >> 3) & 7)],
    }
}

type Parsed = Result<Option<(ResponseHead, usize)>, String>;

/// [`parse_response_head`] with its error made comparable.
fn parse(wire: &[u8], limits: &HeadLimits) -> Parsed {
    parse_response_head(wire, limits).map_err(|e| kind(&e))
}

/// A field value decoded as `Headers` documents it: UTF-8 if it is, Latin-1 otherwise, with the
/// each obsolete line fold (and the spaces and tabs around it) turned into one space.
fn decode_value(bytes: &[u8]) -> String {
    let text: String = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    };
    if !text.contains(['\r', '\n']) {
        return text;
    }
    // An obsolete line fold becomes one SP, whatever spaces and tabs surround it (RFC 9112
    // §5.2), and a fold at either end leaves nothing: split at every CR and LF, trim each
    // piece, drop the empty ones, join what is left with single spaces.
    text.split(['\r', '\n'])
        .map(|piece| piece.trim_matches([' ', '\t']))
        .filter(|piece| !piece.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `name` is a token (RFC 9110 §5.6.2).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// What must hold of one `parse_response_head(wire)` result, checked against httparse run
/// directly with as many header slots as the bytes could need.
fn check_head(wire: &[u8], limits: &HeadLimits, parsed: &Parsed) {
    let window = &wire[..wire.len().min(limits.max_head_bytes)];
    let mut slots = vec![httparse::EMPTY_HEADER; window.len() / 3 + 2];
    let mut direct = httparse::Response::new(&mut slots);
    let mut config = httparse::ParserConfig::default();
    config.allow_obsolete_multiline_headers_in_responses(true);
    let direct_status = config.parse_response(&mut direct, window);
    // What httparse accepts within the limits, with a status in range, evloop accepts; what
    // httparse refuses, evloop refuses.
    if let Ok(httparse::Status::Complete(_)) = direct_status {
        let in_range = direct.code.is_some_and(|code| (100..=599).contains(&code));
        if in_range && direct.headers.len() <= limits.max_headers {
            assert!(
                matches!(parsed, Ok(Some(_))),
                "httparse accepts it, evloop says {parsed:?}"
            );
        }
    }
    if let Err(refusal) = direct_status {
        assert!(parsed.is_err(), "httparse says {refusal:?}, evloop {parsed:?}");
    }
    match parsed {
        Ok(Some((head, consumed))) => {
            assert!(
                *consumed > 0 && *consumed <= window.len(),
                "consumed {consumed} of {}",
                wire.len()
            );
            assert!(*consumed <= limits.max_head_bytes);
            assert!(
                head.headers.len() <= limits.max_headers,
                "{} headers",
                head.headers.len()
            );
            assert!((100..=599).contains(&head.status), "status {}", head.status);
            assert!(!head.reason.contains(['\r', '\n']), "reason {:?}", head.reason);
            // The same head as httparse's own fields, decoded line by line.
            assert_eq!(direct_status.ok(), Some(httparse::Status::Complete(*consumed)));
            let expected_version = if direct.version == Some(0) {
                Version::Http10
            } else {
                Version::Http11
            };
            assert_eq!(head.version, expected_version);
            assert_eq!(Some(head.status), direct.code);
            let fields: Vec<(&str, &str)> = head.headers.iter().collect();
            let expected: Vec<(&str, String)> =
                direct.headers.iter().map(|h| (h.name, decode_value(h.value))).collect();
            assert_eq!(fields.len(), expected.len());
            for ((name, value), (expected_name, expected_value)) in fields.iter().zip(&expected) {
                assert_eq!(name, expected_name);
                assert_eq!(value, expected_value);
                assert!(is_token(name), "name {name:?}");
                assert!(!value.contains(['\r', '\n']), "value {value:?}");
            }
        }
        Ok(None) => {
            assert!(
                window.len() < limits.max_head_bytes,
                "a full window must give a head or an error"
            );
            assert!(
                matches!(direct_status, Ok(httparse::Status::Partial)),
                "{direct_status:?}"
            );
        }
        Err(error) => {
            // A limit error only where the head really is over the limit.
            if let Ok(httparse::Status::Complete(consumed)) = direct_status {
                assert!(!error.starts_with("HeadTooLarge"), "{error} for a {consumed}-byte head");
                if direct.headers.len() <= limits.max_headers {
                    assert!(
                        !error.starts_with("TooManyHeaders"),
                        "{error} for {} headers",
                        direct.headers.len()
                    );
                }
            }
        }
    }
}

/// What a [`ResponseHeadReader`] makes of `wire`: the interim heads it skipped (with the bytes
/// each used), then the final head and where its body starts, `None` for "needs more", or the error.
type Heads = (Vec<(ResponseHead, usize)>, Parsed);

/// Runs a reader over `wire` as `conn.rs` does, dropping each interim head's bytes, and
/// checks each step.
fn read_heads(wire: &[u8], limits: HeadLimits) -> Heads {
    let mut reader = ResponseHeadReader::new(limits);
    let mut interims = Vec::new();
    let mut at = 0;
    loop {
        let rest = &wire[at..];
        let budget = reader.remaining_budget();
        assert_eq!(
            budget,
            limits.max_head_bytes - at,
            "budget left after {at} bytes of interim heads"
        );
        match reader.parse(rest) {
            Ok(HeadStep::NeedMore) => return (interims, Ok(None)),
            Ok(HeadStep::Interim { head, consumed }) => {
                assert!(consumed > 0 && consumed <= rest.len() && consumed <= budget);
                assert!(head.is_informational() && head.status != 101, "interim {}", head.status);
                at += consumed;
                interims.push((head, consumed));
            }
            Ok(HeadStep::Final { head, consumed }) => {
                assert!(consumed > 0 && consumed <= rest.len() && consumed <= budget);
                assert!((200..=599).contains(&head.status), "final {}", head.status);
                assert!(at + consumed <= limits.max_head_bytes, "all heads within one budget");
                return (interims, Ok(Some((head, at + consumed))));
            }
            Err(error) => return (interims, Err(kind(&error))),
        }
    }
}

/// The `response_head` target. The first byte picks the [`HeadLimits`] (see `head_limits`), the
/// rest is what a server sent. Checks:
///
/// * `parse_response_head` never panics; a parsed head uses at most `max_head_bytes` bytes and
///   has at most `max_headers` fields, a status in 100–599, token names and values without CR
///   or LF, and equals httparse's own parse of the same bytes (fields decoded line by line);
///   a limit error is only reported for a head over that limit;
/// * at every prefix of the bytes, the parse is "incomplete" or exactly the whole's result;
/// * a `ResponseHeadReader` skips 1xx heads (never 101) within one budget, its first step
///   agrees with `parse_response_head`, and at every prefix its steps are a prefix of the
///   whole's steps, ending in "needs more" or in the whole's own result.
pub fn response_head(data: &[u8]) {
    let Some((&config, wire)) = data.split_first() else {
        return;
    };
    let limits = head_limits(config);

    let whole = parse(wire, &limits);
    check_head(wire, &limits, &whole);
    let heads = read_heads(wire, limits);
    // The reader's first step is `parse_response_head` with the whole budget.
    match (&whole, &heads) {
        (Ok(None), (interims, outcome)) => assert!(interims.is_empty() && *outcome == Ok(None)),
        (Ok(Some((head, consumed))), (interims, outcome)) if head.is_informational() => {
            if head.status == 101 {
                assert!(interims.is_empty());
                assert_eq!(*outcome, Err("UnexpectedUpgrade { status: 101 }".to_owned()));
            } else {
                assert_eq!(interims.first(), Some(&(head.clone(), *consumed)));
            }
        }
        (Ok(Some(final_head)), (interims, outcome)) => {
            assert!(interims.is_empty());
            assert_eq!(outcome.as_ref().ok(), Some(&Some(final_head.clone())));
        }
        (Err(error), (interims, outcome)) => {
            assert!(interims.is_empty());
            assert_eq!(outcome.as_ref().err(), Some(error));
        }
    }

    for end in 0..wire.len() {
        let part = parse(&wire[..end], &limits);
        if part != Ok(None) {
            assert_eq!(part, whole, "the prefix of {end} bytes");
        }
        let (part_interims, part_outcome) = read_heads(&wire[..end], limits);
        let (interims, outcome) = &heads;
        assert!(part_interims.len() <= interims.len(), "the prefix of {end} bytes");
        assert_eq!(
            part_interims[..],
            interims[..part_interims.len()],
            "the prefix of {end} bytes"
        );
        if part_outcome != Ok(None) {
            assert_eq!(
                (&part_interims, &part_outcome),
                (interims, outcome),
                "the prefix of {end} bytes"
            );
        }
    }
}

// ─── body framing ───────────────────────────────────────────────────────────────────────────

/// The request methods the first byte of a `body_framing` input picks from.
fn method(config: u8) -> Method {
    let methods = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::CONNECT,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
    ];
    methods.get(usize::from(config % 8)).cloned().unwrap_or(Method::PATCH)
}

/// The values of every field named `name`, found by a scan of our own rather than `Headers`'.
fn values<'a>(head: &'a ResponseHead, name: &str) -> Vec<&'a str> {
    head.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .collect()
}

/// RFC 9110 §5.6.1 list elements of every line of `name`: split on commas, OWS trimmed.
fn elements<'a>(head: &'a ResponseHead, name: &str) -> Vec<&'a str> {
    values(head, name)
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(|e| e.trim_matches([' ', '\t']))
        .collect()
}

/// The framing `framing/mod.rs` documents (RFC 9112 §6.3 in order), written out independently.
fn expected_framing(method: &Method, head: &ResponseHead) -> Result<Framing, Error> {
    let status = head.status;
    if *method == Method::HEAD || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    if *method == Method::CONNECT && (200..300).contains(&status) {
        return Err(Error::UnexpectedUpgrade { status });
    }
    let has_te = !values(head, "transfer-encoding").is_empty();
    let has_cl = !values(head, "content-length").is_empty();
    if has_te && has_cl {
        return Err(Error::Malformed(Malformed::TransferEncodingWithContentLength));
    }
    if has_te {
        if head.version == Version::Http10 {
            return Err(Error::Malformed(Malformed::TransferEncodingInHttp10));
        }
        let codings: Vec<&str> = elements(head, "transfer-encoding")
            .into_iter()
            .filter(|e| !e.is_empty())
            .collect();
        return match codings[..] {
            [only] if only.eq_ignore_ascii_case("chunked") => Ok(Framing::Chunked),
            _ => Err(Error::Malformed(Malformed::UnsupportedTransferCoding)),
        };
    }
    if has_cl {
        let mut agreed: Option<u64> = None;
        for element in elements(head, "content-length") {
            if element.is_empty() || !element.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::Malformed(Malformed::ContentLength));
            }
            let digits = element.trim_start_matches('0');
            let length = if digits.len() > 20 {
                None
            } else {
                format!("0{digits}").parse::<u64>().ok()
            };
            let Some(length) = length else {
                return Err(Error::Malformed(Malformed::ContentLengthOverflow));
            };
            if agreed.is_some_and(|previous| previous != length) {
                return Err(Error::Malformed(Malformed::ConflictingContentLength));
            }
            agreed = Some(length);
        }
        return Ok(Framing::Length(agreed.expect("at least one element")));
    }
    Ok(Framing::UntilClose)
}

/// RFC 9112 §9.3 as `connection_reusable` documents it.
fn expected_reusable(head: &ResponseHead, framing: Framing) -> bool {
    let connection = elements(head, "connection");
    let says = |token: &str| connection.iter().any(|e| e.eq_ignore_ascii_case(token));
    framing != Framing::UntilClose
        && !says("close")
        && match head.version {
            Version::Http11 => true,
            Version::Http10 => says("keep-alive"),
        }
}

/// The `body_framing` target. The first byte picks the request method, the rest is a response:
/// a head (default limits), then body bytes. Checks that `body_framing` and
/// `connection_reusable` decide as RFC 9112 §6.3 and §9.3 say (an independent rendering of
/// `framing/mod.rs`'s rules), and that the body decoder, fed the bytes after the head whole, one
/// byte at a time or split in two anywhere, gives the same bytes, end and error, which for each
/// framing are: nothing (`Empty`), exactly `n` bytes or `Truncated` (`Length(n)`), everything
/// (`UntilClose`), or the chunked checks of [`chunked_decoder`].
pub fn body_framing(data: &[u8]) {
    let Some((&config, wire)) = data.split_first() else {
        return;
    };
    let method = method(config);
    let Ok(Some((head, consumed))) = parse_response_head(wire, &HeadLimits::default()) else {
        return;
    };
    let decided = framing_of(&method, &head);
    assert_eq!(
        kind_of(&decided),
        kind_of(&expected_framing(&method, &head)),
        "{method} {head:?}"
    );
    let Ok(framing) = decided else { return };
    assert_eq!(
        connection_reusable(&head, framing),
        expected_reusable(&head, framing),
        "{head:?}"
    );

    let body = &wire[consumed..];
    let outcome = decode_every_way(framing, ChunkLimits::default(), body);
    match framing {
        Framing::Empty => {
            assert!(outcome.done && outcome.result == Ok(0) && outcome.out.is_empty() && outcome.eof.is_ok());
        }
        Framing::Length(n) => match usize::try_from(n) {
            Ok(n) if n <= body.len() => {
                assert!(outcome.done && outcome.eof.is_ok());
                assert_eq!((outcome.result, &outcome.out[..]), (Ok(n), &body[..n]));
            }
            _ => {
                assert!(!outcome.done);
                assert_eq!((outcome.result, &outcome.out[..]), (Ok(body.len()), body));
                assert!(
                    outcome.eof.as_ref().is_err_and(|e| e.starts_with("Truncated")),
                    "{:?}",
                    outcome.eof
                );
            }
        },
        Framing::UntilClose => {
            assert!(!outcome.done && outcome.eof.is_ok());
            assert_eq!((outcome.result, &outcome.out[..]), (Ok(body.len()), body));
        }
        Framing::Chunked => check_chunked(body, ChunkLimits::default(), &outcome),
    }
}

fn kind_of(result: &Result<Framing, Error>) -> Result<Framing, String> {
    result.as_ref().copied().map_err(kind)
}

// ─── the body decoder ───────────────────────────────────────────────────────────────────────

/// Everything a decoder run shows: the body bytes, the input bytes used (or the error), whether
/// the body is complete, its trailers, and what `eof` then says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    out: Vec<u8>,
    result: Result<usize, String>,
    done: bool,
    trailers: Vec<(String, String)>,
    eof: Result<(), String>,
}

/// Feeds `pieces` in order to a fresh decoder, checking each call's contract: it uses at most
/// the piece, stops short only once done, uses nothing once done, counts what it produced, and
/// after an error repeats it (to `decode` and to `eof`).
fn feed<'a>(framing: Framing, limits: ChunkLimits, pieces: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut decoder = BodyDecoder::with_limits(framing, limits);
    let mut out = Vec::new();
    let mut result = Ok(0);
    for piece in pieces {
        let was_done = decoder.is_done();
        match decoder.decode(piece, &mut out) {
            Ok(used) => {
                assert!(used <= piece.len());
                assert!(
                    used == piece.len() || decoder.is_done(),
                    "stopped at {used} of {} before the end",
                    piece.len()
                );
                assert!(!was_done || used == 0, "used {used} bytes after the end");
                result = result.map(|total| total + used);
            }
            Err(error) => {
                let error = kind(&error);
                let again = decoder.decode(b"0\r\n\r\n", &mut Vec::new()).map_err(|e| kind(&e));
                assert_eq!(again, Err(error.clone()), "a failed decoder repeats its error");
                result = Err(error);
                break;
            }
        }
        assert_eq!(decoder.decoded_len(), out.len() as u64);
    }
    let done = decoder.is_done();
    let trailers = decoder
        .trailers()
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    let eof = decoder.eof().map_err(|e| kind(&e));
    if let Err(error) = &result {
        assert_eq!(eof.as_ref().err(), Some(error), "eof repeats the decoder's error");
    }
    if eof.is_ok() {
        assert!(decoder.is_done(), "a body that eof accepted is complete");
    }
    Outcome {
        out,
        result,
        done,
        trailers,
        eof,
    }
}

/// A small deterministic generator, seeded by the input, for split points "at random".
struct Splits(u64);

impl Splits {
    fn new(bytes: &[u8]) -> Splits {
        // FNV-1a of the input: the same input always gives the same splits.
        Splits(
            bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            }) | 1,
        )
    }

    fn next(&mut self, below: usize) -> usize {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as usize % below.max(1)
    }
}

/// Decodes `body` whole, then one byte at a time, split in two at every point, and split at
/// a few sets of points drawn from the input (empty pieces included): every run must have the
/// same [`Outcome`]. Returns it.
fn decode_every_way(framing: Framing, limits: ChunkLimits, body: &[u8]) -> Outcome {
    let whole = feed(framing, limits, [body]);
    assert_eq!(feed(framing, limits, body.chunks(1)), whole, "fed one byte at a time");
    for at in 0..=body.len() {
        let (head, tail) = body.split_at(at);
        assert_eq!(feed(framing, limits, [head, tail]), whole, "split at {at}");
    }
    let mut splits = Splits::new(body);
    for _ in 0..4 {
        let mut cuts: Vec<usize> = (0..1 + splits.next(8)).map(|_| splits.next(body.len() + 1)).collect();
        cuts.sort_unstable();
        let mut pieces = Vec::new();
        let mut start = 0;
        for cut in cuts.into_iter().chain([body.len()]) {
            pieces.push(&body[start..cut]);
            start = cut;
        }
        assert_eq!(
            feed(framing, limits, pieces.iter().copied()),
            whole,
            "split into {pieces:?}"
        );
    }
    whole
}

/// The chunk limits that the first input byte selects: bits 0–2 the size-line length, bits 3–4
/// the trailer count, bits 5–7 the trailer bytes; 0 in each is the default.
fn chunk_limits(config: u8) -> ChunkLimits {
    const LINE: [usize; 8] = [4 * 1024, 1, 2, 3, 4, 8, 16, 64];
    const FIELDS: [usize; 4] = [100, 0, 1, 2];
    const BYTES: [usize; 8] = [16 * 1024, 1, 2, 5, 8, 16, 32, 100];
    ChunkLimits {
        max_line_bytes: LINE[usize::from(config & 7)],
        max_trailer_fields: FIELDS[usize::from((config >> 3) & 3)],
        max_trailer_bytes: BYTES[usize::from(config >> 5)],
    }
}

/// What a reference decoder makes of a chunked body.
#[derive(Debug, PartialEq, Eq)]
enum Reference {
    /// A complete body: the bytes it used, its data and its trailers.
    Done(usize, Vec<u8>, Vec<(String, String)>),
    /// Valid so far, not complete.
    Incomplete,
    /// Breaks RFC 9112 §7.1 or a limit.
    Invalid,
}

/// Whether `line` (LF included) is a whole chunk-size line: `1*HEXDIG [ chunk-ext ] CRLF`,
/// where the extensions follow RFC 9112 §7.1.1 (`chunk_extension::reference`), and the size
/// fits 64 bits.
fn size_line(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\r\n")?;
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let (hex, rest) = line.split_at(digits);
    if hex.is_empty() {
        return None;
    }
    if !rest.is_empty() {
        if !chunk_extension::reference(rest) {
            return None;
        }
    }
    let significant = std::str::from_utf8(hex).ok()?.trim_start_matches('0');
    if significant.len() > 16 {
        return None;
    }
    Some(if significant.is_empty() {
        0
    } else {
        u64::from_str_radix(significant, 16).ok()?
    })
}

/// RFC 9112 §7.1 over a buffer, line by line (a different shape from the decoder's byte-driven
/// states): size lines, data, CRLF, the trailer section and its limits.
fn reference_chunked(input: &[u8], limits: &ChunkLimits) -> Reference {
    let mut pos = 0;
    let mut out = Vec::new();
    loop {
        // A chunk-size line.
        let rest = &input[pos..];
        let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
            // Unfinished: valid only if some ending makes it a whole line. Under RFC 9112
            // §7.1.1 these endings complete every valid prefix: nothing (after a size, a name,
            // a value), a name or value (after `;` or `=`), `;` and a name (after whitespace),
            // a closing quote (inside a quoted string), a byte and the quote (after `\`).
            let completable = rest.is_empty()
                || [&b"\r\n"[..], b"a\r\n", b";a\r\n", b"\"\r\n", b"a\"\r\n"]
                    .iter()
                    .any(|end| size_line(&[rest, end].concat()).is_some())
                || (rest.ends_with(b"\r") && size_line(&[rest, b"\n"].concat()).is_some());
            return if completable && rest.len() <= limits.max_line_bytes {
                Reference::Incomplete
            } else {
                Reference::Invalid
            };
        };
        let line = &rest[..=lf];
        let Some(size) = size_line(line).filter(|_| line.len() <= limits.max_line_bytes) else {
            return Reference::Invalid;
        };
        pos += line.len();
        if size == 0 {
            break;
        }
        // Its data, then CRLF.
        let rest = &input[pos..];
        let Some(data) = usize::try_from(size).ok().and_then(|size| rest.get(..size)) else {
            return Reference::Incomplete;
        };
        out.extend_from_slice(data);
        pos += data.len();
        let after = &input[pos..];
        if !b"\r\n".starts_with(&after[..after.len().min(2)]) {
            return Reference::Invalid;
        }
        if after.len() < 2 {
            return Reference::Incomplete;
        }
        pos += 2;
    }
    // The trailer section, up to an empty line.
    let start = pos;
    let mut trailers = Vec::new();
    loop {
        let rest = &input[pos..];
        let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
            let completable = match rest {
                [] | [b'\r'] => true,
                [b' ' | b'\t', ..] => false,
                _ => !rest[..rest.len() - 1].contains(&b'\r'),
            };
            return if completable && input.len() - start <= limits.max_trailer_bytes {
                Reference::Incomplete
            } else {
                Reference::Invalid
            };
        };
        let line = &rest[..=lf];
        pos += line.len();
        if pos - start > limits.max_trailer_bytes {
            return Reference::Invalid;
        }
        let Some(field) = line.strip_suffix(b"\r\n").filter(|f| !f.contains(&b'\r')) else {
            return Reference::Invalid;
        };
        if field.is_empty() {
            return Reference::Done(pos, out, trailers);
        }
        let Some(colon) = field.iter().position(|&b| b == b':') else {
            return Reference::Invalid;
        };
        let name = std::str::from_utf8(&field[..colon]).ok().filter(|n| is_token(n));
        let mut value = &field[colon + 1..];
        while let [b' ' | b'\t', rest @ ..] = value {
            value = rest;
        }
        while let [rest @ .., b' ' | b'\t'] = value {
            value = rest;
        }
        let (Some(name), true) = (name, value.iter().all(|&b| (b >= 0x20 || b == b'\t') && b != 0x7f)) else {
            return Reference::Invalid;
        };
        if trailers.len() >= limits.max_trailer_fields || field[0] == b' ' || field[0] == b'\t' {
            return Reference::Invalid;
        }
        trailers.push((name.to_owned(), decode_value(value)));
    }
}

/// The chunked checks on one decoded body (whole and split runs already agree): the decoder
/// agrees with [`reference_chunked`]; a complete body decodes the same from exactly its own
/// bytes, and every cut before its end is `Truncated` at `eof`, never a short success.
fn check_chunked(body: &[u8], limits: ChunkLimits, outcome: &Outcome) {
    match reference_chunked(body, &limits) {
        Reference::Done(used, out, trailers) => {
            assert!(outcome.done, "the reference found a complete body: {outcome:?}");
            assert_eq!(
                (outcome.result.clone(), &outcome.out, &outcome.trailers),
                (Ok(used), &out, &trailers)
            );
            assert!(outcome.eof.is_ok());
        }
        Reference::Incomplete => {
            assert!(
                !outcome.done && outcome.result == Ok(body.len()),
                "the reference wants more: {outcome:?}"
            );
            assert!(
                outcome.eof.as_ref().is_err_and(|e| e.starts_with("Truncated")),
                "{:?}",
                outcome.eof
            );
        }
        Reference::Invalid => assert!(outcome.result.is_err(), "the reference refused it: {outcome:?}"),
    }
    assert!(outcome.trailers.len() <= limits.max_trailer_fields);
    for (name, value) in &outcome.trailers {
        assert!(
            is_token(name) && !value.contains(['\r', '\n']),
            "trailer {name:?}: {value:?}"
        );
    }
    if let (true, Ok(used)) = (outcome.done, &outcome.result) {
        let own = feed(Framing::Chunked, limits, [&body[..*used]]);
        assert_eq!(
            (own.done, &own.out, &own.trailers),
            (true, &outcome.out, &outcome.trailers)
        );
        let mut splits = Splits::new(body);
        for _ in 0..4 {
            let cut = feed(Framing::Chunked, limits, [&body[..splits.next(*used)]]);
            assert!(
                cut.eof.is_err_and(|e| e.starts_with("Truncated")),
                "cut short but accepted"
            );
        }
    }
}

/// The `chunked_decoder` target. The first byte picks the [`ChunkLimits`] (see `chunk_limits`),
/// the rest is a chunked body. Checks that decoding it whole, one byte at a time, split in two
/// at every byte and split at points drawn from the input all give the same body bytes,
/// trailers, end and error (and each `decode` call keeps its contract: see `feed`), that this
/// agrees with an independent line-by-line decoder, that trailers are within the limits, and
/// that a complete body cut anywhere short of its end is `Truncated`.
pub fn chunked_decoder(data: &[u8]) {
    let Some((&config, body)) = data.split_first() else {
        return;
    };
    let limits = chunk_limits(config);
    let outcome = decode_every_way(Framing::Chunked, limits, body);
    check_chunked(body, limits, &outcome);
}

// ─── URLs ───────────────────────────────────────────────────────────────────────────────────

/// What must hold of every URL that parsed or was joined: its `Display` parses back to it (the
/// password aside, which `Display` masks as `***`) and is then a fixed point; its request
/// target and `Host` header are safe to put on the wire; its path has no dot segment; and
/// resolving its own request target, or an empty reference, gives it back.
fn check_url(url: &Url) {
    let shown = url.to_string();
    let again = Url::parse(&shown).unwrap_or_else(|e| panic!("{shown:?} does not parse: {e}"));
    assert_eq!(
        (again.host(), again.port(), again.path(), again.query()),
        (url.host(), url.port(), url.path(), url.query()),
        "{shown:?}"
    );
    match (url.credentials(), again.credentials()) {
        (None, None) => {}
        (Some(original), Some(shown_back)) => {
            assert_eq!(original.username(), shown_back.username());
            assert_eq!(shown_back.password(), original.password().map(|_| "***"));
        }
        (original, shown_back) => panic!("credentials {original:?} shown as {shown_back:?}"),
    }
    assert_eq!(again.to_string(), shown, "Display is a fixed point");
    assert_eq!(Url::parse(&again.to_string()).ok().as_ref(), Some(&again));
    assert_eq!(
        url.join(&shown).ok().as_ref(),
        Some(&again),
        "joining an absolute URL is parsing it"
    );

    let target = url.request_target();
    assert!(target.starts_with('/'), "{target:?}");
    assert!(target.bytes().all(|b| b.is_ascii_graphic() && b != b'#'), "{target:?}");
    assert!(!url.path().contains('?') && !url.query().is_some_and(|q| q.contains('#')));
    let host = url.host_header();
    assert!(
        !host.is_empty() && host.bytes().all(|b| b.is_ascii_graphic()),
        "{host:?}"
    );
    let port = if url.port() == 80 {
        String::new()
    } else {
        format!(":{}", url.port())
    };
    assert_eq!(
        host,
        format!("{}{port}", url.host()),
        "the Host header is the host as shown, and the port unless 80"
    );
    assert!(
        !url.path().split('/').any(|s| s == "." || s == ".."),
        "{:?}",
        url.path()
    );
    if let Some(credentials) = url.credentials() {
        assert!(!credentials.username().contains(':'));
    }
    assert!(url.without_credentials().credentials().is_none());

    if !target.starts_with("//") {
        // (A target starting `//` is a network-path reference: it names a host, RFC 3986 §4.2.)
        assert_eq!(url.join(&target).ok().as_ref(), Some(url), "{target:?}");
    }
    assert_eq!(url.join("").ok().as_ref(), Some(url));
    assert_eq!(url.join("#fragment").ok().as_ref(), Some(url));
}

/// The `url` target. The input is UTF-8 text, `base` or `base` LF `reference`. Checks that
/// `Url::parse` never panics and that what it parses passes `check_url`; that `join` against
/// the base (or, when the base does not parse, a fixed one with credentials) never panics and
/// what it returns passes `check_url` too, keeping the base's origin and credentials unless
/// the reference names an authority, and equal to `Url::parse` for an absolute reference; and
/// that `with_query_pairs` encodes any text into a query that survives the round trip.
pub fn url(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (base_text, reference) = text.split_once('\n').unwrap_or((text, text));
    let base = match Url::parse(base_text) {
        Ok(base) => {
            check_url(&base);
            base
        }
        Err(_) => Url::parse("http://user:secret@example.com:8080/a/b/c?q=1").expect("the fixed base parses"),
    };

    let Ok(joined) = base.join(reference) else { return };
    check_url(&joined);
    if let Ok(absolute) = Url::parse(reference) {
        assert_eq!(joined, absolute, "{reference:?}");
    } else if !reference.starts_with("//") {
        assert_eq!(joined.origin(), base.origin(), "{reference:?}");
        assert_eq!(joined.credentials(), base.credentials(), "{reference:?}");
    }

    let (key, value) = reference.split_once('=').unwrap_or((reference, base_text));
    let with_pair = base.with_query_pairs(&[(key, value)]).expect("query pairs never fail");
    check_url(&with_pair);
    let query = with_pair.query().expect("a query");
    assert!(query.ends_with(&format!("={}", encode_unreserved(value))), "{query:?}");
}

/// `text` with every byte but RFC 3986's unreserved ones as `%HH`.
fn encode_unreserved(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

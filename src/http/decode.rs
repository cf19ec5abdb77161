//! Content codings: a gzip or deflate body inflated as it is read (the `gzip` feature).
//!
//! Why it exists: most servers compress text when the client says `Accept-Encoding: gzip`,
//! and a client that asks (`ClientConfig::decompress`) must undo it. Read first: RFC 9110 §8.4 (content codings), RFC 1952
//! (the gzip wrapper), RFC 1950 (zlib) and RFC 1951 (deflate itself); then `body.rs`, which
//! feeds this decoder the bytes the framing decoder produced. The inflating is `flate2`'s
//! (over the pure-Rust `miniz_oxide`); the gzip wrapper is parsed here, so that every step
//! takes exactly the input it can use and produces a bounded amount of output.
//!
//! ```text
//! socket ─► BodyDecoder (framing: length, chunked) ─► ContentDecoder ─► chunk()/bytes()
//!            encoded bytes, counted against max_body    at most STEP decoded bytes per call
//! ```
//!
//! **The bomb rule.** A few KiB of deflate can inflate to gigabytes, so no call produces more
//! than [`STEP`] bytes: the encoded bytes not yet inflated wait in the decoder, and `bytes()`
//! checks the decoded length against `max_body` after every step. A bomb therefore stops at
//! `max_body + STEP` bytes of memory, however little of it arrived on the wire.
//!
//! **What is decoded** (`Content-Encoding`, case-insensitive, `identity` ignored):
//!
//! | coding            | what is done                                                          |
//! |-------------------|-----------------------------------------------------------------------|
//! | `gzip`, `x-gzip`  | RFC 1952: header checked, CRC-32 and length checked; members may follow one another |
//! | `deflate`         | RFC 9110 §8.4.1.2 says zlib (RFC 1950); a body whose first two bytes are no zlib header is taken as raw deflate, as curl and browsers do for servers that get this wrong |
//! | anything else, or several codings | passed through undecoded, headers untouched (what aiohttp and reqwest do) |
//!
//! A body that is not what its coding says fails with [`Error::ContentDecoding`]; an empty body
//! is an empty body whatever its coding (HEAD-like answers carry the header and no bytes).
//! A decoded response drops `Content-Encoding` and `Content-Length` from its headers, as
//! reqwest does: both describe bytes the caller never sees.

use flate2::{Crc, Decompress, FlushDecompress, Status};

use crate::http::error::Error;
use crate::http::headers::Headers;

/// Most decoded bytes one [`ContentDecoder::step`] produces: 32 KiB, twice a socket read, so a
/// normal body needs few steps while a bomb never gets more than this past the body limit.
pub(crate) const STEP: usize = 32 * 1024;

/// Longest gzip header accepted (its optional name, comment and extra field included): real
/// ones are 10 to a few hundred bytes, and the bytes wait in memory until the header ends.
const MAX_GZIP_HEADER: usize = 64 * 1024;

/// Which wrapper is around the deflate data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    /// RFC 1952, checked by this module.
    Gzip,
    /// `deflate`: zlib or raw, decided by the first two bytes.
    Deflate,
}

/// Where the decoder is in the encoded stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for a whole gzip header (or, for deflate, the two bytes that tell zlib from raw).
    Header,
    /// Inflating.
    Data,
    /// Waiting for the 8-byte gzip trailer: CRC-32 and length, little-endian.
    Trailer,
    /// The stream ended; more bytes may only start a new gzip member.
    Ended,
    /// `finish` found the stream complete.
    Finished,
}

/// Inflates one response body, step by step. See the module docs.
pub(crate) struct ContentDecoder {
    coding: Coding,
    stage: Stage,
    /// The inflater; rebuilt for each gzip member, and for deflate once zlib or raw is known.
    inflate: Decompress,
    /// CRC-32 and length of the current gzip member's decoded bytes, for its trailer.
    crc: Crc,
    /// Encoded bytes received and not yet used.
    /// # Invariant
    /// Bounded by one socket read plus `MAX_GZIP_HEADER`: `body.rs` adds input only once `step`
    /// has used up what it could.
    pending: Vec<u8>,
    /// Whether the last `step` stopped at [`STEP`] bytes of output (more may be waiting).
    full: bool,
    /// Whether any encoded byte arrived (an empty body decodes to nothing, whatever its coding).
    any_input: bool,
}

impl ContentDecoder {
    /// The decoder that `headers`' `Content-Encoding` asks for, or `None` for a body to pass
    /// through as it is (no coding, `identity`, an unknown coding or several).
    pub(crate) fn for_headers(headers: &Headers) -> Option<ContentDecoder> {
        let mut codings = headers
            .list("content-encoding")
            .filter(|c| !c.eq_ignore_ascii_case("identity"));
        let coding = match (codings.next(), codings.next()) {
            (Some(c), None) if c.eq_ignore_ascii_case("gzip") || c.eq_ignore_ascii_case("x-gzip") => Coding::Gzip,
            (Some(c), None) if c.eq_ignore_ascii_case("deflate") => Coding::Deflate,
            _ => return None,
        };
        Some(ContentDecoder {
            coding,
            stage: Stage::Header,
            inflate: Decompress::new(false),
            crc: Crc::new(),
            pending: Vec::new(),
            full: false,
            any_input: false,
        })
    }

    /// The coding's name, for errors.
    fn name(&self) -> &'static str {
        match self.coding {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        }
    }

    fn fail(&self, reason: &'static str) -> Error {
        Error::ContentDecoding {
            coding: self.name(),
            reason,
        }
    }

    /// Whether the last step stopped for lack of room, with decoded bytes possibly still to
    /// come: call `step` again before feeding more.
    pub(crate) fn is_full(&self) -> bool {
        self.full
    }

    /// Whether [`finish`](Self::finish) found the stream complete.
    pub(crate) fn is_finished(&self) -> bool {
        self.stage == Stage::Finished
    }

    /// The buffer encoded bytes are appended to (taken out and put back by `body.rs`).
    pub(crate) fn input(&mut self) -> &mut Vec<u8> {
        &mut self.pending
    }

    /// Uses as much pending input as it can, appending at most [`STEP`] decoded bytes to `out`.
    ///
    /// # Errors
    /// [`Error::ContentDecoding`] if the bytes are not valid for the coding.
    pub(crate) fn step(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        self.any_input |= !self.pending.is_empty();
        self.full = false;
        let mut used = 0;
        let pending = std::mem::take(&mut self.pending);
        let result = self.run(&pending, &mut used, out);
        self.pending = pending;
        self.pending.drain(..used);
        result
    }

    /// The work of `step` over `pending`, counting in `used` the bytes it took.
    fn run(&mut self, pending: &[u8], used: &mut usize, out: &mut Vec<u8>) -> Result<(), Error> {
        let mut room = STEP;
        loop {
            let input = &pending[*used..];
            match self.stage {
                Stage::Header => {
                    let Some(len) = self.header(input)? else {
                        return Ok(());
                    };
                    *used += len;
                    self.stage = Stage::Data;
                }
                Stage::Data => {
                    // Full: the inflater may hold decoded bytes even once every input byte is
                    // used, so the caller must step again, with or without new input.
                    if room == 0 {
                        self.full = true;
                        return Ok(());
                    }
                    let (before_in, before_out) = (self.inflate.total_in(), self.inflate.total_out());
                    let start = out.len();
                    out.resize(start + room, 0);
                    let status = self.inflate.decompress(input, &mut out[start..], FlushDecompress::None);
                    let made = (self.inflate.total_out() - before_out) as usize;
                    out.truncate(start + made);
                    *used += (self.inflate.total_in() - before_in) as usize;
                    room -= made;
                    self.crc.update(&out[start..]);
                    match status {
                        Ok(Status::StreamEnd) if self.coding == Coding::Gzip => self.stage = Stage::Trailer,
                        Ok(Status::StreamEnd) => self.stage = Stage::Ended,
                        Ok(_) if made == 0 && self.inflate.total_in() == before_in => return Ok(()),
                        Ok(_) => {}
                        Err(_) => return Err(self.fail("the compressed data is corrupt")),
                    }
                }
                Stage::Trailer => {
                    let Some(trailer) = input.get(..8) else {
                        return Ok(());
                    };
                    let crc = u32::from_le_bytes(trailer[..4].try_into().expect("4 bytes"));
                    let size = u32::from_le_bytes(trailer[4..].try_into().expect("4 bytes"));
                    if crc != self.crc.sum() || size != self.crc.amount() {
                        return Err(self.fail("the CRC-32 or length in the gzip trailer does not match the data"));
                    }
                    *used += 8;
                    self.stage = Stage::Ended;
                }
                Stage::Ended | Stage::Finished if input.is_empty() => return Ok(()),
                Stage::Ended | Stage::Finished if self.coding == Coding::Gzip => {
                    // Another gzip member (RFC 1952 §2.2): decoded and appended like the first.
                    self.inflate = Decompress::new(false);
                    self.crc = Crc::new();
                    self.stage = Stage::Header;
                }
                Stage::Ended | Stage::Finished => return Err(self.fail("bytes follow the end of the deflate stream")),
            }
        }
    }

    /// Reads the wrapper before the deflate data: `Some(length)` once it is complete.
    fn header(&mut self, input: &[u8]) -> Result<Option<usize>, Error> {
        match self.coding {
            Coding::Gzip => gzip_header_len(input).map_err(|reason| self.fail(reason)),
            Coding::Deflate => {
                let [cmf, flg, ..] = *input else {
                    return Ok(None);
                };
                // RFC 1950 §2.2: method 8, a window of at most 32 KiB, a header divisible by 31.
                let zlib = cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0;
                self.inflate = Decompress::new(zlib);
                Ok(Some(0))
            }
        }
    }

    /// The body ended: the stream must have ended too.
    ///
    /// # Errors
    /// [`Error::ContentDecoding`] for a stream cut short (input left, or a stage unfinished).
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        match self.stage {
            Stage::Ended | Stage::Finished => {}
            Stage::Header if !self.any_input && self.pending.is_empty() => {}
            _ => return Err(self.fail("the body ended before the compressed stream did")),
        }
        self.stage = Stage::Finished;
        Ok(())
    }
}

/// The length of the gzip header at the start of `input` (RFC 1952 §2.3), `Ok(None)` if it is
/// not complete yet.
///
/// ```text
/// +---+---+---+---+---+---+---+---+---+---+
/// |ID1|ID2|CM |FLG|     MTIME     |XFL|OS |   1f 8b 08, then flags
/// +---+---+---+---+---+---+---+---+---+---+
/// FEXTRA (4): XLEN (2, little-endian) + XLEN bytes    FNAME (8): bytes up to a zero
/// FCOMMENT (16): bytes up to a zero                   FHCRC (2): 2 bytes
/// ```
///
/// # Errors
/// A sentence for [`Error::ContentDecoding`]: not gzip, an unknown method or reserved flag, or a
/// header longer than 64 KiB.
pub fn gzip_header_len(input: &[u8]) -> Result<Option<usize>, &'static str> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    let too_long = |at: usize| at > MAX_GZIP_HEADER;
    match input {
        [a, ..] if *a != 0x1f => return Err("the body does not start with gzip's magic bytes"),
        [_, b, ..] if *b != 0x8b => return Err("the body does not start with gzip's magic bytes"),
        [_, _, cm, ..] if *cm != 8 => return Err("the gzip header names a compression method other than deflate"),
        [_, _, _, flg, ..] if flg & 0xe0 != 0 => return Err("the gzip header sets reserved flags"),
        _ if input.len() < 10 => return Ok(None),
        _ => {}
    }
    let flags = input[3];
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let Some(xlen) = input.get(at..at + 2) else {
            return Ok(None);
        };
        at += 2 + usize::from(u16::from_le_bytes([xlen[0], xlen[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            match input.get(at..).and_then(|rest| rest.iter().position(|&b| b == 0)) {
                Some(zero) => at += zero + 1,
                None if too_long(input.len()) => return Err("the gzip header is longer than 64 KiB"),
                None => return Ok(None),
            }
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    if too_long(at) {
        return Err("the gzip header is longer than 64 KiB");
    }
    Ok((input.len() >= at).then_some(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).expect("in memory");
        encoder.finish().expect("in memory")
    }

    fn decoder(coding: &str) -> ContentDecoder {
        let headers: Headers = [("Content-Encoding", coding)].into_iter().collect();
        ContentDecoder::for_headers(&headers).expect("a known coding")
    }

    /// Feeds `wire` in pieces of `piece` bytes, stepping until each piece is used up.
    fn decode(coding: &str, wire: &[u8], piece: usize) -> Result<Vec<u8>, Error> {
        let mut decoder = decoder(coding);
        let mut out = Vec::new();
        for part in wire.chunks(piece.max(1)) {
            decoder.input().extend_from_slice(part);
            decoder.step(&mut out)?;
            while decoder.is_full() {
                decoder.step(&mut out)?;
            }
        }
        decoder.finish()?;
        Ok(out)
    }

    #[test]
    fn gzip_decodes_the_same_however_the_bytes_are_split() {
        let text: Vec<u8> = (0..100_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        let wire = gzip(&text);
        for piece in [1, 7, 100, 4096, wire.len()] {
            assert_eq!(
                decode("gzip", &wire, piece).expect("valid gzip"),
                text,
                "pieces of {piece}"
            );
        }
    }

    #[test]
    fn deflate_is_zlib_or_else_raw() {
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), Compression::fast());
        zlib.write_all(b"zlib-wrapped").expect("in memory");
        assert_eq!(
            decode("deflate", &zlib.finish().expect("in memory"), 3).unwrap(),
            b"zlib-wrapped"
        );
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), Compression::fast());
        raw.write_all(b"raw deflate").expect("in memory");
        assert_eq!(
            decode("Deflate", &raw.finish().expect("in memory"), 3).unwrap(),
            b"raw deflate"
        );
    }

    #[test]
    fn concatenated_gzip_members_decode_one_after_the_other() {
        let wire = [gzip(b"first "), gzip(b"second")].concat();
        assert_eq!(decode("x-gzip", &wire, 5).unwrap(), b"first second");
    }

    #[test]
    fn bad_gzip_fails_with_a_reason() {
        let reason = |wire: &[u8]| match decode("gzip", wire, 64) {
            Err(Error::ContentDecoding { coding: "gzip", reason }) => reason,
            other => panic!("{other:?}"),
        };
        assert!(reason(b"plain text").contains("magic"));
        let mut wire = gzip(b"hello");
        let crc = wire.len() - 8;
        wire[crc] ^= 1;
        assert!(reason(&wire).contains("CRC-32"));
        let whole = gzip(b"hello world");
        assert!(reason(&whole[..whole.len() - 3]).contains("ended before"));
        let mut corrupt = gzip(b"hello world");
        corrupt[10] = 0xff; // the first deflate block header: a reserved block type
        assert!(reason(&corrupt).contains("corrupt"));
    }

    #[test]
    fn an_empty_body_is_empty_whatever_its_coding() {
        assert_eq!(decode("gzip", b"", 1).unwrap(), b"");
        assert_eq!(decode("deflate", b"", 1).unwrap(), b"");
    }

    #[test]
    fn no_step_makes_more_than_step_bytes_of_a_bomb() {
        let wire = gzip(&vec![0u8; 10 * STEP]);
        assert!(wire.len() < 1024, "{} bytes", wire.len());
        let mut decoder = decoder("gzip");
        decoder.input().extend_from_slice(&wire);
        let mut out = Vec::new();
        let mut steps = 0;
        loop {
            let before = out.len();
            decoder.step(&mut out).unwrap();
            assert!(out.len() - before <= STEP);
            steps += 1;
            if !decoder.is_full() {
                break;
            }
        }
        assert_eq!(out.len(), 10 * STEP);
        assert!((10..=11).contains(&steps), "{steps} steps");
        decoder.finish().unwrap();
    }

    #[test]
    fn unknown_identity_and_stacked_codings_are_passed_through() {
        for coding in ["br", "identity", "gzip, br", "gzip, gzip", "compress"] {
            let headers: Headers = [("Content-Encoding", coding)].into_iter().collect();
            assert!(ContentDecoder::for_headers(&headers).is_none(), "{coding}");
        }
        let headers: Headers = [("Content-Encoding", "identity, GZIP")].into_iter().collect();
        assert!(ContentDecoder::for_headers(&headers).is_some());
    }

    #[test]
    fn gzip_headers_with_every_optional_field_are_measured() {
        let mut header = vec![0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 0, 0, 0, 0, 0, 3];
        header.extend_from_slice(&[3, 0, b'x', b'y', b'z']); // FEXTRA
        header.extend_from_slice(b"name\0comment\0");
        header.extend_from_slice(&[0xab, 0xcd]); // FHCRC
        assert_eq!(gzip_header_len(&header), Ok(Some(header.len())));
        for cut in 0..header.len() {
            assert_eq!(gzip_header_len(&header[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(gzip_header_len(&[0x1f, 0x8b, 8, 0x20]).is_err());
        assert!(gzip_header_len(&[0x1f, 0x8b, 7]).is_err());
    }
}

//! The body decoder: the bytes after a response head in, body bytes out.
//!
//! Why it exists: once [`body_framing`](super::body_framing) has said how a body is
//! delimited, something must find that end in a byte stream that arrives in arbitrary
//! pieces, and for a chunked body (RFC 9112 §7.1) that means parsing size lines,
//! extensions and trailers between the data. Read first: the framing rules in
//! [`super`], then RFC 9112 §7.1; the chunked states are the table on [`BodyDecoder`].
//!
//! A byte-driven state machine with no I/O: the caller feeds whatever bytes arrived
//! (one at a time or a megabyte at once — the result is the same) and gets body bytes
//! out. A body cut short by the peer closing is always [`Error::Truncated`], never a
//! short success. Chunked parsing is strict about line ends: every line in a chunked
//! body must end in CRLF, and a bare LF is refused ([`Malformed::LineEnding`]). The RFC
//! lets a recipient accept a bare LF (§2.2), but chunked bodies are where parsers that
//! disagree about LF have been turned into smuggling attacks, so this client does not.
//! Chunk extensions are parsed as RFC 9112 §7.1.1 writes them (`extension.rs`) and then
//! dropped, since none means anything to this client; trailers are kept. Both stay within
//! [`ChunkLimits`].

use super::Framing;
use super::extension::Extension;
use crate::http::error::Malformed;
use crate::http::headers::is_token;
use crate::http::{Error, Headers};

/// Bounds on the parts of a chunked body that are not data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    /// Longest chunk-size line, extensions included: 4 KiB by default. Extensions are
    /// checked but meaningless to this client, so this only guards against a line without end.
    pub max_line_bytes: usize,
    /// Most trailer fields after the last chunk: 100, as for the head.
    pub max_trailer_fields: usize,
    /// Most bytes of trailer section: 16 KiB, hyper's `TRAILER_LIMIT`.
    pub max_trailer_bytes: usize,
}

impl Default for ChunkLimits {
    fn default() -> ChunkLimits {
        ChunkLimits {
            max_line_bytes: 4 * 1024,
            max_trailer_fields: 100,
            max_trailer_bytes: 16 * 1024,
        }
    }
}

/// Strips optional whitespace (`OWS`: spaces and tabs only, RFC 9110 §5.6.3) from both ends.
fn trim_ows(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// Turns the bytes after a response head into body bytes, following a [`Framing`].
///
/// Feed it with [`decode`](BodyDecoder::decode) as bytes arrive, until
/// [`is_done`](BodyDecoder::is_done); when the peer closes, call
/// [`eof`](BodyDecoder::eof), which fails unless the body was complete (or runs until
/// close). Bytes left unconsumed after `is_done()` belong to no response: their
/// presence means the connection is poisoned and must be closed.
///
/// The chunked states (RFC 9112 §7.1), one byte at a time except for chunk data:
///
/// ```text
/// state          on                        next
/// ─────────────  ────────────────────────  ──────────────────────────────────────────
/// Size           hex digit                 Size        (size = size * 16 + digit)
/// Size           CR, after a digit         SizeLf
/// Size           ";", after a digit        Extension   (see `extension.rs`)
/// Size           SP or HTAB, after a digit SizeSpace
/// SizeSpace      SP or HTAB                SizeSpace
/// SizeSpace      ";"                       Extension
/// Extension      CR, after a name or value SizeLf
/// Extension      RFC 9112 §7.1.1's bytes   Extension   (checked, then dropped)
/// SizeLf         LF                        ChunkData   (size > 0), TrailerStart (size 0)
/// ChunkData      `size` bytes of data      DataCr
/// DataCr         CR                        DataLf
/// DataLf         LF                        Size        (the next chunk)
/// TrailerStart   CR                        EndLf
/// TrailerStart   any byte but SP/HTAB      TrailerField
/// TrailerField   any byte but CR/LF        TrailerField
/// TrailerField   CR                        TrailerLf
/// TrailerLf      LF                        TrailerStart (the field is checked and kept)
/// EndLf          LF                        Done
/// ```
///
/// Any byte not in the table is a [`Malformed`] error. After an error the decoder stays
/// failed and repeats the error.
#[derive(Debug)]
pub struct BodyDecoder {
    /// Where in the body we are; see the diagram.
    state: State,
    /// The caps on chunk-size lines and trailers.
    limits: ChunkLimits,
    /// Bytes of the current chunk-size line so far, checked against
    /// `limits.max_line_bytes`; reset at the start of each size line.
    line_bytes: usize,
    /// Bytes of the trailer section so far, checked against `limits.max_trailer_bytes`.
    trailer_bytes: usize,
    /// The trailer section, made when its first field starts. Out of line because most bodies
    /// have none: every response's decoder is 64 bytes smaller, and one move the cheaper.
    trailer: Option<Box<Trailer>>,
    /// Body bytes produced so far, so the caller can enforce a body size limit.
    decoded: u64,
}

/// What a trailer section holds while it is read.
#[derive(Debug, Default)]
struct Trailer {
    /// The line being read; bounded because its bytes count in `trailer_bytes`.
    line: Vec<u8>,
    /// The fields received so far.
    fields: Headers,
}

/// What [`BodyDecoder::trailers`] shows for a body without any.
static NO_TRAILERS: Headers = Headers::new();

/// The decoder's position. Data states copy slices; `ChunkLine` states take one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// `Content-Length` framing with this many bytes still to come.
    Length { remaining: u64 },
    /// Everything is body until [`BodyDecoder::eof`].
    UntilClose,
    /// Inside a chunk's data, this many bytes still to come.
    ChunkData { remaining: u64 },
    /// Inside one of the chunked body's lines.
    ChunkLine(Line),
    /// The body is complete; further bytes are not ours.
    Done,
    /// A protocol error was found; it is returned again on every call.
    Failed(Malformed),
}

/// The byte-at-a-time states of a chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// Reading the hexadecimal chunk-size; `digits` says whether one was seen yet.
    Size { size: u64, digits: bool },
    /// Whitespace after the size, allowed only before a `;` (`BWS`, RFC 9112 §7.1.1).
    SizeSpace { size: u64 },
    /// Inside the chunk extensions, up to the CR; `ext` is where in their grammar.
    Extension { size: u64, ext: Extension },
    /// Saw the CR ending the size line; an LF must follow.
    SizeLf { size: u64 },
    /// Chunk data ended; a CR must follow.
    DataCr,
    /// Saw the CR after chunk data; an LF must follow.
    DataLf,
    /// At the start of a trailer line, or of the final empty line.
    TrailerStart,
    /// Inside a trailer field line.
    TrailerField,
    /// Saw the CR ending a trailer line; an LF must follow.
    TrailerLf,
    /// Saw the CR of the final empty line; an LF must follow.
    EndLf,
}

impl BodyDecoder {
    /// A decoder for `framing` with the default [`ChunkLimits`].
    pub fn new(framing: Framing) -> BodyDecoder {
        BodyDecoder::with_limits(framing, ChunkLimits::default())
    }

    /// A decoder for `framing` with the given limits.
    pub fn with_limits(framing: Framing, limits: ChunkLimits) -> BodyDecoder {
        let state = match framing {
            Framing::Empty | Framing::Length(0) => State::Done,
            Framing::Length(remaining) => State::Length { remaining },
            Framing::Chunked => State::ChunkLine(Line::Size { size: 0, digits: false }),
            Framing::UntilClose => State::UntilClose,
        };
        BodyDecoder {
            state,
            limits,
            line_bytes: 0,
            trailer_bytes: 0,
            trailer: None,
            decoded: 0,
        }
    }

    /// Decodes as much of `input` as belongs to this body, appending body bytes to
    /// `out`; returns how many bytes of `input` were used. Stops early only when the
    /// body is complete: the rest of `input` is then not part of it.
    ///
    /// # Errors
    ///
    /// [`Error::Malformed`] when the bytes break RFC 9112 §7.1; the decoder then stays
    /// failed. Body bytes appended before the error must be discarded.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, Error> {
        let mut consumed = 0;
        while let Some(&byte) = input.get(consumed) {
            let rest = &input[consumed..];
            let step = match self.state {
                State::Done => break,
                State::Failed(error) => Err(error),
                State::Length { remaining } => {
                    let (used, left) = self.copy(rest, remaining, out);
                    self.state = if left == 0 {
                        State::Done
                    } else {
                        State::Length { remaining: left }
                    };
                    Ok(used)
                }
                State::UntilClose => Ok(self.copy(rest, u64::MAX, out).0),
                State::ChunkData { remaining } => {
                    let (used, left) = self.copy(rest, remaining, out);
                    self.state = if left == 0 {
                        State::ChunkLine(Line::DataCr)
                    } else {
                        State::ChunkData { remaining: left }
                    };
                    Ok(used)
                }
                State::ChunkLine(line) => self.line_byte(line, byte).map(|next| {
                    self.state = next;
                    1
                }),
            };
            match step {
                Ok(n) => consumed += n,
                Err(error) => {
                    self.state = State::Failed(error);
                    return Err(error.into());
                }
            }
        }
        Ok(consumed)
    }

    /// Whether the whole body has been decoded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The peer closed the connection. Fine if the body was complete or runs until
    /// close (which completes it); otherwise the body was cut short.
    ///
    /// # Errors
    ///
    /// [`Error::Truncated`] saying where the body was cut, or the earlier error if the
    /// decoder had failed.
    pub fn eof(&mut self) -> Result<(), Error> {
        let during = match self.state {
            State::Done => return Ok(()),
            State::UntilClose => {
                self.state = State::Done;
                return Ok(());
            }
            State::Failed(error) => return Err(error.into()),
            State::Length { .. } => "before Content-Length bytes of body arrived",
            State::ChunkData { .. } | State::ChunkLine(Line::DataCr | Line::DataLf) => "in the middle of a chunk",
            State::ChunkLine(Line::Size { digits: false, .. }) => "before the last (zero-size) chunk",
            State::ChunkLine(
                Line::Size { .. } | Line::SizeSpace { .. } | Line::Extension { .. } | Line::SizeLf { .. },
            ) => "in a chunk-size line",
            State::ChunkLine(Line::TrailerStart | Line::TrailerField | Line::TrailerLf | Line::EndLf) => {
                "in the trailers after the last chunk"
            }
        };
        Err(Error::Truncated { during })
    }

    /// The trailer fields that followed the last chunk (empty for other framings).
    pub fn trailers(&self) -> &Headers {
        self.trailer.as_ref().map_or(&NO_TRAILERS, |trailer| &trailer.fields)
    }

    /// The trailer line being read, the section made on its first byte.
    fn trailer_line(&mut self) -> &mut Vec<u8> {
        &mut self.trailer.get_or_insert_with(Box::default).line
    }

    /// How many body bytes have been produced so far.
    pub fn decoded_len(&self) -> u64 {
        self.decoded
    }

    /// Copies up to `remaining` bytes of `input` to `out`; returns how many were
    /// copied and how many remain.
    fn copy(&mut self, input: &[u8], remaining: u64, out: &mut Vec<u8>) -> (usize, u64) {
        let n = usize::try_from(remaining).map_or(input.len(), |r| r.min(input.len()));
        out.extend_from_slice(&input[..n]);
        self.decoded = self.decoded.saturating_add(n as u64);
        (n, remaining - n as u64)
    }

    /// Takes one byte of a chunked-body line; returns the next state.
    fn line_byte(&mut self, line: Line, b: u8) -> Result<State, Malformed> {
        self.charge(line)?;
        let next = match line {
            Line::Size { size, digits } => match (char::from(b).to_digit(16), b) {
                (Some(digit), _) => {
                    let size = size.checked_mul(16).and_then(|s| s.checked_add(u64::from(digit)));
                    Line::Size {
                        size: size.ok_or(Malformed::ChunkSizeOverflow)?,
                        digits: true,
                    }
                }
                (None, _) if !digits => return Err(Malformed::ChunkSize),
                (None, b'\r') => Line::SizeLf { size },
                (None, b';') => Line::Extension {
                    size,
                    ext: Extension::AFTER_SEMICOLON,
                },
                (None, b' ' | b'\t') => Line::SizeSpace { size },
                (None, b'\n') => return Err(Malformed::LineEnding),
                (None, _) => return Err(Malformed::ChunkSize),
            },
            Line::SizeSpace { size } => match b {
                b' ' | b'\t' => Line::SizeSpace { size },
                b';' => Line::Extension {
                    size,
                    ext: Extension::AFTER_SEMICOLON,
                },
                _ => return Err(Malformed::ChunkSize),
            },
            Line::Extension { size, ext } => match b {
                b'\r' => {
                    ext.end()?;
                    Line::SizeLf { size }
                }
                b'\n' => return Err(Malformed::LineEnding),
                _ => Line::Extension {
                    size,
                    ext: ext.step(b)?,
                },
            },
            Line::SizeLf { size } => match b {
                b'\n' if size == 0 => Line::TrailerStart,
                b'\n' => return Ok(State::ChunkData { remaining: size }),
                _ => return Err(Malformed::LineEnding),
            },
            Line::DataCr if b == b'\r' => Line::DataLf,
            Line::DataLf if b == b'\n' => {
                self.line_bytes = 0;
                Line::Size { size: 0, digits: false }
            }
            Line::DataCr | Line::DataLf => return Err(Malformed::ChunkDataTerminator),
            Line::TrailerStart => match b {
                b'\r' => Line::EndLf,
                b'\n' => return Err(Malformed::LineEnding),
                b' ' | b'\t' => return Err(Malformed::Trailer), // obs-fold is not allowed here
                _ => {
                    self.trailer_line().push(b);
                    Line::TrailerField
                }
            },
            Line::TrailerField => match b {
                b'\r' => Line::TrailerLf,
                b'\n' => return Err(Malformed::LineEnding),
                _ => {
                    self.trailer_line().push(b);
                    Line::TrailerField
                }
            },
            Line::TrailerLf if b == b'\n' => {
                self.finish_trailer_line()?;
                Line::TrailerStart
            }
            Line::EndLf if b == b'\n' => return Ok(State::Done),
            Line::TrailerLf | Line::EndLf => return Err(Malformed::LineEnding),
        };
        Ok(State::ChunkLine(next))
    }

    /// Counts one byte of a size line or of the trailer section against its limit.
    fn charge(&mut self, line: Line) -> Result<(), Malformed> {
        match line {
            Line::Size { .. } | Line::SizeSpace { .. } | Line::Extension { .. } | Line::SizeLf { .. } => {
                self.line_bytes += 1;
                if self.line_bytes > self.limits.max_line_bytes {
                    return Err(Malformed::ChunkLineTooLong);
                }
            }
            Line::TrailerStart | Line::TrailerField | Line::TrailerLf | Line::EndLf => {
                self.trailer_bytes += 1;
                if self.trailer_bytes > self.limits.max_trailer_bytes {
                    return Err(Malformed::TrailersTooLarge);
                }
            }
            Line::DataCr | Line::DataLf => {}
        }
        Ok(())
    }

    /// Checks the trailer line just read (`token ":" OWS value OWS`, RFC 9112 §5) and
    /// keeps it.
    fn finish_trailer_line(&mut self) -> Result<(), Malformed> {
        let trailer = self.trailer.get_or_insert_with(Box::default);
        let line = std::mem::take(&mut trailer.line);
        let (name, value) = line.split_at(line.iter().position(|&b| b == b':').ok_or(Malformed::Trailer)?);
        let name = std::str::from_utf8(name)
            .ok()
            .filter(|name| is_token(name))
            .ok_or(Malformed::Trailer)?;
        let value = trim_ows(&value[1..]);
        if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(Malformed::Trailer);
        }
        if trailer.fields.len() >= self.limits.max_trailer_fields {
            return Err(Malformed::TrailersTooLarge);
        }
        trailer.fields.append_received(name, value);
        Ok(())
    }
}

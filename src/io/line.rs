//! Finding the end of a line in buffered bytes: the pure decision behind
//! [`BufReader::read_until`](super::BufReader::read_until) and everything built on it.
//!
//! Why it is a file of its own: a line reader is a parser of untrusted input, and the part that
//! can go wrong (an off-by-one at the limit, a line split across two reads, a delimiter in the
//! very last byte) is a few comparisons. Written as a function of "what is buffered" and "what
//! we already know", it is tested here on every split of an input, and fuzzed
//! (`fuzz/fuzz_targets/line_reader.rs`), without a socket or a loop in sight.
//!
//! The idea is asyncio's `StreamReader.readuntil`: keep the unfinished line in the reader's
//! buffer, and only take it out once its delimiter has arrived. That is what makes reading a
//! line cancel-safe (nothing leaves the buffer until the whole line does), and it is why the
//! line needs a limit: the buffer holds the longest line a peer is allowed to send.
//!
//! # The limit
//!
//! `limit` is the longest line accepted, delimiter included. A line is known to be too long as
//! soon as `limit + 1` of its bytes are buffered without a delimiter among them. From then on
//! the reader *skips*: it discards the line's bytes as they arrive, in bounded memory, until
//! the delimiter (or the end of the stream), and only then reports a [`LimitOverrun`] that says
//! how long the line was. So after the error the reader stands at the start of the next line,
//! and a line-based protocol stays in step. (asyncio differs: `readuntil` leaves the bytes in
//! its buffer and raises at once; `readline` clears what it buffered and leaves the rest of the
//! long line to be read as if it were a new line.)

use std::error::Error;
use std::fmt;

/// A line was longer than the reader's limit (asyncio's `LimitOverrunError`).
///
/// It reaches the caller as the inner error of an `io::Error` of kind `InvalidData`; get it
/// back with `error.get_ref().and_then(|e| e.downcast_ref::<LimitOverrun>())`.
///
/// By the time it is returned, the whole over-long line (its delimiter included, if there was
/// one) has been read and discarded: the next read starts at the next line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(alias = "LimitOverrunError")]
pub struct LimitOverrun {
    /// How many bytes the over-long line had, delimiter included: all of them were discarded.
    pub consumed: usize,
    /// The reader's limit at the time: the longest line it accepts, delimiter included.
    pub limit: usize,
}

impl fmt::Display for LimitOverrun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a line of {} bytes is longer than the limit of {} bytes and was discarded; \
             raise the limit (BufReader::set_limit) if such lines are expected",
            self.consumed, self.limit
        )
    }
}

impl Error for LimitOverrun {}

/// Where a search for the end of a line stands between two looks at the buffer.
///
/// A reader keeps this across calls (a cancelled read must not forget that it was skipping);
/// it starts, and returns after every finished line, as `Searching { scanned: 0 }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Search {
    /// The line's bytes are kept in the buffer; the first `scanned` of them hold no delimiter
    /// (so the next look starts there: no byte is scanned twice).
    Searching {
        /// Bytes at the start of the buffered window known to hold no delimiter.
        scanned: usize,
    },
    /// The line is over the limit: its bytes are discarded as they come.
    Skipping {
        /// Bytes of the over-long line discarded so far.
        skipped: usize,
    },
}

/// What the reader must do next, as decided by [`Search::step`] or [`Search::at_eof`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// The first `n` bytes of the window are a whole line (delimiter included, or the last
    /// bytes of the stream): take them out and return them.
    Line(usize),
    /// Consume the first `n` bytes of the window, then read more and look again (the window
    /// was part of an over-long line; `n` may be 0 while still searching).
    ReadMore {
        /// Bytes to consume (discard) before reading more.
        discard: usize,
    },
    /// Consume the first `discard` bytes of the window (the end of an over-long line) and
    /// report the overrun.
    Overrun {
        /// Bytes to consume before returning the error.
        discard: usize,
        /// The error to return.
        error: LimitOverrun,
    },
}

impl Search {
    /// A fresh search, at the start of a line.
    pub(crate) const START: Search = Search::Searching { scanned: 0 };

    /// Looks at `window`, the buffered bytes from the start of the unfinished line (while
    /// searching) or the next undiscarded bytes (while skipping), and says what to do.
    ///
    /// The caller performs the returned action and, for `ReadMore`, calls again with the
    /// window after the discard and the new bytes appended. To keep its promise that a line
    /// of `limit` bytes fits, the caller must be able to buffer `limit + 1` bytes.
    pub(crate) fn step(&mut self, window: &[u8], delimiter: u8, limit: usize) -> Next {
        match *self {
            Search::Searching { scanned } => {
                let scanned = scanned.min(window.len());
                match find(&window[scanned..], delimiter) {
                    Some(at) if scanned + at < limit => {
                        *self = Search::START;
                        Next::Line(scanned + at + 1)
                    }
                    // The delimiter came, past the limit, in the same read that crossed it.
                    Some(at) => self.overrun(scanned + at + 1, limit),
                    None if window.len() > limit => {
                        *self = Search::Skipping { skipped: window.len() };
                        Next::ReadMore { discard: window.len() }
                    }
                    None => {
                        *self = Search::Searching { scanned: window.len() };
                        Next::ReadMore { discard: 0 }
                    }
                }
            }
            Search::Skipping { skipped } => match find(window, delimiter) {
                Some(at) => {
                    *self = Search::Skipping { skipped };
                    self.overrun(at + 1, limit)
                }
                None => {
                    *self = Search::Skipping {
                        skipped: skipped.saturating_add(window.len()),
                    };
                    Next::ReadMore { discard: window.len() }
                }
            },
        }
    }

    /// The stream has ended with `window` still buffered: the last line has no delimiter.
    /// Returns `Line(window.len())` (0 when nothing is left: the end of the lines) or the
    /// overrun of a last line that was too long.
    pub(crate) fn at_eof(&mut self, window: &[u8], limit: usize) -> Next {
        match *self {
            Search::Searching { .. } if window.len() <= limit => {
                *self = Search::START;
                Next::Line(window.len())
            }
            Search::Searching { .. } | Search::Skipping { .. } => self.overrun(window.len(), limit),
        }
    }

    /// Ends an over-long line whose last `discard` bytes are in the window.
    fn overrun(&mut self, discard: usize, limit: usize) -> Next {
        let skipped = match *self {
            Search::Skipping { skipped } => skipped,
            Search::Searching { .. } => 0,
        };
        *self = Search::START;
        Next::Overrun {
            discard,
            error: LimitOverrun {
                consumed: skipped.saturating_add(discard),
                limit,
            },
        }
    }
}

/// The index of the first `delimiter` in `bytes`.
fn find(bytes: &[u8], delimiter: u8) -> Option<usize> {
    bytes.iter().position(|&b| b == delimiter)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives a `Search` over `input` arriving in the given chunks, as a reader would: the
    /// window is the kept line plus the new chunk. Returns each line or overrun, in order.
    fn split(input: &[u8], chunks: &[usize], limit: usize) -> Vec<Result<Vec<u8>, LimitOverrun>> {
        let (mut out, mut search, mut window, mut rest) = (Vec::new(), Search::START, Vec::new(), input);
        let mut sizes = chunks.iter().copied().cycle();
        loop {
            match search.step(&window, b'\n', limit) {
                Next::Line(n) => {
                    out.push(Ok(window.drain(..n).collect()));
                    continue;
                }
                Next::Overrun { discard, error } => {
                    window.drain(..discard);
                    out.push(Err(error));
                    continue;
                }
                Next::ReadMore { discard } => {
                    window.drain(..discard);
                }
            }
            if rest.is_empty() {
                match search.at_eof(&window, limit) {
                    Next::Line(0) => return out,
                    Next::Line(n) => out.push(Ok(window.drain(..n).collect())),
                    Next::Overrun { discard, error } => {
                        window.drain(..discard);
                        out.push(Err(error));
                    }
                    Next::ReadMore { .. } => unreachable!("at_eof never asks for more"),
                }
                assert!(window.is_empty());
                return out;
            }
            let n = sizes.next().unwrap_or(1).clamp(1, rest.len());
            window.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
        }
    }

    /// The reference: split the whole input at once, then judge each line's length.
    fn reference(input: &[u8], limit: usize) -> Vec<Result<Vec<u8>, LimitOverrun>> {
        input
            .split_inclusive(|&b| b == b'\n')
            .map(|line| match line.len() {
                n if n <= limit => Ok(line.to_vec()),
                consumed => Err(LimitOverrun { consumed, limit }),
            })
            .collect()
    }

    #[test]
    fn lines_split_at_every_byte_boundary_are_the_same_lines() {
        let input = b"one\ntwo\r\n\nthree is longer\nfour";
        for limit in [1, 4, 5, 9, 16, 100] {
            for first in 1..=input.len() {
                for second in [1, 2, 3, 7, 100] {
                    assert_eq!(
                        split(input, &[first, second], limit),
                        reference(input, limit),
                        "limit {limit}, chunks {first} then {second}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_line_of_exactly_the_limit_fits_and_one_more_byte_overruns() {
        assert_eq!(split(b"abc\n", &[1], 4), [Ok(b"abc\n".to_vec())]);
        assert_eq!(split(b"abcd", &[1], 4), [Ok(b"abcd".to_vec())]);
        let overrun = Err(LimitOverrun { consumed: 5, limit: 4 });
        assert_eq!(split(b"abcd\nok\n", &[8], 4), [overrun.clone(), Ok(b"ok\n".to_vec())]);
        assert_eq!(split(b"abcd\nok\n", &[1], 4), [overrun.clone(), Ok(b"ok\n".to_vec())]);
        assert_eq!(split(b"abcde", &[2], 4), [Err(LimitOverrun { consumed: 5, limit: 4 })]);
    }

    #[test]
    fn a_skipped_line_is_discarded_as_it_comes_and_counted_whole() {
        let mut search = Search::START;
        assert_eq!(search.step(b"abc", b'\n', 2), Next::ReadMore { discard: 3 });
        assert_eq!(search.step(b"defg", b'\n', 2), Next::ReadMore { discard: 4 });
        let error = LimitOverrun { consumed: 9, limit: 2 };
        assert_eq!(search.step(b"h\nnext", b'\n', 2), Next::Overrun { discard: 2, error });
        assert_eq!(search, Search::START, "the next line starts afresh");
    }

    #[test]
    fn no_byte_is_scanned_twice_while_a_line_grows() {
        let mut search = Search::START;
        assert_eq!(search.step(b"ab", b'\n', 10), Next::ReadMore { discard: 0 });
        assert_eq!(search, Search::Searching { scanned: 2 });
        assert_eq!(search.step(b"abc\n", b'\n', 10), Next::Line(4));
    }

    #[test]
    fn the_end_of_the_stream_gives_the_partial_line_then_nothing() {
        let mut search = Search::START;
        assert_eq!(search.at_eof(b"tail", 10), Next::Line(4));
        assert_eq!(search.at_eof(b"", 10), Next::Line(0));
    }

    #[test]
    fn the_overrun_says_what_happened_and_what_to_try() {
        let text = LimitOverrun {
            consumed: 70_000,
            limit: 65_536,
        }
        .to_string();
        assert!(
            text.contains("70000") && text.contains("65536") && text.contains("set_limit"),
            "{text}"
        );
    }
}

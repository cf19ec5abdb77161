//! The `line_reader` target's check: `evloop::io::BufReader`'s line reader against a reference.
//!
//! The reader is driven by hand (a no-op waker, polled until ready: no loop, no socket) over a
//! source that hands out the input in pieces whose sizes come from the input, with a `Pending`
//! between pieces, so the fuzzer chooses where every line is cut. The reference splits the
//! whole input at once with `split_inclusive`, then judges each line by its length and UTF-8.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use evloop::io::{AsyncRead, BufReader, LimitOverrun};

/// One `read_line`'s result, comparable: the line, an overrun, or another error's kind.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Line(String),
    Overrun(LimitOverrun),
    Error(io::ErrorKind),
}

/// The input, in pieces: `Pending` (after a wake) before every piece.
struct Pieces<'a> {
    rest: &'a [u8],
    sizes: Vec<usize>,
    next: usize,
    pending: bool,
}

impl AsyncRead for Pieces<'_> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if self.pending && !self.rest.is_empty() {
            self.pending = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pending = true;
        let size = self.sizes[self.next % self.sizes.len()];
        self.next += 1;
        let n = size.min(buf.len()).min(self.rest.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Poll::Ready(Ok(n))
    }
}

/// Polls `future` until it is ready; a source that is always eventually ready makes this end.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// The `line_reader` target. Byte 0: the line limit (its low 6 bits, so 0..=63) and the buffer
/// capacity (its top 2 bits: 1, 3, 16 or 64 bytes); byte 1: how many piece sizes follow (low 3
/// bits, at least 1); then the sizes (each 1..=16), then the text. Checks that `read_line`
/// gives exactly the reference's lines and errors, that the reader's buffer never holds more
/// than the limit allows, and that the end of the stream is reported once and stays reported.
pub fn line_reader(data: &[u8]) {
    let [config, count, rest @ ..] = data else {
        return;
    };
    let limit = usize::from(config & 63);
    let capacity = [1, 3, 16, 64][usize::from(config >> 6)];
    let count = usize::from(count & 7).max(1).min(rest.len());
    let (sizes, text) = rest.split_at(count);
    let mut sizes: Vec<usize> = sizes.iter().map(|&s| usize::from(s & 15) + 1).collect();
    if sizes.is_empty() {
        sizes.push(1);
    }

    let expected: Vec<Got> = text
        .split_inclusive(|&b| b == b'\n')
        .map(|line| match std::str::from_utf8(line) {
            _ if line.len() > limit => Got::Overrun(LimitOverrun {
                consumed: line.len(),
                limit,
            }),
            Ok(line) => Got::Line(line.to_string()),
            Err(_) => Got::Error(io::ErrorKind::InvalidData),
        })
        .collect();

    let source = Pieces {
        rest: text,
        sizes,
        next: 0,
        pending: false,
    };
    let mut reader = BufReader::with_capacity(capacity, source).with_limit(limit);
    let mut got = Vec::new();
    block_on(async {
        loop {
            let mut line = String::new();
            let result = reader.read_line(&mut line).await;
            assert!(
                reader.buffer().len() <= capacity.max(limit + 1),
                "{} bytes buffered",
                reader.buffer().len()
            );
            match result {
                Ok(0) => break,
                Ok(n) => {
                    assert_eq!(n, line.len());
                    got.push(Got::Line(line));
                }
                Err(e) => {
                    assert!(line.is_empty(), "a failed read_line appended {line:?}");
                    got.push(
                        match e.get_ref().and_then(|inner| inner.downcast_ref::<LimitOverrun>()) {
                            Some(overrun) => Got::Overrun(*overrun),
                            None => Got::Error(e.kind()),
                        },
                    );
                }
            }
            assert!(got.len() <= expected.len(), "more lines than the input has: {got:?}");
        }
        let mut after = String::new();
        assert_eq!(
            reader.read_line(&mut after).await.ok(),
            Some(0),
            "the end stays the end"
        );
    });
    assert_eq!(got, expected);
}

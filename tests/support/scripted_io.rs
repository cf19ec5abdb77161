//! In-memory byte streams for the buffered-I/O tests: a reader that plays a script (chunks,
//! with a `Pending` and a wake between them, so every split of the input reaches the code
//! under test), and a writer that records each write that reaches it.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use evloop::io::{AsyncRead, AsyncWrite};

/// One step of a [`ScriptedReader`]'s script.
#[derive(Debug, Clone)]
pub enum Step {
    /// The next read returns (up to the caller's buffer of) these bytes.
    Bytes(Vec<u8>),
    /// The next read returns `Pending`, after waking the task so it is polled again.
    Pending,
    /// The next read fails with this kind.
    Fail(io::ErrorKind),
}

/// Plays its script one read at a time; once it is over, every read returns 0 (the end).
#[derive(Debug, Default)]
pub struct ScriptedReader {
    script: VecDeque<Step>,
    /// How many times `poll_read` was called.
    pub polls: usize,
}

impl ScriptedReader {
    pub fn new(script: impl IntoIterator<Item = Step>) -> ScriptedReader {
        ScriptedReader {
            script: script.into_iter().collect(),
            polls: 0,
        }
    }

    /// `input` cut at each of `cuts` (byte offsets, ascending), a `Pending` between pieces.
    pub fn split_at(input: &[u8], cuts: &[usize]) -> ScriptedReader {
        let mut script = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
            if cut > start {
                script.push(Step::Bytes(input[start..cut].to_vec()));
                script.push(Step::Pending);
                start = cut;
            }
        }
        ScriptedReader::new(script)
    }

    /// `input` in pieces of `size` bytes, a `Pending` between pieces.
    pub fn chunks(input: &[u8], size: usize) -> ScriptedReader {
        let cuts: Vec<usize> = (size..input.len()).step_by(size).collect();
        ScriptedReader::split_at(input, &cuts)
    }
}

impl AsyncRead for ScriptedReader {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.polls += 1;
        match self.script.pop_front() {
            None => Poll::Ready(Ok(0)),
            Some(Step::Pending) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(Step::Fail(kind)) => Poll::Ready(Err(kind.into())),
            Some(Step::Bytes(mut bytes)) => {
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                if n < bytes.len() {
                    self.script.push_front(Step::Bytes(bytes.split_off(n)));
                }
                Poll::Ready(Ok(n))
            }
        }
    }
}

/// What a [`RecordingWriter`] saw; shared, so the test keeps it while the writer is moved.
#[derive(Debug, Default)]
pub struct Record {
    /// Each write that reached the writer, as it came.
    pub writes: Vec<Vec<u8>>,
    pub flushes: usize,
    pub closes: usize,
}

impl Record {
    pub fn bytes(&self) -> Vec<u8> {
        self.writes.concat()
    }
}

/// Records every call; takes at most `max_write` bytes per write (a short write, as a full
/// socket buffer gives), and answers `Pending` (with a wake) to every other write if
/// `pending_between` is set.
#[derive(Debug)]
pub struct RecordingWriter {
    pub record: Rc<RefCell<Record>>,
    pub max_write: usize,
    pub pending_between: bool,
    pending_next: bool,
}

impl RecordingWriter {
    pub fn new() -> (RecordingWriter, Rc<RefCell<Record>>) {
        let record = Rc::new(RefCell::new(Record::default()));
        let writer = RecordingWriter {
            record: record.clone(),
            max_write: usize::MAX,
            pending_between: false,
            pending_next: false,
        };
        (writer, record)
    }
}

impl AsyncWrite for RecordingWriter {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.pending_next {
            self.pending_next = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pending_next = self.pending_between;
        let n = buf.len().min(self.max_write);
        self.record.borrow_mut().writes.push(buf[..n].to_vec());
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.record.borrow_mut().flushes += 1;
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.record.borrow_mut().closes += 1;
        Poll::Ready(Ok(()))
    }
}

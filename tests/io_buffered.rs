//! Buffered streams: `BufReader`'s lines however the bytes are split, its limit, the end of the
//! stream, bad UTF-8, cancellation; `BufWriter`'s batching; both over loopback TCP.

mod support;

use std::future::Future;
use std::io::ErrorKind;
use std::pin::pin;
use std::task::{Context, Poll};

use evloop::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter, LimitOverrun};
use evloop::net::{TcpListener, TcpStream};
use support::scripted_io::{RecordingWriter, ScriptedReader, Step};
use support::{CountingWaker, virtual_runtime};

/// Reads every line with `read_line`, an error as `Err(kind, overrun)`.
async fn all_lines(reader: &mut BufReader<ScriptedReader>) -> Vec<Result<String, (ErrorKind, Option<LimitOverrun>)>> {
    let mut out = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line).await {
            Ok(0) => return out,
            Ok(n) => {
                assert_eq!(n, line.len());
                out.push(Ok(line));
            }
            Err(e) => {
                let overrun = e
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<LimitOverrun>())
                    .copied();
                out.push(Err((e.kind(), overrun)));
            }
        }
    }
}

fn ok(lines: &[&str]) -> Vec<Result<String, (ErrorKind, Option<LimitOverrun>)>> {
    lines.iter().map(|l| Ok(l.to_string())).collect()
}

#[test]
fn lines_split_at_every_pair_of_byte_boundaries_are_the_same_lines() {
    let input = b"first\nsecond line\r\n\nlast, unterminated";
    let expected = ok(&["first\n", "second line\r\n", "\n", "last, unterminated"]);
    let step = if cfg!(miri) { 7 } else { 1 };
    virtual_runtime().block_on(async {
        for a in (0..=input.len()).step_by(step) {
            for b in (a..=input.len()).step_by(step) {
                // A capacity of 4 also makes the buffer grow for the longer lines.
                let mut reader = BufReader::with_capacity(4, ScriptedReader::split_at(input, &[a, b]));
                assert_eq!(all_lines(&mut reader).await, expected, "cut at {a} and {b}");
            }
        }
    });
}

#[test]
fn lines_strips_lf_and_crlf_but_keeps_a_lone_cr() {
    virtual_runtime().block_on(async {
        let source = ScriptedReader::chunks(b"unix\nwindows\r\nold mac\rstill\n\r\n", 3);
        let mut lines = BufReader::new(source).lines();
        let mut got = Vec::new();
        while let Some(line) = lines.next_line().await.expect("no error") {
            got.push(line);
        }
        assert_eq!(got, ["unix", "windows", "old mac\rstill", ""]);
    });
}

#[test]
fn a_line_over_the_limit_is_limit_overrun_with_its_length_and_the_reader_goes_on() {
    virtual_runtime().block_on(async {
        let input = b"short\nthis line is far too long\nok\n";
        for size in [1, 3, 100] {
            let mut reader = BufReader::with_capacity(4, ScriptedReader::chunks(input, size)).with_limit(10);
            assert_eq!(reader.limit(), 10);
            let overrun = LimitOverrun {
                consumed: 26,
                limit: 10,
            };
            assert_eq!(
                all_lines(&mut reader).await,
                vec![
                    Ok("short\n".into()),
                    Err((ErrorKind::InvalidData, Some(overrun))),
                    Ok("ok\n".into())
                ],
                "chunks of {size}"
            );
        }
    });
}

#[test]
fn a_line_of_exactly_the_limit_fits() {
    virtual_runtime().block_on(async {
        let mut reader = BufReader::new(ScriptedReader::chunks(b"12345\n1234\n", 2)).with_limit(6);
        assert_eq!(all_lines(&mut reader).await, ok(&["12345\n", "1234\n"]));
    });
}

#[test]
fn an_endless_line_is_skipped_in_bounded_memory() {
    virtual_runtime().block_on(async {
        let long = vec![b'x'; 10_000];
        let mut script = vec![Step::Bytes(b"a\n".to_vec())];
        script.extend(long.chunks(100).flat_map(|c| [Step::Bytes(c.to_vec()), Step::Pending]));
        script.push(Step::Bytes(b"\nb\n".to_vec()));
        let mut reader = BufReader::with_capacity(16, ScriptedReader::new(script)).with_limit(32);
        let mut line = String::new();
        assert_eq!(reader.read_line(&mut line).await.expect("a short line"), 2);
        // 10 001 bytes pass through a buffer that only ever grows to the limit plus one.
        let waker = CountingWaker::new().1;
        let mut cx = Context::from_waker(&waker);
        let error = {
            let mut read = pin!(reader.read_line(&mut line));
            loop {
                if let Poll::Ready(result) = read.as_mut().poll(&mut cx) {
                    break result.expect_err("too long");
                }
            }
        };
        assert!(reader.buffer().len() <= 33, "buffered {}", reader.buffer().len());
        let overrun = error.get_ref().and_then(|e| e.downcast_ref::<LimitOverrun>()).copied();
        assert_eq!(
            overrun,
            Some(LimitOverrun {
                consumed: 10_001,
                limit: 32
            })
        );
        assert_eq!(line, "a\n", "the failed call appended nothing");
        line.clear();
        reader.read_line(&mut line).await.expect("the next line");
        assert_eq!(line, "b\n");
    });
}

#[test]
fn the_end_of_the_stream_mid_line_returns_the_partial_line_then_zero() {
    virtual_runtime().block_on(async {
        let mut reader = BufReader::new(ScriptedReader::chunks(b"whole\npart", 3));
        let mut got = Vec::new();
        assert_eq!(reader.read_until(b'\n', &mut got).await.expect("a line"), 6);
        assert_eq!(reader.read_until(b'\n', &mut got).await.expect("the partial line"), 4);
        assert_eq!(reader.read_until(b'\n', &mut got).await.expect("the end"), 0);
        assert_eq!(got, b"whole\npart");
    });
}

#[test]
fn invalid_utf8_is_invalid_data_and_the_next_line_still_reads() {
    virtual_runtime().block_on(async {
        let mut reader = BufReader::new(ScriptedReader::chunks(b"ok\n\xff\xfe bad\nfine\n", 4));
        let got = all_lines(&mut reader).await;
        assert_eq!(
            got,
            vec![
                Ok("ok\n".into()),
                Err((ErrorKind::InvalidData, None)),
                Ok("fine\n".into())
            ]
        );
    });
}

#[test]
fn read_until_splits_on_any_delimiter() {
    virtual_runtime().block_on(async {
        let mut reader = BufReader::new(ScriptedReader::chunks(b"a;bb;;c", 2));
        let mut records = Vec::new();
        loop {
            let mut record = Vec::new();
            if reader.read_until(b';', &mut record).await.expect("no error") == 0 {
                break;
            }
            records.push(record);
        }
        assert_eq!(records, [&b"a;"[..], b"bb;", b";", b"c"]);
    });
}

#[test]
fn read_exact_reads_across_chunks_and_fails_with_unexpected_eof_at_the_end() {
    virtual_runtime().block_on(async {
        let mut reader = BufReader::with_capacity(2, ScriptedReader::chunks(b"0123456789", 3));
        let mut first = [0; 7];
        reader.read_exact(&mut first).await.expect("7 of 10 bytes");
        assert_eq!(&first, b"0123456");
        let mut rest = [0; 5];
        let error = reader.read_exact(&mut rest).await.expect_err("only 3 left");
        assert_eq!(error.kind(), ErrorKind::UnexpectedEof);
    });
}

#[test]
fn fill_buf_and_consume_look_before_taking() {
    virtual_runtime().block_on(async {
        let mut reader = BufReader::new(ScriptedReader::chunks(b"peek", 2));
        assert_eq!(reader.fill_buf().await.expect("bytes"), b"pe");
        assert_eq!(
            reader.fill_buf().await.expect("the same bytes"),
            b"pe",
            "nothing consumed"
        );
        reader.consume(1);
        assert_eq!(reader.fill_buf().await.expect("bytes"), b"e");
        reader.consume(10); // clamped
        assert_eq!(reader.fill_buf().await.expect("bytes"), b"ek");
        reader.consume(2);
        assert_eq!(reader.fill_buf().await.expect("the end"), b"");
    });
}

#[test]
fn a_source_error_reaches_the_caller_and_the_reader_stays_usable() {
    virtual_runtime().block_on(async {
        let script = [
            Step::Bytes(b"hal".to_vec()),
            Step::Fail(ErrorKind::ConnectionReset),
            Step::Bytes(b"f\n".to_vec()),
        ];
        let mut reader = BufReader::new(ScriptedReader::new(script));
        let mut line = String::new();
        let error = reader.read_line(&mut line).await.expect_err("the source fails");
        assert_eq!(error.kind(), ErrorKind::ConnectionReset);
        assert_eq!(line, "", "nothing appended");
        reader.read_line(&mut line).await.expect("the rest");
        assert_eq!(line, "half\n", "the bytes before the error were kept");
    });
}

#[test]
fn cancelling_read_line_midway_leaves_the_string_alone_and_loses_no_byte() {
    let (_, waker) = CountingWaker::new();
    let mut cx = Context::from_waker(&waker);
    let mut reader = BufReader::new(ScriptedReader::split_at(b"hello world\nnext\n", &[3, 8]));
    let mut line = String::from("kept: ");
    for _ in 0..2 {
        // Each poll takes one chunk, then meets a Pending: cancel there, twice.
        let mut read = pin!(reader.read_line(&mut line));
        assert!(read.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(line, "kept: ", "a cancelled read_line appends nothing");
    assert_eq!(reader.buffer(), b"hello wo", "the partial line waits in the buffer");
    let n = {
        let mut read = pin!(reader.read_line(&mut line));
        loop {
            if let Poll::Ready(n) = read.as_mut().poll(&mut cx) {
                break n.expect("the whole line");
            }
        }
    };
    assert_eq!(n, 12);
    assert_eq!(line, "kept: hello world\n");
}

#[test]
fn a_buf_writer_gathers_small_writes_into_one_and_flush_sends_them() {
    virtual_runtime().block_on(async {
        let (sink, record) = RecordingWriter::new();
        let mut writer = BufWriter::with_capacity(16, sink);
        for piece in ["ab", "cd", "ef"] {
            writer.write_all(piece.as_bytes()).await.expect("buffered");
        }
        assert!(record.borrow().writes.is_empty(), "nothing reached the sink yet");
        assert_eq!(writer.buffer(), b"abcdef");
        writer.flush().await.expect("flushed");
        assert_eq!(record.borrow().writes, [b"abcdef".to_vec()], "one write for three");
        assert_eq!(record.borrow().flushes, 1, "and the sink was flushed too");
        // Past the capacity: the buffer is written out first, then the new bytes buffered.
        writer.write_all(b"0123456789").await.expect("buffered");
        writer.write_all(b"abcdefghij").await.expect("buffered");
        assert_eq!(record.borrow().writes.len(), 2);
        writer.close().await.expect("closed");
        assert_eq!(record.borrow().bytes(), b"abcdef0123456789abcdefghij");
        assert_eq!(record.borrow().writes.len(), 3);
        assert_eq!(record.borrow().closes, 1);
    });
}

#[test]
fn a_write_as_large_as_the_buffer_goes_straight_through() {
    virtual_runtime().block_on(async {
        let (sink, record) = RecordingWriter::new();
        let mut writer = BufWriter::with_capacity(8, sink);
        writer.write_all(b"hi").await.expect("buffered");
        writer.write_all(b"a big write").await.expect("written");
        assert_eq!(
            record.borrow().writes,
            [b"hi".to_vec(), b"a big write".to_vec()],
            "in order, uncopied"
        );
        assert!(writer.buffer().is_empty());
    });
}

#[test]
fn short_writes_and_pending_in_the_sink_lose_no_byte() {
    virtual_runtime().block_on(async {
        let (mut sink, record) = RecordingWriter::new();
        (sink.max_write, sink.pending_between) = (3, true);
        let mut writer = BufWriter::with_capacity(8, sink);
        let message: Vec<u8> = (0..100u8).collect();
        for piece in message.chunks(5) {
            writer.write_all(piece).await.expect("written");
        }
        writer.flush().await.expect("flushed");
        assert_eq!(record.borrow().bytes(), message);
        assert!(record.borrow().writes.iter().all(|w| w.len() <= 3));
    });
}

#[test]
fn lines_over_loopback_tcp_arrive_whole_and_every_socket_deregisters() {
    evloop::run(async {
        let baseline = evloop::stats().io_sources;
        let listener = TcpListener::bind("127.0.0.1:0".parse().expect("an address")).expect("bind");
        let addr = listener.local_addr().expect("bound");
        let text = "one\ntwo, a little longer\r\nthree\n".repeat(if cfg!(miri) { 2 } else { 50 });
        let sender = evloop::spawn({
            let text = text.clone();
            async move {
                let stream = TcpStream::connect(addr).await.expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                let mut writer = BufWriter::with_capacity(7, stream);
                for piece in text.as_bytes().chunks(5) {
                    writer.write_all(piece).await.expect("sent");
                    evloop::yield_now().await; // let the reader see the pieces apart
                }
                writer.close().await.expect("FIN");
            }
        });
        let (stream, _) = listener.accept().await.expect("accept");
        let mut lines = BufReader::with_capacity(3, stream).lines();
        let mut got = Vec::new();
        while let Some(line) = lines.next_line().await.expect("a line") {
            got.push(line);
        }
        sender.await.expect("the sender finished");
        let expected: Vec<&str> = text.lines().collect();
        assert_eq!(got, expected);
        drop((lines, listener));
        assert_eq!(evloop::stats().io_sources, baseline, "every socket deregistered itself");
    });
}

#[test]
fn read_to_end_and_read_to_string_collect_the_whole_stream() {
    virtual_runtime().block_on(async {
        let mut bytes = b"kept".to_vec();
        let n = ScriptedReader::chunks(b"0123456789", 4)
            .read_to_end(&mut bytes)
            .await
            .expect("all");
        assert_eq!((n, bytes), (10, b"kept0123456789".to_vec()));
        let mut text = String::new();
        ScriptedReader::chunks("héllo".as_bytes(), 2)
            .read_to_string(&mut text)
            .await
            .expect("UTF-8");
        assert_eq!(text, "héllo");
        let error = ScriptedReader::chunks(b"\xff", 1)
            .read_to_string(&mut text)
            .await
            .expect_err("not UTF-8");
        assert_eq!((error.kind(), text.as_str()), (ErrorKind::InvalidData, "héllo"));
    });
}

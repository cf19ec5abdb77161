//! Watching any descriptor: `AsyncFd` over pipes and Unix sockets (waiting, the drain rule, a
//! full pipe, ownership, refusals, the wrong loop), and asyncio's `add_reader`/`add_writer`
//! callbacks (once per readiness, level-triggered, cancelled, two on one descriptor, EOF).
//!
//! Every test runs on the virtual clock, checking `event_interval(1)` so each turn looks for I/O:
//! "N turns later" then means N looks at the reactor, not wall-clock time. The callback tests
//! cannot run under Miri, which does not emulate poll(2); the `AsyncFd` tests can.

mod support;

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use evloop::io::{AsyncFd, AsyncRead, AsyncWrite, FdWatch, add_reader, add_writer};
use evloop::{Runtime, spawn, yield_now};
use support::{capture_exceptions, panic_text};

/// A virtual-clock runtime that looks for I/O on every turn.
fn runtime() -> Runtime {
    Runtime::builder()
        .virtual_clock()
        .event_interval(1)
        .build()
        .expect("a runtime")
}

/// Polls `future` once, without waiting: whether it was ready right now.
async fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    let mut future = Some(future);
    poll_fn(|cx| Poll::Ready(future.take().expect("polled once").poll(cx))).await
}

/// Lets the loop turn `n` times.
async fn turns(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

/// Turns the loop until `done()` holds; fails the test after 100 turns.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        yield_now().await;
    }
    panic!("still waiting after 100 turns for: {what}");
}

/// Fills a non-blocking pipe (or socket) until it says `WouldBlock`; returns how many bytes.
fn fill(writer: &impl Fn(&[u8]) -> io::Result<usize>) -> usize {
    let chunk = [7u8; 4096];
    let mut total = 0;
    loop {
        match writer(&chunk) {
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return total,
            Err(e) => panic!("filling the pipe: {e}"),
        }
    }
}

#[test]
fn a_pipe_is_read_through_async_fd_with_data_written_before_and_after_the_first_wait() {
    let rt = runtime();
    let got = rt.block_on(async {
        let (reader, mut writer) = io::pipe().unwrap();
        writer.write_all(b"before ").unwrap(); // before registering: reported at the first wait
        let reader = AsyncFd::new(reader).unwrap();
        let late = spawn(async move {
            evloop::time::sleep(Duration::from_secs(1)).await; // the reader is parked by then
            writer.write_all(b"after").unwrap();
        }); // `writer` drops with the task: end of file
        let mut got = Vec::new();
        loop {
            let mut buf = [0; 64];
            match reader.read_with(|mut r| r.read(&mut buf)).await.unwrap() {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        late.await.unwrap();
        got
    });
    assert_eq!(got, b"before after");
    assert_eq!(rt.stats().io_sources, 0, "the AsyncFd deregistered when it dropped");
}

#[test]
fn readiness_stays_set_until_would_block_and_clear_ready_makes_the_next_wait_wait() {
    runtime().block_on(async {
        let (reader, mut writer) = io::pipe().unwrap();
        writer.write_all(b"ab").unwrap();
        let reader = AsyncFd::new(reader).unwrap();

        // Read one byte of two, and drop the guard without draining or clearing.
        let mut guard = reader.readable().await;
        let mut byte = [0; 1];
        assert_eq!(guard.try_io(|mut r| r.read(&mut byte)).unwrap(), 1);
        assert_eq!(&byte, b"a");
        drop(guard);
        let again = pin!(reader.readable());
        assert!(poll_once(again).await.is_ready(), "no WouldBlock yet: still ready");

        // Clearing by hand forgets the readiness, though "b" is still there: the hazard the
        // guard's docs warn of. The next wait is for a new event.
        reader.readable().await.clear_ready();
        let mut waiting = pin!(reader.readable());
        assert!(
            poll_once(waiting.as_mut()).await.is_pending(),
            "cleared: waits for a new edge"
        );
        assert_eq!(
            reader.get_ref().read(&mut byte).unwrap(),
            1,
            "the byte the wait would miss"
        );
        assert_eq!(&byte, b"b");

        // A new write is a new edge: the parked wait completes, and try_io drains to WouldBlock.
        writer.write_all(b"c").unwrap();
        let mut guard = waiting.await;
        assert_eq!(guard.try_io(|mut r| r.read(&mut byte)).unwrap(), 1);
        assert_eq!(&byte, b"c");
        let drained = guard.try_io(|mut r| r.read(&mut byte)).unwrap_err();
        assert_eq!(drained.kind(), io::ErrorKind::WouldBlock);
        let after = pin!(reader.readable());
        assert!(
            poll_once(after).await.is_pending(),
            "try_io cleared the readiness on WouldBlock"
        );
    });
}

#[test]
fn a_writer_on_a_full_pipe_waits_until_the_reader_drains_it() {
    let rt = runtime();
    let (filled, read) = rt.block_on(async {
        let (reader, writer) = io::pipe().unwrap();
        let (reader, writer) = (AsyncFd::new(reader).unwrap(), AsyncFd::new(writer).unwrap());
        let filled = fill(&|buf| writer.get_ref().write(buf));
        let woke = Rc::new(Cell::new(false));
        let blocked = spawn({
            let woke = woke.clone();
            async move {
                let n = writer.write_with(|mut w| w.write(b"!")).await.unwrap();
                woke.set(true);
                n
            } // `writer` drops here: end of file for the reader
        });
        turns(3).await;
        assert!(!woke.get(), "a full pipe keeps the writer waiting");
        let mut read = Vec::new();
        let mut buf = vec![0; 8192];
        loop {
            match reader.read_with(|mut r| r.read(&mut buf)).await.unwrap() {
                0 => break,
                n => read.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(blocked.await.unwrap(), 1);
        (filled, read)
    });
    assert!(filled > 0);
    assert_eq!(read.len(), filled + 1);
    assert_eq!(
        read.last(),
        Some(&b'!'),
        "the waiting write came after everything that filled"
    );
    assert_eq!(rt.stats().io_sources, 0);
}

#[test]
fn into_inner_deregisters_and_gives_the_descriptor_back_open() {
    let rt = runtime();
    rt.block_on(async {
        let baseline = evloop::stats().io_sources;
        let (reader, mut writer) = io::pipe().unwrap();
        let reader = AsyncFd::new(reader).unwrap();
        assert_eq!(evloop::stats().io_sources, baseline + 1);
        let reader = reader.into_inner();
        assert_eq!(
            evloop::stats().io_sources,
            baseline,
            "into_inner undid the registration"
        );
        writer.write_all(b"still open").unwrap();
        let mut buf = [0; 10];
        (&reader).read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"still open");
        let again = AsyncFd::new(reader).expect("the descriptor can be registered again");
        drop(again);
        assert_eq!(evloop::stats().io_sources, baseline);
    });
}

#[test]
fn dropping_an_async_fd_closes_its_descriptor() {
    runtime().block_on(async {
        let (reader, writer) = io::pipe().unwrap();
        let reader = AsyncFd::new(reader).unwrap();
        drop(AsyncFd::new(writer).unwrap()); // the only write end
        let n = reader.read_with(|mut r| r.read(&mut [0; 8])).await.unwrap();
        assert_eq!(n, 0, "the reader sees end of file: the write end was closed");
        assert_eq!(evloop::stats().io_sources, 1);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's epoll stops as unsupported at a regular file instead of refusing it with EPERM"
)]
fn a_regular_file_is_refused_with_a_message_that_points_to_spawn_blocking() {
    runtime().block_on(async {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let error = AsyncFd::new(std::fs::File::open(path).unwrap()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        let message = error.to_string();
        assert!(
            message.contains("regular files") && message.contains("spawn_blocking"),
            "{message}"
        );
        let file = std::fs::File::open(path).unwrap();
        let error = add_reader(&file, || {}).unwrap_err();
        assert!(error.to_string().contains("spawn_blocking"), "{error}");
        assert_eq!(evloop::stats().io_sources, 0, "nothing stays registered");
        assert_eq!(evloop::stats().tasks, 0, "no watch task was started");
    });
}

#[test]
fn a_second_async_fd_on_one_descriptor_is_refused_with_already_exists() {
    runtime().block_on(async {
        let (a, _b) = UnixStream::pair().unwrap();
        let first = AsyncFd::new(a.as_fd()).unwrap();
        let error = AsyncFd::new(a.as_fd()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert!(error.to_string().contains("try_clone"), "{error}");
        let duplicate = AsyncFd::new(a.try_clone().unwrap()).expect("a duplicate registers fine");
        drop((first, duplicate));
        assert_eq!(evloop::stats().io_sources, 0);
    });
}

#[test]
fn an_async_fd_over_a_pipe_is_an_async_read_and_write_stream() {
    // A pipe rather than a `UnixStream`: std writes a socket with send(2), which Miri's
    // socketpair refuses; `AsyncFd` itself is the same for both.
    runtime().block_on(async {
        let (reader, writer) = io::pipe().unwrap();
        let (reader, writer) = (AsyncFd::new(reader).unwrap(), AsyncFd::new(writer).unwrap());
        let written = poll_fn(|cx| Pin::new(&mut &writer).poll_write(cx, b"ping"))
            .await
            .unwrap();
        assert_eq!(written, 4);
        poll_fn(|cx| Pin::new(&mut &writer).poll_flush(cx)).await.unwrap();
        let mut buf = [0; 16];
        let n = poll_fn(|cx| Pin::new(&mut &reader).poll_read(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(&buf[..n], b"ping");
        let mut writer = writer;
        poll_fn(|cx| Pin::new(&mut writer).poll_close(cx)).await.unwrap();
        drop(writer); // a pipe's end of stream is its close (poll_close only flushes)
        let mut reader = reader;
        let n = poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(n, 0, "end of stream once the write end is closed");
    });
}

#[test]
fn an_async_fd_used_on_another_runtime_panics_naming_both() {
    let a = runtime();
    let (reader, _writer) = io::pipe().unwrap();
    let reader = a.block_on(async { AsyncFd::new(reader).unwrap() });
    let b = runtime();
    let result = catch_unwind(AssertUnwindSafe(|| b.block_on(async { drop(reader.readable().await) })));
    let message = panic_text(&*result.expect_err("waiting on runtime B must panic"));
    assert!(message.contains("belongs to runtime #"), "{message}");
    assert!(message.contains("but was used on runtime #"), "{message}");
    drop(reader); // off its loop: the loop forgets it at its next turn
    a.block_on(turns(1));
    assert_eq!(a.stats().io_sources, 0);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate poll(2)")]
fn add_reader_calls_back_once_per_readiness_and_stops_when_cancelled() {
    let rt = runtime();
    rt.block_on(async {
        let baseline = evloop::stats();
        let (reader, mut writer) = io::pipe().unwrap();
        let reader = Rc::new(reader);
        let got = Rc::new(RefCell::new(Vec::new()));
        let calls = Rc::new(Cell::new(0));
        let watch = add_reader(reader.clone(), {
            let (got, calls, reader) = (got.clone(), calls.clone(), reader.clone());
            move || {
                calls.set(calls.get() + 1);
                let mut buf = [0; 64]; // room for everything: one call drains
                let n = (&*reader).read(&mut buf).unwrap();
                got.borrow_mut().extend_from_slice(&buf[..n]);
            }
        })
        .unwrap();
        assert_eq!(evloop::stats().io_sources, baseline.io_sources + 1);
        turns(5).await;
        assert_eq!(calls.get(), 0, "nothing to read, no call");

        writer.write_all(b"abc").unwrap();
        until("the first call", || calls.get() == 1).await;
        turns(5).await;
        assert_eq!(calls.get(), 1, "drained in one call: not called again");
        writer.write_all(b"d").unwrap();
        until("the second call", || calls.get() == 2).await;
        assert_eq!(&*got.borrow(), b"abcd");

        assert!(watch.is_active());
        assert!(watch.cancel(), "remove_reader of an active watch");
        assert!(!watch.cancel(), "a second remove finds nothing");
        assert_eq!(evloop::stats().io_sources, baseline.io_sources, "deregistered at once");
        writer.write_all(b"e").unwrap();
        turns(5).await;
        assert_eq!(calls.get(), 2, "a cancelled watch is never called");
        assert_eq!(evloop::stats().tasks, baseline.tasks, "its task has ended");
        drop(watch);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate poll(2)")]
fn add_reader_is_level_triggered_a_callback_that_reads_a_little_is_called_again() {
    runtime().block_on(async {
        let (reader, mut writer) = io::pipe().unwrap();
        let reader = Rc::new(reader);
        let got = Rc::new(RefCell::new(Vec::new()));
        let _watch = add_reader(reader.clone(), {
            let (got, reader) = (got.clone(), reader.clone());
            move || {
                let mut byte = [0; 1]; // one byte per call, as asyncio code may do
                let n = (&*reader).read(&mut byte).unwrap();
                got.borrow_mut().extend_from_slice(&byte[..n]);
            }
        })
        .unwrap();
        writer.write_all(b"xyz").unwrap();
        until("three one-byte calls", || got.borrow().len() == 3).await;
        turns(5).await;
        assert_eq!(&*got.borrow(), b"xyz", "called while readable, and only then");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate poll(2)")]
fn dropping_the_watch_removes_it_and_its_task() {
    let rt = runtime();
    rt.block_on(async {
        let baseline = evloop::stats();
        let (reader, mut writer) = io::pipe().unwrap();
        let calls = Rc::new(Cell::new(0));
        let watch = add_reader(&reader, {
            let calls = calls.clone();
            move || calls.set(calls.get() + 1) // never reads: would be called every turn
        })
        .unwrap();
        writer.write_all(b"x").unwrap();
        until("a call", || calls.get() > 0).await;
        drop(watch);
        let after_drop = calls.get();
        turns(5).await;
        assert_eq!(calls.get(), after_drop, "not called after the drop");
        let now = evloop::stats();
        assert_eq!((now.io_sources, now.tasks), (baseline.io_sources, baseline.tasks));
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate poll(2)")]
fn a_reader_and_a_writer_watch_one_socket_beside_an_async_fd_of_it() {
    runtime().block_on(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let a = Rc::new(a);
        // An AsyncFd of `a` itself, and two watches of it: three registrations of one socket.
        let a_fd = AsyncFd::new(a.clone()).unwrap();
        let got = Rc::new(RefCell::new(Vec::new()));
        let _reader = add_reader(&*a, {
            let (a, got) = (a.clone(), got.clone());
            move || {
                let mut buf = [0; 16];
                if let Ok(n) = (&*a).read(&mut buf) {
                    got.borrow_mut().extend_from_slice(&buf[..n]);
                }
            }
        })
        .unwrap();
        let writer: Rc<RefCell<Option<FdWatch>>> = Rc::default();
        *writer.borrow_mut() = Some(
            add_writer(&*a, {
                let (a, writer) = (a.clone(), writer.clone());
                move || {
                    (&*a).write_all(b"ping").unwrap();
                    drop(writer.borrow_mut().take()); // nothing more to write: remove_writer
                }
            })
            .unwrap(),
        );
        assert_eq!(evloop::stats().io_sources, 3);
        until("the writer's callback", || writer.borrow().is_none()).await;
        assert_eq!(evloop::stats().io_sources, 2, "the writer removed itself");
        let mut ping = [0; 4];
        b.read_exact(&mut ping).unwrap();
        assert_eq!(&ping, b"ping");
        b.write_all(b"pong").unwrap();
        until("the reader's callback", || got.borrow().len() == 4).await;
        assert_eq!(&*got.borrow(), b"pong");
        assert!(a_fd.writable().await.get_inner().as_fd().try_clone_to_owned().is_ok());
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate poll(2)")]
fn a_closed_writer_gives_end_of_file_to_read_with_and_to_the_callback() {
    runtime().block_on(async {
        let (reader, writer) = io::pipe().unwrap();
        let reader = Rc::new(reader);
        let eof = Rc::new(Cell::new(false));
        let watch: Rc<RefCell<Option<FdWatch>>> = Rc::default();
        *watch.borrow_mut() = Some(
            add_reader(reader.clone(), {
                let (reader, eof, watch) = (reader.clone(), eof.clone(), watch.clone());
                move || {
                    if (&*reader).read(&mut [0; 8]).unwrap() == 0 {
                        eof.set(true);
                        drop(watch.borrow_mut().take()); // at end of file: remove_reader
                    }
                }
            })
            .unwrap(),
        );
        drop(writer);
        until("the callback's end of file", || eof.get()).await;
        assert!(watch.borrow().is_none());
        let reader = AsyncFd::new(reader).unwrap();
        let n = reader.read_with(|r| (&**r).read(&mut [0; 8])).await.unwrap();
        assert_eq!(n, 0, "read_with sees end of file too");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate poll(2)")]
fn a_panicking_callback_is_reported_and_ends_its_watch() {
    let rt = runtime();
    let log = capture_exceptions(&rt);
    rt.block_on(async {
        let (reader, mut writer) = io::pipe().unwrap();
        let watch = add_reader(&reader, || panic!("the callback broke")).unwrap();
        writer.write_all(b"x").unwrap();
        until("the panic", || !watch.is_active()).await;
        assert_eq!(evloop::stats().io_sources, 0, "deregistered by the panic");
        turns(2).await;
        assert_eq!(evloop::stats().tasks, 0);
    });
    let reports = log.take();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].contains("add_reader") && reports[0].contains("the callback broke"),
        "{reports:?}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate poll(2)")]
fn a_watch_that_outlives_its_runtime_drops_quietly() {
    let (reader, _writer) = io::pipe().unwrap();
    let watch = {
        let rt = runtime();
        rt.block_on(async { add_reader(&reader, || {}).unwrap() })
    };
    assert!(watch.is_active(), "still holds its descriptor");
    drop(watch);
}

#[test]
fn a_task_looping_on_readable_without_draining_still_lets_other_tasks_run() {
    runtime().block_on(async {
        let (reader, mut writer) = io::pipe().unwrap();
        writer.write_all(b"never read").unwrap();
        let reader = AsyncFd::new(reader).unwrap();
        let other_ran = Rc::new(Cell::new(false));
        let other = spawn({
            let other_ran = other_ran.clone();
            async move { other_ran.set(true) }
        });
        // More waits than one poll's budget (128 operations, `runtime/core.rs`); fewer under Miri.
        let waits = if cfg!(miri) { 200 } else { 1000 };
        let mut seen_before_the_other_ran = 0;
        for _ in 0..waits {
            drop(reader.readable().await); // always ready: it is never drained
            if !other_ran.get() {
                seen_before_the_other_ran += 1;
            }
        }
        other.await.unwrap();
        assert!(
            seen_before_the_other_ran < waits,
            "the budget made the looping task yield (it saw {seen_before_the_other_ran} waits first)"
        );
    });
}

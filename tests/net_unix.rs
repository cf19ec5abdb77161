//! Unix domain sockets on the loop: listeners on a path and the path's lifetime, pairs, a peer
//! that vanishes, a full send buffer, datagrams, conversions, and clean teardown.
//!
//! Timeouts here only guard against a hang; nothing waits on the clock to let something
//! else happen. Each test works in a directory of its own, removed at the end.

use std::future::poll_fn;
use std::io::ErrorKind;
use std::net::Shutdown;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use evloop::io::{AsyncRead, AsyncWrite};
use evloop::net::{UnixDatagram, UnixListener, UnixStream};
use evloop::time::timeout;
use evloop::{Runtime, spawn, yield_now};

const GUARD: Duration = Duration::from_secs(5);

/// A fresh directory for one test's socket files, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(test: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("evloop-unix-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A waker that counts its wakes, to see exactly when the reactor reports readiness.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let count = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (count.clone(), Waker::from(count))
}

/// Lets the loop turn (each `yield_now` is one turn, with a non-blocking look for I/O) until
/// `done` holds, or fails the test.
async fn turn_until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        yield_now().await;
    }
    panic!("the loop never got to: {what}");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket() emulates only AF_INET and AF_INET6, not a Unix socket on a path"
)]
fn a_listener_serves_clients_on_its_path_and_the_socket_file_outlives_it() {
    let dir = Dir::new("listener");
    let path = dir.path("server.sock");
    evloop::run(async {
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
        let server = spawn(async move {
            for _ in 0..3 {
                let (stream, client) = listener.accept().await.unwrap();
                assert!(client.is_unnamed(), "a client that did not bind has no address");
                drop(spawn(async move {
                    let mut buf = [0u8; 256];
                    loop {
                        match stream.read(&mut buf).await.unwrap() {
                            0 => break,
                            n => stream.write_all(&buf[..n]).await.unwrap(),
                        }
                    }
                })); // detached: it ends when its client closes
            }
        });
        for i in 0..3 {
            let client = timeout(GUARD, UnixStream::connect(&path)).await.unwrap().unwrap();
            assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
            let message = format!("client {i}");
            client.write_all(message.as_bytes()).await.unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            let mut back = vec![0u8; message.len()];
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(back, message.as_bytes());
            assert_eq!(client.read(&mut [0u8; 8]).await.unwrap(), 0, "the server closed too");
        }
        server.await.unwrap();
        turn_until("every connection task ends", || evloop::stats().tasks == 0).await;
        assert_eq!(evloop::stats().io_sources, 0, "listener and streams deregistered");
    });
    assert!(path.exists(), "dropping the listener leaves its socket file");
    evloop::run(async {
        let error = UnixListener::bind(&path).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");
        let error = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "a stale file: {error}");
        std::fs::remove_file(&path).unwrap();
        let error = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
        UnixListener::bind(&path).expect("the path is free once the file is removed");
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socketpair is not a socket: writes, addresses and options on it fail with ENOTSOCK"
)]
fn a_pair_talks_both_ways_and_has_no_addresses() {
    evloop::run(async {
        let (a, b) = UnixStream::pair().unwrap();
        assert!(a.local_addr().unwrap().is_unnamed());
        assert!(a.peer_addr().unwrap().is_unnamed());
        a.write_all(b"to b").await.unwrap();
        b.write_all(b"to a").await.unwrap();
        let mut buf = [0u8; 4];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"to b");
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"to a");
        assert_eq!(evloop::stats().io_sources, 2);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socketpair is not a socket: writes, addresses and options on it fail with ENOTSOCK"
)]
fn a_vanished_peer_reads_as_end_of_stream_and_writing_to_it_is_a_broken_pipe() {
    evloop::run(async {
        let (a, b) = UnixStream::pair().unwrap();
        a.write_all(b"last words").await.unwrap();
        drop(a);
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            match timeout(GUARD, b.read(&mut buf)).await.expect("no hang").unwrap() {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(got, b"last words", "the bytes, then end of stream");
        let error = timeout(GUARD, b.write(b"anyone?")).await.expect("no hang").unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
            "{error}"
        );
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socketpair is not a socket: writes, addresses and options on it fail with ENOTSOCK"
)]
fn a_full_send_buffer_makes_write_pending_until_the_peer_reads() {
    evloop::run(async {
        let (writer, reader) = UnixStream::pair().unwrap();
        socket2::SockRef::from(&writer).set_send_buffer_size(4096).unwrap();
        let chunk = [7u8; 1024];
        let (wakes, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        // A fresh socket's readiness is unknown until the reactor reports it: the first write
        // waits for that. Then, by hand: write until the kernel refuses, which must happen
        // long before 16 MiB. A `Pending` now can only mean `WouldBlock`.
        let mut written = writer.write(&chunk).await.unwrap();
        let mut attempts = 0;
        loop {
            match writer.poll_write(&mut cx, &chunk) {
                Poll::Ready(Ok(n)) => written += n,
                Poll::Ready(Err(e)) => panic!("write failed: {e}"),
                Poll::Pending => break,
            }
            attempts += 1;
            if attempts % 64 == 0 {
                yield_now().await; // the task's I/O budget is spent every so often: let it refill
            }
            assert!(
                written < 16 << 20,
                "a 4 KiB send buffer took {written} bytes without waiting"
            );
        }
        turn_until("nothing", || true).await;
        assert_eq!(
            wakes.0.load(Ordering::SeqCst),
            0,
            "no wake while the peer reads nothing"
        );
        assert!(writer.poll_write(&mut cx, &chunk).is_pending(), "still full");

        // The peer reads everything; the kernel reports room, and the parked write is woken.
        let mut buf = vec![0u8; written];
        reader.read_exact(&mut buf).await.unwrap();
        turn_until("the writer is woken", || wakes.0.load(Ordering::SeqCst) > 0).await;
        assert!(matches!(writer.poll_write(&mut cx, &chunk), Poll::Ready(Ok(n)) if n > 0));
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socketpair is not a socket: writes, addresses and options on it fail with ENOTSOCK"
)]
fn the_stream_traits_work_through_a_shared_reference_and_close_sends_end_of_stream() {
    evloop::run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let mut a_ref = &a;
        let n = poll_fn(|cx| Pin::new(&mut a_ref).poll_write(cx, b"via the trait"))
            .await
            .unwrap();
        assert_eq!(n, 13);
        poll_fn(|cx| Pin::new(&mut a_ref).poll_flush(cx)).await.unwrap();
        poll_fn(|cx| Pin::new(&mut a_ref).poll_close(cx)).await.unwrap();
        let mut b = b;
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            match poll_fn(|cx| Pin::new(&mut b).poll_read(cx, &mut buf)).await.unwrap() {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(got, b"via the trait");
        // Closing was a half-close: `a` can still read what `b` sends.
        b.write_all(b"reply").await.unwrap();
        let mut reply = [0u8; 5];
        a.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"reply");
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri emulates only SOCK_STREAM sockets, and a Unix datagram socket is SOCK_DGRAM"
)]
fn datagrams_between_paths_keep_their_edges_and_name_their_sender() {
    let dir = Dir::new("datagram");
    let (a_path, b_path) = (dir.path("a.sock"), dir.path("b.sock"));
    evloop::run(async {
        let a = UnixDatagram::bind(&a_path).unwrap();
        let b = UnixDatagram::bind(&b_path).unwrap();
        a.send_to(b"one", &b_path).await.unwrap();
        a.send_to(b"two", &b_path).await.unwrap();
        let mut buf = [0u8; 16];
        for expected in [&b"one"[..], b"two"] {
            let (n, from) = timeout(GUARD, b.recv_from(&mut buf)).await.unwrap().unwrap();
            assert_eq!(&buf[..n], expected);
            assert_eq!(from.as_pathname(), Some(a_path.as_path()));
        }
        // An unbound sender can send, but has no address to reply to.
        let anonymous = UnixDatagram::unbound().unwrap();
        anonymous.send_to(b"anon", &b_path).await.unwrap();
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from.is_unnamed()), (&b"anon"[..], true));
        // Connected: `send` and `recv` need no address.
        anonymous.connect(&a_path).unwrap();
        assert_eq!(anonymous.peer_addr().unwrap().as_pathname(), Some(a_path.as_path()));
        anonymous.send(b"connected").await.unwrap();
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"connected");
        // Nobody bound at a path: refused at once, not lost like UDP.
        let error = a.send_to(b"x", dir.path("nobody.sock")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
        // Truncated to the buffer, the rest discarded.
        a.send_to(b"0123456789", &b_path).await.unwrap();
        a.send_to(b"next", &b_path).await.unwrap();
        let mut small = [0u8; 4];
        assert_eq!(b.recv(&mut small).await.unwrap(), 4);
        assert_eq!(&small, b"0123");
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"next");
    });
    assert!(
        a_path.exists() && b_path.exists(),
        "bound datagram sockets leave their files too"
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri emulates only SOCK_STREAM sockets, and a Unix datagram socket is SOCK_DGRAM"
)]
fn a_datagram_pair_waits_when_the_receivers_queue_is_full_instead_of_dropping() {
    evloop::run(async {
        let (sender, receiver) = UnixDatagram::pair().unwrap();
        assert!(sender.local_addr().unwrap().is_unnamed());
        let (wakes, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        // The first send waits for the reactor's first report; then by hand, until full.
        assert_eq!(sender.send(&[0u8; 512]).await.unwrap(), 512);
        let mut sent = 1usize;
        loop {
            match sender.poll_send(&mut cx, &[sent as u8; 512]) {
                Poll::Ready(Ok(n)) => assert_eq!(n, 512),
                Poll::Ready(Err(e)) => panic!("send failed: {e}"),
                Poll::Pending => break,
            }
            sent += 1;
            if sent.is_multiple_of(64) {
                yield_now().await; // refill the task's I/O budget
            }
            assert!(sent < 1_000_000, "a Unix datagram queue never filled");
        }
        // Every datagram is there, in order: nothing was dropped.
        let mut buf = [0u8; 1024];
        for i in 0..sent {
            let n = receiver.recv(&mut buf).await.unwrap();
            assert_eq!((n, buf[0]), (512, i as u8), "datagram {i}");
        }
        turn_until("the sender is woken", || wakes.0.load(Ordering::SeqCst) > 0).await;
        assert!(matches!(sender.poll_send(&mut cx, b"room again"), Poll::Ready(Ok(10))));
        let n = receiver.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"room again");
        sender.shutdown(Shutdown::Write).unwrap();
        let error = sender.send(b"after shutdown").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenPipe, "{error}");
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri emulates only SOCK_STREAM sockets: this test also uses a Unix datagram pair"
)]
fn into_std_and_from_std_round_trip_every_unix_socket_kind() {
    let dir = Dir::new("convert");
    let path = dir.path("l.sock");
    evloop::run(async {
        let listener = UnixListener::bind(&path).unwrap().into_std().unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        let (a, b) = (a.into_std().unwrap(), b.into_std().unwrap());
        let (c, d) = UnixDatagram::pair().unwrap();
        let (c, d) = (c.into_std().unwrap(), d.into_std().unwrap());
        assert_eq!(evloop::stats().io_sources, 0, "every into_std deregistered");
        for fd in [listener.as_fd_ref(), a.as_fd_ref(), c.as_fd_ref()] {
            assert!(
                !socket2::SockRef::from(&fd).nonblocking().unwrap(),
                "given back blocking"
            );
        }
        let listener = UnixListener::from_std(listener).unwrap();
        let (a, b) = (UnixStream::from_std(a).unwrap(), UnixStream::from_std(b).unwrap());
        let (c, d) = (UnixDatagram::from_std(c).unwrap(), UnixDatagram::from_std(d).unwrap());
        assert_eq!(evloop::stats().io_sources, 5);
        assert!(socket2::SockRef::from(&a).nonblocking().unwrap());
        a.write_all(b"s").await.unwrap();
        assert_eq!(b.read(&mut [0u8; 1]).await.unwrap(), 1);
        c.send(b"d").await.unwrap();
        assert_eq!(d.recv(&mut [0u8; 1]).await.unwrap(), 1);
        let client = spawn(UnixStream::connect(path.clone()));
        let (accepted, _) = timeout(GUARD, listener.accept()).await.unwrap().unwrap();
        drop((accepted, client.await.unwrap().unwrap()));
    });
}

/// A borrowed descriptor, to put std sockets of different types in one array.
trait AsFdRef {
    fn as_fd_ref(&self) -> std::os::fd::BorrowedFd<'_>;
}

impl<T: std::os::fd::AsFd> AsFdRef for T {
    fn as_fd_ref(&self) -> std::os::fd::BorrowedFd<'_> {
        self.as_fd()
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri emulates only SOCK_STREAM sockets: this test also uses a Unix datagram pair"
)]
fn dropping_unix_sockets_and_their_parked_operations_returns_registrations_to_baseline() {
    let dir = Dir::new("teardown");
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let listener = UnixListener::bind(dir.path("l.sock")).unwrap();
        let (a, _b) = UnixStream::pair().unwrap();
        let (c, _d) = UnixDatagram::pair().unwrap();
        assert_eq!(evloop::stats().io_sources, 5);
        let parked = [
            spawn(async move { listener.accept().await.map(drop) }),
            spawn(async move { a.read(&mut [0u8; 8]).await.map(drop) }),
            spawn(async move { c.recv(&mut [0u8; 8]).await.map(drop) }),
        ];
        yield_now().await;
        for task in parked {
            task.cancel();
            assert!(task.await.unwrap_err().is_cancelled());
        }
        assert_eq!(evloop::stats().io_sources, 2, "only the two idle ends are left");
    });
    assert_eq!(runtime.stats().io_sources, 0);
}

#[test]
fn a_unix_stream_used_on_another_runtime_panics_naming_both() {
    let a = Runtime::new().unwrap();
    let (left, right) = a.block_on(async { UnixStream::pair().unwrap() });
    let b = Runtime::new().unwrap();
    let panic = catch_unwind(AssertUnwindSafe(|| b.block_on(left.write(b"x"))))
        .expect_err("writing on runtime B with runtime A's socket must panic");
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(message.contains("this socket belongs to runtime #"), "{message}");
    assert!(message.contains("but was used on runtime #"), "{message}");
    drop(b);
    a.block_on(async move { drop((left, right)) });
    assert_eq!(a.stats().io_sources, 0);
}

//! `TcpStream` connect, write and read, and `TcpListener::accept`, cancelled at every await point,
//! against a peer on the same loop (loopback, `127.0.0.1:0`). After each cancellation the peer
//! must see the connection end (it finishes), no socket may stay registered, and a new exchange
//! over the same listener must work. One scenario keeps its stream: a cancelled `read` must lose
//! no byte, and the next `read` on that stream must still be woken (readiness is edge-triggered:
//! a readiness the cancelled read was woken for and never used must not be forgotten).

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use evloop::net::{TcpListener, TcpStream};
use evloop::time::{sleep, timeout};
use evloop::{JoinHandle, spawn};

use crate::support::cancel::cancel_at_every_await;
use crate::{finished, ms};

/// How much a client sends: more than loopback buffers hold, so the writer waits for the reader.
const PAYLOAD: usize = 8 << 20;

fn listen() -> Rc<TcpListener> {
    Rc::new(TcpListener::bind("127.0.0.1:0".parse().expect("an address")).expect("bind"))
}

/// Sends `payload`, then reads the 4-byte answer.
async fn ping(stream: &TcpStream, payload: &[u8]) -> io::Result<[u8; 4]> {
    stream.write_all(payload).await?;
    let mut answer = [0; 4];
    stream.read_exact(&mut answer).await?;
    Ok(answer)
}

/// The server side of one exchange: reads `len` bytes starting with `tag` (pausing 5 ms after
/// the first read, so the client's writes fill the buffers), waits 5 ms, answers `pong`, and
/// reads until the client closes. Returns whether it answered its client; a client that went
/// away early, or sent something else, just ends it.
async fn serve(stream: TcpStream, tag: &[u8; 4], len: usize) -> bool {
    let mut buf = vec![0; 64 * 1024];
    let mut got = Vec::new();
    while got.len() < len {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        if !got.starts_with(&tag[..got.len().min(4)]) {
            return false;
        }
        if got.len() == buf.len().min(len) {
            sleep(ms(5)).await;
        }
    }
    sleep(ms(5)).await;
    if stream.write_all(b"pong").await.is_err() {
        return false;
    }
    while let Ok(1..) = stream.read(&mut buf).await {}
    true
}

/// Serves connections until it has answered one that sent `tag`: skips any other (a client a
/// cancelled scenario left in the backlog, say).
async fn serve_one(listener: &TcpListener, tag: &[u8; 4]) {
    loop {
        let (stream, _) = listener.accept().await.expect("the next accept works");
        if serve(stream, tag, 4).await {
            return;
        }
    }
}

/// A new client and `serve_one` exchange a small ping over `listener`.
async fn a_new_exchange_works(listener: &TcpListener) {
    let addr = listener.local_addr().expect("bound");
    let client = spawn(async move {
        let stream = TcpStream::connect(addr).await.expect("the next connect works");
        assert_eq!(&ping(&stream, b"next").await.expect("the next exchange works"), b"pong");
    });
    timeout(ms(1000), serve_one(listener, b"next"))
        .await
        .expect("the listener accepts and serves the next client");
    finished(client, "the next client").await;
}

struct Served {
    listener: Rc<TcpListener>,
    acceptor: JoinHandle<()>,
}

#[test]
fn a_client_exchange_closes_its_socket_wherever_it_is_cancelled() {
    let covered = cancel_at_every_await(
        "TcpStream connect, write, read",
        || async {
            let listener = listen();
            let l = listener.clone();
            let acceptor = spawn(async move {
                while let Ok((stream, _)) = l.accept().await {
                    drop(spawn(async move { serve(stream, b"data", PAYLOAD).await }));
                }
            });
            Served { listener, acceptor }
        },
        |s| {
            let addr = s.listener.local_addr().expect("bound");
            async move {
                let stream = TcpStream::connect(addr).await.expect("connect");
                // The last, partial segment of a long write goes out at once, not after an ACK.
                stream.set_nodelay(true).expect("nodelay");
                let mut payload = vec![7; PAYLOAD];
                payload[..4].copy_from_slice(b"data");
                let answer = ping(&stream, &payload).await.expect("an exchange");
                assert_eq!(&answer, b"pong");
            }
        },
        |s| async move {
            s.acceptor.cancel();
            let _ = s.acceptor.await;
            a_new_exchange_works(&s.listener).await;
        },
    );
    // Under Miri only a sample of the await points runs (tests/support/cancel.rs): no count.
    assert!(cfg!(miri) || covered.points >= 4, "connect, write, read: {covered:?}");
}

#[test]
fn an_accept_and_its_exchange_close_their_socket_wherever_they_are_cancelled() {
    let covered = cancel_at_every_await(
        "TcpListener accept, then read and write",
        || async {
            let listener = listen();
            let addr = listener.local_addr().expect("bound");
            let client = spawn(async move {
                sleep(ms(10)).await;
                let stream = TcpStream::connect(addr).await.expect("connect: the backlog takes it");
                // A cancelled server never answers: give up after a while.
                let _ = timeout(ms(100), ping(&stream, b"ping")).await;
            });
            (listener, client)
        },
        |(listener, _)| {
            let listener = listener.clone();
            async move { serve_one(&listener, b"ping").await }
        },
        |(listener, client)| async move {
            finished(client, "the client").await;
            a_new_exchange_works(&listener).await;
        },
    );
    // Under Miri only a sample of the await points runs (tests/support/cancel.rs): no count.
    assert!(
        cfg!(miri) || covered.points >= 4,
        "accept, read, sleep, write: {covered:?}"
    );
}

#[test]
fn a_cancelled_read_loses_no_byte_and_the_next_read_on_the_stream_is_woken() {
    let covered = cancel_at_every_await(
        "TcpStream::read, the stream kept",
        || async {
            let listener = listen();
            let client = TcpStream::connect(listener.local_addr().expect("bound"))
                .await
                .expect("connect");
            let (server, _) = listener.accept().await.expect("accept");
            server.set_nodelay(true).expect("nodelay"); // each part goes out when written
            let writer = spawn(async move {
                for part in [&b"abc"[..], b"def", b"ghi"] {
                    sleep(ms(10)).await;
                    server.write_all(part).await.expect("the client is there");
                }
            }); // dropping the server side closes it
            (Rc::new(client), Rc::new(RefCell::new(Vec::new())), writer)
        },
        |(stream, got, _)| {
            let (stream, got) = (stream.clone(), got.clone());
            async move {
                let mut buf = [0; 64];
                loop {
                    let n = stream.read(&mut buf).await.expect("a read");
                    if n == 0 {
                        break;
                    }
                    got.borrow_mut().extend_from_slice(&buf[..n]);
                }
            }
        },
        |(stream, got, writer)| async move {
            finished(writer, "the writer").await;
            let mut buf = [0; 64];
            loop {
                let read = timeout(ms(1000), stream.read(&mut buf)).await;
                let n = read.expect("the next read is woken").expect("a read");
                if n == 0 {
                    break;
                }
                got.borrow_mut().extend_from_slice(&buf[..n]);
            }
            assert_eq!(&*got.borrow(), b"abcdefghi", "every byte exactly once, in order");
        },
    );
    covered.assert_exactly(4);
}

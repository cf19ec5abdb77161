//! TCP on the loop, over loopback: concurrency, errors, shared sockets, and clean teardown.

mod support;

use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use evloop::net::{TcpListener, TcpStream};
use evloop::{spawn, yield_now};

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().expect("a valid address")
}

/// Accepts connections forever, echoing each one back until the client closes.
fn spawn_echo_server(listener: TcpListener) -> evloop::JoinHandle<()> {
    spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            let _conn = spawn(async move {
                let mut buf = [0u8; 4096];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    })
}

#[test]
fn many_concurrent_clients_get_their_own_bytes_back() {
    evloop::run(async {
        let listener = TcpListener::bind(any_port()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_echo_server(listener);
        let clients: Vec<_> = (0..50)
            .map(|i| {
                spawn(async move {
                    let stream = TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    assert!(stream.nodelay().unwrap());
                    assert_eq!(stream.peer_addr().unwrap(), addr);
                    let message = format!("hello from client {i}, ").repeat(50);
                    stream.write_all(message.as_bytes()).await.unwrap();
                    let mut back = vec![0u8; message.len()];
                    stream.read_exact(&mut back).await.unwrap();
                    assert_eq!(back, message.as_bytes());
                    i
                })
            })
            .collect();
        for (i, c) in clients.into_iter().enumerate() {
            assert_eq!(c.await.unwrap(), i);
        }
        server.cancel();
        let _ = server.await;
        // The per-connection tasks see end-of-stream from their closed clients and exit.
        for _ in 0..1000 {
            if evloop::stats().io_sources == 0 {
                break;
            }
            evloop::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(evloop::stats().io_sources, 0, "every socket deregistered itself");
        assert_eq!(evloop::stats().tasks, 0, "every connection task finished");
    });
}

#[test]
fn a_refused_connection_fails_fast_with_the_os_reason() {
    evloop::run(async {
        let addr = {
            let listener = TcpListener::bind(any_port()).unwrap();
            listener.local_addr().unwrap()
        };
        let started = Instant::now();
        let error = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused, "{error}");
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(evloop::stats().io_sources, 0, "the failed socket is gone too");
    });
}

#[test]
fn a_peer_closing_mid_read_gives_the_bytes_then_end_of_stream() {
    evloop::run(async {
        let listener = TcpListener::bind(any_port()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            stream.write_all(b"partial").await.unwrap();
            // Dropping the stream closes the connection.
        });
        let client = TcpStream::connect(addr).await.unwrap();
        server.await.unwrap();
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        loop {
            let n = client.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"partial");
        let mut exact = [0u8; 4];
        let error = client.read_exact(&mut exact).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
    });
}

#[test]
fn a_reader_and_a_writer_share_one_socket_without_stealing_wakeups() {
    evloop::run(async {
        let listener = TcpListener::bind(any_port()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_echo_server(listener);
        let stream = Rc::new(TcpStream::connect(addr).await.unwrap());
        const TOTAL: usize = 2 * 1024 * 1024; // larger than the socket buffers: both sides park
        // Byte `i` is `i % 251`. Built and compared a slice at a time, not byte by byte, so that
        // the test stays quick under Miri, which interprets every loop iteration.
        let pattern: Vec<u8> = (0..251u8).collect();
        let mut data = Vec::with_capacity(TOTAL + pattern.len());
        while data.len() < TOTAL {
            data.extend_from_slice(&pattern);
        }
        data.truncate(TOTAL);
        let data = Rc::new(data);
        let reader = {
            let (stream, data) = (stream.clone(), data.clone());
            spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut seen = 0usize;
                while seen < TOTAL {
                    let n = stream.read(&mut buf).await.unwrap();
                    assert!(n > 0, "echo closed early");
                    let expected = data.get(seen..seen + n).expect("no more bytes than were written");
                    if buf[..n] != *expected {
                        let k = buf[..n].iter().zip(expected).position(|(a, b)| a != b).unwrap();
                        panic!("byte {} out of order: {} instead of {}", seen + k, buf[k], expected[k]);
                    }
                    seen += n;
                }
                seen
            })
        };
        let writer = {
            let stream = stream.clone();
            spawn(async move {
                for chunk in data.chunks(100_000) {
                    stream.write_all(chunk).await.unwrap();
                }
            })
        };
        writer.await.unwrap();
        assert_eq!(reader.await.unwrap(), TOTAL);
        stream.shutdown(Shutdown::Both).unwrap();
        server.cancel();
    });
}

#[test]
fn dropping_a_pending_read_or_accept_deregisters_cleanly() {
    let rt = evloop::Runtime::new().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind(any_port()).unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (server_side, _) = listener.accept().await.unwrap();
        assert_eq!(evloop::stats().io_sources, 3);

        // A read that can never complete (nobody writes), cancelled while parked.
        let pending_read = spawn(async move {
            let mut buf = [0u8; 8];
            client.read(&mut buf).await
        });
        // An accept that can never complete, cancelled while parked.
        let pending_accept = spawn(async move { listener.accept().await.map(|_| ()) });
        yield_now().await;
        yield_now().await;
        pending_read.cancel();
        pending_accept.cancel();
        assert!(pending_read.await.unwrap_err().is_cancelled());
        assert!(pending_accept.await.unwrap_err().is_cancelled());
        assert_eq!(
            evloop::stats().io_sources,
            1,
            "the client and the listener left the reactor"
        );
        drop(server_side);
        assert_eq!(evloop::stats().io_sources, 0);
    });
    assert_eq!(rt.stats().io_sources, 0);
}

#[test]
fn an_ip_literal_resolves_without_a_thread_and_a_name_resolves_off_the_loop() {
    let rt = evloop::Runtime::new().unwrap();
    rt.block_on(async {
        let v4 = evloop::net::lookup_host("127.0.0.1", 80).await.unwrap();
        assert_eq!(v4, ["127.0.0.1:80".parse::<SocketAddr>().unwrap()]);
        let v6 = evloop::net::lookup_host("[::1]", 8080).await.unwrap();
        assert_eq!(v6, ["[::1]:8080".parse::<SocketAddr>().unwrap()]);
        assert_eq!(evloop::stats().blocking_threads, 0, "literals need no resolver thread");
        let local = evloop::net::lookup_host("localhost", 80).await.unwrap();
        assert!(local.iter().all(|a| a.ip().is_loopback()), "{local:?}");
        assert!(
            evloop::stats().blocking_threads >= 1,
            "a name went to the blocking pool"
        );
        let empty = evloop::net::lookup_host("", 80).await.unwrap_err();
        assert_eq!(empty.kind(), std::io::ErrorKind::InvalidInput);
    });
}

#[test]
fn connect_host_tries_the_resolved_addresses() {
    evloop::run(async {
        let listener = TcpListener::bind(any_port()).unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = spawn(async move { listener.accept().await.map(|_| ()) });
        let stream = TcpStream::connect_host("127.0.0.1", port).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap().port(), port);
        server.await.unwrap().unwrap();
    });
}

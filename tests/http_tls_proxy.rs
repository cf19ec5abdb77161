//! `https://` through a forward proxy's `CONNECT` tunnel (the `tls` feature): evloop's client
//! against a small CONNECT proxy written here (std threads on loopback, copying bytes both ways
//! once it has answered `200 Connection established`) in front of the rustls server of
//! tests/support/tls_peer.rs, whose certificates come from a throwaway CA.
//!
//! What it proves: the proxy sees exactly `CONNECT host:port` with the right `Host` and
//! `Proxy-Authorization`, and nothing else; TLS runs inside the tunnel with the *target's* SNI
//! and certificate, and requests go in origin-form; the tunnel is pooled and reused (one
//! CONNECT for several requests) and never handed to a plain proxied `http://` request; a 407,
//! a proxy that closes, one that stalls (the connect timeout, on the virtual clock) and one
//! that answers garbage are errors that name the proxy; `no_proxy` and `https_proxy` are
//! obeyed. Every test ends with the loop's registrations back at the client's idle connections.
//!
//! Run with: `cargo test --features tls --test http_tls_proxy`

#![cfg(feature = "tls")]

#[path = "support/script_server.rs"]
mod script_server;
#[path = "support/tls_peer.rs"]
mod tls_peer;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use evloop::http::{Client, ClientConfig, Error, Proxy, RetryPolicy, TunnelFailure, USER_AGENT};
use script_server::assert_no_leaks;
use tls_peer::{TlsServer, ca_pem, hello};

/// What the test proxy does with a `CONNECT` (a plain request always gets `200 plain`).
#[derive(Clone)]
enum Mode {
    /// Answers `200 Connection established` and copies bytes to and from the upstream.
    Tunnel,
    /// Writes these bytes, then closes.
    Answer(Vec<u8>),
    /// Never answers; waits for the client to close.
    Stall,
}

/// A forward proxy on loopback: every request head it received, in order, and how many
/// connections it accepted. Its tunnels all go to one upstream (the test's TLS server), so no
/// name is resolved.
struct ConnectProxy {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ConnectProxy {
    fn start(upstream: SocketAddr, mode: Mode) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("bound");
        let heads = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (heads, accepted, stop) = (heads.clone(), accepted.clone(), stop.clone());
            std::thread::spawn(move || {
                for socket in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(socket) = socket else { continue };
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let (heads, mode) = (heads.clone(), mode.clone());
                    std::thread::spawn(move || serve(socket, upstream, &mode, &heads));
                }
            })
        };
        ConnectProxy {
            addr,
            heads,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://{userinfo}127.0.0.1:PORT`.
    fn url(&self, userinfo: &str) -> String {
        format!("http://{userinfo}127.0.0.1:{}", self.addr.port())
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().expect("not poisoned").clone()
    }

    fn connects(&self) -> usize {
        self.heads().iter().filter(|h| h.starts_with("CONNECT ")).count()
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One head, byte by byte up to the blank line; `None` if the client closed first.
fn read_head(socket: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match socket.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// One client connection of the proxy.
fn serve(mut client: TcpStream, upstream: SocketAddr, mode: &Mode, heads: &Mutex<Vec<String>>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    while let Some(head) = read_head(&mut client) {
        heads.lock().expect("not poisoned").push(head.clone());
        if !head.starts_with("CONNECT ") {
            // A plain proxied request (absolute-form): answer it, keep the connection.
            if client
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain")
                .is_err()
            {
                return;
            }
            continue;
        }
        match mode {
            Mode::Answer(bytes) => {
                let _ = client.write_all(bytes);
                return;
            }
            Mode::Stall => {
                let _ = client.read(&mut [0u8; 64]); // until the client gives up and closes
                return;
            }
            Mode::Tunnel => {
                let Ok(server) = TcpStream::connect(upstream) else {
                    return;
                };
                if client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .is_err()
                {
                    return;
                }
                let _ = client.set_read_timeout(None);
                let (mut from_client, mut to_server) = (
                    client.try_clone().expect("a clone"),
                    server.try_clone().expect("a clone"),
                );
                let upward = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_client, &mut to_server);
                    let _ = to_server.shutdown(Shutdown::Write);
                });
                let (mut from_server, mut to_client) = (server, client);
                let _ = std::io::copy(&mut from_server, &mut to_client);
                let _ = to_client.shutdown(Shutdown::Write);
                let _ = upward.join();
                return;
            }
        }
    }
}

/// A client that trusts the test CA and goes through `proxy`.
fn client_through(proxy: Proxy) -> Client {
    let mut config = ClientConfig {
        proxy: Some(proxy),
        ..Default::default()
    };
    config.tls.add_root_pem(&ca_pem()).expect("the CA parses");
    Client::with_config(config)
}

/// The body of a GET to `url`.
async fn get_text(client: &Client, url: &str) -> String {
    let response = client.get(url).send().await.expect("a response");
    assert_eq!(response.status(), 200);
    response.text().await.expect("a body")
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn a_get_goes_through_the_tunnel_to_the_verified_target_and_the_tunnel_is_reused() {
    let server = TlsServer::start("localhost", hello);
    let proxy = ConnectProxy::start(server.addr, Mode::Tunnel);
    let client = client_through(Proxy::new(&proxy.url("u:p@")).expect("a proxy URL"));
    let url = server.url("/hello");
    evloop::run(async {
        assert_eq!(get_text(&client, &url).await, "hello");
        // A caller's Proxy-Authorization is for a proxy: it must not reach the target.
        let second = client.get(&url).header("Proxy-Authorization", "Basic c2VjcmV0");
        let text = second.send().await.expect("a response").text().await;
        assert_eq!(text.expect("a body"), "hello");
        assert_eq!(client.idle_connections(), 1);
        assert_no_leaks(&client);
    });
    let port = server.addr.port();
    assert_eq!(
        proxy.heads(),
        [format!(
            "CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\
             Proxy-Authorization: Basic dTpw\r\nUser-Agent: {USER_AGENT}\r\n\r\n"
        )],
        "one CONNECT, and nothing else in the clear"
    );
    assert_eq!(
        (proxy.accepted(), server.accepted()),
        (1, 1),
        "two requests, one tunnel"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.sni.as_deref(), Some("localhost"), "SNI names the target");
        assert_eq!(request.line, "GET /hello HTTP/1.1", "origin-form inside the tunnel");
        assert!(
            !request.head.to_ascii_lowercase().contains("proxy-authorization"),
            "the proxy's credentials reached the target: {}",
            request.head
        );
    }
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn a_tunnel_is_never_handed_to_a_plain_proxied_request() {
    let server = TlsServer::start("localhost", hello);
    let proxy = ConnectProxy::start(server.addr, Mode::Tunnel);
    let client = client_through(Proxy::new(&proxy.url("")).expect("a proxy URL"));
    evloop::run(async {
        assert_eq!(get_text(&client, &server.url("/")).await, "hello");
        assert_eq!(get_text(&client, "http://plain.test/page").await, "plain");
        assert_eq!(get_text(&client, &server.url("/")).await, "hello");
        assert_eq!(
            client.idle_connections(),
            2,
            "the tunnel, and the plain connection to the proxy"
        );
        assert_no_leaks(&client);
    });
    let heads = proxy.heads();
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert!(
        heads[1].starts_with("GET http://plain.test/page HTTP/1.1\r\n"),
        "{heads:?}"
    );
    assert_eq!((proxy.connects(), proxy.accepted()), (1, 2));
    assert_eq!(server.seen().len(), 2);
}

#[test]
#[cfg_attr(miri, ignore = "runs rustls's handshake, far too slow under Miri")]
fn a_407_names_the_proxy_the_target_and_the_status() {
    let proxy = ConnectProxy::start(
        "127.0.0.1:9".parse().expect("an address"),
        Mode::Answer(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n\
              Content-Length: 0\r\n\r\n"
                .to_vec(),
        ),
    );
    let client = client_through(Proxy::new(&proxy.url("u:secret@")).expect("a proxy URL"));
    let error = evloop::run(async {
        let error = client.get("https://localhost:8443/").send().await.expect_err("refused");
        assert_no_leaks(&client);
        error
    });
    let text = error.to_string();
    let expected = format!(
        "the proxy at 127.0.0.1:{} refused the tunnel to localhost:8443: 407 Proxy Authentication Required",
        proxy.addr.port()
    );
    assert!(text.starts_with(&expected), "{text}");
    assert!(
        !text.contains("secret"),
        "the proxy's password leaked into the error: {text}"
    );
    match &error {
        Error::Tunnel(tunnel) => assert_eq!(tunnel.status(), Some(407)),
        other => panic!("expected a tunnel error, got {other:?}"),
    }
    assert!(error.is_connect() && !error.is_timeout());
    assert!(!RetryPolicy::is_retryable(&error), "a 407 would come back the same");
}

#[test]
#[cfg_attr(miri, ignore = "runs rustls's handshake, far too slow under Miri")]
fn a_proxy_that_never_answers_is_cut_off_by_the_connect_timeout() {
    let proxy = ConnectProxy::start("127.0.0.1:9".parse().expect("an address"), Mode::Stall);
    let runtime = evloop::Runtime::builder().virtual_clock().build().expect("a runtime");
    let client = Client::with_config(ClientConfig {
        proxy: Some(Proxy::new(&proxy.url("")).expect("a proxy URL")),
        connect_timeout: Some(Duration::from_secs(5)),
        ..Default::default()
    });
    runtime.block_on(async {
        let start = evloop::time::now();
        let error = client.get("https://localhost:8443/").send().await.expect_err("no answer");
        assert_eq!(evloop::time::now() - start, Duration::from_secs(5));
        assert!(error.is_timeout() && error.is_connect(), "{error:?}");
        assert!(
            matches!(&error, Error::Tunnel(t) if matches!(t.failure, TunnelFailure::Timeout { after } if after == Duration::from_secs(5))),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("did not open the tunnel to localhost:8443 within the connect timeout (5s)"),
            "{error}"
        );
        assert_no_leaks(&client);
    });
    // The virtual clock ran out the timeout at once; the proxy's thread reads in real time.
    for _ in 0..200 {
        if proxy.connects() == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(proxy.connects(), 1, "the CONNECT was sent, and went unanswered");
}

/// Whether a tunnel failure is the one a case expects.
type IsExpected = fn(&TunnelFailure) -> bool;

#[test]
#[cfg_attr(miri, ignore = "runs rustls's handshake, far too slow under Miri")]
fn a_proxy_that_closes_or_answers_garbage_is_an_error() {
    // One header line longer than the default 64 KiB head limit, and never ended.
    let huge = format!("HTTP/1.1 200 OK\r\nX-Pad: {}", "a".repeat(80 * 1024));
    let cases: [(&[u8], IsExpected, &str); 5] = [
        (
            b"",
            |f| matches!(f, TunnelFailure::Closed),
            "closed the connection before answering",
        ),
        (
            b"HTTP/1.1 200 Conn",
            |f| matches!(f, TunnelFailure::Closed),
            "closed the connection",
        ),
        (
            b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
            |f| matches!(f, TunnelFailure::NotHttp(_)),
            "in HTTP/1.1",
        ),
        (
            b"HTTP/1.1 200 OK\r\n\r\n\x16\x03\x01",
            |f| matches!(f, TunnelFailure::TrailingBytes),
            "sent bytes after opening the tunnel",
        ),
        (
            huge.as_bytes(),
            |f| matches!(f, TunnelFailure::NotHttp(e) if matches!(e.downcast_ref::<Error>(), Some(Error::HeadTooLarge { .. }))),
            "in HTTP/1.1",
        ),
    ];
    for (answer, expected, words) in cases {
        let proxy = ConnectProxy::start(
            "127.0.0.1:9".parse().expect("an address"),
            Mode::Answer(answer.to_vec()),
        );
        let client = client_through(Proxy::new(&proxy.url("")).expect("a proxy URL"));
        let error = evloop::run(async {
            let error = client
                .get("https://localhost:8443/")
                .send()
                .await
                .expect_err("no tunnel");
            assert_no_leaks(&client);
            error
        });
        let shown = String::from_utf8_lossy(&answer[..answer.len().min(40)]).into_owned();
        match &error {
            Error::Tunnel(tunnel) => assert!(expected(&tunnel.failure), "{shown:?}: {tunnel:?}"),
            other => panic!("{shown:?}: expected a tunnel error, got {other:?}"),
        }
        let text = error.to_string();
        assert!(
            text.contains(words) && text.contains(&format!("127.0.0.1:{}", proxy.addr.port())),
            "{text}"
        );
    }
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn a_host_in_no_proxy_is_reached_directly_over_https() {
    let server = TlsServer::start("localhost", hello);
    let proxy = ConnectProxy::start(server.addr, Mode::Tunnel);
    let client = client_through(Proxy::new(&proxy.url("")).expect("a proxy URL").no_proxy("localhost"));
    evloop::run(async {
        assert_eq!(get_text(&client, &server.url("/")).await, "hello");
        assert_no_leaks(&client);
    });
    assert_eq!(proxy.accepted(), 0, "the proxy was bypassed");
    assert_eq!(server.accepted(), 1);
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn https_proxy_from_the_environment_tunnels_https_and_leaves_http_direct() {
    let server = TlsServer::start("localhost", hello);
    let proxy = ConnectProxy::start(server.addr, Mode::Tunnel);
    // Read through `from_lookup`: setting real variables would race with the other tests.
    let url = proxy.url("");
    let from_env = Proxy::from_lookup(|name| (name == "HTTPS_PROXY").then(|| url.clone()))
        .expect("an http:// URL")
        .expect("HTTPS_PROXY is set");
    let client = client_through(from_env);
    evloop::run(async {
        assert_eq!(get_text(&client, &server.url("/")).await, "hello");
        // No http_proxy: an http:// URL is not proxied (so this one, to a closed port, fails).
        let error = client
            .get("http://127.0.0.1:9/")
            .send()
            .await
            .expect_err("nothing listens");
        assert!(matches!(error, Error::Connect { port: 9, .. }), "{error:?}");
        assert_no_leaks(&client);
    });
    assert_eq!((proxy.connects(), proxy.accepted()), (1, 1));
}

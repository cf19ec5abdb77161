//! A small HTTPS server for tests/http_tls.rs and tests/http_tls_proxy.rs: rustls's blocking
//! server on a std thread, on loopback, with certificates from scripts/tls_certs.sh (made once
//! per test process).
//!
//! It records what a client showed it (SNI, ALPN, request lines, Authorization) and counts
//! the connections it accepted, so a test can assert that a pooled connection was reused.
//! Replies are chosen per request path by the test.

#![allow(dead_code)] // each test file uses part of it

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The directory holding the test CA and certificates.
pub fn certs() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("evloop-tls-{}", std::process::id()));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/tls_certs.sh");
        let status = std::process::Command::new("bash")
            .arg(script)
            .arg(&dir)
            .status()
            .expect("bash runs scripts/tls_certs.sh");
        assert!(status.success(), "scripts/tls_certs.sh failed: {status}");
        dir
    })
}

/// The test CA, as PEM.
pub fn ca_pem() -> Vec<u8> {
    std::fs::read(certs().join("ca.pem")).expect("ca.pem was made")
}

/// What the server answers to one request.
pub enum Reply {
    /// A keep-alive 200 with a Content-Length.
    Ok(&'static str),
    /// A 200 whose body ends with the connection (no length, not chunked); `close_notify`
    /// says whether the server signs the end with TLS's alert.
    UntilClose { body: &'static str, close_notify: bool },
    /// A 200 with a Content-Length, then a TCP close without `close_notify`.
    OkThenDrop(&'static str),
    /// A redirect to `location`.
    Redirect(String),
}

/// What the server saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub sni: Option<String>,
    pub alpn: Option<Vec<u8>>,
    pub line: String,
    pub authorization: bool,
    /// The whole request head, as received.
    pub head: String,
}

/// A running server.
pub struct TlsServer {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TlsServer {
    /// Serves `cert` (a name from scripts/tls_certs.sh: `localhost`, `other`, `expired`,
    /// `selfsigned`) with `reply` choosing the answer for each request path.
    pub fn start(cert: &str, reply: fn(&str) -> Reply) -> TlsServer {
        let dir = certs();
        let key_name = if cert == "expired" { "localhost" } else { cert };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join(format!("{cert}.pem")))
            .expect("the certificate file")
            .map(|c| c.expect("a certificate"))
            .collect();
        let key = PrivateKeyDer::from_pem_file(dir.join(format!("{key_name}.key"))).expect("the key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("a usable certificate and key");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);

        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("bound");
        let accepted = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (accepted, seen, stop) = (accepted.clone(), seen.clone(), stop.clone());
            std::thread::spawn(move || {
                for socket in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(socket) = socket else { continue };
                    accepted.fetch_add(1, Ordering::SeqCst);
                    serve(socket, config.clone(), reply, &seen);
                }
            })
        };
        TlsServer {
            addr,
            accepted,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// `https://localhost:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    /// How many connections it accepted.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// What it saw, request by request.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One connection: requests until the client closes (or a reply ends it).
fn serve(socket: TcpStream, config: Arc<rustls::ServerConfig>, reply: fn(&str) -> Reply, seen: &Mutex<Vec<Seen>>) {
    // A client that stops mid-handshake must not hold the server forever.
    let _ = socket.set_read_timeout(Some(Duration::from_secs(5)));
    let conn = rustls::ServerConnection::new(config).expect("a server connection");
    let mut tls = rustls::StreamOwned::new(conn, socket);
    loop {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match tls.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return, // closed, failed the handshake, or timed out
            }
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let line = text.lines().next().unwrap_or_default().to_owned();
        let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
        seen.lock().expect("not poisoned").push(Seen {
            sni: tls.conn.server_name().map(str::to_owned),
            alpn: tls.conn.alpn_protocol().map(<[u8]>::to_vec),
            line,
            authorization: text.to_ascii_lowercase().contains("\r\nauthorization:"),
            head: text.clone(),
        });
        let written = match reply(&path) {
            Reply::Ok(body) => write!(tls, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()),
            Reply::Redirect(location) => write!(
                tls,
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
            ),
            Reply::OkThenDrop(body) => {
                let _ = write!(tls, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                let _ = tls.flush();
                let _ = tls.sock.shutdown(Shutdown::Both);
                return;
            }
            Reply::UntilClose { body, close_notify } => {
                let _ = write!(tls, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{body}");
                if close_notify {
                    tls.conn.send_close_notify();
                }
                let _ = tls.flush();
                let _ = tls.sock.shutdown(Shutdown::Both);
                return;
            }
        };
        if written.and_then(|()| tls.flush()).is_err() {
            return;
        }
    }
}

/// A plain-TCP server that answers its first connection's first bytes with an HTTP 400 (what
/// a plain HTTP server says to a TLS ClientHello), then closes.
pub fn plain_http_server() -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("bound");
    let thread = std::thread::spawn(move || {
        if let Ok((mut socket, _)) = listener.accept() {
            let mut buf = [0u8; 512];
            let _ = socket.read(&mut buf);
            let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (addr, thread)
}

/// A plain HTTP server for one request: returns its head (to see which headers came) and
/// answers 200 "plain".
pub fn plain_once() -> (SocketAddr, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("bound");
    let thread = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("one client");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nplain");
        String::from_utf8_lossy(&head).into_owned()
    });
    (addr, thread)
}

/// A reply for any path: 200 with the body `hello`.
pub fn hello(_path: &str) -> Reply {
    Reply::Ok("hello")
}

//! Request bodies beyond bytes in memory, and the response rules RFC 9112 is strict about, on
//! the wire: form bodies, streamed bodies sent chunked, `Expect: 100-continue` (answered,
//! refused, ignored), chunk extensions good and bad, obsolete line folding, and no
//! `Accept-Encoding` unless asked for. Compressed bodies: `http_compression.rs`; JSON:
//! `http_json.rs`.
//!
//! Responses are played by the scripted server (`support/script_server.rs`); requests whose body
//! that server cannot frame (chunked) or must see arrive in steps (100-continue) meet a small
//! hand-written server here, `RawServer`, that records exactly what it read and when.

#[path = "support/script_server.rs"]
mod script_server;

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use evloop::http::{CONTINUE_WAIT, Client, Error, Malformed, Method};
use evloop::io::AsyncRead;
use evloop::net::{TcpListener, TcpStream};
use script_server::{ScriptServer, answers, assert_no_leaks, get_text, ok, run};

const CHUNKED: &str = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

/// What a `RawServer` saw, in order: `read <text>` for each request piece it waited for,
/// `sent <status line>` for each answer, `at <ms>` marks of virtual time.
#[derive(Clone, Default)]
struct Trace(Rc<RefCell<Vec<String>>>);

impl Trace {
    fn push(&self, event: String) {
        self.0.borrow_mut().push(event);
    }
    fn events(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
}

/// A one-connection loopback server: `play` gets the accepted stream and a trace to fill.
struct RawServer {
    url: String,
    task: evloop::JoinHandle<()>,
}

impl RawServer {
    fn start<F, Fut>(trace: &Trace, play: F) -> RawServer
    where
        F: FnOnce(Conn) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0".parse().expect("an address")).expect("bind");
        let url = format!("http://{}/upload", listener.local_addr().expect("bound"));
        let trace = trace.clone();
        let task = evloop::spawn(async move {
            let (stream, _) = listener.accept().await.expect("one client");
            stream.set_nodelay(true).expect("TCP_NODELAY");
            play(Conn {
                stream,
                buf: Vec::new(),
                trace,
            })
            .await;
        });
        RawServer { url, task }
    }

    async fn finish(self) {
        self.task.await.expect("the server's script ran to its end");
    }
}

/// The server's side of its one connection.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    trace: Trace,
}

impl Conn {
    /// Reads until the bytes received end with `end`; records them as `read <text>`.
    async fn read_until(&mut self, end: &str) -> String {
        let mut chunk = [0u8; 4096];
        while !self.buf.ends_with(end.as_bytes()) {
            let n = self.stream.read(&mut chunk).await.expect("the client's bytes");
            assert!(
                n > 0,
                "the client closed early; got {:?}",
                String::from_utf8_lossy(&self.buf)
            );
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let text = String::from_utf8(std::mem::take(&mut self.buf)).expect("ASCII");
        self.trace.push(format!("read {text}"));
        text
    }

    async fn send(&mut self, response: &str) {
        self.stream
            .write_all(response.as_bytes())
            .await
            .expect("the client reads");
        self.trace
            .push(format!("sent {}", response.lines().next().unwrap_or_default()));
    }

    /// Marks the virtual time since `start`, in milliseconds.
    fn mark(&self, start: Instant) {
        self.trace
            .push(format!("at {} ms", (evloop::time::now() - start).as_millis()));
    }
}

#[test]
fn a_form_is_sent_percent_encoded_with_its_content_type_and_length() {
    run(async {
        let server = ScriptServer::start(vec![answers([ok("done")])]);
        let client = Client::new();
        let response = client
            .post(&server.url("/form"))
            .header("Content-Type", "text/plain")
            .form(&[("name", "Zoë & co"), ("q", "a=b+c"), ("empty", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.text().await.unwrap(), "done");
        let request = &server.requests()[0];
        let body = "name=Zo%C3%AB%20%26%20co&q=a%3Db%2Bc&empty=";
        assert_eq!(request.body(), body.as_bytes());
        assert_eq!(request.header("content-length"), Some(body.len().to_string()));
        assert!(
            request
                .text()
                .contains("\r\nContent-Type: application/x-www-form-urlencoded\r\n")
        );
        assert!(
            !request.text().contains("text/plain"),
            "form replaces the caller's Content-Type"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_streamed_body_is_sent_chunked_exactly_as_read() {
    run(async {
        let trace = Trace::default();
        let server = RawServer::start(&trace, |mut conn| async move {
            conn.read_until("0\r\n\r\n").await;
            conn.send(&ok("stored")).await;
        });
        let client = Client::new();
        let source = Pieces::new(&[b"first piece, ", b"second"]);
        let response = client.post(&server.url).body_stream(source).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), "stored");
        server.finish().await;
        let events = trace.events();
        let request = &events[0];
        assert!(request.starts_with("read POST /upload HTTP/1.1\r\n"), "{request}");
        assert!(request.contains("\r\nTransfer-Encoding: chunked\r\n"), "{request}");
        assert!(!request.contains("Content-Length"), "{request}");
        assert!(
            request.ends_with("\r\n\r\nd\r\nfirst piece, \r\n6\r\nsecond\r\n0\r\n\r\n"),
            "one chunk per read, then the last chunk: {request:?}"
        );
        assert_no_leaks(&client);
    });
}

#[test]
fn a_stream_that_fails_cuts_the_request_off_with_its_error() {
    run(async {
        let trace = Trace::default();
        let server = RawServer::start(&trace, |mut conn| async move {
            // The head and the first chunk arrive; then the client closes.
            conn.read_until("\r\n4\r\ngood\r\n").await;
            let mut rest = [0u8; 64];
            assert_eq!(conn.stream.read(&mut rest).await.expect("a clean close"), 0);
            conn.trace.push("client closed".into());
        });
        let client = Client::new();
        let source = Pieces::new(&[b"good"]).then_fail();
        let error = client.post(&server.url).body_stream(source).send().await.unwrap_err();
        assert!(matches!(error, Error::RequestBody(_)), "{error:?}");
        assert!(
            error.to_string().contains("reading the request body's stream failed"),
            "{error}"
        );
        server.finish().await;
        assert_eq!(trace.events().last().map(String::as_str), Some("client closed"));
        assert_no_leaks(&client);
    });
}

#[test]
fn with_expect_continue_the_body_waits_for_100_continue() {
    run(async {
        let trace = Trace::default();
        let server = RawServer::start(&trace, |mut conn| async move {
            let head = conn.read_until("\r\n\r\n").await;
            assert!(head.contains("\r\nExpect: 100-continue\r\n"), "{head}");
            assert!(head.contains("\r\nContent-Length: 7\r\n"), "{head}");
            conn.send("HTTP/1.1 100 Continue\r\n\r\n").await;
            conn.read_until("payload").await;
            conn.send(&ok("accepted")).await;
            conn.read_until("\r\n\r\n").await;
            conn.send(&ok("again")).await;
        });
        let client = Client::new();
        let response = client
            .request(Method::PUT, &server.url)
            .body("payload")
            .expect_continue(true)
            .send()
            .await
            .unwrap();
        assert_eq!(response.text().await.unwrap(), "accepted");
        // The exchange completed, so the connection is kept: the server only ever accepts one.
        assert_eq!(get_text(&client, &server.url).await.unwrap(), "again");
        server.finish().await;
        let events: Vec<String> = trace
            .events()
            .iter()
            .map(|e| e.lines().next().unwrap_or_default().to_string())
            .collect();
        assert_eq!(
            events,
            [
                "read PUT /upload HTTP/1.1",
                "sent HTTP/1.1 100 Continue",
                "read payload",
                "sent HTTP/1.1 200 OK",
                "read GET /upload HTTP/1.1",
                "sent HTTP/1.1 200 OK"
            ]
        );
        assert_no_leaks(&client);
    });
}

#[test]
fn a_final_answer_instead_of_100_continue_means_the_body_is_never_sent() {
    run(async {
        let trace = Trace::default();
        let server = RawServer::start(&trace, |mut conn| async move {
            conn.read_until("\r\n\r\n").await;
            conn.send("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 4\r\n\r\nnope")
                .await;
            // Whatever comes next (nothing, then the close) is recorded.
            let mut rest = [0u8; 64];
            let n = conn.stream.read(&mut rest).await.expect("a clean close");
            conn.trace.push(format!("then {n} bytes"));
        });
        let client = Client::new();
        let response = client
            .post(&server.url)
            .body("never sent")
            .expect_continue(true)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 417);
        assert_eq!(response.text().await.unwrap(), "nope");
        server.finish().await;
        assert_eq!(trace.events().last().map(String::as_str), Some("then 0 bytes"));
        assert_eq!(
            client.idle_connections(),
            0,
            "the server may still wait for the body: closed"
        );
        assert_no_leaks(&client);
    });
}

#[test]
fn a_server_silent_about_100_continue_gets_the_body_after_the_wait() {
    run(async {
        let trace = Trace::default();
        let start = evloop::time::now();
        let server = RawServer::start(&trace, move |mut conn| async move {
            conn.read_until("\r\n\r\n").await;
            conn.mark(start);
            conn.read_until("late body").await;
            conn.mark(start);
            conn.send(&ok("fine")).await;
        });
        let client = Client::new();
        let response = client
            .post(&server.url)
            .body("late body")
            .expect_continue(true)
            .send()
            .await
            .unwrap();
        assert_eq!(response.text().await.unwrap(), "fine");
        server.finish().await;
        let events = trace.events();
        let wait = CONTINUE_WAIT.as_millis();
        assert_eq!(
            (events[1].as_str(), events[3].as_str()),
            ("at 0 ms", &*format!("at {wait} ms"))
        );
        assert_no_leaks(&client);
    });
}

#[test]
fn expect_continue_without_a_body_sends_no_expect_header() {
    run(async {
        let server = ScriptServer::start(vec![answers([ok("plain")])]);
        let client = Client::new();
        let response = client.get(&server.url("/")).expect_continue(true).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), "plain");
        assert_eq!(server.requests()[0].header("expect"), None);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn well_formed_chunk_extensions_pass_and_a_malformed_one_fails_the_body() {
    run(async {
        let good = format!("{CHUNKED}5;a=1;b=\"x; y\"\r\nhello\r\n0;end\r\n\r\n");
        let bad = format!("{CHUNKED}5;a=1 2\r\nhello\r\n0\r\n\r\n");
        let server = ScriptServer::start(vec![answers([good]), answers([bad])]);
        let client = Client::new();
        assert_eq!(get_text(&client, &server.url("/good")).await.unwrap(), "hello");
        let error = get_text(&client, &server.url("/bad")).await.unwrap_err();
        assert!(
            matches!(error, Error::Malformed(Malformed::ChunkExtension)),
            "{error:?}"
        );
        assert!(error.to_string().contains("RFC 9112 §7.1.1"), "{error}");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn each_obsolete_line_fold_in_a_response_header_becomes_one_space() {
    run(async {
        let response = "HTTP/1.1 200 OK\r\nX-Folded: one \t\r\n \t two\r\n\tthree\r\nContent-Length: 2\r\n\r\nok";
        let server = ScriptServer::start(vec![answers([response])]);
        let client = Client::new();
        let response = client.get(&server.url("/")).send().await.unwrap();
        assert_eq!(response.headers().get("x-folded"), Some("one two three"));
        assert_eq!(response.text().await.unwrap(), "ok");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

/// Without the `gzip` feature, and with it while `ClientConfig::decompress` is off (its default).
#[test]
fn by_default_no_accept_encoding_is_sent_and_bodies_arrive_as_sent() {
    run(async {
        let response = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\n\x1f\x8b\x08\x00";
        let server = ScriptServer::start(vec![answers([response])]);
        let client = Client::new();
        let response = client.get(&server.url("/")).send().await.unwrap();
        assert_eq!(response.headers().get("content-encoding"), Some("gzip"));
        assert_eq!(response.bytes().await.unwrap(), b"\x1f\x8b\x08\x00");
        assert_eq!(server.requests()[0].header("accept-encoding"), None);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

/// An `AsyncRead` that yields the given pieces, one per read, then the end (or an error).
struct Pieces {
    pieces: Vec<Vec<u8>>,
    fail_at_end: bool,
}

impl Pieces {
    fn new(pieces: &[&[u8]]) -> Pieces {
        Pieces {
            pieces: pieces.iter().rev().map(|p| p.to_vec()).collect(),
            fail_at_end: false,
        }
    }

    fn then_fail(mut self) -> Pieces {
        self.fail_at_end = true;
        self
    }
}

impl AsyncRead for Pieces {
    fn poll_read(mut self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
        match self.pieces.pop() {
            Some(piece) => {
                buf[..piece.len()].copy_from_slice(&piece);
                Poll::Ready(Ok(piece.len()))
            }
            None if self.fail_at_end => Poll::Ready(Err(std::io::Error::other("the disk went away"))),
            None => Poll::Ready(Ok(0)),
        }
    }
}

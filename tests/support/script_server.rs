//! A scripted loopback HTTP server for the client tests: it plays exact byte sequences.
//!
//! The server runs as tasks on the test's own evloop loop (a `TcpListener` on `127.0.0.1:0`),
//! so client and server share one thread and one clock. Each accepted connection follows a
//! *script*, a list of [`Step`]s: read a request, send these bytes, drip those, sleep, stall,
//! close. Everything the server sees is recorded, so a test can assert on the exact request
//! bytes, on how many connections were opened ("reused the connection": one accept for two
//! requests), and on a trace of what happened, in order:
//!
//! ```text
//! accept #1          a connection was accepted (numbered from 1)
//! #1 GET /a          a whole request arrived on it (the request line without the version)
//! #1 close           the script closed it
//! #1 shutdown write  the script sent FIN and goes on reading
//! #1 client closed   the client closed it while the server was reading
//! #2 unscripted      a connection beyond the scripts: closed at once
//! ```
//!
//! When a script ends without `Close`, the connection stays open like an idle keep-alive
//! connection until the client closes it; a request arriving instead is recorded, and the
//! connection closed unanswered (`#1 close (script over)`).
//!
//! Run tests with [`run`], on the virtual clock: `Sleep` and `SendSlowly` are timers, so "drip one
//! byte every 500 ms" takes no real time and every run is the same. I/O still goes through real
//! loopback sockets, which deliver a write before the writing system call returns, so the loop
//! always sees it before the clock jumps (every accepted connection gets `TCP_NODELAY`, so
//! Nagle's algorithm never holds a write back until the client acknowledges the previous one).
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::{Shutdown, SocketAddr};
use std::ops::ControlFlow;
use std::rc::Rc;
use std::time::Duration;

use evloop::JoinHandle;
use evloop::http::{Client, Error};
use evloop::net::{TcpListener, TcpStream};

/// Runs a test on a fresh loop with a virtual clock.
pub fn run<F: Future>(test: F) -> F::Output {
    let runtime = evloop::Runtime::builder().virtual_clock().build().expect("a runtime");
    runtime.block_on(test)
}

/// Lets every task react to the I/O already in flight (a client's close, a server's reply).
/// On the virtual clock this costs 1 ms of virtual time and no real time: the loop only jumps
/// the clock once no task is ready and no socket event is pending.
pub async fn settle() {
    evloop::time::sleep(Duration::from_millis(1)).await;
}

/// Asserts that the loop holds no timer and no task, and no socket but the client's idle
/// connections (call it after [`ScriptServer::shutdown`]): every request, finished, failed or
/// dropped, gave back its timers and its registrations.
pub fn assert_no_leaks(client: &Client) {
    let stats = evloop::stats();
    assert_eq!(
        (stats.timers, stats.tasks),
        (0, 0),
        "timers or tasks left behind: {stats:?}"
    );
    assert_eq!(
        stats.io_sources,
        client.idle_connections(),
        "sockets left behind: {stats:?}"
    );
}

/// GETs `url` and reads the body as text.
pub async fn get_text(client: &Client, url: &str) -> Result<String, Error> {
    client.get(url).send().await?.text().await
}

/// `HTTP/1.1 200 OK` with `body` framed by Content-Length.
pub fn ok(body: &str) -> String {
    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len())
}

/// A script that reads a request and sends a response, once per response given.
pub fn answers<R: AsRef<[u8]>>(responses: impl IntoIterator<Item = R>) -> Vec<Step> {
    responses
        .into_iter()
        .flat_map(|r| [Step::Expect, Step::send(r)])
        .collect()
}

/// One thing the server does on a connection.
#[derive(Debug, Clone)]
pub enum Step {
    /// Reads one request: its head, then as many body bytes as its `Content-Length` says.
    /// Records it; if the client closes instead, the connection ends.
    Expect,
    /// Writes these bytes in one write.
    Send(Vec<u8>),
    /// Writes these bytes one at a time, sleeping this long between two bytes.
    SendSlowly(Vec<u8>, Duration),
    /// Does nothing for this long (a timer: on the virtual clock, time jumps).
    Sleep(Duration),
    /// Closes the connection; the script ends.
    Close,
    /// Never answers: reads and discards until the client closes; the script ends.
    Stall,
    /// Sends FIN (`shutdown(Write)`) and goes on with the script.
    ShutdownWrite,
}

impl Step {
    /// [`Step::Send`] of a string or bytes.
    pub fn send(bytes: impl AsRef<[u8]>) -> Step {
        Step::Send(bytes.as_ref().to_vec())
    }

    /// [`Step::SendSlowly`] of a string or bytes.
    pub fn drip(bytes: impl AsRef<[u8]>, every: Duration) -> Step {
        Step::SendSlowly(bytes.as_ref().to_vec(), every)
    }
}

/// A request as the server received it: head and body, exactly as sent.
#[derive(Debug, Clone)]
pub struct Request(pub Vec<u8>);

impl Request {
    /// The whole request as text (lossy), for exact comparisons.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }

    /// The request line without the version, e.g. `GET /a?b=c`.
    pub fn line(&self) -> String {
        let text = self.text();
        let first = text.split("\r\n").next().unwrap_or_default();
        first
            .rsplit_once(' ')
            .map_or(first, |(line, _version)| line)
            .to_string()
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        let text = self.text();
        let head = text.split("\r\n\r\n").next().unwrap_or_default();
        head.split("\r\n").skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The body bytes after the head.
    pub fn body(&self) -> &[u8] {
        &self.0[head_len(&self.0).unwrap_or(self.0.len())..]
    }
}

/// A count that remembers its highest value.
#[derive(Default)]
struct Gauge {
    now: Cell<usize>,
    peak: Cell<usize>,
}

impl Gauge {
    fn up(&self) {
        self.now.set(self.now.get() + 1);
        self.peak.set(self.peak.get().max(self.now.get()));
    }

    fn down(&self) {
        self.now.set(self.now.get() - 1);
    }
}

/// What the server's tasks record for the test.
#[derive(Default)]
struct Shared {
    /// The events listed in the module docs, in order.
    trace: RefCell<Vec<String>>,
    /// Every request received, in arrival order.
    requests: RefCell<Vec<Request>>,
    accepted: Cell<usize>,
    /// Connections whose server side is open.
    open: Gauge,
    /// Requests received and not yet answered: a request is answered once the next `Send` or
    /// `SendSlowly` after it has been written.
    in_flight: Gauge,
    /// The connection tasks, for `shutdown` to cancel.
    tasks: RefCell<Vec<JoinHandle<()>>>,
}

/// A scripted server listening on a loopback port. Its tasks live until [`shutdown`]
/// (or until the loop is dropped, at the end of [`run`]).
///
/// [`shutdown`]: ScriptServer::shutdown
pub struct ScriptServer {
    addr: SocketAddr,
    shared: Rc<Shared>,
    acceptor: JoinHandle<()>,
}

impl ScriptServer {
    /// A server whose `n`th connection follows `scripts[n - 1]`.
    ///
    /// # Panics
    /// Outside a running loop.
    pub fn start(scripts: Vec<Vec<Step>>) -> ScriptServer {
        ScriptServer::listen(move |n| scripts.get(n - 1).cloned().map(|script| (script, false)))
    }

    /// A server on which every connection plays `script` over and over until the client closes.
    pub fn repeat(script: Vec<Step>) -> ScriptServer {
        ScriptServer::listen(move |_| Some((script.clone(), true)))
    }

    fn listen(script_for: impl Fn(usize) -> Option<(Vec<Step>, bool)> + 'static) -> ScriptServer {
        let listener = TcpListener::bind("127.0.0.1:0".parse().expect("an address")).expect("bind");
        let addr = listener.local_addr().expect("a local address");
        let shared = Rc::new(Shared::default());
        let recorder = shared.clone();
        let acceptor = evloop::spawn(async move {
            loop {
                let Ok((stream, _peer)) = listener.accept().await else {
                    continue;
                };
                // Each `Send` goes out at once. With Nagle's algorithm a write that follows an
                // unacknowledged one waits for the client's (possibly delayed, 40 ms real) ACK,
                // and the virtual clock would jump past it: a `Send` after a `Sleep` on a
                // reused connection then arrives only after the client's read timeout.
                stream.set_nodelay(true).expect("TCP_NODELAY on a loopback socket");
                let n = recorder.accepted.get() + 1;
                recorder.accepted.set(n);
                recorder.trace.borrow_mut().push(format!("accept #{n}"));
                let Some((script, repeat)) = script_for(n) else {
                    recorder.trace.borrow_mut().push(format!("#{n} unscripted"));
                    continue; // dropping the stream closes it
                };
                let conn = ServerConn::new(n, stream, recorder.clone());
                let task = evloop::spawn(conn.play(script, repeat));
                recorder.tasks.borrow_mut().push(task);
            }
        });
        ScriptServer { addr, shared, acceptor }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The exact head the client sends for a bodiless GET of `path` here, with `extra` header
    /// lines (each ending in CRLF) after its own `Host` and `User-Agent`.
    pub fn get_head(&self, path: &str, extra: &str) -> String {
        let port = self.port();
        let agent = evloop::http::USER_AGENT;
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {agent}\r\n{extra}\r\n")
    }

    /// How many connections were accepted.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.get()
    }

    /// The events so far (see the module docs), joined with `, `.
    pub fn trace(&self) -> String {
        self.shared.trace.borrow().join(", ")
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.borrow().clone()
    }

    /// The request lines received so far, in arrival order.
    pub fn lines(&self) -> Vec<String> {
        self.shared.requests.borrow().iter().map(Request::line).collect()
    }

    /// The most connections that were open at once.
    pub fn peak_open(&self) -> usize {
        self.shared.open.peak.get()
    }

    /// The most requests that were received and not yet answered at once.
    pub fn peak_in_flight(&self) -> usize {
        self.shared.in_flight.peak.get()
    }

    /// Stops listening and closes every connection, waiting until all of it is gone.
    pub async fn shutdown(self) {
        self.acceptor.cancel();
        let _ = self.acceptor.await;
        let tasks = std::mem::take(&mut *self.shared.tasks.borrow_mut());
        for task in tasks {
            task.cancel();
            let _ = task.await;
        }
    }
}

/// The server side of one connection.
struct ServerConn {
    /// Its number, in accept order.
    n: usize,
    stream: TcpStream,
    /// Bytes received and not yet part of a recorded request.
    buf: Vec<u8>,
    /// A request was received and not yet answered (it counts in `in_flight`).
    answering: bool,
    shared: Rc<Shared>,
}

impl ServerConn {
    fn new(n: usize, stream: TcpStream, shared: Rc<Shared>) -> ServerConn {
        shared.open.up();
        ServerConn {
            n,
            stream,
            buf: Vec::new(),
            answering: false,
            shared,
        }
    }

    async fn play(mut self, script: Vec<Step>, repeat: bool) {
        loop {
            for step in &script {
                if self.step(step).await.is_break() {
                    return;
                }
            }
            if !repeat {
                break;
            }
        }
        // The script is over: an idle keep-alive connection, until the client closes it.
        if self.expect().await.is_continue() {
            self.trace("close (script over)");
        }
    }

    async fn step(&mut self, step: &Step) -> ControlFlow<()> {
        match step {
            Step::Expect => return self.expect().await,
            Step::Send(bytes) => {
                if self.stream.write_all(bytes).await.is_err() {
                    return ControlFlow::Break(()); // the client is gone
                }
                self.answered();
            }
            Step::SendSlowly(bytes, every) => {
                for (i, byte) in bytes.iter().enumerate() {
                    if i > 0 {
                        evloop::time::sleep(*every).await;
                    }
                    if self.stream.write_all(&[*byte]).await.is_err() {
                        return ControlFlow::Break(());
                    }
                }
                self.answered();
            }
            Step::Sleep(duration) => evloop::time::sleep(*duration).await,
            Step::Close => {
                self.trace("close");
                return ControlFlow::Break(());
            }
            Step::Stall => {
                let mut sink = [0u8; 4096];
                while let Ok(1..) = self.stream.read(&mut sink).await {}
                self.trace("client closed");
                return ControlFlow::Break(());
            }
            Step::ShutdownWrite => {
                let _ = self.stream.shutdown(Shutdown::Write);
                self.trace("shutdown write");
            }
        }
        ControlFlow::Continue(())
    }

    /// Reads and records one request; breaks if the client closes first.
    async fn expect(&mut self) -> ControlFlow<()> {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if let Some(len) = request_len(&self.buf) {
                let request = Request(self.buf.drain(..len).collect());
                self.trace(&request.line());
                self.shared.requests.borrow_mut().push(request);
                self.answering = true;
                self.shared.in_flight.up();
                return ControlFlow::Continue(());
            }
            match self.stream.read(&mut chunk).await {
                Ok(0) | Err(_) => {
                    self.trace("client closed");
                    return ControlFlow::Break(());
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    fn answered(&mut self) {
        if std::mem::take(&mut self.answering) {
            self.shared.in_flight.down();
        }
    }

    fn trace(&self, event: &str) {
        self.shared.trace.borrow_mut().push(format!("#{} {event}", self.n));
    }
}

impl Drop for ServerConn {
    fn drop(&mut self) {
        self.answered();
        self.shared.open.down();
    }
}

/// Where the head of the message at the start of `buf` ends, if it is complete.
fn head_len(buf: &[u8]) -> Option<usize> {
    Some(buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4)
}

/// The length of the complete request at the start of `buf` (head plus `Content-Length` body).
fn request_len(buf: &[u8]) -> Option<usize> {
    let head_len = head_len(buf)?;
    let head = String::from_utf8_lossy(&buf[..head_len]);
    let body_len = head
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, value)| value.trim().parse().unwrap_or(0));
    (buf.len() >= head_len + body_len).then_some(head_len + body_len)
}

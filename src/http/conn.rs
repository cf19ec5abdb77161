//! One HTTP/1.1 connection on the loop: send a request, read heads and body bytes.
//!
//! This is where the pure protocol layer (`request`, `response`, `framing`) meets evloop's TCP
//! stream. A [`Conn`] owns the socket and a read buffer holding bytes received but not yet
//! consumed; every read is bounded by the request's [`Deadline`] (its total deadline, or the
//! per-read timeout, whichever comes first), so a silent or dripping server is cut off.
//! Read first: `net/tcp.rs` (the stream, and the read-side readiness and event count it keeps
//! per socket) and `framing/` (what decides that a connection may be reused).
//!
//! System calls per keep-alive request, in the common case of a response that fits in one
//! read: the request head and body go out in **one** `write`; the read side is then marked
//! not-ready (nothing of this response can have been reported yet), so instead of a `read` that
//! would return `WouldBlock` the task parks at once and the loop's **one** `epoll_wait` wakes it;
//! then **one** `read` takes the response: three in all (hyper makes four here: it adds an
//! `epoll_wait` with a zero timeout after each response). When the connection goes back to the
//! pool, that last read being *short* (fewer bytes than asked for: on Linux, TCP returns short
//! only once the receive queue is empty) shows nothing more had arrived; only a read that
//! filled the buffer, or a close the reactor already saw, costs a probing `read` (see
//! `mark_idle`). Reusing it later costs no system call unless an event arrived meanwhile.
//!
//! An `https://` origin gets the same, over TLS: after the TCP connect, the handshake runs
//! under the same connect timeout, and the [`Transport`] then carries TLS records (see
//! `transport.rs` for the two places where that changes the count above). Through a proxy, the
//! TCP connection goes to the proxy, and its `CONNECT` tunnel (`tls/tunnel.rs`) is opened
//! under that timeout too, before the handshake.

use std::future::poll_fn;
use std::io;
use std::task::Poll;
use std::time::Instant;

use crate::http::config::ClientConfig;
use crate::http::deadline::Deadline;
use crate::http::error::{Error, TimeoutKind};
use crate::http::response::{HeadLimits, HeadStep, ResponseHead, ResponseHeadReader};
use crate::http::transport::Transport;
use crate::http::url::{Host, Scheme};
use crate::net::TcpStream;

/// How many bytes one `read` asks for.
const READ_CHUNK: usize = 16 * 1024;

/// Where a connection goes: what the pool groups idle connections by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    /// `https` connections are TLS: never shared with `http` ones to the same host and port.
    pub(crate) scheme: Scheme,
    pub(crate) host: Host,
    pub(crate) port: u16,
    /// The proxy an `https` connection is tunnelled through (`CONNECT`, `tls/tunnel.rs`);
    /// `None` for a direct one. Part of the key, so a tunnel serves only requests that would
    /// go through the same proxy, with the same credentials (the whole URL is compared).
    #[cfg(feature = "tls")]
    pub(crate) via: Option<crate::http::url::Url>,
}

impl Origin {
    /// Where the TCP connection goes: the proxy, for a tunnel; else the origin itself.
    fn dial(&self) -> (&Host, u16) {
        #[cfg(feature = "tls")]
        if let Some(proxy) = &self.via {
            return (proxy.host(), proxy.port());
        }
        (&self.host, self.port)
    }
}

/// Bytes received but not yet consumed: `data[start..end]`.
struct ReadBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuf {
    fn new() -> ReadBuf {
        ReadBuf {
            data: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
        }
    }

    #[inline]
    fn filled(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Room for the next read: moves unconsumed bytes to the front, and grows only when the
    /// unconsumed bytes alone fill the buffer (a head larger than one read).
    fn spare(&mut self) -> &mut [u8] {
        if self.data.len() - self.end < READ_CHUNK / 4 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.data.len() - self.end < READ_CHUNK / 4 {
                self.data.resize(self.data.len() + READ_CHUNK, 0);
            }
        }
        &mut self.data[self.end..]
    }
}

/// One connection to one origin.
pub(crate) struct Conn {
    stream: Transport,
    buf: ReadBuf,
    /// Where it is connected, for the pool.
    pub(crate) origin: Origin,
    /// Whether it has carried a complete exchange before (it came from the pool). A failure
    /// before any response byte on such a connection is most likely the server having closed
    /// it while idle, which makes a retry on a fresh connection safe for idempotent methods.
    pub(crate) reused: bool,
    /// When it was put back in the pool.
    pub(crate) idle_since: Instant,
    /// The socket's read-event count when it went idle (see `is_reusable_after_idle`).
    read_events_at_idle: u32,
    /// The last read returned fewer bytes than there was room for: the kernel's receive queue
    /// was empty at that moment (see `mark_idle`).
    last_read_short: bool,
}

/// How an exchange failed, for the retry decision.
pub(crate) struct ExchangeError {
    pub(crate) error: Error,
    /// No byte of the response had arrived.
    pub(crate) before_response: bool,
}

impl Conn {
    /// Resolves (off the loop, unless the host is an IP literal) and connects, then for
    /// `https` opens the proxy's tunnel if there is one and runs the TLS handshake, all within
    /// the connect timeout and the total deadline.
    pub(crate) async fn connect(origin: Origin, config: &ClientConfig, deadline: &mut Deadline) -> Result<Conn, Error> {
        let timeout = config.connect_timeout;
        let (host, port) = origin.dial();
        let connect_error = |source: io::Error| Error::Connect {
            host: host.to_string(),
            port,
            source,
        };
        deadline.arm(timeout, TimeoutKind::Connect);
        let connect = async {
            match host {
                Host::Ipv4(ip) => TcpStream::connect((*ip, port).into()).await,
                Host::Ipv6(ip) => TcpStream::connect((*ip, port).into()).await,
                Host::Domain(name) => TcpStream::connect_host(name, port).await,
            }
            .map_err(connect_error)
        };
        let stream = deadline.run(connect).await?;
        // Requests are written in one piece; Nagle's algorithm would only delay them.
        stream.set_nodelay(true).map_err(connect_error)?;
        let stream = match origin.scheme {
            Scheme::Http => Transport::Plain(stream),
            #[cfg(feature = "tls")]
            Scheme::Https => {
                if let Some(proxy) = &origin.via {
                    crate::http::tls::tunnel::open(&stream, proxy, &origin.host, origin.port, config, deadline).await?;
                }
                crate::http::tls::connect(stream, &origin.host, config, deadline).await?
            }
            #[cfg(not(feature = "tls"))]
            Scheme::Https => unreachable!("Url::parse refuses https:// without the tls feature"),
        };
        Ok(Conn {
            stream,
            buf: ReadBuf::new(),
            origin,
            reused: false,
            idle_since: crate::time::now(),
            read_events_at_idle: 0,
            last_read_short: false,
        })
    }

    /// Writes the request (head and body in one write when they fit) and reads up to the
    /// final response head, skipping 1xx responses.
    pub(crate) async fn exchange(
        &mut self,
        request: &[u8],
        limits: HeadLimits,
        deadline: &mut Deadline,
    ) -> Result<ResponseHead, ExchangeError> {
        let read_events_before_write = self.stream.read_side().events;
        self.write_all(request, deadline).await.map_err(|error| ExchangeError {
            error,
            before_response: true,
        })?;
        // Nothing of this response can have been reported yet: wait for the next event
        // instead of trying a read that would say `WouldBlock`. Unless an event did arrive
        // while a long write waited for buffer space: a server may answer before it has read
        // the whole body (RFC 9112 §9.5), and forgetting that event would leave its answer
        // unread until a timeout.
        if self.buf.filled().is_empty() {
            self.stream.clear_read_ready_since(read_events_before_write);
        }
        let mut reader = ResponseHeadReader::new(limits);
        let mut received_any = !self.buf.filled().is_empty();
        let head = self.next_head(&mut reader, &mut received_any, false, deadline).await?;
        Ok(head.expect("next_head returns the final head unless asked to stop at an interim one"))
    }

    /// Reads heads up to the final one and returns it, skipping 1xx heads; with
    /// `stop_at_interim`, returns `None` after the first 1xx head instead (a `100 Continue`
    /// that `upload.rs` waits for). `received_any` says whether a response byte has arrived,
    /// and is kept up to date for the next call. Cancel-safe: bytes read stay buffered.
    pub(crate) async fn next_head(
        &mut self,
        reader: &mut ResponseHeadReader,
        received_any: &mut bool,
        stop_at_interim: bool,
        deadline: &mut Deadline,
    ) -> Result<Option<ResponseHead>, ExchangeError> {
        loop {
            // Nothing buffered (the usual case right after sending): nothing to parse yet.
            let step = if self.buf.filled().is_empty() {
                HeadStep::NeedMore
            } else {
                reader.parse(self.buf.filled()).map_err(|error| ExchangeError {
                    error,
                    before_response: false,
                })?
            };
            match step {
                HeadStep::Final { head, consumed } => {
                    self.buf.consume(consumed);
                    return Ok(Some(head));
                }
                HeadStep::Interim { consumed, .. } => {
                    self.buf.consume(consumed);
                    if stop_at_interim {
                        return Ok(None);
                    }
                }
                HeadStep::NeedMore => {
                    let n = match self.fill(deadline).await {
                        // Over TLS, a close without `close_notify` here is the same close as on
                        // plain TCP (an idle connection the server dropped, or a head cut
                        // short), and is reported the same way.
                        #[cfg(feature = "tls")]
                        Err(Error::Tls(crate::http::tls::TlsError::NoCloseNotify)) => 0,
                        result => result.map_err(|error| ExchangeError {
                            before_response: !*received_any && !error.is_timeout(),
                            error,
                        })?,
                    };
                    if n == 0 {
                        let error = if *received_any {
                            Error::Truncated {
                                during: "in the middle of the response head",
                            }
                        } else {
                            Error::Closed
                        };
                        return Err(ExchangeError {
                            error,
                            before_response: !*received_any,
                        });
                    }
                    *received_any = true;
                }
            }
        }
    }

    /// Writes all of `data`, within the total deadline.
    pub(crate) async fn write_all(&mut self, data: &[u8], deadline: &mut Deadline) -> Result<(), Error> {
        deadline.arm(None, TimeoutKind::Total);
        let mut written = 0;
        poll_fn(|cx| {
            while written < data.len() {
                match self.stream.poll_write(cx, &data[written..]) {
                    Poll::Ready(Ok(0)) => return Poll::Ready(Err(Error::Io(io::ErrorKind::WriteZero.into()))),
                    Poll::Ready(Ok(n)) => written += n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::Io(e))),
                    Poll::Pending => return deadline.poll_expired(cx).map(Err),
                }
            }
            // Over TLS the last records may still be queued; a plain socket is done already.
            match self.stream.poll_flush(cx) {
                Poll::Ready(result) => Poll::Ready(result.map_err(Error::Io)),
                Poll::Pending => deadline.poll_expired(cx).map(Err),
            }
        })
        .await
    }

    /// Reads more bytes into the buffer, within the read timeout and the total deadline;
    /// `Ok(0)` at end of stream.
    pub(crate) async fn fill(&mut self, deadline: &mut Deadline) -> Result<usize, Error> {
        deadline.arm_read();
        let stream = &mut self.stream;
        let spare = self.buf.spare();
        let room = spare.len();
        let n = poll_fn(|cx| match stream.poll_read(cx, spare) {
            Poll::Ready(result) => Poll::Ready(result.map_err(read_error)),
            Poll::Pending => deadline.poll_expired(cx).map(Err),
        })
        .await?;
        self.buf.end += n;
        self.last_read_short = n < room && self.stream.short_read_means_drained();
        Ok(n)
    }

    /// The bytes received and not yet consumed.
    pub(crate) fn buffered(&self) -> &[u8] {
        self.buf.filled()
    }

    /// Marks `n` buffered bytes as consumed.
    pub(crate) fn consume(&mut self, n: usize) {
        self.buf.consume(n);
    }

    /// Called when the connection goes back to the pool; returns whether it may go there. The
    /// socket must hold nothing more (bytes would be an unrequested response) and the server
    /// must not have closed it. Counting events later is not enough on its own: the event that
    /// brought the response's last bytes may also have brought the FIN (or more bytes) right
    /// behind them, and once counted it no longer looks new to `is_reusable_after_idle`. So:
    /// a close in that event shows in the reactor's read-closed bit; more bytes cannot hide
    /// behind a short last read. Only when the last read filled the buffer is one read that
    /// must say `WouldBlock` needed to be sure.
    pub(crate) fn mark_idle(&mut self) -> bool {
        // One look at the reactor for both answers: no turn runs before the count is kept, so
        // the probe below cannot change it.
        let read_side = self.stream.read_side();
        if read_side.closed {
            return false;
        }
        if !self.last_read_short {
            let mut probe = [0u8; 1];
            match self.stream.try_read(&mut probe) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Ok(_) | Err(_) => return false,
            }
        }
        self.reused = true;
        self.idle_since = crate::time::now();
        self.read_events_at_idle = read_side.events;
        true
    }

    /// Whether an idle connection may carry another request. `mark_idle` saw it open and empty;
    /// if the reactor reported no read event since, nothing arrived and the server did not
    /// close it: reuse it with no system call. Otherwise look: bytes waiting (an unrequested
    /// response) or end of stream (the server closed it) both rule it out.
    pub(crate) fn is_reusable_after_idle(&mut self) -> bool {
        if self.stream.read_side().events == self.read_events_at_idle {
            return true;
        }
        let mut probe = [0u8; 1];
        match self.stream.try_read(&mut probe) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
            Ok(_) | Err(_) => false,
        }
    }
}

/// A read error as the client reports it. Over TLS, a TCP close without `close_notify` comes
/// back from rustls as `UnexpectedEof`: the response may have been truncated by someone on the
/// path, so it is an error of its own, never a clean end of the body.
fn read_error(e: io::Error) -> Error {
    #[cfg(feature = "tls")]
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return Error::Tls(crate::http::tls::TlsError::NoCloseNotify);
    }
    Error::Io(e)
}

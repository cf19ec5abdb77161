//! One TLS connection over evloop's non-blocking [`TcpStream`]: rustls's state machine, fed
//! by the loop.
//!
//! Why it exists: rustls does no I/O. A [`rustls::ClientConnection`] is a pure state machine
//! with two byte queues: ciphertext in (`read_tls`, then `process_new_packets`) and out
//! (`write_tls`), plaintext in (`writer()`) and out (`reader()`). Something has to move bytes
//! between those queues and the socket, and park the task when the socket has nothing to give
//! or no room to take. That something is this file: the same job tokio-rustls's `Stream` and
//! async-tls do, here over evloop's [`TcpStream::poll_read`]/[`poll_write`], which already do
//! "try; on `WouldBlock`, wait for readiness" (`io/source.rs`).
//!
//! The seam is [`Wire`]: `std::io::Read`/`Write` over the socket for one poll, turning the
//! socket's `Pending` into the `WouldBlock` rustls understands (the waker stays registered
//! with the reactor, so the task is woken when the socket is ready again).
//!
//! ```text
//!  plaintext ── writer() ──► ClientConnection ── write_tls ──► Wire ──► socket
//!  plaintext ◄── reader() ── ClientConnection ◄── read_tls ◄── Wire ◄── socket
//!                            (process_new_packets: decrypt, verify, answer handshakes)
//! ```
//!
//! End of stream: `reader()` returns `Ok(0)` only after the server's `close_notify` alert.
//! A TCP close without it comes back as `UnexpectedEof`, which the HTTP layer reports as
//! [`TlsError::NoCloseNotify`](super::TlsError::NoCloseNotify): only a close the server signed
//! may end a response (RFC 8446 §6.1).
//!
//! [`poll_write`]: TcpStream::poll_write

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::ClientConnection;
use rustls::pki_types::ServerName;

use crate::http::error::Error;
use crate::http::tls::error::TlsError;
use crate::net::TcpStream;

/// An established TLS client connection.
pub(crate) struct TlsStream {
    /// The socket the records travel on.
    tcp: TcpStream,
    /// The TLS state: keys, buffered records, buffered plaintext.
    tls: ClientConnection,
}

/// The socket as `std::io::Read`/`Write` for one poll: `Pending` becomes `WouldBlock` (the
/// task's waker stays with the reactor), which is how rustls expects a non-blocking socket
/// to say "not now".
struct Wire<'a, 'b> {
    tcp: &'a TcpStream,
    cx: &'a mut Context<'b>,
}

impl Read for Wire<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.tcp.poll_read(self.cx, buf) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl Write for Wire<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.tcp.poll_write(self.cx, buf) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // a socket keeps no buffer of its own
    }
}

/// The socket as `std::io::Read` with no task to wake: one non-blocking attempt (the pool's
/// "is anything waiting on this idle connection?" probe).
struct Probe<'a>(&'a TcpStream);

impl Read for Probe<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl TlsStream {
    /// Runs the client handshake on a connected socket: certificate and host-name
    /// verification as `config` says, SNI and ALPN as it asks.
    ///
    /// # Errors
    /// [`Error::Tls`] for what rustls refused (see [`TlsError`]); [`Error::Io`] if the socket
    /// failed.
    ///
    /// # Cancel safety
    /// Dropping the future closes the socket; nothing else is left behind.
    pub(crate) async fn handshake(
        tcp: TcpStream,
        config: Arc<rustls::ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<TlsStream, Error> {
        let tls = ClientConnection::new(config, name).map_err(|e| Error::Tls(TlsError::Other(e)))?;
        let mut stream = TlsStream { tcp, tls };
        poll_fn(|cx| stream.poll_handshake(cx)).await?;
        Ok(stream)
    }

    /// Moves handshake records until rustls says the handshake is over.
    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            // What rustls has to say goes out first (the ClientHello, then our Finished).
            match self.poll_flush(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::Io(e))),
                Poll::Pending => return Poll::Pending,
            }
            if !self.tls.is_handshaking() {
                return Poll::Ready(Ok(()));
            }
            let read = self.tls.read_tls(&mut Wire { tcp: &self.tcp, cx });
            match read {
                Ok(0) => return Poll::Ready(Err(Error::Tls(TlsError::HandshakeClosed))),
                Ok(_) => {
                    if let Err(e) = self.tls.process_new_packets() {
                        // rustls has queued an alert that tells the server why; send it if
                        // the socket takes it now, and report the failure either way.
                        let _ = self.tls.write_tls(&mut Wire { tcp: &self.tcp, cx });
                        return Poll::Ready(Err(Error::Tls(TlsError::from_handshake(e))));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }

    /// The protocol the server chose by ALPN (`http/1.1`), if it chose one.
    pub(crate) fn alpn_protocol(&self) -> Option<&[u8]> {
        self.tls.alpn_protocol()
    }

    /// Reads decrypted bytes into `buf`. `Ok(0)` only after the server's `close_notify`; a
    /// TCP close without it is `UnexpectedEof`.
    ///
    /// # Errors
    /// `UnexpectedEof` as above; `InvalidData` for records that do not decrypt or parse; the
    /// socket's errors.
    pub(crate) fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        loop {
            match self.tls.reader().read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
            // Nothing decrypted is waiting: more records are needed. (Anything rustls wants to
            // send back, a key-update answer say, goes out when the socket takes it.)
            if self.tls.wants_write() {
                let _ = self.poll_flush(cx);
            }
            match self.tls.read_tls(&mut Wire { tcp: &self.tcp, cx }) {
                Ok(_) => self.process()?, // `Ok(0)`: rustls notes the close; `reader()` reports it
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// The same as [`poll_read`](Self::poll_read) without a task: `WouldBlock` when nothing
    /// more has arrived. Records that carry no data (TLS 1.3 session tickets) are taken in
    /// on the way, so an idle connection that received only those still looks empty.
    pub(crate) fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.tls.reader().read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return done,
            }
            self.tls.read_tls(&mut Probe(&self.tcp))?;
            self.process()?;
        }
    }

    /// Decrypts and verifies what `read_tls` took in.
    fn process(&mut self) -> io::Result<()> {
        match self.tls.process_new_packets() {
            Ok(_) => Ok(()),
            Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
    }

    /// Encrypts what it can of `buf`. The records may still sit in rustls's queue when this
    /// returns: [`poll_flush`](Self::poll_flush) sends them.
    ///
    /// # Errors
    /// The socket's errors, while sending records queued earlier.
    pub(crate) fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // Records queued earlier go first, so the queue stays bounded by one write's worth.
        match self.poll_flush(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        let n = self.tls.writer().write(buf)?;
        // Start sending now; whatever the socket does not take, `poll_flush` sends later.
        match self.poll_flush(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(n)),
        }
    }

    /// Sends every queued record.
    ///
    /// # Errors
    /// The socket's errors; `WriteZero` if it stops taking bytes.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut Wire { tcp: &self.tcp, cx }) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(()))
    }

    /// The socket underneath (readiness, event counts).
    pub(crate) fn tcp(&self) -> &TcpStream {
        &self.tcp
    }
}

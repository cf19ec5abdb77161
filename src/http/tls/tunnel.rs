//! The `CONNECT` tunnel: `https://` through a plain-HTTP forward proxy (RFC 9110 §9.3.6).
//!
//! Why it exists: a proxy cannot forward an `https://` request it is not allowed to read, so
//! the client asks it for a raw byte pipe to the target instead, and runs TLS with the target
//! through that pipe (the picture is in `proxy.rs`). This file does the one exchange with the
//! proxy, on the socket `Conn::connect` has just connected to it, before the handshake. Read
//! first: RFC 9110 §9.3.6 (CONNECT) and RFC 9112 §3.2.3 (the authority-form target).
//!
//! The rules it follows:
//! - **The request**: `CONNECT host:port HTTP/1.1`, the target in authority-form (always with
//!   its port, an IPv6 address in brackets), `Host` the same, `Proxy-Authorization: Basic …`
//!   when the proxy URL has `user:password@`, and `User-Agent`. No body.
//! - **The answer** is read strictly, by the same head reader as every response (httparse,
//!   bounded by `ClientConfig::head_limits`); 1xx heads are skipped. A 2xx opens the tunnel,
//!   and its `Content-Length` or `Transfer-Encoding`, which a proxy must not send, are ignored,
//!   as §9.3.6 tells the client to. Anything else is a refusal, reported with the proxy's
//!   status and reason; the connection is then closed, its body (a 407's page) never read.
//! - **Nothing may follow the 2xx head**: a TLS server speaks only after the ClientHello, so
//!   bytes there are the proxy's, and they are refused rather than fed to TLS as the server's.
//! - **Time**: all of it runs under the connect timeout `Conn::connect` armed for the TCP
//!   connect, which the handshake then shares; a proxy that never answers is cut off by it.
//!
//! Errors name the proxy and the target by host and port only: the proxy URL's credentials
//! never appear in a message.

use std::future::poll_fn;
use std::io;
use std::task::Poll;

use crate::http::config::ClientConfig;
use crate::http::deadline::Deadline;
use crate::http::error::{Error, TimeoutKind};
use crate::http::request::{USER_AGENT, basic_authorization};
use crate::http::response::{HeadStep, ResponseHeadReader};
use crate::http::tls::tunnel_error::{TunnelError, TunnelFailure};
use crate::http::url::{Host, Url};
use crate::net::TcpStream;

/// How many bytes one read of the proxy's answer asks for: an answer is a status line and a
/// few headers.
const READ_CHUNK: usize = 1024;

/// The longest reason phrase an error repeats (a proxy's own words, shown to a person).
const MAX_REASON: usize = 80;

/// Asks the proxy at `proxy`, to which `tcp` is connected, for a tunnel to `host:port`, under
/// the deadline `Conn::connect` armed. On `Ok` the socket is a byte pipe to the target.
///
/// # Errors
/// [`Error::Tunnel`] for everything the proxy did wrong or refused, the total timeout as
/// [`Error::Timeout`].
///
/// # Cancel safety
/// The socket is the caller's; dropping the future leaves a half-opened tunnel on it, which
/// the caller then closes (`Conn::connect` drops it).
pub(crate) async fn open(
    tcp: &TcpStream,
    proxy: &Url,
    host: &Host,
    port: u16,
    config: &ClientConfig,
    deadline: &mut Deadline,
) -> Result<(), Error> {
    let target = authority(host, port);
    let fail = |failure| {
        Error::Tunnel(TunnelError {
            proxy: authority(proxy.host(), proxy.port()),
            target: target.clone(),
            failure,
        })
    };
    let io_failure = |error| match error {
        Error::Timeout(TimeoutKind::Connect) => fail(TunnelFailure::Timeout {
            after: config.connect_timeout.unwrap_or_default(),
        }),
        Error::Io(e) => fail(TunnelFailure::Io(e)),
        other => other, // the total deadline
    };
    write_all(tcp, connect_request(proxy, &target).as_bytes(), deadline)
        .await
        .map_err(io_failure)?;
    let mut answer = Vec::with_capacity(READ_CHUNK);
    let mut reader = ResponseHeadReader::new(config.head_limits);
    loop {
        let step = if answer.is_empty() {
            HeadStep::NeedMore
        } else {
            reader
                .parse(&answer)
                .map_err(|e| fail(TunnelFailure::NotHttp(Box::new(e))))?
        };
        match step {
            HeadStep::Interim { consumed, .. } => {
                answer.drain(..consumed);
            }
            HeadStep::Final { head, consumed } => {
                if !(200..300).contains(&head.status) {
                    let reason = head
                        .reason
                        .chars()
                        .filter(|c| c.is_ascii_graphic() || *c == ' ')
                        .take(MAX_REASON)
                        .collect();
                    return Err(fail(TunnelFailure::Refused {
                        status: head.status,
                        reason,
                    }));
                }
                if consumed != answer.len() {
                    return Err(fail(TunnelFailure::TrailingBytes));
                }
                log::debug!(target: "evloop::http", "tunnel to {target} open: {} {}", head.status, head.reason);
                return Ok(());
            }
            // The reader refuses a head past `max_head_bytes`, so this grows by at most one
            // read beyond it.
            HeadStep::NeedMore => {
                let mut chunk = [0u8; READ_CHUNK];
                let n = read(tcp, &mut chunk, deadline).await.map_err(io_failure)?;
                if n == 0 {
                    return Err(fail(TunnelFailure::Closed));
                }
                answer.extend_from_slice(&chunk[..n]);
            }
        }
    }
}

/// `host:port` as an authority-form target (a `Host` prints an IPv6 address in brackets).
fn authority(host: &Host, port: u16) -> String {
    format!("{host}:{port}")
}

/// The request head asking for a tunnel to `target`.
fn connect_request(proxy: &Url, target: &str) -> String {
    let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(credentials) = proxy.credentials() {
        let value = basic_authorization(credentials.username(), credentials.password());
        head.push_str(&format!("Proxy-Authorization: {value}\r\n"));
    }
    head.push_str(&format!("User-Agent: {USER_AGENT}\r\n\r\n"));
    head
}

/// Writes all of `data` within the armed deadline.
async fn write_all(tcp: &TcpStream, data: &[u8], deadline: &mut Deadline) -> Result<(), Error> {
    let mut written = 0;
    poll_fn(|cx| {
        while written < data.len() {
            match tcp.poll_write(cx, &data[written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(Error::Io(io::ErrorKind::WriteZero.into()))),
                Poll::Ready(Ok(n)) => written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::Io(e))),
                Poll::Pending => return deadline.poll_expired(cx).map(Err),
            }
        }
        Poll::Ready(Ok(()))
    })
    .await
}

/// Reads some bytes within the armed deadline; `Ok(0)` at end of stream.
async fn read(tcp: &TcpStream, buf: &mut [u8], deadline: &mut Deadline) -> Result<usize, Error> {
    poll_fn(|cx| match tcp.poll_read(cx, buf) {
        Poll::Ready(result) => Poll::Ready(result.map_err(Error::Io)),
        Poll::Pending => deadline.poll_expired(cx).map(Err),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn the_request_names_the_target_in_authority_form_with_the_proxys_credentials() {
        let proxy = Url::parse("http://u:p@proxy.test:3128").unwrap();
        let target = authority(&Host::Domain("example.com".into()), 443);
        assert_eq!(
            connect_request(&proxy, &target),
            format!(
                "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\
                 Proxy-Authorization: Basic dTpw\r\nUser-Agent: {USER_AGENT}\r\n\r\n"
            )
        );
        assert_eq!(authority(&Host::Ipv6(Ipv6Addr::LOCALHOST), 8443), "[::1]:8443");
        let anonymous = Url::parse("http://proxy.test:3128").unwrap();
        assert!(!connect_request(&anonymous, &target).contains("Proxy-Authorization"));
    }

    #[test]
    fn a_refusal_names_the_proxy_the_target_and_the_status() {
        let error = TunnelError {
            proxy: "proxy.test:3128".into(),
            target: "example.com:443".into(),
            failure: TunnelFailure::Refused {
                status: 407,
                reason: "Proxy Authentication Required".into(),
            },
        };
        assert!(
            error.to_string().starts_with(
                "the proxy at proxy.test:3128 refused the tunnel to example.com:443: 407 Proxy Authentication Required;"
            ),
            "{error}"
        );
        assert_eq!(error.status(), Some(407));
        assert!(!error.is_transient());
    }
}

//! HTTPS: HTTP/1.1 over TLS, with rustls (the `tls` feature).
//!
//! Why it exists: nearly every real site is `https://`. TLS sits between the TCP stream and
//! the HTTP bytes, so the client's pool, limits, timeouts, redirects and retries stay as they
//! are; only the connection's transport changes (`http/transport.rs`). Read first: RFC 8446
//! §1–2 (what a TLS 1.3 handshake does), rustls's `ConnectionCommon` docs (the state machine
//! this drives), and tokio-rustls's `common/mod.rs` (the same job for tokio).
//!
//! | file              | what it does                                                     |
//! |-------------------|------------------------------------------------------------------|
//! | `config.rs`       | [`TlsConfig`]: which roots are trusted; the rustls config built once |
//! | `stream.rs`       | `TlsStream`: rustls's records moved over evloop's non-blocking socket |
//! | `error.rs`        | [`TlsError`]: each failure a user meets, with what to try         |
//! | `tunnel.rs`       | `CONNECT` through a forward proxy, before the handshake           |
//! | `tunnel_error.rs` | [`TunnelError`]: why a tunnel was not opened                      |
//!
//! What a connection gets: SNI (the host name in the ClientHello, so a server with many
//! sites picks the right certificate), ALPN `http/1.1`, and verification of the chain up to
//! a trusted root, of the validity dates and of the host name (RFC 6125), always on. The
//! handshake runs under the connect timeout. Through a proxy, the handshake runs inside the
//! proxy's `CONNECT` tunnel, with the same SNI and checks for the target (`tunnel.rs`).
//!
//! **Truncation.** Over TLS, a TCP close can be forged by anyone on the path; only the
//! server's `close_notify` alert proves it meant to stop. So a close without `close_notify`
//! that ends a response early is [`TlsError::NoCloseNotify`], never a short body taken for a
//! whole one: that matters for a body delimited by the close (no `Content-Length`, not
//! chunked). A `Content-Length` or chunked body that arrived complete is complete, with or
//! without a `close_notify` after it (many servers skip it; rustls, ureq and curl accept
//! this too).
//!
//! What it does not do: client certificates, session resumption across clients, certificate
//! revocation (CRLs, OCSP), and sending `close_notify` when the client closes (the request was
//! complete by its own framing, so nothing can be truncated on the server's side).

pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod stream;
pub(crate) mod tunnel;
pub(crate) mod tunnel_error;

pub use config::TlsConfig;
pub use error::TlsError;
pub(crate) use stream::TlsStream;
pub use tunnel_error::{TunnelError, TunnelFailure};

use rustls::pki_types::{DnsName, ServerName};

use crate::http::config::ClientConfig;
use crate::http::deadline::Deadline;
use crate::http::error::{Error, TimeoutKind};
use crate::http::transport::Transport;
use crate::http::url::Host;
use crate::net::TcpStream;

/// Runs the handshake on a connected socket, under the deadline `Conn::connect` armed (the
/// connect timeout, within the total one).
pub(crate) async fn connect(
    tcp: TcpStream,
    host: &Host,
    config: &ClientConfig,
    deadline: &mut Deadline,
) -> Result<Transport, Error> {
    let handshake = TlsStream::handshake(tcp, config.tls.rustls(), server_name(host)?);
    match deadline.run(handshake).await {
        Ok(stream) => {
            log::debug!(
                target: "evloop::http",
                "TLS to {host}: ALPN {:?}",
                stream.alpn_protocol().map(String::from_utf8_lossy)
            );
            Ok(Transport::Tls(Box::new(stream)))
        }
        Err(Error::Timeout(TimeoutKind::Connect)) => Err(Error::Tls(TlsError::HandshakeTimeout {
            after: config.connect_timeout.unwrap_or_default(),
        })),
        Err(e) => Err(e),
    }
}

/// The name sent by SNI and checked against the certificate: the URL's host. IP literals are
/// checked against the certificate's IP addresses and, as RFC 6066 §3 says, not sent by SNI.
fn server_name(host: &Host) -> Result<ServerName<'static>, Error> {
    Ok(match host {
        Host::Domain(name) => match DnsName::try_from(name.as_str()) {
            Ok(dns) => ServerName::DnsName(dns.to_owned()),
            Err(_) => {
                return Err(Error::Tls(TlsError::Other(rustls::Error::General(format!(
                    "{name} is not a DNS name a certificate can be checked against"
                )))));
            }
        },
        Host::Ipv4(ip) => ServerName::IpAddress(std::net::IpAddr::V4(*ip).into()),
        Host::Ipv6(ip) => ServerName::IpAddress(std::net::IpAddr::V6(*ip).into()),
    })
}

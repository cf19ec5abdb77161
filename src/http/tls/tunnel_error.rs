//! The error of a `CONNECT` tunnel that could not be opened (`tunnel.rs` opens them), on its
//! own so that `http/error.rs`, which wraps it in `Error::Tunnel`, and `tunnel.rs`, which
//! returns `Error`s, do not import each other.

use std::fmt;
use std::io;
use std::time::Duration;

/// A `CONNECT` tunnel through a proxy could not be opened, inside
/// [`Error::Tunnel`](crate::http::Error::Tunnel).
#[derive(Debug)]
pub struct TunnelError {
    /// The proxy, as `host:port` (never with its credentials).
    pub proxy: String,
    /// The target the tunnel was for, as `host:port`.
    pub target: String,
    /// What went wrong.
    pub failure: TunnelFailure,
}

/// What went wrong with a tunnel, in [`TunnelError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum TunnelFailure {
    /// The proxy answered with a status other than 2xx: 407 (it wants credentials, or other
    /// ones), 403 (its policy forbids the target), 502 (it could not reach the target)…
    Refused {
        /// The proxy's status code.
        status: u16,
        /// Its reason phrase (printable ASCII only, shortened).
        reason: String,
    },
    /// The proxy closed the connection before its answer was complete.
    Closed,
    /// The proxy's answer is not an HTTP/1.1 response head, or is larger than
    /// `ClientConfig::head_limits` allows: the error the head reader gave (an
    /// [`Error`](crate::http::Error); `downcast_ref` it to match on it).
    NotHttp(Box<dyn std::error::Error + Send + Sync>),
    /// The proxy sent bytes after its 2xx answer, before the TLS handshake began.
    TrailingBytes,
    /// No complete answer within the connect timeout.
    Timeout {
        /// The connect timeout that ran out.
        after: Duration,
    },
    /// Writing the request or reading the answer failed.
    Io(io::Error),
}

impl TunnelError {
    /// The proxy's status, for [`TunnelFailure::Refused`].
    pub fn status(&self) -> Option<u16> {
        match self.failure {
            TunnelFailure::Refused { status, .. } => Some(status),
            _ => None,
        }
    }

    /// Whether trying again may succeed: the proxy timed out, closed, failed, or answered 5xx
    /// (it could not reach the target, or is overloaded). A 4xx or a garbled answer would come
    /// back the same.
    pub fn is_transient(&self) -> bool {
        match &self.failure {
            TunnelFailure::Refused { status, .. } => *status >= 500,
            TunnelFailure::Closed | TunnelFailure::Timeout { .. } | TunnelFailure::Io(_) => true,
            TunnelFailure::NotHttp(_) | TunnelFailure::TrailingBytes => false,
        }
    }
}

impl fmt::Display for TunnelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TunnelError { proxy, target, failure } = self;
        match failure {
            TunnelFailure::Refused { status, reason } => {
                write!(
                    f,
                    "the proxy at {proxy} refused the tunnel to {target}: {status} {reason}"
                )?;
                f.write_str(match status {
                    407 => "; give the proxy URL the right user:password (http://user:pass@proxy:port)",
                    403 => "; the proxy's policy forbids this host or port",
                    500.. => "; the proxy could not reach the target, or is failing: retry later",
                    _ => "",
                })
            }
            TunnelFailure::Closed => write!(
                f,
                "the proxy at {proxy} closed the connection before answering the tunnel request to {target}"
            ),
            TunnelFailure::NotHttp(e) => write!(
                f,
                "the proxy at {proxy} did not answer the tunnel request to {target} in HTTP/1.1 ({e})"
            ),
            TunnelFailure::TrailingBytes => write!(
                f,
                "the proxy at {proxy} sent bytes after opening the tunnel to {target}, before TLS began; \
                 it is not a plain CONNECT proxy"
            ),
            TunnelFailure::Timeout { after } => write!(
                f,
                "the proxy at {proxy} did not open the tunnel to {target} within the connect timeout ({after:?})"
            ),
            TunnelFailure::Io(e) => write!(
                f,
                "the connection to the proxy at {proxy} failed while opening the tunnel to {target} ({e})"
            ),
        }
    }
}

impl std::error::Error for TunnelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.failure {
            TunnelFailure::NotHttp(e) => Some(&**e as &(dyn std::error::Error + 'static)),
            TunnelFailure::Io(e) => Some(e),
            _ => None,
        }
    }
}

//! What can go wrong with TLS, in words that say what to try.
//!
//! Why it exists: rustls reports a failed handshake as, say,
//! `InvalidCertificate(NotValidForNameContext { expected, presented })`, which is precise but
//! tells the person at the terminal nothing about the fix. [`TlsError`] keeps the few cases a
//! user meets in practice apart (an untrusted issuer, an expired certificate, a certificate for
//! another host, a handshake that never finishes, a server that is not speaking TLS at all, a
//! response cut off without `close_notify`) and gives each a `Display` that names the fix
//! (curl's and Python's `ssl` messages were the model). Everything else rustls can say is kept
//! as it said it, in [`TlsError::Other`].

use std::fmt;
use std::time::Duration;

use rustls::{AlertDescription, CertificateError};

/// A TLS failure on an `https://` connection, inside [`Error::Tls`](crate::http::Error::Tls).
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// The certificate chain does not lead to a trusted root: self-signed, or signed by a
    /// private CA the client was not told about.
    Untrusted,
    /// The certificate's validity period ended.
    Expired {
        /// When it ended, in seconds since the Unix epoch (if rustls said).
        not_after: Option<u64>,
    },
    /// The certificate's validity period has not begun (or the local clock is wrong).
    NotYetValid,
    /// The certificate was issued for other names than the one in the URL.
    WrongHost {
        /// The host the URL names.
        expected: String,
        /// The names the certificate is valid for (may be empty if rustls did not say).
        presented: Vec<String>,
    },
    /// The handshake did not finish within the connect timeout.
    HandshakeTimeout {
        /// The connect timeout that ran out.
        after: Duration,
    },
    /// The server's first bytes were not a TLS record: most likely it speaks plain HTTP.
    NotTls,
    /// The server closed the connection before the handshake finished.
    HandshakeClosed,
    /// The server closed the TCP connection without TLS's `close_notify` in the middle of a
    /// body whose end only the close could mark: the body may have been cut short by an
    /// attacker, so it is refused.
    NoCloseNotify,
    /// A root certificate given to [`TlsConfig`](super::TlsConfig) could not be used.
    BadRootCertificate {
        /// What was wrong with it.
        reason: String,
    },
    /// Anything else rustls reported (a protocol violation, an alert from the server…).
    Other(rustls::Error),
}

impl TlsError {
    /// Translates what rustls said during the handshake.
    pub(crate) fn from_handshake(error: rustls::Error) -> TlsError {
        match error {
            rustls::Error::InvalidCertificate(cert) => match cert {
                CertificateError::UnknownIssuer | CertificateError::BadSignature => TlsError::Untrusted,
                CertificateError::Expired => TlsError::Expired { not_after: None },
                CertificateError::ExpiredContext { not_after, .. } => TlsError::Expired {
                    not_after: Some(not_after.as_secs()),
                },
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => TlsError::NotYetValid,
                CertificateError::NotValidForNameContext { expected, presented } => TlsError::WrongHost {
                    expected: name_of(&expected),
                    presented: presented.iter().map(|p| unquote(p)).collect(),
                },
                CertificateError::NotValidForName => TlsError::WrongHost {
                    expected: String::new(),
                    presented: Vec::new(),
                },
                other => TlsError::Other(rustls::Error::InvalidCertificate(other)),
            },
            // Bytes that do not parse as TLS records: an HTTP server's `HTTP/1.1 400` answer to
            // our ClientHello, typically.
            rustls::Error::InvalidMessage(_) => TlsError::NotTls,
            other => TlsError::Other(other),
        }
    }
}

/// rustls describes a presented name in `Debug` form (`DnsName("a.example")`): the name alone.
fn unquote(presented: &str) -> String {
    match (presented.find('"'), presented.rfind('"')) {
        (Some(open), Some(close)) if open < close => presented[open + 1..close].to_owned(),
        _ => presented.to_owned(),
    }
}

/// A `ServerName` as the user wrote it.
fn name_of(name: &rustls::pki_types::ServerName<'_>) -> String {
    match name {
        rustls::pki_types::ServerName::DnsName(dns) => dns.as_ref().to_owned(),
        rustls::pki_types::ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Untrusted => f.write_str(
                "the server's certificate is not trusted (self-signed, or issued by an unknown CA): \
                 pass its CA with --cacert / TlsConfig::add_root_pem, or TlsConfig::use_platform_roots",
            ),
            TlsError::Expired { not_after: Some(secs) } => write!(
                f,
                "the server's certificate expired on {} (UTC): the server must renew it (or check this machine's clock)",
                utc_date(*secs)
            ),
            TlsError::Expired { not_after: None } => f.write_str(
                "the server's certificate has expired: the server must renew it (or check this machine's clock)",
            ),
            TlsError::NotYetValid => f.write_str(
                "the server's certificate is not valid yet: check this machine's clock, or the certificate's dates",
            ),
            TlsError::WrongHost { expected, presented } => {
                f.write_str("the server's certificate is for ")?;
                match presented.as_slice() {
                    [] => f.write_str("other names")?,
                    names => f.write_str(&names.join(", "))?,
                }
                write!(f, ", not {expected}: use a URL with a name the certificate covers")
            }
            TlsError::HandshakeTimeout { after } => write!(
                f,
                "the TLS handshake timed out after {after:?} (the connect timeout): is the port really serving TLS?"
            ),
            TlsError::NotTls => f.write_str("the server did not answer TLS (is it plain HTTP? try http://)"),
            TlsError::HandshakeClosed => f.write_str(
                "the server closed the connection during the TLS handshake: it may not speak TLS on this port, \
                 or refused our TLS versions or ciphers",
            ),
            TlsError::NoCloseNotify => f.write_str(
                "the connection closed without TLS close_notify before a body that only the close could end: \
                 the body may be truncated, so it was refused; retry, and suspect the server or the network",
            ),
            TlsError::BadRootCertificate { reason } => {
                write!(
                    f,
                    "a root certificate could not be used: {reason}; pass a PEM or DER X.509 certificate"
                )
            }
            TlsError::Other(rustls::Error::AlertReceived(alert)) => write!(
                f,
                "the server refused the TLS handshake ({}): it may need other TLS versions, ciphers or a client certificate",
                alert_name(*alert)
            ),
            TlsError::Other(e) => write!(f, "TLS failed: {e}"),
        }
    }
}

/// An alert's name, as the RFC writes it.
fn alert_name(alert: AlertDescription) -> String {
    format!("{alert:?}")
}

/// A day `secs` after the Unix epoch as `YYYY-MM-DD`: the days-to-civil conversion from
/// Howard Hinnant's "chrono-Compatible Low-Level Date Algorithms" (the proleptic Gregorian
/// calendar in 400-year eras).
pub(crate) fn utc_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64 + 719_468; // days since 0000-03-01
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // March = 0
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_printed_as_the_calendar_says() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_577_923_200), "2020-01-02");
        assert_eq!(utc_date(4_102_444_799), "2099-12-31");
    }

    #[test]
    fn each_message_says_what_to_try() {
        let wrong = TlsError::WrongHost {
            expected: "localhost".into(),
            presented: vec!["other.example".into()],
        };
        assert_eq!(
            wrong.to_string(),
            "the server's certificate is for other.example, not localhost: use a URL with a name the certificate covers"
        );
        assert!(TlsError::Untrusted.to_string().contains("--cacert"));
        assert!(TlsError::NotTls.to_string().contains("try http://"));
        let expired = TlsError::Expired {
            not_after: Some(1_577_923_200),
        };
        assert!(expired.to_string().contains("expired on 2020-01-02"), "{expired}");
    }
}

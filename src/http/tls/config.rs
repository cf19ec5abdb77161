//! Which certificates an `https://` connection trusts: [`TlsConfig`].
//!
//! Why it exists: verification is only as good as its roots. By default the client trusts
//! Mozilla's root program, compiled in by the `webpki-roots` crate, so a binary behaves the
//! same on every machine (the choice reqwest's `rustls-tls` and ureq make). Two additions
//! cover the rest: a private CA (a test server, a company's internal CA: curl's `--cacert`)
//! and the operating system's bundle, for machines whose administrator adds roots there
//! (Python's `ssl.create_default_context()` reads it). The platform bundle is read from the
//! file every Linux distribution ships, parsed with rustls-pki-types' PEM reader: the same
//! files `rustls-native-certs` reads on Linux, without another crate.
//!
//! The rustls `ClientConfig` is built once per [`TlsConfig`] (on the first `https://`
//! connection) and shared by every connection after it: ring's provider, TLS 1.2 and 1.3,
//! ALPN `http/1.1` (RFC 7301: the server then knows not to expect HTTP/2), SNI on (rustls's
//! default).

use std::cell::OnceCell;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::http::error::Error;
use crate::http::tls::error::TlsError;

/// Where distributions keep their CA bundle, most common first: Debian and Ubuntu, Fedora and
/// RHEL, openSUSE, Alpine and macOS. The list OpenSSL's own probes (and `openssl-probe`) use.
const PLATFORM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// How `https://` connections are verified: which roots are trusted. Part of
/// [`ClientConfig`](crate::http::ClientConfig) (its `tls` field).
///
/// Certificate and host-name verification are always on; only the set of trusted roots can
/// change. By default it is Mozilla's root program (the `webpki-roots` crate).
///
/// # Examples
///
/// Trusting a private CA as well as the bundled roots (curl's `--cacert`, aiohttp's
/// `ssl.create_default_context(cafile=...)`):
///
/// ```no_run
/// use evloop::http::{Client, ClientConfig};
///
/// let mut config = ClientConfig::default();
/// config.tls.add_root_file("ca.pem").expect("a readable PEM file with a CA certificate");
/// let client = Client::with_config(config);
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    /// Roots added by the caller (its own CAs, the platform's bundle).
    added: RootCertStore,
    /// Whether Mozilla's roots (webpki-roots) are trusted too.
    bundled: bool,
    /// The rustls configuration, built on first use; reset by every change above.
    built: OnceCell<Arc<rustls::ClientConfig>>,
}

impl Default for TlsConfig {
    fn default() -> TlsConfig {
        TlsConfig {
            added: RootCertStore::empty(),
            bundled: true,
            built: OnceCell::new(),
        }
    }
}

impl TlsConfig {
    /// Trusts every certificate in `pem` (one or more `-----BEGIN CERTIFICATE-----` blocks) as a
    /// root; returns how many were added.
    ///
    /// # Errors
    /// [`TlsError::BadRootCertificate`] if `pem` holds no certificate, or one that does not
    /// parse as an X.509 CA certificate.
    pub fn add_root_pem(&mut self, pem: &[u8]) -> Result<usize, Error> {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| bad_root(format!("the PEM does not parse ({e})")))?;
            self.add(cert)?;
            added += 1;
        }
        if added == 0 {
            return Err(bad_root("no `BEGIN CERTIFICATE` block in the PEM".into()));
        }
        Ok(added)
    }

    /// Trusts one DER-encoded certificate as a root.
    ///
    /// # Errors
    /// [`TlsError::BadRootCertificate`] if it does not parse as an X.509 certificate.
    pub fn add_root_der(&mut self, der: &[u8]) -> Result<(), Error> {
        self.add(CertificateDer::from(der.to_vec()))
    }

    /// Trusts the certificates in a file, PEM or DER (curl's `--cacert FILE`); returns how many
    /// were added. The file is read at once, blocking: call it while setting up, not on a
    /// busy loop.
    ///
    /// # Errors
    /// [`TlsError::BadRootCertificate`] if the file cannot be read or holds no usable
    /// certificate.
    pub fn add_root_file(&mut self, path: impl AsRef<Path>) -> Result<usize, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| bad_root(format!("cannot read {}: {e}", path.display())))?;
        if bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ") {
            self.add_root_pem(&bytes)
        } else {
            self.add_root_der(&bytes).map(|()| 1)
        }
    }

    /// Trusts the operating system's CA bundle too: the file named by `SSL_CERT_FILE` if set
    /// (OpenSSL's variable), else the first of the distributions' usual paths that exists.
    /// Returns how many roots were added; certificates in the bundle that do not parse are
    /// skipped, as OpenSSL skips them.
    ///
    /// # Errors
    /// [`TlsError::BadRootCertificate`] if no bundle is found or none of it is usable.
    pub fn use_platform_roots(&mut self) -> Result<usize, Error> {
        let from_env = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
        let path = from_env
            .or_else(|| {
                PLATFORM_BUNDLES
                    .iter()
                    .map(Path::new)
                    .find(|p| p.exists())
                    .map(Path::to_path_buf)
            })
            .ok_or_else(|| {
                bad_root(format!(
                    "no CA bundle found (set SSL_CERT_FILE, or install one at {})",
                    PLATFORM_BUNDLES[0]
                ))
            })?;
        let bytes = std::fs::read(&path).map_err(|e| bad_root(format!("cannot read {}: {e}", path.display())))?;
        let certs = CertificateDer::pem_slice_iter(&bytes).filter_map(Result::ok);
        let (added, _skipped) = self.added.add_parsable_certificates(certs);
        self.built = OnceCell::new();
        if added == 0 {
            return Err(bad_root(format!("{} holds no usable certificate", path.display())));
        }
        Ok(added)
    }

    /// Whether Mozilla's bundled roots are trusted (default `true`). Turn them off to trust
    /// only the roots added here, as curl does with `--cacert`.
    pub fn use_bundled_roots(&mut self, trusted: bool) {
        self.bundled = trusted;
        self.built = OnceCell::new();
    }

    /// How many roots are trusted in all.
    pub fn root_count(&self) -> usize {
        self.added.len()
            + if self.bundled {
                webpki_roots::TLS_SERVER_ROOTS.len()
            } else {
                0
            }
    }

    fn add(&mut self, cert: CertificateDer<'static>) -> Result<(), Error> {
        self.added
            .add(cert)
            .map_err(|e| bad_root(format!("it is not a usable X.509 certificate ({e})")))?;
        self.built = OnceCell::new();
        Ok(())
    }

    /// The rustls configuration every connection of a client shares, built on first use.
    pub(crate) fn rustls(&self) -> Arc<rustls::ClientConfig> {
        self.built
            .get_or_init(|| {
                let mut roots = self.added.clone();
                if self.bundled {
                    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                }
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let mut config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .expect("ring's provider supports rustls's default TLS versions")
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                Arc::new(config)
            })
            .clone()
    }
}

fn bad_root(reason: String) -> Error {
    Error::Tls(TlsError::BadRootCertificate { reason })
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("added_roots", &self.added.len())
            .field("bundled_roots", &self.bundled)
            .finish()
    }
}

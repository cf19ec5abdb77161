//! `ClientConfig`: every setting of a [`Client`](crate::http::Client), in one plain struct.
//!
//! Kept apart from `client.rs` so that the parts below the client (a connection, TLS, an upload)
//! can read the settings without naming the client itself: the file names only the settings'
//! own types.

#[cfg(feature = "cookies")]
use std::rc::Rc;
use std::time::Duration;

#[cfg(feature = "cookies")]
use crate::http::cookie::CookieJar;
use crate::http::framing::ChunkLimits;
use crate::http::headers::Headers;
use crate::http::proxy::Proxy;
use crate::http::response::HeadLimits;
use crate::http::url::Url;

/// How a [`Client`](crate::http::Client) behaves. Defaults follow aiohttp where it has one.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Most requests in flight at once, over all hosts (aiohttp's `limit`, default 100;
    /// 0 = no limit).
    pub limit: usize,
    /// Most requests in flight to one host:port (aiohttp's `limit_per_host`; default 0 = no
    /// limit).
    pub limit_per_host: usize,
    /// Deadline for a whole request, pool wait and body included (default 300 s, aiohttp's
    /// `ClientTimeout.total`; `None` = none).
    pub total_timeout: Option<Duration>,
    /// Deadline for resolving and connecting (default 30 s; `None` = none).
    pub connect_timeout: Option<Duration>,
    /// Longest silence between two reads (default 30 s; `None` = none).
    pub read_timeout: Option<Duration>,
    /// How long an idle keep-alive connection is kept (default 15 s, aiohttp's
    /// `keepalive_timeout`).
    pub idle_timeout: Duration,
    /// Most idle connections kept per host (default 10).
    pub max_idle_per_host: usize,
    /// Most redirects followed (default 10, aiohttp's `max_redirects`); 0 does not follow
    /// redirects at all and returns the 3xx response.
    pub max_redirects: u32,
    /// Longest wait for a pool slot under `limit`/`limit_per_host` (default `None`: only the
    /// total deadline bounds it). Set it when many requests are queued at once and each should
    /// get its full `total_timeout` once it is actually running, or fail fast when the pool is
    /// saturated.
    pub pool_timeout: Option<Duration>,
    /// Limits on response heads (header count, head bytes).
    pub head_limits: HeadLimits,
    /// Limits on chunk-size lines and trailers.
    pub chunk_limits: ChunkLimits,
    /// Most body bytes `Response::bytes`/`text` will buffer (default 10 MiB; streaming with
    /// `chunk` is not capped). For a compressed body it caps the decoded bytes and the encoded.
    pub max_body: u64,
    /// Which roots `https://` connections trust (default: Mozilla's, compiled in).
    #[cfg(feature = "tls")]
    pub tls: crate::http::tls::config::TlsConfig,
    /// Headers sent with every request that does not set the same name itself (aiohttp's
    /// `ClientSession(headers=…)`). Checked like a request's own, at `send`.
    pub default_headers: Headers,
    /// What relative string URLs resolve against (aiohttp's `base_url`), as a redirect's
    /// `Location` does: `"users"` against `http://h/v1/` is `http://h/v1/users`.
    pub base_url: Option<Url>,
    /// The cookie jar (default: a fresh, empty one, as aiohttp's session has); `None` sends and
    /// keeps no cookies. Cloning the config, or putting one `Rc` in several, shares the jar.
    /// Feature `cookies` (on by default); without it a client keeps and sends no cookies.
    #[cfg(feature = "cookies")]
    pub cookies: Option<Rc<CookieJar>>,
    /// The forward proxy (default none): `http://` requests go through it in absolute-form,
    /// and with the `tls` feature `https://` ones through a `CONNECT` tunnel (see [`Proxy`]).
    pub proxy: Option<Proxy>,
    /// Read the proxy from `http_proxy`/`no_proxy` (with the `tls` feature, `https_proxy` too)
    /// when `proxy` is `None` (aiohttp's `trust_env`; default false: like aiohttp, the
    /// environment is ignored unless asked).
    pub trust_env: bool,
    /// Send `Accept-Encoding: gzip, deflate` and decode such bodies as they are read (feature
    /// `gzip`; curl's `--compressed`, aiohttp's `auto_decompress`). Off by default, so that
    /// turning the feature on (perhaps through another crate: cargo unifies features) never
    /// changes what an existing client sends. A request that sets its own `Accept-Encoding`
    /// gets its body as sent.
    #[cfg(feature = "gzip")]
    pub decompress: bool,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            limit: 100,
            limit_per_host: 0,
            total_timeout: Some(Duration::from_secs(300)),
            connect_timeout: Some(Duration::from_secs(30)),
            read_timeout: Some(Duration::from_secs(30)),
            idle_timeout: Duration::from_secs(15),
            max_idle_per_host: 10,
            max_redirects: 10,
            pool_timeout: None,
            head_limits: HeadLimits::default(),
            chunk_limits: ChunkLimits::default(),
            max_body: 10 * 1024 * 1024,
            #[cfg(feature = "tls")]
            tls: crate::http::tls::config::TlsConfig::default(),
            default_headers: Headers::new(),
            base_url: None,
            #[cfg(feature = "cookies")]
            cookies: Some(Rc::new(CookieJar::new())),
            proxy: None,
            trust_env: false,
            #[cfg(feature = "gzip")]
            decompress: false,
        }
    }
}

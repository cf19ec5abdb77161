//! `Client`: aiohttp's `ClientSession`, on evloop's loop.
//!
//! One request, start to finish:
//!
//! ```text
//!  Client::get(url).send()
//!    ├─ wait for a pool slot (per-origin, then global; FIFO)      ── counts toward `total`
//!    ├─ take an idle connection, or resolve + connect             ── `connect` timeout
//!    ├─ write head + body; read 1xx heads, then the final head    ── `read` timeout per read
//!    │    (a reused connection that fails before any response byte: retry once on a fresh
//!    │     connection, for idempotent methods only — never for POST)
//!    │    (each hop carries the jar's cookies, and its Set-Cookies go into the jar: session.rs)
//!    ├─ 301/302/303/307/308 with a Location: drain, follow (up to `max_redirects`), and
//!    │    remember the hop in the response's history
//!    └─ return the Response; its body is read on demand, then the connection goes back to
//!       the pool (or is closed) and the slot is released
//! ```
//!
//! Every wait is bounded by the request's total deadline, so a server that never answers,
//! stalls mid-body or drips one byte at a time is cut off; the per-read timeout catches plain
//! stalls earlier.

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crate::http::body::{Reading, Response};
use crate::http::config::ClientConfig;
use crate::http::conn::{Conn, Origin};
#[cfg(feature = "cookies")]
use crate::http::cookie::CookieJar;
use crate::http::deadline::Deadline;
use crate::http::error::{Error, TimeoutKind};
use crate::http::framing::{Framing, framing_and_reuse};
use crate::http::headers::Headers;
use crate::http::pool::Pool;
use crate::http::proxy::Proxy;
use crate::http::request::{Method, validate_header};
use crate::http::response::ResponseHead;
use crate::http::session::{self, IntoUrl, Redirect};
use crate::http::upload::{StreamBody, Upload};
#[cfg(feature = "tls")]
use crate::http::url::Scheme;
use crate::http::url::Url;
use crate::timer::deadline_after;

/// An HTTP/1.1 client with a connection pool (aiohttp's `ClientSession`). Cheap to clone:
/// clones share the pool.
///
/// # Examples
///
/// A GET against a local server, an evloop task that answers one fixed response (aiohttp's
/// `async with session.get(url) as resp:`, then `resp.status` and `await resp.text()`):
///
/// ```
/// use evloop::http::Client;
/// use evloop::net::TcpListener;
///
/// let (status, body) = evloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().expect("an address")).expect("a port");
///     let url = format!("http://{}/hello", listener.local_addr().expect("bound"));
///     evloop::spawn(async move {
///         let (stream, _) = listener.accept().await.expect("one client");
///         let (mut head, mut buf) = (Vec::new(), [0; 1024]);
///         while !head.ends_with(b"\r\n\r\n") {
///             let n = stream.read(&mut buf).await.expect("the request head");
///             assert!(n > 0, "the client closed before the end of its request head");
///             head.extend_from_slice(&buf[..n]);
///         }
///         let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
///         stream.write_all(reply).await.expect("the client reads");
///     });
///     let response = Client::new().get(&url).send().await.expect("a response");
///     let status = response.status();
///     (status, response.text().await.expect("a body"))
/// });
/// assert_eq!((status, body.as_str()), (200, "hello"));
/// ```
#[derive(Clone)]
#[doc(alias = "ClientSession")]
pub struct Client {
    config: Rc<ClientConfig>,
    pool: Rc<Pool>,
    /// Why the environment's proxy (`trust_env`) could not be used: every request fails with
    /// it, rather than silently going around the proxy the environment asked for.
    env_proxy_error: Option<&'static str>,
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl Client {
    /// A client with the default configuration.
    pub fn new() -> Client {
        Client::with_config(ClientConfig::default())
    }

    /// A client with `config`.
    pub fn with_config(mut config: ClientConfig) -> Client {
        let mut env_proxy_error = None;
        if config.trust_env && config.proxy.is_none() {
            match Proxy::from_env() {
                Ok(proxy) => config.proxy = proxy,
                Err(_) => {
                    env_proxy_error = Some(if cfg!(feature = "tls") {
                        "a proxy variable (http_proxy, https_proxy, or their upper-case forms) is not an \
                         http://host:port URL"
                    } else {
                        "the http_proxy (or HTTP_PROXY) variable is not an http://host:port URL"
                    })
                }
            }
        }
        let pool = Pool::new(
            config.limit,
            config.limit_per_host,
            config.idle_timeout,
            config.max_idle_per_host,
        );
        Client {
            config: Rc::new(config),
            pool: Rc::new(pool),
            env_proxy_error,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Starts a GET request.
    pub fn get(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// Starts a HEAD request.
    pub fn head(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// Starts a POST request.
    pub fn post(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// Starts a request with any method, to a [`Url`] or a string (resolved against the
    /// configured `base_url`, if any; an invalid one is reported by `send`).
    pub fn request(&self, method: Method, url: impl IntoUrl) -> RequestBuilder {
        RequestBuilder {
            client: self.clone(),
            method,
            url: url.into_url(self.config.base_url.as_ref()),
            headers: Headers::new(),
            body: None,
            error: None,
            total_timeout: self.config.total_timeout,
            stream: None,
            expect_continue: false,
        }
    }

    /// The cookie jar, if cookies are on (feature `cookies`, on by default).
    #[cfg(feature = "cookies")]
    pub fn cookie_jar(&self) -> Option<&CookieJar> {
        self.config.cookies.as_deref()
    }

    /// Idle connections currently kept (for tests and curiosity).
    pub fn idle_connections(&self) -> usize {
        self.pool.idle_count()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("idle", &self.pool.idle_count())
            .finish()
    }
}

/// A request being built. Nothing is sent until [`send`](Self::send); invalid input is
/// reported there, before any byte goes out.
pub struct RequestBuilder {
    client: Client,
    method: Method,
    url: Result<Url, Error>,
    headers: Headers,
    body: Option<Vec<u8>>,
    /// The first invalid header or query, reported by `send`.
    error: Option<Error>,
    total_timeout: Option<Duration>,
    /// A body read from a stream and sent chunked (`upload.rs`); `body` is `None` then.
    stream: Option<StreamBody>,
    /// Send `Expect: 100-continue` and wait for the server before the body (`upload.rs`).
    pub(super) expect_continue: bool,
}

impl RequestBuilder {
    /// Adds a header. Names must be tokens and values may not contain CR, LF, NUL or other
    /// control characters; `Content-Length` and `Transfer-Encoding` are the client's to set.
    pub fn header(mut self, name: &str, value: &str) -> RequestBuilder {
        match validate_header(name, value) {
            Ok(()) => self.headers.append(name, value),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Appends `key=value` pairs to the URL's query, percent-encoded.
    pub fn query(mut self, pairs: &[(&str, &str)]) -> RequestBuilder {
        if let Ok(url) = &self.url {
            self.url = url.with_query_pairs(pairs);
        }
        self
    }

    /// Sets the body (sent with a `Content-Length`).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> RequestBuilder {
        self.body = Some(body.into());
        self.stream = None;
        self
    }

    /// Overrides the client's total deadline for this request (`None`: no deadline).
    pub fn timeout(mut self, total: Option<Duration>) -> RequestBuilder {
        self.total_timeout = total;
        self
    }

    /// Sends the request and waits for the response head (following redirects).
    ///
    /// # Errors
    /// Invalid input (URL, method, headers) before anything is sent; connection, timeout,
    /// protocol and redirect errors after. See [`Error`].
    ///
    /// # Cancel safety
    /// Dropping the future abandons the request: its connection is closed (never pooled
    /// half-used) and its pool slot is released.
    pub fn send(self) -> impl Future<Output = Result<Response, Error>> {
        // Taken apart before the future is made, so the future holds the parts once: an
        // `async fn` would keep `self` (344 bytes) beside the parts moved out of it.
        let RequestBuilder {
            client,
            mut method,
            url,
            mut headers,
            mut body,
            error,
            total_timeout,
            mut stream,
            expect_continue,
        } = self;
        async move {
            if let Some(error) = error {
                return Err(error);
            }
            if let Some(reason) = client.env_proxy_error {
                return Err(Error::InvalidUrl { reason });
            }
            let mut url = url?;
            let config = &*client.config;
            session::add_default_headers(&mut headers, &config.default_headers);
            let mut history = Vec::new();
            let mut deadline = Deadline::new(
                total_timeout.map(|d| deadline_after(crate::time::now(), d)),
                config.read_timeout,
            );
            // Asked for compression, so decode what comes back (curl's --compressed); a caller who
            // set Accept-Encoding wanted the bytes as sent.
            #[cfg(feature = "gzip")]
            let decompress = config.decompress && !headers.contains("accept-encoding");
            #[cfg(feature = "gzip")]
            if decompress {
                headers.append("Accept-Encoding", "gzip, deflate");
            }
            let mut redirects = 0;
            loop {
                // The jar's cookies for this hop (feature `cookies`), and its `Set-Cookie`s kept below.
                #[cfg(feature = "cookies")]
                let hop_headers = session::with_cookies(&headers, config.cookies.as_deref(), &url);
                #[cfg(not(feature = "cookies"))]
                let hop_headers = std::borrow::Cow::Borrowed(&headers);
                let upload = Upload {
                    stream: stream.as_mut(),
                    expect_continue,
                };
                let (head, reading) = client
                    .execute(&method, &url, &hop_headers, body.as_deref(), upload, &mut deadline)
                    .await?;
                #[cfg(feature = "cookies")]
                session::store_cookies(config.cookies.as_deref(), &url, &head.headers);
                // `max_redirects: 0` means "do not follow": the 3xx itself is the answer (curl
                // without -L). Otherwise a redirect past the limit is an error (a loop, likely).
                // A streamed body is gone once sent: a 307/308, which must repeat it, is the answer.
                let location = match head.status {
                    307 | 308 if stream.is_some() => None,
                    301 | 302 | 303 | 307 | 308 if config.max_redirects > 0 => head.headers.get("location"),
                    _ => None,
                };
                let Some(location) = location else {
                    let mut response = Response::new(head, url, reading, config.max_body);
                    response.set_history(history);
                    #[cfg(feature = "gzip")]
                    let response = if decompress {
                        response.decode_content()
                    } else {
                        response
                    };
                    return Ok(response);
                };
                if redirects == config.max_redirects {
                    return Err(Error::TooManyRedirects {
                        limit: config.max_redirects,
                    });
                }
                redirects += 1;
                let next = url.join(location).map_err(|e| match e {
                    Error::UnsupportedScheme { scheme } => Error::RedirectNotHttp { scheme },
                    other => other,
                })?;
                // Read (for a second at most) the redirect's body so its connection can be reused.
                reading.discard(Duration::from_secs(1)).await;
                // 303, and 301/302 after a POST (what every browser does), become a bodiless GET;
                // 307 and 308 repeat the request as it was.
                let status = head.status;
                history.push(Redirect {
                    status,
                    url: url.clone(),
                    headers: head.headers,
                });
                if status == 303 && method != Method::HEAD || (matches!(status, 301 | 302) && method == Method::POST) {
                    method = Method::GET;
                    body = None;
                    stream = None;
                }
                // An origin is scheme, host and port (RFC 6454): https → http changes it, so it is
                // followed as aiohttp follows it, without the credentials (DESIGN.md §9, HTTPS).
                if next.origin() != url.origin() || next.scheme() != url.scheme() {
                    // Never send credentials or cookies meant for one origin to another, nor a
                    // `Host` naming the old one (RFC 9110 §7.2: Host names the target's authority).
                    for name in ["authorization", "proxy-authorization", "cookie", "host"] {
                        headers.remove(name);
                    }
                    url = next.without_credentials();
                } else {
                    url = next;
                }
            }
        }
    }
}

// What the body helpers (`form.rs`, `json.rs`) need: a body with its one Content-Type, or the
// error that `send` reports.
impl RequestBuilder {
    pub(crate) fn typed_body(mut self, content_type: &str, body: Vec<u8>) -> RequestBuilder {
        self.headers.insert("Content-Type", content_type);
        self.body = Some(body);
        self.stream = None;
        self
    }

    pub(crate) fn streamed_body(mut self, stream: StreamBody) -> RequestBuilder {
        self.stream = Some(stream);
        self.body = None;
        self
    }

    #[cfg(feature = "json")]
    pub(crate) fn refuse(mut self, error: Error) -> RequestBuilder {
        self.error.get_or_insert(error);
        self
    }
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method.as_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// One request/response exchange (no redirects), with the retry-once rule for reused
    /// connections: the final head, and what reads the body.
    async fn execute(
        &self,
        method: &Method,
        url: &Url,
        headers: &Headers,
        body: Option<&[u8]>,
        mut upload: Upload<'_>,
        deadline: &mut Deadline,
    ) -> Result<(ResponseHead, Box<Reading>), Error> {
        let config = &*self.config;
        let proxy = config
            .proxy
            .as_ref()
            .and_then(|p| p.route(url).map(|proxy_url| (p, proxy_url)));
        // Through a tunnel (`tls/tunnel.rs`) the request travels as on a direct connection;
        // only the proxy may see `Proxy-Authorization` (RFC 9110 §11.7.2), never the target.
        #[cfg(feature = "tls")]
        let tunnelled_headers;
        #[cfg(feature = "tls")]
        let headers = match proxy {
            Some(_) if url.scheme() == Scheme::Https && headers.contains("proxy-authorization") => {
                tunnelled_headers = {
                    let mut own = headers.clone();
                    own.remove("proxy-authorization");
                    own
                };
                &tunnelled_headers
            }
            _ => headers,
        };
        let mut request = upload.encode(method, url, headers, body, self.pool.request_buffer())?;
        let origin = match proxy {
            None => Origin {
                scheme: url.scheme(),
                host: url.host().clone(),
                port: url.port(),
                #[cfg(feature = "tls")]
                via: None,
            },
            // An https:// URL through a proxy: the tunnel is the target's, and the proxy's.
            #[cfg(feature = "tls")]
            Some((_, proxy_url)) if url.scheme() == Scheme::Https => Origin {
                scheme: Scheme::Https,
                host: url.host().clone(),
                port: url.port(),
                via: Some(proxy_url.clone()),
            },
            // An http:// URL (proxy.rs): connect to the proxy, and name the whole URL on the
            // request line.
            Some((proxy, proxy_url)) => {
                let caller_set_auth = headers.contains("proxy-authorization");
                request.edit_head(|head| proxy.rewrite_head(head, method, url, caller_set_auth));
                Origin {
                    scheme: proxy_url.scheme(),
                    host: proxy_url.host().clone(),
                    port: proxy_url.port(),
                    #[cfg(feature = "tls")]
                    via: None,
                }
            }
        };
        // Waiting for a slot counts toward the total deadline; whichever limit cuts it off,
        // the error says it was the pool wait.
        deadline.arm(config.pool_timeout, TimeoutKind::PoolWait);
        let slot = deadline
            .run(async { Ok(self.pool.acquire(&origin).await) })
            .await
            .map_err(|_| Error::Timeout(TimeoutKind::PoolWait))?;
        // A stream cannot be sent twice, so it never risks a pooled connection gone stale.
        let mut fresh_only = !upload.replayable();
        loop {
            let pooled = if fresh_only { None } else { self.pool.checkout(&origin) };
            let mut conn = match pooled {
                Some(conn) => conn,
                None => Conn::connect(origin.clone(), config, deadline).await?,
            };
            match upload.exchange(&mut conn, &request, config.head_limits, deadline).await {
                Ok((head, body_sent)) => {
                    let (framing, persists) = framing_and_reuse(method, &head)?;
                    // The caller's `Connection: close` ends the connection too (RFC 9112 §9.6),
                    // and so does a body announced and never sent (see `upload.rs`).
                    let reusable = persists
                        && framing != Framing::UntilClose
                        && !headers.contains_token("connection", "close")
                        && body_sent;
                    let reading = Reading::new(
                        conn,
                        framing,
                        config.chunk_limits,
                        reusable,
                        deadline.fresh(),
                        self.pool.clone(),
                        slot,
                    );
                    self.pool.recycle(request.into_buffer());
                    return Ok((head, reading));
                }
                Err(failure) => {
                    let retry = conn.reused && failure.before_response && method.is_idempotent() && !fresh_only;
                    if !retry {
                        return Err(failure.error);
                    }
                    log::debug!(target: "evloop::http", "reused connection failed before the response ({}); retrying on a fresh one", failure.error);
                    fresh_only = true;
                }
            }
        }
    }
}

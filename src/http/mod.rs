//! A minimal, strict HTTP/1.1 client: a pure protocol layer, and an I/O half that
//! drives it on the loop.
//!
//! Why it exists: the articles' crawler needs one, and an HTTP client is where the
//! loop's sockets, timers, semaphores and cancellation all meet. Read first: RFC
//! 9112 (HTTP/1.1's messages) for the protocol layer, and DESIGN.md §9 for how the I/O
//! half fits together; the API follows aiohttp's `ClientSession`.
//!
//! # The chapter in brief
//!
//! An HTTP/1.1 exchange on a TCP connection is a request head (plus body) written by
//! the client, then a response head (plus body) read back; when both are complete the
//! connection may carry the next exchange. Everything the client must get *right* in
//! that sentence is pure byte manipulation, and lives in the modules below, which do no
//! I/O and know nothing of the event loop. They can be read, and are tested, on their
//! own, with exact byte sequences:
//!
//! | module       | what it does                                              | RFC                      |
//! |--------------|-----------------------------------------------------------|--------------------------|
//! | [`url`]      | parse `http://` URLs, resolve redirect `Location`s        | RFC 3986 §3, §5          |
//! | [`request`]  | validate the caller's method and headers, encode the head | RFC 9112 §3, RFC 9110 §5 |
//! | [`response`] | parse response heads, skip 1xx, enforce head limits       | RFC 9112 §4, §5          |
//! | [`framing`]  | decide where the body ends; decode it byte by byte        | RFC 9112 §6, §7          |
//! | [`headers`]  | the ordered, case-insensitive header map both sides use   | RFC 9110 §5              |
//! | `cookie`     | parse `Set-Cookie`; the jar that keeps and sends cookies (feature `cookies`, on by default) | RFC 6265 §5 |
//! | [`error`]    | the one error type of the client                          |                          |
//!
//! The order of one exchange, and which piece does each step:
//!
//! ```text
//!  Url::parse ─► encode_request_head ─► (write head + body)
//!       ─► ResponseHeadReader::parse ─(1xx: skip)─► body_framing ─► BodyDecoder
//!       ─► connection_reusable? ─► back to the pool, or close
//! ```
//!
//! Where a body ends (RFC 9112 §6.3's rules, in the order they apply) and when a
//! connection may be reused are written down once, in [`framing`]; the chunked
//! decoder's states are tabled on [`BodyDecoder`].
//!
//! # The I/O half
//!
//! The files below drive the pieces above over evloop's TCP streams. They are private:
//! [`Client`] and [`Response`] are their API.
//!
//! | file          | what it does                                                           |
//! |---------------|------------------------------------------------------------------------|
//! | `client.rs`   | [`Client`], [`RequestBuilder`]: one request start to finish, redirects |
//! | `pool.rs`     | idle keep-alive connections; the global and per-origin limits          |
//! | `config.rs`   | [`ClientConfig`]: every setting of a client, read by the parts below it |
//! | `conn.rs`     | one connection: write a request, read its heads, vet it for reuse      |
//! | `deadline.rs` | the one timer that bounds every wait of a request                      |
//! | `body.rs`     | [`Response`]: the body read on demand, then the connection's fate      |
//! | `upload.rs`   | a streamed body sent chunked; `Expect: 100-continue`                   |
//! | `form.rs`     | `RequestBuilder::form`: a form-encoded body                            |
//! | `json.rs`     | `RequestBuilder::json`, `Response::json` (feature `json`)              |
//! | `decode.rs`   | gzip and deflate bodies inflated as they are read (feature `gzip`)     |
//! | `retry.rs`    | [`with_retry`]: exponential backoff with jitter                        |
//! | `transport.rs`| what a connection's bytes travel on: TCP, or TLS over it               |
//! | `tls/`        | HTTPS with rustls (feature `tls`): roots, the TLS stream, its errors, the proxy tunnel |
//! | `retry.rs`    | [`with_retry`]: exponential backoff with jitter, `Retry-After`         |
//! | `session.rs`  | [`IntoUrl`], default headers, cookies per hop, [`Redirect`] history    |
//! | `proxy.rs`    | [`Proxy`]: forward proxies, `http_proxy`/`https_proxy`/`no_proxy`      |
//! | `date.rs`     | the lenient HTTP/cookie date parser (`Expires`, `Retry-After`)         |
//! | `tests/`      | the protocol layer's unit tests, one file per module                   |
//!
//! # What this layer does not do
//!
//! No TLS unless the `tls` feature is on (then `https://` works: see `tls/`; without it
//! `https` is refused by name), no transfer coding but `chunked` (sent only for a streamed
//! request body), no content coding but gzip and deflate (and those only with the `gzip`
//! feature), no HTTP/2, no protocol upgrades, no `CONNECT` but the client's own tunnel to an
//! `https://` target through a proxy (feature `tls`). Each is a deliberate omission that keeps
//! the client small enough to read in one sitting.

#[cfg(feature = "cookies")]
pub mod cookie;
pub mod error;
pub mod framing;
pub mod headers;
pub mod request;
pub mod response;
pub mod url;

// The I/O half (see the second table above).
mod body;
// Content codings (feature `gzip`): gzip and deflate bodies inflated as they are read.
#[cfg(feature = "gzip")]
mod decode;
// Request bodies beyond plain bytes: form-encoded pairs, and JSON (feature `json`).
mod client;
mod config;
mod conn;
mod date;
mod deadline;
mod form;
#[cfg(feature = "json")]
mod json;
mod pool;
mod proxy;
mod retry;
mod transport;
// HTTPS (the `tls` feature): rustls over the connection's socket.
mod session;
#[cfg(feature = "tls")]
pub mod tls;
mod upload;

#[cfg(test)]
mod tests;

pub use body::Response;
pub use client::{Client, RequestBuilder};
pub use config::ClientConfig;
#[cfg(feature = "cookies")]
pub use cookie::{Cookie, CookieJar, SameSite};
#[cfg(feature = "gzip")]
pub use decode::gzip_header_len;
pub use error::{Error, Malformed, TimeoutKind};
pub use framing::{BodyDecoder, ChunkLimits, Framing, body_framing, check_chunk_extensions, connection_reusable};
pub use headers::Headers;
pub use proxy::Proxy;
pub use request::encode_chunked_request_head;
pub use request::{Method, USER_AGENT, basic_authorization, encode_request_head, validate_header};
pub use response::{HeadLimits, HeadStep, ResponseHead, ResponseHeadReader, Version, parse_response_head};
pub use retry::{RetryPolicy, with_retry};
pub use session::{IntoUrl, Redirect};
#[cfg(feature = "tls")]
pub use tls::{TlsConfig, TlsError, TunnelError, TunnelFailure};
pub use upload::CONTINUE_WAIT;
pub use url::{Credentials, DEFAULT_HTTPS_PORT, DEFAULT_PORT, Host, Scheme, Url};

//! A minimal, strict HTTP/1.1 client — the protocol layer.
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
//! # Where a body ends (RFC 9112 §6.3)
//!
//! The rules, in the order they are applied by [`body_framing`]:
//!
//! 1. HEAD responses, 1xx, 204 and 304: no body, whatever the headers say (§6.3 rule 1).
//! 2. A 2xx to CONNECT: a tunnel — refused, this client does not tunnel (rule 2).
//! 3. `Transfer-Encoding` with `Content-Length`: refused as a smuggling signature (rule 3).
//! 4. `Transfer-Encoding` in HTTP/1.0: refused as faulty framing (§6.1).
//! 5. `Transfer-Encoding: chunked` (exactly that): chunked (§7.1); any other coding
//!    is refused, since the client never offered one (rule 4, §7.4).
//! 6. `Content-Length`: that many bytes; `1*DIGIT` only, repeated values must agree
//!    (rules 5 and 6, RFC 9110 §8.6).
//! 7. Otherwise: until the server closes the connection (rule 8).
//!
//! A connection is reused only if the body was delimited without closing and neither
//! side said `Connection: close`; HTTP/1.0 needs `Connection: keep-alive` (§9.3).
//!
//! # What this layer does not do
//!
//! No TLS (`https` is refused by name), no request `Transfer-Encoding` (bodies have a
//! known length), no content codings (`gzip` is the caller's business), no HTTP/2, no
//! protocol upgrades, no `CONNECT`. Each is a deliberate omission that keeps the
//! client small enough to read in one sitting.

pub mod error;
pub mod framing;
pub mod headers;
pub mod request;
pub mod response;
pub mod url;

// The I/O half: drives the pieces above over evloop's TCP streams.
mod body;
mod client;
mod conn;
mod deadline;
mod pool;
mod retry;

#[cfg(test)]
mod tests;

pub use body::Response;
pub use client::{Client, ClientConfig, RequestBuilder};
pub use error::{Error, Malformed, TimeoutKind};
pub use framing::{BodyDecoder, ChunkLimits, Framing, body_framing, connection_reusable};
pub use headers::Headers;
pub use request::{Method, USER_AGENT, basic_authorization, encode_request_head, validate_header};
pub use response::{HeadLimits, HeadStep, ResponseHead, ResponseHeadReader, Version, parse_response_head};
pub use retry::{RetryPolicy, with_retry};
pub use url::{Credentials, DEFAULT_PORT, Host, Url};

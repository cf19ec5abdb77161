//! JSON bodies, both ways (the `json` feature): `RequestBuilder::json` and `Response::json`.
//!
//! Why it exists: most HTTP APIs speak JSON, and aiohttp's `json=` argument and
//! `await resp.json()` are what its users reach for first. The encoding and decoding are
//! `serde_json`'s; this file only puts them at the two ends of a request: the value is
//! serialized when the request is built (an error is then reported by `send`, before anything
//! is sent), and a response body is read whole, within `max_body`, before it is parsed.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::http::body::Response;
use crate::http::client::RequestBuilder;
use crate::http::error::Error;

/// The media type of a JSON body (RFC 8259 §11).
const JSON: &str = "application/json";

impl RequestBuilder {
    /// Sets the body to `value` as JSON, and `Content-Type` to `application/json` (aiohttp's
    /// `json=`). A value that cannot be serialized (a map with non-string keys, say) makes
    /// [`send`](Self::send) fail with [`Error::Json`] before anything is sent.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> RequestBuilder {
        match serde_json::to_vec(value) {
            Ok(body) => self.typed_body(JSON, body),
            Err(error) => self.refuse(Error::Json(error)),
        }
    }
}

impl Response {
    /// The whole body parsed as JSON into a `T` (aiohttp's `await resp.json()`), capped like
    /// [`bytes`](Self::bytes). The `Content-Type` is not checked: servers label JSON
    /// carelessly, and a body that is not JSON fails to parse anyway.
    ///
    /// # Errors
    /// As [`bytes`](Self::bytes), and [`Error::Json`] if the body is not a valid `T`.
    ///
    /// # Cancel safety
    /// As [`bytes`](Self::bytes): dropping the future drops the response, and with it the
    /// connection.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, Error> {
        let body = self.bytes().await?;
        serde_json::from_slice(&body).map_err(Error::Json)
    }
}

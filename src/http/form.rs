//! Form bodies: `application/x-www-form-urlencoded`, what an HTML form posts.
//!
//! Why it exists: the commonest request body after none at all, and one that is easy to get
//! subtly wrong by hand (an unescaped `&` or `=` in a value splits it in two). aiohttp takes a
//! `dict` as `data=`, reqwest has `RequestBuilder::form`; here the pairs are encoded by the same
//! function that builds query strings (`url::append_encoded_pairs`), so the rule is written once:
//! every byte but RFC 3986's unreserved ones becomes `%HH`.

use crate::http::client::RequestBuilder;
use crate::http::url::append_encoded_pairs;

/// The media type of a form body (WHATWG URL §5, the HTML standard's form submission).
const FORM: &str = "application/x-www-form-urlencoded";

impl RequestBuilder {
    /// Sets the body to `pairs`, form-encoded (`a=1&b=two%20words`), and `Content-Type` to
    /// `application/x-www-form-urlencoded`, replacing any the caller set (aiohttp's `data=dict`,
    /// reqwest's `form`). The body has a known length, so it is sent with `Content-Length`.
    ///
    /// ```
    /// use evloop::http::Client;
    /// use evloop::net::TcpListener;
    ///
    /// let seen = evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0".parse().expect("an address")).expect("a port");
    ///     let url = format!("http://{}/login", listener.local_addr().expect("bound"));
    ///     let server = evloop::spawn(async move {
    ///         let (stream, _) = listener.accept().await.expect("one client");
    ///         let (mut request, mut buf) = (Vec::new(), [0; 1024]);
    ///         while !request.ends_with(b"a%26b=x%3Dy") {
    ///             let n = stream.read(&mut buf).await.expect("the request");
    ///             assert!(n > 0, "the client closed before the end of its request");
    ///             request.extend_from_slice(&buf[..n]);
    ///         }
    ///         stream.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await.expect("the client reads");
    ///         String::from_utf8(request).expect("ASCII")
    ///     });
    ///     let form = [("user", "ann lee"), ("a&b", "x=y")];
    ///     let response = Client::new().post(&url).form(&form).send().await.expect("a response");
    ///     assert_eq!(response.status(), 204);
    ///     server.await.expect("the server's task")
    /// });
    /// assert!(seen.contains("Content-Type: application/x-www-form-urlencoded\r\n"));
    /// assert!(seen.ends_with("\r\n\r\nuser=ann%20lee&a%26b=x%3Dy"));
    /// ```
    #[doc(alias = "data")]
    pub fn form(self, pairs: &[(&str, &str)]) -> RequestBuilder {
        let mut body = String::new();
        append_encoded_pairs(&mut body, pairs);
        self.typed_body(FORM, body.into_bytes())
    }
}

//! What the HTTP client puts on the wire, byte for byte, and what it refuses to send: invalid
//! methods, headers that would inject lines, bad URLs and `https`, all refused before a
//! connection is even opened. Plus what the caller gets back: `error_for_status`, the body cap,
//! connection errors.

#[path = "support/script_server.rs"]
mod script_server;

use std::time::Duration;

use evloop::http::{Client, ClientConfig, Error, Method, USER_AGENT};
use script_server::{ScriptServer, Step, answers, assert_no_leaks, get_text, ok, run, settle};

/// A server answering every request on every connection with `200 OK` and `done`.
fn answering_server() -> ScriptServer {
    ScriptServer::repeat(answers([ok("done")]))
}

/// The exact head the client sends for `line` to `server`, with `extra` header lines.
fn head(server: &ScriptServer, line: &str, extra: &str) -> String {
    let port = server.port();
    format!("{line} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {USER_AGENT}\r\n{extra}\r\n")
}

fn received(server: &ScriptServer) -> Vec<String> {
    server.requests().iter().map(|r| r.text()).collect()
}

#[test]
fn a_get_carries_host_and_user_agent_unless_the_caller_sets_them() {
    run(async {
        let server = answering_server();
        let client = Client::new();
        assert_eq!(get_text(&client, &server.url("/path?x=1")).await.unwrap(), "done");
        let custom = client
            .get(&server.url("/"))
            .header("host", "example.test")
            .header("user-agent", "probe/1");
        assert_eq!(custom.send().await.unwrap().text().await.unwrap(), "done");
        let custom_head = "GET / HTTP/1.1\r\nHost: example.test\r\nuser-agent: probe/1\r\n\r\n";
        assert_eq!(
            received(&server),
            [head(&server, "GET /path?x=1", ""), custom_head.to_string()]
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn query_pairs_are_percent_encoded_and_appended_to_the_query() {
    run(async {
        let server = answering_server();
        let client = Client::new();
        let request = client
            .get(&server.url("/search?lang=en"))
            .query(&[("q", "a b&c=d"), ("path", "é/ü~")]);
        assert_eq!(request.send().await.unwrap().text().await.unwrap(), "done");
        let line = "GET /search?lang=en&q=a%20b%26c%3Dd&path=%C3%A9%2F%C3%BC~";
        assert_eq!(received(&server), [head(&server, line, "")]);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_body_is_sent_after_its_content_length_and_an_empty_post_says_zero() {
    run(async {
        let server = answering_server();
        let client = Client::new();
        let requests = [
            client
                .post(&server.url("/submit"))
                .header("Content-Type", "text/plain")
                .body("hello"),
            client.post(&server.url("/empty")),
            client.request(Method::PUT, &server.url("/put")).body(""),
            client.get(&server.url("/get")),
        ];
        for request in requests {
            // Reading each body to its end hands the connection on to the next request.
            assert_eq!(request.send().await.unwrap().text().await.unwrap(), "done");
        }
        let expected = [
            head(
                &server,
                "POST /submit",
                "Content-Length: 5\r\nContent-Type: text/plain\r\n",
            ) + "hello",
            head(&server, "POST /empty", "Content-Length: 0\r\n"),
            head(&server, "PUT /put", "Content-Length: 0\r\n"),
            head(&server, "GET /get", ""),
        ];
        assert_eq!(received(&server), expected);
        assert_eq!(server.accepted(), 1);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn an_extension_method_is_sent_as_given_and_invalid_ones_never_leave() {
    run(async {
        let server = answering_server();
        let client = Client::new();
        for name in ["GE T", "", "GET\r\n", "(GET)"] {
            let error = Method::new(name).unwrap_err();
            assert!(
                matches!(&error, Error::InvalidMethod { method, .. } if method == name),
                "{error:?}"
            );
        }
        let error = client
            .request(Method::CONNECT, &server.url("/"))
            .send()
            .await
            .unwrap_err();
        assert!(matches!(error, Error::InvalidMethod { .. }), "{error:?}");
        settle().await;
        assert_eq!(server.accepted(), 0, "nothing was sent");
        let purge = client.request(Method::new("PURGE").unwrap(), &server.url("/cache"));
        assert_eq!(purge.send().await.unwrap().text().await.unwrap(), "done");
        assert_eq!(received(&server), [head(&server, "PURGE /cache", "")]);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn headers_that_could_inject_lines_or_reframe_the_body_are_refused_before_connecting() {
    run(async {
        let server = answering_server();
        let client = Client::new();
        let refused = [
            ("X-Evil", "secret\r\nX-Injected: 1"),
            ("X-Evil", "secret\nb"),
            ("X-Evil", "secret\rb"),
            ("X-Evil", "secret\0b"),
            ("Bad Name", "secret"),
            ("X-Evil:", "secret"),
            ("Content-Length", "5"),
            ("Transfer-Encoding", "chunked"),
        ];
        for (name, value) in refused {
            let error = client
                .get(&server.url("/"))
                .header(name, value)
                .send()
                .await
                .unwrap_err();
            assert!(
                matches!(&error, Error::InvalidHeader { name: n, .. } if n == name),
                "{value:?}: {error:?}"
            );
            assert!(
                !error.to_string().contains("secret"),
                "the value is never repeated: {error}"
            );
        }
        let two_hosts = client.get(&server.url("/")).header("Host", "a").header("Host", "b");
        assert!(matches!(two_hosts.send().await, Err(Error::InvalidHeader { .. })));
        settle().await;
        assert_eq!(server.accepted(), 0, "nothing was sent");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg(not(feature = "tls"))] // with it, https:// is followed (tests/http_tls.rs)
fn invalid_urls_and_https_are_refused_with_errors_that_say_what_to_do() {
    run(async {
        let client = Client::new();
        let cases = [
            ("https://example.com/", "only plain http://"),
            ("ftp://example.com/", "unsupported URL scheme `ftp`"),
            ("http://", "the URL is invalid"),
            ("localhost:8080/x", "missing scheme"),
            ("http://exa mple.com/", "whitespace"),
            ("http://example.com:99999/", "the URL is invalid"),
        ];
        for (url, says) in cases {
            let error = client.get(url).send().await.unwrap_err();
            let refused = matches!(error, Error::InvalidUrl { .. } | Error::UnsupportedScheme { .. });
            assert!(refused && error.to_string().contains(says), "{url}: {error}");
        }
        let https = client.get("https://example.com/").send().await.unwrap_err();
        assert!(
            matches!(&https, Error::UnsupportedScheme { scheme } if scheme == "https"),
            "{https:?}"
        );
        assert_no_leaks(&client);
    });
}

#[test]
fn error_for_status_turns_4xx_and_5xx_into_errors_and_passes_the_rest() {
    run(async {
        let server = ScriptServer::start(vec![answers([
            ok("fine").as_str(),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
        ])]);
        let client = Client::new();
        let fine = client
            .get(&server.url("/"))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
        assert_eq!(fine.text().await.unwrap(), "fine");
        for code in [404, 503] {
            let error = client
                .get(&server.url("/"))
                .send()
                .await
                .unwrap()
                .error_for_status()
                .unwrap_err();
            assert!(matches!(error, Error::Status(c) if c == code), "{error:?}");
            assert_eq!(error.status(), Some(code));
        }
        assert_eq!(server.accepted(), 1, "an error status still ends its exchange cleanly");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn bytes_refuses_a_body_over_the_cap_but_chunk_streams_it() {
    run(async {
        let big = "x".repeat(100);
        let server = ScriptServer::start(vec![answers([ok(&big)]), answers([ok(&big)])]);
        let client = Client::with_config(ClientConfig {
            max_body: 10,
            ..Default::default()
        });
        let error = get_text(&client, &server.url("/whole")).await.unwrap_err();
        assert!(matches!(error, Error::BodyTooLarge { limit: 10 }), "{error:?}");
        let mut response = client.get(&server.url("/streamed")).send().await.unwrap();
        let mut streamed = Vec::new();
        while let Some(piece) = response.chunk().await.unwrap() {
            streamed.extend(piece);
        }
        assert_eq!(streamed, big.as_bytes());
        assert_eq!(
            (server.accepted(), client.idle_connections()),
            (2, 1),
            "a capped body's connection is closed"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_host_name_is_resolved_off_the_loop_and_named_in_the_host_header() {
    run(async {
        let server = answering_server();
        let client = Client::new();
        let url = server.url("/").replace("127.0.0.1", "localhost");
        assert_eq!(get_text(&client, &url).await.unwrap(), "done");
        assert_eq!(
            server.requests()[0].header("host"),
            Some(format!("localhost:{}", server.port()))
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_refused_connection_is_a_connect_error_naming_host_and_port() {
    run(async {
        let closed_port = {
            let listener = evloop::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            listener.local_addr().unwrap().port()
        };
        let client = Client::new();
        let error = get_text(&client, &format!("http://127.0.0.1:{closed_port}/"))
            .await
            .unwrap_err();
        assert!(error.is_connect(), "{error:?}");
        assert_eq!(error.io_kind(), Some(std::io::ErrorKind::ConnectionRefused));
        assert!(
            error.to_string().contains(&format!("127.0.0.1:{closed_port}")),
            "{error}"
        );
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "16 MiB through Miri's sockets takes >10 min; a smaller body would fit in the buffers"
)]
fn a_response_that_arrives_while_a_large_body_is_still_being_written_is_read() {
    run(async {
        // The server answers at once, then reads the request: the answer comes in while the
        // client is still writing a body larger than the socket buffers (RFC 9112 §9.5 lets a
        // server answer early).
        let server = ScriptServer::start(vec![vec![Step::send(ok("early")), Step::Expect]]);
        let client = Client::new();
        let body = vec![b'x'; 16 * 1024 * 1024];
        let start = evloop::time::now();
        let response = client.post(&server.url("/upload")).body(body).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), "early");
        assert_eq!(evloop::time::now() - start, Duration::ZERO, "no timeout was involved");
        settle().await;
        assert_eq!(server.requests()[0].body().len(), 16 * 1024 * 1024);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

//! Where a response ends, on the wire: each framing rule of RFC 9112 §6.3, each limit on what
//! the client will buffer, and truncation at every stage, played byte for byte by a scripted
//! loopback server (`support/script_server.rs`).

#[path = "support/script_server.rs"]
mod script_server;

use std::time::Duration;

use evloop::http::{ChunkLimits, Client, ClientConfig, Error, HeadLimits, Malformed};
use script_server::{ScriptServer, Step, answers, assert_no_leaks, get_text, ok, run, settle};

const CHUNKED: &str = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

/// Each response is played on its own connection, after reading the request.
fn one_response_per_connection<R: AsRef<[u8]>>(responses: impl IntoIterator<Item = R>) -> ScriptServer {
    ScriptServer::start(responses.into_iter().map(|r| answers([r])).collect())
}

#[test]
fn a_content_length_body_is_read_exactly_and_the_connection_carries_the_next_request() {
    run(async {
        let server = ScriptServer::start(vec![answers([
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            &ok("again"),
        ])]);
        let client = Client::new();
        let first = client.get(&server.url("/a")).send().await.unwrap();
        assert_eq!((first.status(), first.reason()), (200, "OK"));
        assert_eq!(first.bytes().await.unwrap(), b"hello");
        assert_eq!(client.idle_connections(), 1);
        assert_eq!(get_text(&client, &server.url("/b")).await.unwrap(), "again");
        assert_eq!(server.trace(), "accept #1, #1 GET /a, #1 GET /b");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_chunked_body_with_extensions_and_trailers_is_decoded_and_the_connection_reused() {
    run(async {
        let body = "5;name=value\r\nhello\r\n6 ; quoted=\"a b\"\r\n world\r\n0\r\nExpires: never\r\nX-Sum: 42\r\n\r\n";
        let server = ScriptServer::start(vec![answers([format!("{CHUNKED}{body}"), ok("next")])]);
        let client = Client::new();
        assert_eq!(get_text(&client, &server.url("/chunked")).await.unwrap(), "hello world");
        assert_eq!(get_text(&client, &server.url("/next")).await.unwrap(), "next");
        assert_eq!(server.trace(), "accept #1, #1 GET /chunked, #1 GET /next");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_body_without_length_runs_until_close_and_its_connection_is_not_reused() {
    run(async {
        let server = ScriptServer::start(vec![
            vec![
                Step::Expect,
                Step::send("HTTP/1.0 200 OK\r\n\r\nold style"),
                Step::Close,
            ],
            vec![
                Step::Expect,
                Step::send("HTTP/1.1 200 OK\r\n\r\nno length"),
                Step::Close,
            ],
            answers([ok("fresh")]),
        ]);
        let client = Client::new();
        for (path, expected) in [("/1.0", "old style"), ("/1.1", "no length"), ("/next", "fresh")] {
            assert_eq!(get_text(&client, &server.url(path)).await.unwrap(), expected);
        }
        assert_eq!(
            server.trace(),
            "accept #1, #1 GET /1.0, #1 close, accept #2, #2 GET /1.1, #2 close, accept #3, #3 GET /next"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_head_response_with_content_length_has_no_body_and_keeps_its_connection() {
    run(async {
        let server = ScriptServer::start(vec![answers([
            "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
            &ok("body"),
        ])]);
        let client = Client::new();
        let head = client.head(&server.url("/")).send().await.unwrap();
        assert_eq!(head.headers().get("content-length"), Some("1000"));
        assert_eq!(
            client.idle_connections(),
            1,
            "back in the pool before the body is asked for"
        );
        assert_eq!(head.bytes().await.unwrap(), b"");
        assert_eq!(get_text(&client, &server.url("/")).await.unwrap(), "body");
        assert_eq!(server.trace(), "accept #1, #1 HEAD /, #1 GET /");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn status_204_and_304_have_empty_bodies_whatever_their_content_length_says() {
    run(async {
        let server = ScriptServer::start(vec![answers([
            "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n",
            &ok("after"),
        ])]);
        let client = Client::new();
        for (status, body) in [(204, ""), (304, ""), (200, "after")] {
            let response = client.get(&server.url("/")).send().await.unwrap();
            assert_eq!(response.status(), status);
            assert_eq!(response.text().await.unwrap(), body);
        }
        assert_eq!(server.accepted(), 1);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn interim_100_and_103_responses_are_skipped_before_the_final_response() {
    run(async {
        let server = ScriptServer::start(vec![vec![
            Step::Expect,
            Step::send("HTTP/1.1 100 Continue\r\n\r\n"),
            Step::Sleep(Duration::from_millis(10)),
            Step::send("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"),
            Step::send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
        ]]);
        let client = Client::new();
        let response = client.get(&server.url("/")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers().get("link"),
            None,
            "the 103's headers are not the response's"
        );
        assert_eq!(response.text().await.unwrap(), "hi");
        assert_eq!(client.idle_connections(), 1);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn an_unrequested_101_switching_protocols_is_an_error() {
    run(async {
        let server = one_response_per_connection(["HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"]);
        let client = Client::new();
        let error = client.get(&server.url("/")).send().await.unwrap_err();
        assert!(matches!(error, Error::UnexpectedUpgrade { status: 101 }), "{error:?}");
        settle().await;
        assert_eq!(server.trace(), "accept #1, #1 GET /, #1 client closed");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn ambiguous_framing_in_the_head_is_refused_and_the_connection_closed() {
    run(async {
        let cases = [
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
                Malformed::TransferEncodingWithContentLength,
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                Malformed::ConflictingContentLength,
            ),
            (
                "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                Malformed::TransferEncodingInHttp10,
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
                Malformed::ContentLength,
            ),
        ];
        let server = one_response_per_connection(cases.map(|(response, _)| response));
        let client = Client::new();
        for (_, rule) in cases {
            let error = client.get(&server.url("/")).send().await.unwrap_err();
            assert!(matches!(error, Error::Malformed(m) if m == rule), "{rule:?}: {error:?}");
        }
        assert_eq!((server.accepted(), client.idle_connections()), (cases.len(), 0));
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_malformed_or_oversized_chunked_body_is_refused() {
    run(async {
        let cases = [
            (format!("{CHUNKED}\r\nhello\r\n0\r\n\r\n"), Malformed::ChunkSize),
            (
                format!("{CHUNKED}5;{}\r\nhello\r\n0\r\n\r\n", "x".repeat(100)),
                Malformed::ChunkLineTooLong,
            ),
            (
                format!("{CHUNKED}0\r\nX-Big: {}\r\n\r\n", "y".repeat(100)),
                Malformed::TrailersTooLarge,
            ),
            (
                format!("{CHUNKED}0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
                Malformed::TrailersTooLarge,
            ),
        ];
        let server = one_response_per_connection(cases.iter().map(|(response, _)| response));
        let chunk_limits = ChunkLimits {
            max_line_bytes: 64,
            max_trailer_fields: 2,
            max_trailer_bytes: 64,
        };
        let client = Client::with_config(ClientConfig {
            chunk_limits,
            ..ClientConfig::default()
        });
        for (_, rule) in &cases {
            let error = get_text(&client, &server.url("/")).await.unwrap_err();
            assert!(
                matches!(error, Error::Malformed(m) if m == *rule),
                "{rule:?}: {error:?}"
            );
        }
        assert_eq!((server.accepted(), client.idle_connections()), (cases.len(), 0));
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn too_many_headers_or_an_endless_head_is_an_error_at_once_not_a_hang() {
    run(async {
        let endless_head = format!("HTTP/1.1 200 OK\r\nX-Long: {}", "a".repeat(300));
        let endless_interims = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n".repeat(10);
        let server = ScriptServer::start(vec![
            answers(["HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"]),
            vec![Step::Expect, Step::send(&endless_head), Step::Stall],
            vec![Step::Expect, Step::send(&endless_interims), Step::Stall],
        ]);
        let head_limits = HeadLimits {
            max_headers: 4,
            max_head_bytes: 200,
        };
        let client = Client::with_config(ClientConfig {
            head_limits,
            ..ClientConfig::default()
        });
        let start = evloop::time::now();
        let error = client.get(&server.url("/")).send().await.unwrap_err();
        assert!(matches!(error, Error::TooManyHeaders { limit: 4 }), "{error:?}");
        for _ in 0..2 {
            let error = client.get(&server.url("/")).send().await.unwrap_err();
            assert!(matches!(error, Error::HeadTooLarge { limit: 200 }), "{error:?}");
        }
        assert_eq!(evloop::time::now() - start, Duration::ZERO, "no timeout was needed");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_head_larger_than_one_read_but_within_the_limit_is_parsed() {
    run(async {
        let cookies: String = (0..40)
            .map(|i| format!("Set-Cookie: c{i}={}\r\n", "v".repeat(900)))
            .collect();
        let response = format!("HTTP/1.1 200 OK\r\n{cookies}Content-Length: 2\r\n\r\nok");
        assert!(response.len() > 32 * 1024, "more than two 16 KiB reads");
        let server = one_response_per_connection([&response]);
        let client = Client::new();
        let response = client.get(&server.url("/")).send().await.unwrap();
        assert_eq!(response.headers().get_all("set-cookie").count(), 40);
        assert_eq!(response.text().await.unwrap(), "ok");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_fresh_connection_closed_before_any_byte_is_closed_and_not_retried() {
    run(async {
        let server = ScriptServer::start(vec![vec![Step::Expect, Step::Close]]);
        let client = Client::new();
        let error = client.get(&server.url("/")).send().await.unwrap_err();
        assert!(matches!(error, Error::Closed), "{error:?}");
        assert_eq!(server.trace(), "accept #1, #1 GET /, #1 close");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_head_cut_short_anywhere_is_truncated() {
    run(async {
        let cuts = [
            "HTTP/1.1 20",
            "HTTP/1.1 200 OK\r\nContent-Le",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
        ];
        let server = ScriptServer::start(
            cuts.map(|cut| vec![Step::Expect, Step::send(cut), Step::Close])
                .to_vec(),
        );
        let client = Client::new();
        for cut in cuts {
            let error = client.get(&server.url("/")).send().await.unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::Truncated {
                        during: "in the middle of the response head"
                    }
                ),
                "{cut:?}: {error:?}"
            );
        }
        assert_eq!(server.accepted(), cuts.len());
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_body_cut_short_anywhere_is_truncated_never_a_short_success() {
    run(async {
        let cuts = [
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello".to_string(),
                "before Content-Length bytes of body arrived",
            ),
            (format!("{CHUNKED}5\r\nhel"), "in the middle of a chunk"),
            (format!("{CHUNKED}5\r\nhello\r\n"), "before the last (zero-size) chunk"),
            (format!("{CHUNKED}5\r\nhello\r\n1"), "in a chunk-size line"),
            (
                format!("{CHUNKED}5\r\nhello\r\n0\r\nX-T: 1\r\n"),
                "in the trailers after the last chunk",
            ),
        ];
        // Each cut twice: read whole with `bytes()` (then the server closes), and piece by piece
        // with `chunk()` (then the server half-closes, which must read the same).
        let scripts = cuts.iter().flat_map(|(cut, _)| {
            [
                vec![Step::Expect, Step::send(cut), Step::Close],
                vec![Step::Expect, Step::send(cut), Step::ShutdownWrite],
            ]
        });
        let server = ScriptServer::start(scripts.collect());
        let client = Client::new();
        for (cut, during) in &cuts {
            let error = client
                .get(&server.url("/"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap_err();
            assert!(
                matches!(error, Error::Truncated { during: d } if d == *during),
                "{cut:?}: {error:?}"
            );

            let mut response = client.get(&server.url("/")).send().await.unwrap();
            let mut received = Vec::new();
            let error = loop {
                match response.chunk().await {
                    Ok(Some(piece)) => received.extend(piece),
                    Ok(None) => panic!("{cut:?}: a short body was returned as complete: {received:?}"),
                    Err(error) => break error,
                }
            };
            assert!(
                matches!(error, Error::Truncated { during: d } if d == *during),
                "{cut:?}: {error:?}"
            );
            assert!(b"hello".starts_with(&received), "{received:?}");
            assert!(
                matches!(response.chunk().await, Ok(None)),
                "after an error the body is over"
            );
        }
        assert_eq!((server.accepted(), client.idle_connections()), (2 * cuts.len(), 0));
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

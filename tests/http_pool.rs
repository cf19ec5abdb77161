//! The HTTP client's connection pool, against a scripted loopback server: keep-alive reuse,
//! leftovers that poison a connection, stale idle connections, the retry-once rule, and the
//! `limit`/`limit_per_host` bounds under concurrency (FIFO).

#[path = "support/script_server.rs"]
mod script_server;

use std::time::Duration;

use evloop::http::{Client, ClientConfig, Error};
use script_server::{ScriptServer, Step, answers, assert_no_leaks, get_text, ok, run, settle};

#[test]
fn two_sequential_gets_share_one_connection() {
    run(async {
        let server = ScriptServer::start(vec![answers([ok("1"), ok("2")])]);
        let client = Client::new();
        assert_eq!(get_text(&client, &server.url("/1")).await.unwrap(), "1");
        assert_eq!(get_text(&client, &server.url("/2")).await.unwrap(), "2");
        assert_eq!(server.trace(), "accept #1, #1 GET /1, #1 GET /2");
        assert_eq!(client.idle_connections(), 1);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the trace asserts Linux's epoll event order; Miri's lists events in fd order"
)]
fn connection_close_from_the_server_or_the_caller_is_honoured() {
    run(async {
        let said_close = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na";
        let server = ScriptServer::start(vec![answers([said_close]), answers([ok("b")]), answers([ok("c")])]);
        let client = Client::new();
        assert_eq!(get_text(&client, &server.url("/server-says")).await.unwrap(), "a");
        assert_eq!(client.idle_connections(), 0);
        let request = client.get(&server.url("/caller-says")).header("Connection", "close");
        assert_eq!(request.send().await.unwrap().text().await.unwrap(), "b");
        assert_eq!(
            client.idle_connections(),
            0,
            "the caller asked for the connection to end"
        );
        assert_eq!(get_text(&client, &server.url("/next")).await.unwrap(), "c");
        settle().await;
        assert_eq!(
            server.trace(),
            "accept #1, #1 GET /server-says, #1 client closed, accept #2, #2 GET /caller-says, #2 client closed, \
             accept #3, #3 GET /next"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the trace asserts Linux's epoll event order; Miri's lists events in fd order"
)]
fn an_http10_response_is_reused_only_if_it_says_keep_alive() {
    run(async {
        let keep_alive = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\na";
        let plain = "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb";
        let server = ScriptServer::start(vec![answers([keep_alive, plain]), answers([ok("c").as_str()])]);
        let client = Client::new();
        for (path, body) in [("/keep-alive", "a"), ("/plain", "b"), ("/next", "c")] {
            assert_eq!(get_text(&client, &server.url(path)).await.unwrap(), body);
        }
        settle().await;
        assert_eq!(
            server.trace(),
            "accept #1, #1 GET /keep-alive, #1 GET /plain, #1 client closed, accept #2, #2 GET /next"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the trace asserts Linux's epoll event order; Miri's lists events in fd order"
)]
fn leftover_bytes_poison_the_connection_and_are_never_read_as_the_next_response() {
    run(async {
        let forged = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged";
        let leftovers = [
            format!("HTTP/1.1 204 No Content\r\n\r\n{forged}"),
            format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok{forged}"),
            format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok{forged}{forged}"),
            format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n{forged}"),
        ];
        for leftover in leftovers {
            let server = ScriptServer::start(vec![answers([&leftover]), answers([&ok("fresh")])]);
            let client = Client::new();
            let first = get_text(&client, &server.url("/first")).await.unwrap();
            assert!(first.is_empty() || first == "ok", "{first:?}");
            assert_eq!(get_text(&client, &server.url("/second")).await.unwrap(), "fresh");
            settle().await;
            let trace = "accept #1, #1 GET /first, #1 client closed, accept #2, #2 GET /second";
            assert_eq!(server.trace(), trace, "{leftover:?}");
            server.shutdown().await;
            assert_no_leaks(&client);
        }
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the trace asserts Linux's epoll event order; Miri's lists events in fd order"
)]
fn a_response_dropped_before_its_body_is_read_closes_its_connection() {
    run(async {
        let partial = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello";
        let server = ScriptServer::start(vec![answers([partial]), answers([ok("fresh").as_str()])]);
        let client = Client::new();
        let unread = client.get(&server.url("/dropped")).send().await.unwrap();
        drop(unread);
        assert_eq!(get_text(&client, &server.url("/next")).await.unwrap(), "fresh");
        settle().await;
        assert_eq!(
            server.trace(),
            "accept #1, #1 GET /dropped, #1 client closed, accept #2, #2 GET /next"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn an_idle_connection_the_server_closed_is_detected_and_a_post_goes_out_on_a_fresh_one() {
    run(async {
        // The server closes right after answering, or later while the connection sits idle.
        // A POST is never retried, so its success shows the stale connection was never used.
        for close_after in [Duration::ZERO, Duration::from_secs(1)] {
            let server = ScriptServer::start(vec![
                vec![
                    Step::Expect,
                    Step::send(ok("first")),
                    Step::Sleep(close_after),
                    Step::Close,
                ],
                answers([ok("second")]),
            ]);
            let client = Client::new();
            assert_eq!(get_text(&client, &server.url("/get")).await.unwrap(), "first");
            evloop::time::sleep(Duration::from_secs(2)).await;
            let post = client.post(&server.url("/post")).body("data").send().await;
            let post = post.unwrap_or_else(|e| panic!("closed {close_after:?} after answering: {e:?}"));
            assert_eq!(post.text().await.unwrap(), "second");
            assert_eq!(
                server.trace(),
                "accept #1, #1 GET /get, #1 close, accept #2, #2 POST /post"
            );
            server.shutdown().await;
            assert_no_leaks(&client);
        }
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the trace asserts Linux's epoll event order; Miri's lists events in fd order"
)]
fn an_idle_connection_older_than_idle_timeout_is_closed_instead_of_reused() {
    run(async {
        let server = ScriptServer::repeat(answers([ok("done")]));
        let client = Client::with_config(ClientConfig {
            idle_timeout: Duration::from_secs(15),
            ..Default::default()
        });
        for idle in [14, 15] {
            assert_eq!(
                get_text(&client, &server.url(&format!("/then-idle-{idle}s")))
                    .await
                    .unwrap(),
                "done"
            );
            evloop::time::sleep(Duration::from_secs(idle)).await;
        }
        assert_eq!(get_text(&client, &server.url("/last")).await.unwrap(), "done");
        settle().await;
        assert_eq!(
            server.trace(),
            "accept #1, #1 GET /then-idle-14s, #1 GET /then-idle-15s, #1 client closed, accept #2, #2 GET /last"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn expired_idle_connections_to_other_origins_are_closed_at_the_next_check_in() {
    run(async {
        let old = ScriptServer::repeat(answers([ok("old")]));
        let new = ScriptServer::repeat(answers([ok("new")]));
        let client = Client::with_config(ClientConfig {
            idle_timeout: Duration::from_secs(15),
            ..Default::default()
        });
        assert_eq!(get_text(&client, &old.url("/a")).await.unwrap(), "old");
        evloop::time::sleep(Duration::from_secs(14)).await;
        assert_eq!(get_text(&client, &new.url("/b")).await.unwrap(), "new");
        assert_eq!(client.idle_connections(), 2, "14 s idle is within idle_timeout: kept");
        evloop::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(get_text(&client, &new.url("/c")).await.unwrap(), "new");
        assert_eq!(
            client.idle_connections(),
            1,
            "the connection to the origin no longer used was closed, not kept until it is used again"
        );
        settle().await;
        assert_eq!(old.trace(), "accept #1, #1 GET /a, #1 client closed");
        assert_eq!(new.trace(), "accept #1, #1 GET /b, #1 GET /c");
        old.shutdown().await;
        new.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_get_on_a_reused_connection_closed_before_any_response_byte_is_retried_once_on_a_fresh_one() {
    run(async {
        let server = ScriptServer::start(vec![
            vec![Step::Expect, Step::send(ok("1")), Step::Expect, Step::Close],
            answers([ok("2")]),
        ]);
        let client = Client::new();
        assert_eq!(get_text(&client, &server.url("/1")).await.unwrap(), "1");
        assert_eq!(get_text(&client, &server.url("/2")).await.unwrap(), "2");
        assert_eq!(
            server.trace(),
            "accept #1, #1 GET /1, #1 GET /2, #1 close, accept #2, #2 GET /2"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_get_whose_retry_also_fails_reports_the_second_failure() {
    run(async {
        let server = ScriptServer::start(vec![
            vec![Step::Expect, Step::send(ok("1")), Step::Expect, Step::Close],
            vec![Step::Expect, Step::Close],
        ]);
        let client = Client::new();
        assert_eq!(get_text(&client, &server.url("/1")).await.unwrap(), "1");
        let error = client.get(&server.url("/2")).send().await.unwrap_err();
        assert!(matches!(error, Error::Closed), "{error:?}");
        let trace = "accept #1, #1 GET /1, #1 GET /2, #1 close, accept #2, #2 GET /2, #2 close";
        assert_eq!(server.trace(), trace, "one retry, no more");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_get_on_a_reused_connection_cut_after_the_first_response_byte_is_not_retried() {
    run(async {
        let script = vec![
            Step::Expect,
            Step::send(ok("1")),
            Step::Expect,
            Step::send("HTTP/1.1 2"),
            Step::Close,
        ];
        let server = ScriptServer::start(vec![script]);
        let client = Client::new();
        assert_eq!(get_text(&client, &server.url("/1")).await.unwrap(), "1");
        let error = client.get(&server.url("/2")).send().await.unwrap_err();
        assert!(
            matches!(
                error,
                Error::Truncated {
                    during: "in the middle of the response head"
                }
            ),
            "{error:?}"
        );
        assert_eq!(server.trace(), "accept #1, #1 GET /1, #1 GET /2, #1 close");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_post_on_a_reused_connection_closed_before_any_response_byte_is_not_retried() {
    run(async {
        let server = ScriptServer::start(vec![vec![Step::Expect, Step::send(ok("1")), Step::Expect, Step::Close]]);
        let client = Client::new();
        assert_eq!(get_text(&client, &server.url("/1")).await.unwrap(), "1");
        let error = client.post(&server.url("/2")).body("x").send().await.unwrap_err();
        assert!(matches!(error, Error::Closed), "{error:?}");
        assert_eq!(server.trace(), "accept #1, #1 GET /1, #1 POST /2, #1 close");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

/// Spawns a GET for each URL, in order, and waits for all of them.
async fn concurrent_gets(client: &Client, urls: Vec<String>) {
    let tasks: Vec<_> = urls
        .into_iter()
        .map(|url| {
            let client = client.clone();
            evloop::spawn(async move { get_text(&client, &url).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "done");
    }
}

/// Holds every request 100 ms (virtual), so concurrent requests overlap at the server.
fn slow_server() -> ScriptServer {
    ScriptServer::repeat(vec![
        Step::Expect,
        Step::Sleep(Duration::from_millis(100)),
        Step::send(ok("done")),
    ])
}

fn paths(server: &ScriptServer, count: usize) -> Vec<String> {
    (0..count).map(|i| server.url(&format!("/{i}"))).collect()
}

#[test]
fn twenty_concurrent_requests_under_limit_five_never_have_more_than_five_in_flight() {
    run(async {
        let server = slow_server();
        let client = Client::with_config(ClientConfig {
            limit: 5,
            ..Default::default()
        });
        let start = evloop::time::now();
        concurrent_gets(&client, paths(&server, 20)).await;
        assert_eq!(
            (server.peak_in_flight(), server.peak_open(), server.accepted()),
            (5, 5, 5)
        );
        assert_eq!(
            evloop::time::now() - start,
            Duration::from_millis(400),
            "four waves of five"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn limit_per_host_two_holds_for_each_of_two_origins() {
    run(async {
        let (a, b) = (slow_server(), slow_server());
        let client = Client::with_config(ClientConfig {
            limit_per_host: 2,
            ..Default::default()
        });
        let urls = paths(&a, 8)
            .into_iter()
            .zip(paths(&b, 8))
            .flat_map(|(a, b)| [a, b])
            .collect();
        concurrent_gets(&client, urls).await;
        assert_eq!((a.peak_in_flight(), a.accepted()), (2, 2));
        assert_eq!((b.peak_in_flight(), b.accepted()), (2, 2));
        a.shutdown().await;
        b.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn requests_waiting_for_a_slot_are_served_in_the_order_they_were_issued() {
    run(async {
        let server = slow_server();
        let client = Client::with_config(ClientConfig {
            limit: 1,
            ..Default::default()
        });
        concurrent_gets(&client, paths(&server, 6)).await;
        assert_eq!(
            server.lines(),
            ["GET /0", "GET /1", "GET /2", "GET /3", "GET /4", "GET /5"]
        );
        assert_eq!(server.accepted(), 1);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn at_most_max_idle_per_host_connections_are_kept_and_zero_disables_keep_alive() {
    run(async {
        for max_idle in [0, 2] {
            let server = slow_server();
            let client = Client::with_config(ClientConfig {
                max_idle_per_host: max_idle,
                ..Default::default()
            });
            concurrent_gets(&client, paths(&server, 3)).await;
            assert_eq!((server.accepted(), client.idle_connections()), (3, max_idle));
            concurrent_gets(&client, paths(&server, 1)).await;
            assert_eq!(server.accepted(), if max_idle == 0 { 4 } else { 3 });
            server.shutdown().await;
            assert_no_leaks(&client);
        }
    });
}

#[test]
fn at_a_check_in_only_the_expired_idle_connections_of_an_origin_are_closed() {
    run(async {
        let a = slow_server();
        let b = ScriptServer::repeat(answers([ok("b")]));
        let client = Client::with_config(ClientConfig {
            idle_timeout: Duration::from_secs(15),
            ..Default::default()
        });
        concurrent_gets(&client, paths(&a, 2)).await; // two connections to `a`, idle from 0.1 s
        evloop::time::sleep(Duration::from_secs(10)).await;
        concurrent_gets(&client, paths(&a, 1)).await; // one of them again: idle from 10.2 s
        evloop::time::sleep(Duration::from_secs(6)).await;
        // At 16.2 s the other has been idle 16.1 s, past the timeout; this one 6 s.
        assert_eq!(get_text(&client, &b.url("/x")).await.unwrap(), "b");
        assert_eq!(
            client.idle_connections(),
            2,
            "`a`'s recent connection and `b`'s are kept"
        );
        concurrent_gets(&client, paths(&a, 1)).await;
        assert_eq!(a.accepted(), 2, "the kept connection to `a` carried the last request");
        a.shutdown().await;
        b.shutdown().await;
        assert_no_leaks(&client);
    });
}

//! The HTTP client's deadlines, on the virtual clock: a server that never answers, one that
//! stalls mid-body, one that drips a byte at a time, and a request waiting for a pool slot.
//! Every timeout fires at exactly the configured virtual time, and leaves no timer or socket
//! behind.

#[path = "support/script_server.rs"]
mod script_server;

use std::time::Duration;

use evloop::http::{Client, ClientConfig, Error, TimeoutKind};
use script_server::{ScriptServer, Step, answers, assert_no_leaks, get_text, ok, run, settle};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn client_with(total: Option<Duration>, read: Option<Duration>) -> Client {
    Client::with_config(ClientConfig {
        total_timeout: total,
        read_timeout: read,
        ..Default::default()
    })
}

/// The error `future` ends with, and how much virtual time it took.
async fn timed<T: std::fmt::Debug>(future: impl Future<Output = Result<T, Error>>) -> (Error, Duration) {
    let start = evloop::time::now();
    let error = future.await.unwrap_err();
    (error, evloop::time::now() - start)
}

#[test]
fn a_server_that_never_answers_hits_the_total_timeout_at_exactly_the_configured_time() {
    run(async {
        let server = ScriptServer::start(vec![vec![Step::Expect, Step::Stall]]);
        let client = client_with(Some(secs(5)), None);
        let (error, elapsed) = timed(client.get(&server.url("/")).send()).await;
        assert!(matches!(error, Error::Timeout(TimeoutKind::Total)), "{error:?}");
        assert_eq!(elapsed, secs(5));
        settle().await;
        assert_eq!(server.trace(), "accept #1, #1 GET /, #1 client closed");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_per_request_timeout_overrides_the_clients_total() {
    run(async {
        let server = ScriptServer::start(vec![vec![Step::Expect, Step::Stall]]);
        let client = client_with(Some(secs(5)), None);
        let (error, elapsed) = timed(client.get(&server.url("/")).timeout(Some(secs(2))).send()).await;
        assert!(matches!(error, Error::Timeout(TimeoutKind::Total)), "{error:?}");
        assert_eq!(elapsed, secs(2));
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_server_silent_before_the_head_hits_the_read_timeout() {
    run(async {
        let server = ScriptServer::start(vec![vec![Step::Expect, Step::Stall]]);
        let client = client_with(Some(secs(60)), Some(secs(2)));
        let (error, elapsed) = timed(client.get(&server.url("/")).send()).await;
        assert!(matches!(error, Error::Timeout(TimeoutKind::Read)), "{error:?}");
        assert_eq!(elapsed, secs(2));
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_server_stalling_mid_body_hits_the_read_timeout_counted_from_the_last_byte() {
    run(async {
        let server = ScriptServer::start(vec![vec![
            Step::Expect,
            Step::send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel"),
            Step::Sleep(secs(1)),
            Step::send("lo"),
            Step::Stall,
        ]]);
        let client = client_with(Some(secs(60)), Some(secs(2)));
        let start = evloop::time::now();
        let mut response = client.get(&server.url("/")).send().await.unwrap();
        let mut received = Vec::new();
        let error = loop {
            match response.chunk().await {
                Ok(Some(piece)) => received.extend(piece),
                Ok(None) => panic!("a stalled body cannot be complete"),
                Err(error) => break error,
            }
        };
        assert!(matches!(error, Error::Timeout(TimeoutKind::Read)), "{error:?}");
        assert_eq!(received, b"hello");
        assert_eq!(
            evloop::time::now() - start,
            secs(1 + 2),
            "2 s after the last byte, which came at 1 s"
        );
        drop(response);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_server_dripping_within_the_read_timeout_is_cut_off_by_the_total_deadline() {
    run(async {
        let body = "a body that takes a while";
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
        let script = vec![
            Step::Expect,
            Step::send(&head),
            Step::drip(body, Duration::from_millis(500)),
        ];
        let server = ScriptServer::start(vec![script.clone(), script]);
        // Every byte comes well within the 1 s read timeout, so only the total deadline helps.
        let client = client_with(Some(secs(3)), Some(secs(1)));
        let (error, elapsed) = timed(get_text(&client, &server.url("/"))).await;
        assert!(matches!(error, Error::Timeout(TimeoutKind::Total)), "{error:?}");
        assert_eq!(elapsed, secs(3));
        // The same drip without a total deadline completes: the read timeout restarts per byte.
        let start = evloop::time::now();
        let slow = client.get(&server.url("/")).timeout(None).send().await.unwrap();
        assert_eq!(slow.text().await.unwrap(), body);
        assert_eq!(
            evloop::time::now() - start,
            Duration::from_millis(500) * (body.len() as u32 - 1)
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

/// Limit 1: the first request holds the only slot by not reading its body, so the second
/// waits for the slot, and that wait counts toward its total deadline. The client reports
/// `PoolWait`, not `Total`: the deadline passed while the request was still queued for a slot,
/// before a single byte went out, which is what the caller needs to know (raise `limit`, or
/// read bodies sooner).
#[test]
fn waiting_for_a_pool_slot_counts_toward_the_deadline_and_times_out_as_pool_wait() {
    run(async {
        let partial = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello";
        let server = ScriptServer::start(vec![answers([partial]), answers([ok("after").as_str()])]);
        let client = Client::with_config(ClientConfig {
            limit: 1,
            total_timeout: Some(secs(2)),
            ..Default::default()
        });
        let holder = client.get(&server.url("/holder")).timeout(None).send().await.unwrap();
        let (error, elapsed) = timed(client.get(&server.url("/waiter")).send()).await;
        assert!(matches!(error, Error::Timeout(TimeoutKind::PoolWait)), "{error:?}");
        assert_eq!(elapsed, secs(2));
        assert_eq!(server.lines(), ["GET /holder"], "the waiter never reached the server");
        drop(holder);
        assert_eq!(
            get_text(&client, &server.url("/after")).await.unwrap(),
            "after",
            "the slot is free again"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_pool_timeout_fails_a_queued_request_before_its_total_deadline() {
    run(async {
        let partial = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello";
        let server = ScriptServer::start(vec![answers([partial])]);
        let client = Client::with_config(ClientConfig {
            limit: 1,
            total_timeout: Some(secs(30)),
            pool_timeout: Some(secs(1)),
            ..Default::default()
        });
        let holder = client.get(&server.url("/holder")).timeout(None).send().await.unwrap();
        let (error, elapsed) = timed(client.get(&server.url("/waiter")).send()).await;
        assert!(matches!(error, Error::Timeout(TimeoutKind::PoolWait)), "{error:?}");
        assert_eq!(elapsed, secs(1), "the pool timeout, not the 30 s total");
        drop(holder);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the trace asserts Linux's epoll event order; Miri's lists events in fd order"
)]
fn cancelling_a_request_mid_flight_gives_back_its_slot_timers_and_socket() {
    run(async {
        let server = ScriptServer::start(vec![vec![Step::Expect, Step::Stall], answers([ok("next")])]);
        let client = Client::with_config(ClientConfig {
            limit: 1,
            ..Default::default()
        });
        let cancelled = evloop::time::timeout(secs(1), client.get(&server.url("/stalled")).send()).await;
        assert!(cancelled.is_err(), "the caller's own timeout dropped the request");
        assert_eq!(get_text(&client, &server.url("/next")).await.unwrap(), "next");
        settle().await;
        assert_eq!(
            server.trace(),
            "accept #1, #1 GET /stalled, #1 client closed, accept #2, #2 GET /next"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's sockets do not reproduce a full listen(0) queue: the handshake completes"
)]
fn a_connect_that_never_completes_hits_the_connect_timeout() {
    run(async {
        // A listener that accepts nothing and whose queue is full: Linux drops further SYNs,
        // so the next handshake never completes.
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket
            .bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap().into())
            .unwrap();
        socket.listen(0).unwrap();
        let addr = socket.local_addr().unwrap().as_socket().unwrap();
        let _queued = std::net::TcpStream::connect(addr).unwrap();
        let client = Client::with_config(ClientConfig {
            connect_timeout: Some(secs(3)),
            ..Default::default()
        });
        let (error, elapsed) = timed(client.get(&format!("http://{addr}/")).send()).await;
        assert!(
            matches!(error, Error::Timeout(TimeoutKind::Connect)) && error.is_connect(),
            "{error:?}"
        );
        assert_eq!(elapsed, secs(3));
        assert_no_leaks(&client);
    });
}

//! An HTTP GET through `evloop::http::Client`, cancelled at every await point, against a scripted
//! server on the same loop (`support/script_server.rs`) that sends each response in three pieces,
//! 5 ms apart, so the client waits for the connect (or its pool slot), the head and each part of
//! the body. After each cancellation the other GETs and a second one must succeed, the server
//! must see the connection end, and no socket may stay registered but the client's idle ones
//! (closed with the client).

use std::time::Duration;

use evloop::JoinHandle;
use evloop::http::{Client, ClientConfig, Error};

use crate::script_server::{ScriptServer, Step, get_text};
use crate::support::cancel::{Coverage, cancel_at_every_await};
use crate::{finished, ms};

/// What every GET of these scenarios reads.
const BODY: &str = "helloworld";

/// A response framed by `Content-Length`, sent as head, `hello`, `world`.
fn plain() -> Vec<Step> {
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", BODY.len());
    pieces([head.as_str(), "hello", "world"])
}

/// A chunked response, sent as head and first chunk, second chunk, last chunk.
fn chunked() -> Vec<Step> {
    pieces([
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        "5\r\nworld\r\n",
        "0\r\n\r\n",
    ])
}

/// Reads a request, then sends `parts` 5 ms apart.
fn pieces<'a>(parts: impl IntoIterator<Item = &'a str>) -> Vec<Step> {
    let mut script = vec![Step::Expect];
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            script.push(Step::Sleep(ms(5)));
        }
        script.push(Step::send(part));
    }
    script
}

/// A client whose idle connections outlive the driver's settling, so a second GET can reuse one.
fn client(limit: usize) -> Client {
    Client::with_config(ClientConfig {
        limit,
        idle_timeout: Duration::from_secs(3600),
        ..ClientConfig::default()
    })
}

struct Http {
    server: ScriptServer,
    client: Client,
    /// Pooled only: a GET holding the client's one slot when the scenario starts, and one
    /// queued behind the scenario's for it.
    others: Vec<JoinHandle<Result<String, Error>>>,
}

/// A GET of `path` on its own task, after `delay_ms`.
fn spawn_get(client: &Client, server: &ScriptServer, path: &str, delay_ms: u64) -> JoinHandle<Result<String, Error>> {
    let (client, url) = (client.clone(), server.url(path));
    evloop::spawn(async move {
        evloop::time::sleep(ms(delay_ms)).await;
        get_text(&client, &url).await
    })
}

/// Runs one GET of `script`'s response as the scenario. `pooled`: under `limit: 1`, with a
/// connection a first GET left idle, a GET holding the slot and another queued behind.
fn get(name: &str, script: Vec<Step>, pooled: bool) -> Coverage {
    cancel_at_every_await(
        name,
        || async {
            let server = ScriptServer::repeat(script.clone());
            let client = client(if pooled { 1 } else { 100 });
            let mut others = Vec::new();
            if pooled {
                let warm = get_text(&client, &server.url("/warm")).await;
                assert_eq!(warm.expect("the first GET"), BODY);
                others.push(spawn_get(&client, &server, "/holder", 0));
                others.push(spawn_get(&client, &server, "/follower", 1));
                evloop::yield_now().await; // the holder takes the slot before the scenario asks
            }
            Http { server, client, others }
        },
        |s| {
            let (client, url) = (s.client.clone(), s.server.url("/scenario"));
            async move {
                let body = get_text(&client, &url).await.expect("the GET succeeds");
                assert_eq!(body, BODY);
            }
        },
        |s| async move {
            for other in s.others {
                let body = finished(other, "a GET before or behind the scenario's (a pool slot was lost)").await;
                assert_eq!(body.expect("it got the slot and its response"), BODY);
            }
            let again = get_text(&s.client, &s.server.url("/again")).await;
            assert_eq!(again.expect("a second GET succeeds"), BODY);
            s.server.shutdown().await;
            assert!(
                s.client.idle_connections() <= 2,
                "no more connections idle than were used"
            );
        },
    )
}

#[test]
fn a_plain_get_is_whole_wherever_it_is_cancelled() {
    let covered = get("HTTP GET, Content-Length", plain(), false);
    // Under Miri only a sample of the await points runs (tests/support/cancel.rs): no count.
    assert!(
        cfg!(miri) || covered.points >= 5,
        "connect, head, two body parts: {covered:?}"
    );
}

#[test]
fn a_chunked_get_is_whole_wherever_it_is_cancelled() {
    let covered = get("HTTP GET, chunked", chunked(), false);
    // Under Miri only a sample of the await points runs (tests/support/cancel.rs): no count.
    assert!(
        cfg!(miri) || covered.points >= 5,
        "connect, head, two more chunks: {covered:?}"
    );
}

#[test]
fn a_pooled_get_under_a_limit_of_one_gives_its_slot_back_wherever_it_is_cancelled() {
    let covered = get("HTTP GET, pooled under limit 1", plain(), true);
    // Under Miri only a sample of the await points runs (tests/support/cancel.rs): no count.
    assert!(
        cfg!(miri) || covered.points >= 5,
        "the slot, the head, two body parts: {covered:?}"
    );
}

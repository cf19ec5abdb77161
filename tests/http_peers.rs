//! evloop's HTTP client against real third-party servers: httpbin under gunicorn, nginx, and
//! Python's `http.server` (HTTP/1.0 and 1.1), started by `scripts/peers.sh` on 127.0.0.1.
//!
//! This test binary has its own `main` (`harness = false` in Cargo.toml) so that the peers are
//! started once, every check runs against them, and they are stopped by PID at the end even if a
//! check fails. A peer that cannot be started is a failure, not a skip. Developers without root
//! (the script installs Debian and PyPI packages) may set `EVLOOP_SKIP_PEERS=1` to leave this
//! file out explicitly; CI never does.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use evloop::http::{Client, ClientConfig, Error, Method, TimeoutKind, Version};

type Check = fn(&Peers);

struct Peers {
    urls: HashMap<String, String>,
}

impl Peers {
    fn url(&self, peer: &str, path: &str) -> String {
        format!("{}{path}", self.urls[peer])
    }
}

fn main() {
    if std::env::var_os("EVLOOP_SKIP_PEERS").is_some() {
        println!("http_peers: not run (EVLOOP_SKIP_PEERS is set)");
        return;
    }
    let state = target_dir().join("peers");
    std::fs::create_dir_all(&state).expect("create the peers' state directory");
    let started = Command::new("bash")
        .arg("scripts/peers.sh")
        .arg("start")
        .arg(&state)
        .status();
    let stop = || {
        let _ = Command::new("bash")
            .arg("scripts/peers.sh")
            .arg("stop")
            .arg(&state)
            .status();
    };
    match started {
        Ok(status) if status.success() => {}
        other => {
            stop();
            eprintln!(
                "http_peers: scripts/peers.sh could not start the peers ({other:?}); see {}",
                state.display()
            );
            println!("test result: FAILED. 0 passed; 1 failed; 0 ignored");
            std::process::exit(1);
        }
    }
    let env = std::fs::read_to_string(state.join("peers.env")).expect("peers.sh writes peers.env");
    let urls = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let peers = Peers { urls };

    let checks: &[(&str, Check)] = &[
        (
            "httpbin_get_echoes_our_request_and_keeps_the_connection_alive",
            httpbin_get,
        ),
        ("httpbin_status_codes_and_error_for_status", httpbin_status),
        ("httpbin_post_sends_the_body_with_a_content_length", httpbin_post),
        ("httpbin_headers_and_query_arrive_as_sent", httpbin_headers_and_query),
        ("httpbin_bytes_and_stream_bodies_are_complete", httpbin_bodies),
        ("httpbin_redirects_are_followed_up_to_the_limit", httpbin_redirects),
        #[cfg(feature = "cookies")]
        (
            "httpbin_cookies_set_on_a_redirect_come_back_and_can_be_deleted",
            httpbin_cookies,
        ),
        ("httpbin_redirect_to_is_recorded_in_the_history", httpbin_history),
        (
            "httpbin_delay_and_drip_are_cut_off_by_the_total_deadline",
            httpbin_timeouts,
        ),
        ("nginx_static_files_reuse_one_connection", nginx_static),
        ("nginx_chunked_output_is_decoded", nginx_chunked),
        ("nginx_head_has_no_body_and_keeps_the_connection", nginx_head),
        ("python_http10_closes_and_http11_keeps_alive", python_servers),
        #[cfg(feature = "gzip")]
        ("httpbin_gzip_and_deflate_bodies_are_decoded", httpbin_compressed),
    ];
    let mut failed = 0;
    for (name, check) in checks {
        let outcome = catch_unwind(AssertUnwindSafe(|| check(&peers)));
        match outcome {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    stop();
    let passed = checks.len() - failed;
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    println!("\ntest result: {verdict}. {passed} passed; {failed} failed; 0 ignored");
    if failed > 0 {
        std::process::exit(1);
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Runs `f` on a fresh loop (real clock: these are real servers).
fn on_loop<T>(f: impl std::future::Future<Output = T>) -> T {
    evloop::run(f)
}

fn httpbin_get(p: &Peers) {
    on_loop(async {
        let client = Client::new();
        for _ in 0..3 {
            let response = client
                .get(&p.url("EVLOOP_HTTPBIN", "/get"))
                .send()
                .await
                .expect("GET /get");
            assert_eq!(response.status(), 200);
            assert_eq!(response.version(), Version::Http11);
            let body = response.text().await.expect("body");
            assert!(body.contains("\"User-Agent\": \"evloop/"), "{body}");
        }
        assert_eq!(
            client.idle_connections(),
            1,
            "gunicorn's gthread worker kept one connection alive"
        );
    });
}

fn httpbin_status(p: &Peers) {
    on_loop(async {
        let client = Client::new();
        for code in [200u16, 204, 404, 418, 500, 503] {
            let response = client
                .get(&p.url("EVLOOP_HTTPBIN", &format!("/status/{code}")))
                .send()
                .await
                .expect("send");
            assert_eq!(response.status(), code);
            match response.error_for_status() {
                Ok(ok) => assert!(code < 400, "{code} passed error_for_status: {ok:?}"),
                Err(Error::Status(c)) => assert_eq!(c, code),
                Err(other) => panic!("unexpected {other}"),
            }
        }
    });
}

fn httpbin_post(p: &Peers) {
    on_loop(async {
        let client = Client::new();
        let response = client
            .post(&p.url("EVLOOP_HTTPBIN", "/post"))
            .body("a=1&b=two")
            .send()
            .await
            .expect("POST");
        let body = response.text().await.expect("body");
        assert!(
            body.contains("\"a=1&b=two\"") || body.contains("\"a\": \"1\""),
            "{body}"
        );
        assert!(body.contains("\"Content-Length\": \"9\""), "{body}");
        let put = client
            .request(Method::PUT, &p.url("EVLOOP_HTTPBIN", "/put"))
            .body(Vec::new())
            .send()
            .await;
        assert_eq!(put.expect("PUT").status(), 200);
    });
}

fn httpbin_headers_and_query(p: &Peers) {
    on_loop(async {
        let client = Client::new();
        let response = client
            .get(&p.url("EVLOOP_HTTPBIN", "/get"))
            .header("X-Evloop-Test", "value with spaces")
            .query(&[("q", "a b&c"), ("n", "1")])
            .send()
            .await
            .expect("send");
        let body = response.text().await.expect("body");
        assert!(body.contains("\"X-Evloop-Test\": \"value with spaces\""), "{body}");
        assert!(body.contains("\"q\": \"a b&c\""), "{body}");
        let refused = client
            .get(&p.url("EVLOOP_HTTPBIN", "/get"))
            .header("X-Bad", "a\r\nInjected: 1")
            .send()
            .await;
        assert!(matches!(refused, Err(Error::InvalidHeader { .. })), "{refused:?}");
    });
}

fn httpbin_bodies(p: &Peers) {
    on_loop(async {
        let client = Client::new();
        let bytes = client
            .get(&p.url("EVLOOP_HTTPBIN", "/bytes/5000"))
            .send()
            .await
            .expect("send");
        assert_eq!(bytes.bytes().await.expect("body").len(), 5000);
        let mut stream = client
            .get(&p.url("EVLOOP_HTTPBIN", "/stream/20"))
            .send()
            .await
            .expect("send");
        assert_eq!(stream.headers().get("transfer-encoding"), Some("chunked"));
        let mut text = Vec::new();
        while let Some(piece) = stream.chunk().await.expect("chunk") {
            text.extend_from_slice(&piece);
        }
        assert_eq!(String::from_utf8_lossy(&text).lines().count(), 20);
    });
}

fn httpbin_redirects(p: &Peers) {
    on_loop(async {
        let client = Client::new();
        let response = client
            .get(&p.url("EVLOOP_HTTPBIN", "/redirect/3"))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200);
        assert!(response.url().to_string().ends_with("/get"), "{}", response.url());
        let strict = Client::with_config(ClientConfig {
            max_redirects: 2,
            ..ClientConfig::default()
        });
        let too_many = strict.get(&p.url("EVLOOP_HTTPBIN", "/redirect/3")).send().await;
        assert!(
            matches!(too_many, Err(Error::TooManyRedirects { limit: 2 })),
            "{too_many:?}"
        );
        let away = client
            .get(&p.url("EVLOOP_HTTPBIN", "/redirect-to?url=https://example.com/"))
            .send()
            .await;
        assert!(matches!(away, Err(Error::RedirectNotHttp { .. })), "{away:?}");
    });
}

#[cfg(feature = "cookies")]
fn httpbin_cookies(p: &Peers) {
    on_loop(async {
        let client = Client::new();
        // /cookies/set answers 302 with the Set-Cookie and a Location of /cookies: the jar
        // must take the cookie from the redirect and send it on the next hop.
        let response = client
            .get(&p.url("EVLOOP_HTTPBIN", "/cookies/set?a=1&b=two"))
            .send()
            .await
            .expect("GET /cookies/set");
        assert_eq!(
            response.history().iter().map(|hop| hop.status).collect::<Vec<_>>(),
            [302]
        );
        let body = response.text().await.expect("body");
        assert!(
            body.contains("\"a\": \"1\"") && body.contains("\"b\": \"two\""),
            "{body}"
        );
        let body = client
            .get(&p.url("EVLOOP_HTTPBIN", "/cookies/delete?a"))
            .send()
            .await
            .expect("GET /cookies/delete")
            .text()
            .await
            .expect("body");
        assert!(!body.contains("\"a\"") && body.contains("\"b\": \"two\""), "{body}");
        assert_eq!(client.cookie_jar().map(|jar| jar.len()), Some(1));
    });
}

fn httpbin_history(p: &Peers) {
    on_loop(async {
        let client = Client::new();
        let start = p.url("EVLOOP_HTTPBIN", "/redirect-to?url=%2Fget&status_code=307");
        let response = client.get(&start).send().await.expect("GET /redirect-to");
        let hops: Vec<(u16, String)> = response
            .history()
            .iter()
            .map(|h| (h.status, h.url.to_string()))
            .collect();
        assert_eq!(hops, [(307, start.clone())]);
        assert!(response.url().to_string().ends_with("/get"), "{}", response.url());
        assert_eq!(response.status(), 200);
    });
}

fn httpbin_timeouts(p: &Peers) {
    on_loop(async {
        let client = Client::new();
        let started = std::time::Instant::now();
        let slow = client
            .get(&p.url("EVLOOP_HTTPBIN", "/delay/3"))
            .timeout(Some(Duration::from_millis(300)))
            .send()
            .await;
        assert!(matches!(slow, Err(Error::Timeout(TimeoutKind::Total))), "{slow:?}");
        let drip = client
            .get(&p.url("EVLOOP_HTTPBIN", "/drip?numbytes=20&duration=4&delay=0"))
            .timeout(Some(Duration::from_millis(500)))
            .send()
            .await;
        let cut = match drip {
            Ok(response) => response.bytes().await.map(|b| b.len()),
            Err(e) => Err(e),
        };
        assert!(matches!(cut, Err(Error::Timeout(TimeoutKind::Total))), "{cut:?}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "both were cut off at their deadlines"
        );
    });
}

fn nginx_static(p: &Peers) {
    on_loop(async {
        let client = Client::new();
        for _ in 0..50 {
            let r = client
                .get(&p.url("EVLOOP_NGINX", "/hello.txt"))
                .send()
                .await
                .expect("send");
            assert_eq!(r.text().await.expect("body"), "hello from a static file\n");
        }
        assert_eq!(client.idle_connections(), 1);
        let big = client
            .get(&p.url("EVLOOP_NGINX", "/mib.bin"))
            .send()
            .await
            .expect("send");
        let body = big.bytes().await.expect("body");
        assert_eq!(body.len(), 1 << 20);
        assert!(body.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
        let missing = client.get(&p.url("EVLOOP_NGINX", "/nope")).send().await.expect("send");
        assert_eq!(missing.status(), 404);
    });
}

fn nginx_chunked(p: &Peers) {
    on_loop(async {
        let client = Client::new();
        let r = client
            .get(&p.url("EVLOOP_NGINX", "/chunked/page.html"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.headers().get("transfer-encoding"), Some("chunked"));
        let text = r.text().await.expect("body");
        assert_eq!(text.lines().count(), 2000);
        assert!(text.lines().all(|l| l.starts_with("LINE ")));
        assert_eq!(
            client.idle_connections(),
            1,
            "a cleanly ended chunked body keeps the connection"
        );
    });
}

fn nginx_head(p: &Peers) {
    on_loop(async {
        let client = Client::new();
        let r = client
            .head(&p.url("EVLOOP_NGINX", "/mib.bin"))
            .send()
            .await
            .expect("HEAD");
        assert_eq!(r.headers().get("content-length"), Some("1048576"));
        assert!(r.bytes().await.expect("no body").is_empty());
        let again = client
            .get(&p.url("EVLOOP_NGINX", "/hello.txt"))
            .send()
            .await
            .expect("GET after HEAD");
        assert_eq!(again.text().await.expect("body"), "hello from a static file\n");
        assert_eq!(client.idle_connections(), 1);
    });
}

fn python_servers(p: &Peers) {
    on_loop(async {
        let client = Client::new();
        let old = client
            .get(&p.url("EVLOOP_PY10", "/hello.txt"))
            .send()
            .await
            .expect("send");
        assert_eq!(old.version(), Version::Http10);
        assert_eq!(old.text().await.expect("body"), "hello from a static file\n");
        assert_eq!(client.idle_connections(), 0, "HTTP/1.0 without keep-alive closes");
        for _ in 0..3 {
            let new = client
                .get(&p.url("EVLOOP_PY11", "/hello.txt"))
                .send()
                .await
                .expect("send");
            assert_eq!(new.version(), Version::Http11);
            assert_eq!(new.text().await.expect("body"), "hello from a static file\n");
        }
        assert_eq!(client.idle_connections(), 1);
        // http.server redirects a directory without its slash.
        let dir = client
            .get(&p.url("EVLOOP_PY11", "/chunked"))
            .send()
            .await
            .expect("send");
        assert_eq!(dir.status(), 200);
        assert!(dir.url().to_string().ends_with("/chunked/"), "{}", dir.url());
    });
}

/// httpbin's `/gzip` and `/deflate` (zlib-wrapped, as RFC 9110 says) answer in JSON saying which
/// coding they used; decoded, the headers no longer name it (feature `gzip`; CI runs this file
/// with it too).
#[cfg(feature = "gzip")]
fn httpbin_compressed(p: &Peers) {
    on_loop(async {
        let client = Client::with_config(ClientConfig {
            decompress: true,
            ..ClientConfig::default()
        });
        for (path, says) in [("/gzip", "\"gzipped\": true"), ("/deflate", "\"deflated\": true")] {
            let response = client.get(&p.url("EVLOOP_HTTPBIN", path)).send().await.expect(path);
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(response.headers().get("content-encoding"), None, "{path}");
            let body = response.text().await.expect(path);
            assert!(body.contains(says), "{path}: {body}");
            assert!(
                body.contains("\"Accept-Encoding\": \"gzip, deflate\""),
                "{path}: {body}"
            );
        }
    });
}

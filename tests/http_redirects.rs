//! Redirects, against scripted loopback servers: which statuses are followed and how they
//! change the request, relative `Location`s, the redirect limit, non-`http` targets, and what
//! a redirect to another origin must not carry along (asserted on the exact request bytes).

#[path = "support/script_server.rs"]
mod script_server;

use evloop::http::{Client, ClientConfig, Error, USER_AGENT};
use script_server::{ScriptServer, answers, assert_no_leaks, get_text, ok, run};

/// A redirect response with a small body (which the client must drain to reuse the connection).
fn redirect(status: u16, location: &str) -> String {
    format!("HTTP/1.1 {status} Redirect\r\nLocation: {location}\r\nContent-Length: 9\r\n\r\nmoved on!")
}

/// One connection: the redirect, then the final answer.
fn redirect_then_ok(status: u16, location: &str) -> ScriptServer {
    ScriptServer::start(vec![answers([redirect(status, location), ok("arrived")])])
}

#[test]
fn every_redirect_status_is_followed_on_the_same_connection() {
    run(async {
        for status in [301, 302, 303, 307, 308] {
            let server = redirect_then_ok(status, "/next");
            let client = Client::new();
            let response = client.get(&server.url("/start")).send().await.unwrap();
            assert_eq!((response.status(), response.url().path()), (200, "/next"), "{status}");
            assert_eq!(response.text().await.unwrap(), "arrived");
            assert_eq!(server.trace(), "accept #1, #1 GET /start, #1 GET /next", "{status}");
            server.shutdown().await;
            assert_no_leaks(&client);
        }
    });
}

#[test]
fn a_303_and_a_301_or_302_after_a_post_become_a_get_without_a_body() {
    run(async {
        for status in [301, 302, 303] {
            let server = redirect_then_ok(status, "/result");
            let client = Client::new();
            let response = client.post(&server.url("/form")).body("a=1").send().await.unwrap();
            assert_eq!(response.text().await.unwrap(), "arrived");
            assert_eq!(server.lines(), ["POST /form", "GET /result"], "{status}");
            assert_eq!(server.requests()[1].text(), server.get_head("/result", ""), "{status}");
            server.shutdown().await;
            assert_no_leaks(&client);
        }
    });
}

#[test]
fn a_307_or_308_repeats_the_method_and_the_body() {
    run(async {
        for status in [307, 308] {
            let server = redirect_then_ok(status, "/again");
            let client = Client::new();
            let request = client.post(&server.url("/form")).header("X-Custom", "yes").body("a=1");
            assert_eq!(request.send().await.unwrap().text().await.unwrap(), "arrived");
            let expected = format!(
                "POST /again HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUser-Agent: {USER_AGENT}\r\n\
                 Content-Length: 3\r\nX-Custom: yes\r\n\r\na=1",
                server.port()
            );
            assert_eq!(server.requests()[1].text(), expected, "{status}");
            server.shutdown().await;
            assert_no_leaks(&client);
        }
    });
}

#[test]
fn a_relative_location_is_resolved_against_the_current_url() {
    run(async {
        let script = answers([redirect(302, "../d?x=y"), redirect(301, "e#fragment"), ok("arrived")]);
        let server = ScriptServer::start(vec![script]);
        let client = Client::new();
        let response = client.get(&server.url("/a/b/c?q=1")).send().await.unwrap();
        assert_eq!(response.url().to_string(), server.url("/a/e"));
        assert_eq!(server.lines(), ["GET /a/b/c?q=1", "GET /a/d?x=y", "GET /a/e"]);
        drop(response);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_redirect_chain_longer_than_max_redirects_fails_after_exactly_that_many() {
    run(async {
        let server = ScriptServer::repeat(answers([redirect(302, "/loop")]));
        let client = Client::with_config(ClientConfig {
            max_redirects: 3,
            ..Default::default()
        });
        let error = client.get(&server.url("/start")).send().await.unwrap_err();
        assert!(matches!(error, Error::TooManyRedirects { limit: 3 }), "{error:?}");
        assert_eq!(
            server.trace(),
            "accept #1, #1 GET /start, #1 GET /loop, #1 GET /loop, #1 GET /loop"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn max_redirects_zero_returns_the_3xx_itself() {
    run(async {
        let server = ScriptServer::start(vec![answers([redirect(302, "/elsewhere")])]);
        let client = Client::with_config(ClientConfig {
            max_redirects: 0,
            ..Default::default()
        });
        let response = client.get(&server.url("/start")).send().await.unwrap();
        assert_eq!(response.status(), 302);
        assert_eq!(response.headers().get("location"), Some("/elsewhere"));
        assert_eq!(response.text().await.unwrap(), "moved on!");
        assert_eq!(server.lines(), ["GET /start"], "nothing was followed");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg(not(feature = "tls"))] // with it, https:// is followed (tests/http_tls.rs)
fn a_redirect_to_https_is_refused_by_name() {
    run(async {
        let server = ScriptServer::start(vec![answers([redirect(301, "https://example.com/")])]);
        let client = Client::new();
        let error = client.get(&server.url("/")).send().await.unwrap_err();
        assert!(
            matches!(&error, Error::RedirectNotHttp { scheme } if scheme == "https"),
            "{error:?}"
        );
        assert!(error.to_string().contains("`https`"), "{error}");
        assert_eq!(server.lines(), ["GET /"]);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_3xx_without_a_location_is_the_response() {
    run(async {
        let server = ScriptServer::start(vec![answers([
            "HTTP/1.1 300 Multiple Choices\r\nContent-Length: 4\r\n\r\npick",
        ])]);
        let client = Client::new();
        let response = client.get(&server.url("/")).send().await.unwrap();
        assert_eq!(response.status(), 300);
        assert_eq!(response.text().await.unwrap(), "pick");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_redirect_to_another_origin_drops_authorization_cookies_host_and_url_credentials() {
    run(async {
        // Same host, another port: another origin.
        let other = ScriptServer::repeat(answers([ok("other")]));
        let first = ScriptServer::repeat(answers([redirect(302, &other.url("/landing"))]));
        let client = Client::new();
        // Credentials in the URL become Basic authorization, for the first origin only.
        let with_userinfo = first.url("/start").replace("http://", "http://user:secret@");
        assert_eq!(get_text(&client, &with_userinfo).await.unwrap(), "other");
        // Headers set by the caller: the secret ones stay behind, and so does a `Host` naming
        // the first origin; the others go along.
        let request = client
            .get(&first.url("/start"))
            .header("Host", "first.example")
            .header("Authorization", "Bearer token")
            .header("Proxy-Authorization", "Basic cHJveHk6cHc=")
            .header("Cookie", "session=1")
            .header("X-Keep", "1");
        assert_eq!(request.send().await.unwrap().text().await.unwrap(), "other");

        let sent = first.requests();
        assert_eq!(
            sent[0].header("authorization").as_deref(),
            Some("Basic dXNlcjpzZWNyZXQ=")
        );
        assert_eq!(sent[1].header("cookie").as_deref(), Some("session=1"));
        assert_eq!(sent[1].header("host").as_deref(), Some("first.example"));
        let received: Vec<String> = other.requests().iter().map(|r| r.text()).collect();
        assert_eq!(
            received,
            [
                other.get_head("/landing", ""),
                other.get_head("/landing", "X-Keep: 1\r\n")
            ]
        );
        first.shutdown().await;
        other.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_redirect_within_the_origin_keeps_authorization_cookies_and_url_credentials() {
    run(async {
        let server = ScriptServer::repeat(answers([redirect(302, "/inner"), ok("inner")]));
        let client = Client::new();
        let with_userinfo = server.url("/start").replace("http://", "http://user:secret@");
        let request = client.get(&with_userinfo).header("Cookie", "session=1");
        assert_eq!(request.send().await.unwrap().text().await.unwrap(), "inner");
        let request = client
            .get(&server.url("/start"))
            .header("Authorization", "Bearer token");
        assert_eq!(request.send().await.unwrap().text().await.unwrap(), "inner");

        assert_eq!(server.lines(), ["GET /start", "GET /inner", "GET /start", "GET /inner"]);
        let sent = server.requests();
        assert_eq!(
            sent[1].header("authorization").as_deref(),
            Some("Basic dXNlcjpzZWNyZXQ=")
        );
        assert_eq!(sent[1].header("cookie").as_deref(), Some("session=1"));
        assert_eq!(sent[3].header("authorization").as_deref(), Some("Bearer token"));
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

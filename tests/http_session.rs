//! What a `Client` shares between its requests (aiohttp's `ClientSession`), against scripted
//! loopback servers: default headers, a base URL and parsed `Url`s, the redirect history,
//! `Retry-After` on the virtual clock, and a plain-HTTP proxy (asserted on the exact bytes the
//! proxy receives).

#[path = "support/script_server.rs"]
mod script_server;

use std::time::Duration;

use evloop::http::{Client, ClientConfig, Error, Headers, Proxy, RetryPolicy, Scheme, USER_AGENT, Url, with_retry};
use script_server::{ScriptServer, answers, assert_no_leaks, get_text, ok, run};

#[test]
fn default_headers_go_with_every_request_and_a_request_header_overrides_one() {
    run(async {
        let server = ScriptServer::start(vec![answers([ok("1"), ok("2")])]);
        let client = Client::with_config(ClientConfig {
            default_headers: [("Accept", "application/json"), ("X-Api-Key", "k1")]
                .into_iter()
                .collect(),
            ..ClientConfig::default()
        });
        get_text(&client, &server.url("/a")).await.unwrap();
        let response = client
            .get(&server.url("/b"))
            .header("accept", "text/plain")
            .send()
            .await
            .unwrap();
        response.text().await.unwrap();
        let requests = server.requests();
        assert_eq!(
            requests[0].text(),
            server.get_head("/a", "Accept: application/json\r\nX-Api-Key: k1\r\n")
        );
        assert_eq!(
            requests[1].text(),
            server.get_head("/b", "accept: text/plain\r\nX-Api-Key: k1\r\n")
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn an_invalid_default_header_is_refused_before_anything_is_sent() {
    run(async {
        let server = ScriptServer::start(vec![answers([ok("never")])]);
        let mut default_headers = Headers::new();
        default_headers.append("X-Bad", "one\r\nInjected: yes");
        let client = Client::with_config(ClientConfig {
            default_headers,
            ..ClientConfig::default()
        });
        let error = client.get(&server.url("/")).send().await.unwrap_err();
        assert!(
            matches!(&error, Error::InvalidHeader { name, .. } if name == "X-Bad"),
            "{error}"
        );
        assert_eq!(server.accepted(), 0);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn relative_urls_resolve_against_the_base_url_and_a_parsed_url_is_sent_as_it_is() {
    run(async {
        let server = ScriptServer::start(vec![answers([ok("1"), ok("2"), ok("3"), ok("4")])]);
        let base = Url::parse(&server.url("/api/v1/")).unwrap();
        let client = Client::with_config(ClientConfig {
            base_url: Some(base.clone()),
            ..ClientConfig::default()
        });
        get_text(&client, "users?id=7").await.unwrap();
        get_text(&client, "/health").await.unwrap();
        // Parse once, send many times: `get` takes the `Url` itself.
        let parsed = base.join("../v2/items").unwrap();
        for _ in 0..2 {
            client.get(&parsed).send().await.unwrap().text().await.unwrap();
        }
        assert_eq!(
            server.lines(),
            [
                "GET /api/v1/users?id=7",
                "GET /health",
                "GET /api/v2/items",
                "GET /api/v2/items"
            ]
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_relative_url_without_a_base_is_an_invalid_url_that_says_why() {
    run(async {
        let client = Client::new();
        let error = client.get("users").send().await.unwrap_err();
        assert!(
            matches!(error, Error::InvalidUrl { reason } if reason.contains("scheme")),
            "{error}"
        );
        let error = client.get(&String::from("http://bad host/")).send().await.unwrap_err();
        assert!(matches!(error, Error::InvalidUrl { .. }), "{error}");
        assert_no_leaks(&client);
    });
}

#[test]
fn the_history_lists_every_redirect_with_its_status_url_and_headers() {
    run(async {
        let moved = |status: u16, to: &str| {
            format!("HTTP/1.1 {status} Moved\r\nLocation: {to}\r\nX-Hop: {status}\r\nContent-Length: 0\r\n\r\n")
        };
        let server = ScriptServer::start(vec![answers([moved(301, "/two"), moved(302, "/three"), ok("end")])]);
        let client = Client::new();
        let response = client.get(&server.url("/one")).send().await.unwrap();
        let hops: Vec<(u16, &str, Option<&str>)> = response
            .history()
            .iter()
            .map(|hop| (hop.status, hop.url.path(), hop.headers.get("x-hop")))
            .collect();
        assert_eq!(hops, [(301, "/one", Some("301")), (302, "/two", Some("302"))]);
        assert_eq!(response.url().path(), "/three");
        assert_eq!(response.text().await.unwrap(), "end");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn retry_after_makes_with_retry_wait_as_long_as_the_server_asked() {
    run(async {
        let busy = "HTTP/1.1 503 Busy\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n";
        let server = ScriptServer::start(vec![answers([busy.to_string(), ok("ready")])]);
        let client = Client::new();
        let url = server.url("/job");
        let start = evloop::time::now();
        let mut started = Vec::new();
        let body = with_retry(RetryPolicy::default(), |_| {
            started.push(evloop::time::now() - start);
            let (client, url) = (client.clone(), url.clone());
            async move { client.get(&url).send().await?.error_for_status()?.text().await }
        })
        .await
        .unwrap();
        assert_eq!(body, "ready");
        assert_eq!(started.len(), 2);
        let waited = started[1] - started[0];
        assert!(
            waited >= Duration::from_secs(5) && waited < Duration::from_millis(5100),
            "waited {waited:?}, not the default 50-100 ms backoff"
        );
        assert_eq!(server.accepted(), 1, "the 503's connection was reused for the retry");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_proxy_receives_the_absolute_form_and_proxy_authorization() {
    run(async {
        let proxy = ScriptServer::start(vec![answers([ok("via proxy"), ok("again")])]);
        let client = Client::with_config(ClientConfig {
            proxy: Some(Proxy::new(&format!("http://u:p@127.0.0.1:{}", proxy.port())).unwrap()),
            ..ClientConfig::default()
        });
        // No DNS lookup for the target: the client only ever connects to the proxy.
        assert_eq!(
            get_text(&client, "http://example.invalid/x?y=1").await.unwrap(),
            "via proxy"
        );
        assert_eq!(get_text(&client, "http://other.invalid:8080/").await.unwrap(), "again");
        let requests = proxy.requests();
        assert_eq!(
            requests[0].text(),
            format!(
                "GET http://example.invalid/x?y=1 HTTP/1.1\r\nHost: example.invalid\r\n\
                 Proxy-Authorization: Basic dTpw\r\nUser-Agent: {USER_AGENT}\r\n\r\n"
            )
        );
        assert_eq!(requests[1].line(), "GET http://other.invalid:8080/");
        assert_eq!(
            proxy.accepted(),
            1,
            "one kept-alive connection to the proxy served both"
        );
        proxy.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_host_in_no_proxy_is_reached_directly() {
    run(async {
        let proxy = ScriptServer::start(vec![answers([ok("proxied")])]);
        let target = ScriptServer::start(vec![answers([ok("direct")])]);
        let client = Client::with_config(ClientConfig {
            proxy: Some(
                Proxy::new(&format!("http://127.0.0.1:{}", proxy.port()))
                    .unwrap()
                    .no_proxy("127.0.0.1"),
            ),
            ..ClientConfig::default()
        });
        assert_eq!(get_text(&client, &target.url("/here")).await.unwrap(), "direct");
        assert_eq!(target.lines(), ["GET /here"], "origin-form: a direct request");
        assert_eq!(proxy.accepted(), 0);
        proxy.shutdown().await;
        target.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg(not(feature = "tls"))] // with it, https:// goes through the proxy's tunnel (http_tls_proxy.rs)
fn without_tls_an_https_url_through_a_proxy_is_refused_naming_the_feature() {
    run(async {
        let proxy = ScriptServer::start(vec![answers([ok("never")])]);
        let client = Client::with_config(ClientConfig {
            proxy: Some(Proxy::new(&format!("http://127.0.0.1:{}", proxy.port())).unwrap()),
            ..ClientConfig::default()
        });
        let error = client.get("https://example.com/").send().await.unwrap_err();
        assert!(matches!(error, Error::UnsupportedScheme { .. }), "{error:?}");
        assert!(
            error.to_string().contains("https:// needs evloop's `tls` feature"),
            "{error}"
        );
        assert_eq!(proxy.accepted(), 0, "nothing was sent in the clear");
        proxy.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn the_environment_is_ignored_unless_trust_env_is_set() {
    // The variables are read through `from_lookup`: setting real ones would race with the other
    // tests of this binary, which run on other threads.
    let vars = |name: &str| (name == "http_proxy").then(|| "http://127.0.0.1:9".to_string());
    let proxy = Proxy::from_lookup(vars).unwrap().expect("http_proxy is set");
    assert_eq!(proxy.url_for(Scheme::Http).map(Url::port), Some(9));
    assert!(ClientConfig::default().proxy.is_none() && !ClientConfig::default().trust_env);
}

/// Built without the default feature `cookies` (`.ci/run` tests this file so): no jar, so a
/// server's `Set-Cookie` never comes back, while a caller's own `Cookie` header still goes out.
#[cfg(not(feature = "cookies"))]
#[test]
fn without_the_cookies_feature_no_cookie_is_kept_and_a_callers_own_is_sent() {
    run(async {
        let set = "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 3\r\n\r\nset".to_string();
        let server = ScriptServer::start(vec![answers([set, ok("seen"), ok("own")])]);
        let client = Client::new();
        assert_eq!(get_text(&client, &server.url("/login")).await.unwrap(), "set");
        assert_eq!(get_text(&client, &server.url("/page")).await.unwrap(), "seen");
        let own = client
            .get(&server.url("/own"))
            .header("Cookie", "b=2")
            .send()
            .await
            .unwrap();
        assert_eq!(own.text().await.unwrap(), "own");
        let requests = server.requests();
        assert_eq!(
            requests[1].text(),
            server.get_head("/page", ""),
            "the Set-Cookie was not kept"
        );
        assert_eq!(requests[2].text(), server.get_head("/own", "Cookie: b=2\r\n"));
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

//! The client's cookie jar on the wire, against scripted loopback servers: what a `Set-Cookie`
//! makes the next request carry (asserted on the exact request bytes), on every hop of a
//! redirect, by path, when deleted, shared between clients, and switched off.

#![cfg(feature = "cookies")]

#[path = "support/script_server.rs"]
mod script_server;

use std::rc::Rc;

use evloop::http::{Client, ClientConfig, CookieJar};
use script_server::{ScriptServer, answers, assert_no_leaks, get_text, ok, run};

/// `200 OK` with these `Set-Cookie` lines and the body `set`.
fn setting(cookies: &[&str]) -> String {
    let lines: String = cookies.iter().map(|c| format!("Set-Cookie: {c}\r\n")).collect();
    format!("HTTP/1.1 200 OK\r\n{lines}Content-Length: 3\r\n\r\nset")
}

#[test]
fn a_cookie_the_server_sets_is_sent_back_on_the_next_request() {
    run(async {
        let server = ScriptServer::start(vec![answers([setting(&["a=1", "b=two; Path=/"]), ok("seen")])]);
        let client = Client::new();
        assert_eq!(get_text(&client, &server.url("/login")).await.unwrap(), "set");
        assert_eq!(get_text(&client, &server.url("/page")).await.unwrap(), "seen");
        let requests = server.requests();
        assert_eq!(requests[0].text(), server.get_head("/login", ""), "no cookie yet");
        assert_eq!(requests[1].text(), server.get_head("/page", "Cookie: a=1; b=two\r\n"));
        assert_eq!(client.cookie_jar().map(CookieJar::len), Some(2));
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_cookie_set_by_a_redirect_goes_with_the_next_hop() {
    run(async {
        let redirect =
            "HTTP/1.1 302 Found\r\nSet-Cookie: session=abc; HttpOnly\r\nLocation: /home\r\nContent-Length: 0\r\n\r\n";
        let server = ScriptServer::start(vec![answers([redirect.to_string(), ok("welcome")])]);
        let client = Client::new();
        let response = client.post(&server.url("/login")).body("user=me").send().await.unwrap();
        assert_eq!(response.history().len(), 1);
        assert_eq!(response.text().await.unwrap(), "welcome");
        assert_eq!(server.lines(), ["POST /login", "GET /home"]);
        assert_eq!(
            server.requests()[1].text(),
            server.get_head("/home", "Cookie: session=abc\r\n")
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "slow under Miri; the jar rule it checks is unit-tested (under Miri too) in src/http/cookie"
)]
fn a_cookie_with_a_path_is_sent_only_below_that_path() {
    run(async {
        let server = ScriptServer::start(vec![answers([
            setting(&["cart=3; Path=/shop"]),
            ok("in"),
            ok("below"),
            ok("outside"),
        ])]);
        let client = Client::new();
        for path in ["/shop/add", "/shop", "/shop/cart/view", "/shopping"] {
            get_text(&client, &server.url(path)).await.unwrap();
        }
        let cookies: Vec<Option<String>> = server.requests().iter().map(|r| r.header("cookie")).collect();
        let cart = Some("cart=3".to_string());
        assert_eq!(
            cookies,
            [None, cart.clone(), cart, None],
            "/shopping is not below /shop"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "slow under Miri; the jar rule it checks is unit-tested (under Miri too) in src/http/cookie"
)]
fn an_expired_set_cookie_deletes_the_cookie() {
    run(async {
        let server = ScriptServer::start(vec![answers([
            setting(&["a=1", "b=2"]),
            setting(&["a=; Max-Age=0", "b=2; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]),
            ok("none"),
        ])]);
        let client = Client::new();
        for path in ["/set", "/delete", "/after"] {
            get_text(&client, &server.url(path)).await.unwrap();
        }
        assert_eq!(server.requests()[1].header("cookie").as_deref(), Some("a=1; b=2"));
        assert_eq!(server.requests()[2].header("cookie"), None);
        assert_eq!(client.cookie_jar().map(CookieJar::len), Some(0));
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "slow under Miri; the jar rule it checks is unit-tested (under Miri too) in src/http/cookie"
)]
fn the_callers_cookie_header_and_the_jars_cookies_share_one_line() {
    run(async {
        let server = ScriptServer::start(vec![answers([setting(&["jar=1"]), ok("both")])]);
        let client = Client::new();
        get_text(&client, &server.url("/")).await.unwrap();
        let response = client
            .get(&server.url("/"))
            .header("Cookie", "mine=0")
            .send()
            .await
            .unwrap();
        response.text().await.unwrap();
        assert_eq!(
            server.requests()[1].text(),
            server.get_head("/", "Cookie: mine=0; jar=1\r\n")
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "slow under Miri; the jar rule it checks is unit-tested (under Miri too) in src/http/cookie"
)]
fn two_clients_given_one_jar_share_their_cookies() {
    run(async {
        let server = ScriptServer::start(vec![answers([setting(&["shared=yes"])]), answers([ok("other")])]);
        let jar = Rc::new(CookieJar::new());
        let config = || ClientConfig {
            cookies: Some(jar.clone()),
            ..ClientConfig::default()
        };
        let (first, second) = (Client::with_config(config()), Client::with_config(config()));
        get_text(&first, &server.url("/")).await.unwrap();
        get_text(&second, &server.url("/")).await.unwrap();
        assert_eq!(server.requests()[1].header("cookie").as_deref(), Some("shared=yes"));
        server.shutdown().await;
        drop(second); // its idle connection with it, so the count below is `first`'s alone
        assert_no_leaks(&first);
    });
}

#[test]
fn with_cookies_off_nothing_is_kept_or_sent() {
    run(async {
        let server = ScriptServer::start(vec![answers([setting(&["a=1"]), ok("plain")])]);
        let client = Client::with_config(ClientConfig {
            cookies: None,
            ..ClientConfig::default()
        });
        get_text(&client, &server.url("/")).await.unwrap();
        get_text(&client, &server.url("/")).await.unwrap();
        assert_eq!(server.requests()[1].text(), server.get_head("/", ""));
        assert!(client.cookie_jar().is_none());
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "slow under Miri; the jar rule it checks is unit-tested (under Miri too) in src/http/cookie"
)]
fn cookies_refused_by_the_jar_are_never_sent() {
    run(async {
        let server = ScriptServer::start(vec![answers([
            setting(&[
                "other=1; Domain=example.com",
                "suffix=1; Domain=com",
                "secure=1; Secure",
                "=noname",
                "ok=1",
            ]),
            ok("filtered"),
        ])]);
        let client = Client::new();
        get_text(&client, &server.url("/")).await.unwrap();
        get_text(&client, &server.url("/")).await.unwrap();
        assert_eq!(server.requests()[1].header("cookie").as_deref(), Some("ok=1"));
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

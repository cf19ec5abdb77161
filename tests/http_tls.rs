//! HTTPS through evloop's client (the `tls` feature), against a rustls server on loopback
//! with certificates made at test time by scripts/tls_certs.sh (a throwaway CA).
//!
//! What it proves: a GET over https verifies the chain and host name, sends SNI and ALPN
//! `http/1.1`, and its connection is pooled and reused; each certificate failure (untrusted,
//! self-signed, expired, wrong host), a handshake that never ends and a server that speaks
//! plain HTTP give an error that says what to try; a close-delimited body cut without
//! `close_notify` is an error while a complete Content-Length body is not; a redirect from
//! https to http is followed without the credentials. Every test ends with the loop's
//! registrations back at the client's idle connections.
//!
//! Run with: `cargo test --features tls --test http_tls`

#![cfg(feature = "tls")]

#[path = "support/script_server.rs"]
mod script_server;
#[path = "support/tls_peer.rs"]
mod tls_peer;

use std::time::Duration;

use evloop::http::{Client, ClientConfig, Error, TlsError};
use script_server::assert_no_leaks;
use tls_peer::{Reply, TlsServer, ca_pem, hello, plain_http_server, plain_once};

/// A client that trusts the test CA (and the bundled roots).
fn trusting_client() -> Client {
    let mut config = ClientConfig::default();
    assert_eq!(config.tls.add_root_pem(&ca_pem()).expect("the CA parses"), 1);
    Client::with_config(config)
}

/// The TLS error of a GET to `url`.
fn tls_error(client: &Client, url: &str) -> TlsError {
    let error = evloop::run(client.get(url).send()).expect_err("the request must fail");
    assert_no_leaks_outside(client);
    match error {
        Error::Tls(tls) => tls,
        other => panic!("expected a TLS error, got {other:?}: {other}"),
    }
}

/// `assert_no_leaks` for a loop that has finished: a fresh one must show nothing registered.
fn assert_no_leaks_outside(client: &Client) {
    evloop::run(async { assert_no_leaks(client) });
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn a_get_over_https_verifies_the_certificate_and_sends_sni_and_alpn() {
    let server = TlsServer::start("localhost", hello);
    let client = trusting_client();
    let body = evloop::run(async {
        let response = client.get(&server.url("/hello")).send().await.expect("a response");
        assert_eq!(response.status(), 200);
        assert_eq!(response.url().to_string(), server.url("/hello"));
        let body = response.text().await.expect("a body");
        assert_no_leaks(&client);
        body
    });
    assert_eq!(body, "hello");
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].sni.as_deref(), Some("localhost"));
    assert_eq!(seen[0].alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(seen[0].line, "GET /hello HTTP/1.1");
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn pooled_https_connections_are_reused() {
    let server = TlsServer::start("localhost", hello);
    let client = trusting_client();
    evloop::run(async {
        for _ in 0..3 {
            let text = client
                .get(&server.url("/"))
                .send()
                .await
                .expect("a response")
                .text()
                .await;
            assert_eq!(text.expect("a body"), "hello");
            assert_eq!(client.idle_connections(), 1);
        }
        assert_no_leaks(&client);
    });
    assert_eq!(server.accepted(), 1, "three requests, one connection");
    assert_eq!(server.seen().len(), 3);
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn a_certificate_from_an_unknown_ca_is_refused_with_a_hint_to_pass_the_ca() {
    let server = TlsServer::start("localhost", hello);
    let error = tls_error(&Client::new(), &server.url("/")); // bundled roots only
    assert!(matches!(error, TlsError::Untrusted), "{error:?}");
    assert!(error.to_string().contains("--cacert"), "{error}");
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn a_self_signed_certificate_is_refused_as_untrusted() {
    let server = TlsServer::start("selfsigned", hello);
    let error = tls_error(&trusting_client(), &server.url("/"));
    assert!(matches!(error, TlsError::Untrusted), "{error:?}");
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn an_expired_certificate_is_refused_naming_the_day_it_expired() {
    let server = TlsServer::start("expired", hello);
    let error = tls_error(&trusting_client(), &server.url("/"));
    assert!(matches!(error, TlsError::Expired { .. }), "{error:?}");
    assert!(error.to_string().contains("expired on 2020-01-02"), "{error}");
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn a_certificate_for_another_host_is_refused_naming_both() {
    let server = TlsServer::start("other", hello);
    let error = tls_error(&trusting_client(), &server.url("/"));
    assert!(matches!(error, TlsError::WrongHost { .. }), "{error:?}");
    assert!(
        error.to_string().contains("is for other.example, not localhost"),
        "{error}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "runs rustls's handshake, far too slow under Miri")]
fn a_handshake_that_never_finishes_times_out_under_the_connect_timeout() {
    // The kernel completes the TCP handshake from the backlog; nothing ever answers TLS.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!("https://127.0.0.1:{}/", listener.local_addr().expect("bound").port());
    let runtime = evloop::Runtime::builder().virtual_clock().build().expect("a runtime");
    let client = Client::with_config(ClientConfig {
        connect_timeout: Some(Duration::from_secs(5)),
        ..Default::default()
    });
    runtime.block_on(async {
        let start = evloop::time::now();
        let error = client.get(&url).send().await.expect_err("no TLS answer");
        assert_eq!(evloop::time::now() - start, Duration::from_secs(5));
        assert!(error.is_timeout(), "{error:?}");
        assert!(
            matches!(error, Error::Tls(TlsError::HandshakeTimeout { after }) if after == Duration::from_secs(5)),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("TLS handshake timed out after 5s"),
            "{error}"
        );
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(miri, ignore = "runs rustls's handshake, far too slow under Miri")]
fn a_plain_http_server_on_an_https_url_is_named_as_such() {
    let (addr, thread) = plain_http_server();
    let error = tls_error(&trusting_client(), &format!("https://127.0.0.1:{}/", addr.port()));
    thread.join().expect("the server thread");
    assert!(matches!(error, TlsError::NotTls), "{error:?}");
    assert!(error.to_string().contains("try http://"), "{error}");
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn a_close_delimited_body_cut_without_close_notify_is_an_error() {
    let server = TlsServer::start("localhost", |_| Reply::UntilClose {
        body: "partial",
        close_notify: false,
    });
    let client = trusting_client();
    evloop::run(async {
        let response = client.get(&server.url("/")).send().await.expect("the head arrives");
        let error = response
            .bytes()
            .await
            .expect_err("a truncation must not pass as a body");
        assert!(matches!(error, Error::Tls(TlsError::NoCloseNotify)), "{error:?}");
        assert!(error.to_string().contains("close_notify"), "{error}");
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn a_close_delimited_body_ended_by_close_notify_is_complete() {
    let server = TlsServer::start("localhost", |_| Reply::UntilClose {
        body: "whole",
        close_notify: true,
    });
    let client = trusting_client();
    evloop::run(async {
        let text = client
            .get(&server.url("/"))
            .send()
            .await
            .expect("a response")
            .text()
            .await;
        assert_eq!(text.expect("a complete body"), "whole");
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn a_complete_content_length_body_needs_no_close_notify() {
    let server = TlsServer::start("localhost", |_| Reply::OkThenDrop("sized"));
    let client = trusting_client();
    evloop::run(async {
        let text = client
            .get(&server.url("/"))
            .send()
            .await
            .expect("a response")
            .text()
            .await;
        assert_eq!(text.expect("the body its length announced"), "sized");
        evloop::time::sleep(Duration::from_millis(50)).await; // the server's close arrives
        assert_no_leaks(&client);
    });
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl and rustls's handshake, far too slow under Miri")]
fn a_redirect_from_https_to_http_is_followed_without_the_credentials() {
    let (plain, thread) = plain_once();
    static TARGET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TARGET
        .set(format!("http://127.0.0.1:{}/landed", plain.port()))
        .expect("set once");
    let server = TlsServer::start("localhost", |_| Reply::Redirect(TARGET.get().expect("set").clone()));
    let client = trusting_client();
    let url = format!("https://user:secret@localhost:{}/start", server.addr.port());
    evloop::run(async {
        let response = client.get(&url).send().await.expect("the redirect is followed");
        assert_eq!(response.url().to_string(), *TARGET.get().expect("set"));
        assert_eq!(response.text().await.expect("a body"), "plain");
        assert_no_leaks(&client);
    });
    assert!(server.seen()[0].authorization, "the https origin got the credentials");
    let head = thread.join().expect("the plain server").to_ascii_lowercase();
    assert!(head.starts_with("get /landed http/1.1"), "{head}");
    assert!(
        !head.contains("authorization"),
        "credentials leaked to another origin: {head}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "runs openssl, which Miri cannot")]
fn bad_root_certificates_are_refused_when_added() {
    let mut config = ClientConfig::default();
    let error = config.tls.add_root_pem(b"not a certificate").expect_err("no PEM block");
    assert!(
        matches!(error, Error::Tls(TlsError::BadRootCertificate { .. })),
        "{error:?}"
    );
    let error = config.tls.add_root_der(b"\x30\x03junk").expect_err("not X.509");
    assert!(error.to_string().contains("root certificate"), "{error}");
    let error = config
        .tls
        .add_root_file("/nonexistent/ca.pem")
        .expect_err("no such file");
    assert!(error.to_string().contains("cannot read /nonexistent/ca.pem"), "{error}");
    let before = config.tls.root_count();
    let added = config
        .tls
        .add_root_file(tls_peer::certs().join("ca.pem"))
        .expect("the CA file");
    assert_eq!((added, config.tls.root_count()), (1, before + 1));
}

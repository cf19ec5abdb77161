//! JSON bodies both ways (the `json` feature): `RequestBuilder::json` sends a value with its
//! Content-Type, `Response::json` parses one back, and each failure says what went wrong.
#![cfg(feature = "json")]

#[path = "support/script_server.rs"]
mod script_server;

use std::collections::BTreeMap;

use evloop::http::{Client, Error};
use script_server::{ScriptServer, answers, assert_no_leaks, ok, run};
use serde_json::{Value, json};

#[test]
fn a_json_value_goes_out_with_its_content_type_and_a_json_answer_parses_back() {
    run(async {
        let answer = r#"{"id": 7, "tags": ["a", "b"], "ok": true}"#;
        let server = ScriptServer::start(vec![answers([ok(answer)])]);
        let client = Client::new();
        let sent = json!({"name": "Zoë", "n": [1, 2, 3]});
        let response = client.post(&server.url("/api")).json(&sent).send().await.unwrap();
        let got: Value = response.json().await.unwrap();
        assert_eq!(got, json!({"id": 7, "tags": ["a", "b"], "ok": true}));
        let request = &server.requests()[0];
        assert_eq!(request.header("content-type").as_deref(), Some("application/json"));
        let body: Value = serde_json::from_slice(request.body()).unwrap();
        assert_eq!(body, sent);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_body_that_is_not_the_json_expected_is_an_error_that_says_so() {
    run(async {
        let server = ScriptServer::start(vec![answers([ok("<html>not json</html>"), ok("[1, 2]")])]);
        let client = Client::new();
        let error = client
            .get(&server.url("/html"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Json(_)), "{error:?}");
        assert!(
            error.to_string().starts_with("the body is not the JSON expected"),
            "{error}"
        );
        let wrong_shape = client.get(&server.url("/list")).send().await.unwrap();
        assert!(matches!(
            wrong_shape.json::<BTreeMap<String, u32>>().await,
            Err(Error::Json(_))
        ));
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_value_that_cannot_be_serialized_fails_before_anything_is_sent() {
    run(async {
        let server = ScriptServer::start(vec![]);
        let client = Client::new();
        // JSON object keys must be strings: a map keyed by a tuple cannot be written.
        let bad: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
        let error = client.post(&server.url("/api")).json(&bad).send().await.unwrap_err();
        assert!(matches!(error, Error::Json(_)), "{error:?}");
        assert_eq!(server.accepted(), 0, "nothing was sent");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

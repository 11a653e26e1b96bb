//! Hostile input over HTTP: each gets a clear 4xx (or the connection closed), and the server
//! keeps answering others meanwhile.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;
use crate::receiving::Hub;

#[tokio::test]
async fn a_slow_sender_is_cut_off_while_others_are_served() {
    let hub = Hub::with_app(
        TestApp::spawn_with(|config| config.header_timeout = Duration::from_millis(500)).await,
    )
    .await;
    // Headers trickling in, never finished.
    let mut slow = TcpStream::connect(hub.app.addr).await.unwrap();
    slow.write_all(b"POST /hooks/src_x HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let (status, _) = hub.api(Method::GET, "/api/v1/whoami", None).await;
    assert_eq!(status, StatusCode::OK, "others are served meanwhile");

    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the slow connection was not closed");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn floods_and_tricks_get_a_4xx() {
    let hub = Hub::start().await;
    let client = hub.app.client();

    // A flood of headers.
    let mut flood = client.get(hub.app.url("/healthz"));
    for i in 0..300 {
        flood = flood.header(format!("x-flood-{i}"), "x");
    }
    let status = flood.send().await.map(|r| r.status());
    assert!(
        status.as_ref().map_or(true, |s| s.is_client_error()),
        "{status:?}"
    );

    // JSON nested deeper than any parser should follow.
    let deep = format!(
        r#"{{"event_type":"a.b","payload":{}1{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let response = client
        .post(hub.app.url("/api/v1/messages"))
        .bearer_auth(hub.key())
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    let answer: Value = response.json().await.unwrap();
    assert!(answer["error"]["message"].is_string(), "{answer}");

    // A body far over the API's limit.
    let huge = client
        .post(hub.app.url("/api/v1/event-types"))
        .bearer_auth(hub.key())
        .header("content-type", "application/json")
        .body(vec![b' '; 8 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Path tricks do not reach the API without a key, nor leave the routes.
    for path in [
        "/hooks/../api/v1/whoami",
        "/hooks/%2e%2e/api/v1/whoami",
        "/hooks/%ff%fe",
        "/api/v1/events/%00",
        "/api/v1/events/99999999999999999999999",
    ] {
        let response = client.get(hub.app.url(path)).send().await.unwrap();
        let status = response.status();
        assert!(status.is_client_error(), "{path}: {status}");
    }
    // Not UTF-8 in the query, and JSON of the wrong shape.
    let (status, _) = hub.api(Method::GET, "/api/v1/events?q=%ff%fe", None).await;
    assert!(status.is_client_error() || status.is_success(), "{status}");
    let (status, answer) = hub
        .api(Method::POST, "/api/v1/sources", Some(json!([1, 2, 3])))
        .await;
    assert!(status.is_client_error(), "{status}: {answer}");

    let healthy = client.get(hub.app.url("/healthz")).send().await.unwrap();
    assert_eq!(healthy.status(), StatusCode::OK);
}

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

#[tokio::test]
async fn a_body_trickled_in_is_cut_off_at_a_total_deadline() {
    let app = TestApp::spawn_with(|config| config.body_timeout = Duration::from_secs(2)).await;
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"POST /hooks/src_x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    // A byte every 300 ms: never a pause the old per-frame timeout would notice.
    let mut answer = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            tokio::select! {
                read = slow.read(&mut answer) => return read,
                () = tokio::time::sleep(Duration::from_millis(300)) => {
                    let _ = slow.write_all(b"x").await;
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "still reading the body after 8 s");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

/// A connection from `ip` (any of 127.0.0.0/8 reaches the hub) that has had one request
/// answered, so the hub has surely counted it.
async fn connection_from(ip: &str, app: &TestApp) -> Option<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(app.addr).await.ok()?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .ok()?;
    let mut answer = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .ok()?
        .ok()?;
    answer[..n].starts_with(b"HTTP/1.1 200").then_some(stream)
}

#[tokio::test]
async fn one_client_address_cannot_take_every_connection() {
    let app = TestApp::spawn_with(|config| config.max_connections_per_ip = 8).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(
            connection_from("127.0.0.2", &app)
                .await
                .expect("within the limit"),
        );
    }
    assert!(
        connection_from("127.0.0.2", &app).await.is_none(),
        "a ninth connection from the same address was served"
    );
    // Another client is served meanwhile, and a freed slot can be used again.
    let health = app.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    drop(held.pop());
    let mut again = None;
    for _ in 0..50 {
        again = connection_from("127.0.0.2", &app).await;
        if again.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "the freed slot was not given back");
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed() {
    let app = TestApp::spawn_with(|config| config.header_timeout = Duration::from_secs(1)).await;
    let tcp = TcpStream::connect(app.addr).await.unwrap();
    let (send, connection) = h2::client::handshake(tcp).await.unwrap();
    // The connection task answers the hub's pings, as a live client does.
    let started = Instant::now();
    let ended = tokio::spawn(connection);
    let send = send.ready().await.unwrap();
    // The hub's settings arrive on the connection task's time.
    for _ in 0..100 {
        if send.current_max_send_streams() == 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(send.current_max_send_streams(), 100, "streams are bounded");
    let ended = tokio::time::timeout(Duration::from_secs(6), ended).await;
    assert!(ended.is_ok(), "the idle connection is still open after 6 s");
    assert!(started.elapsed() >= Duration::from_millis(900));
}

//! The development relay: a source's events streamed as server-sent events, and `hookhub
//! listen` (the real binary) replaying them to a real local receiver, across a hub restart.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::BIN;
use crate::receiving::{Hub, github_delivery};

/// A local receiver, as a developer's app under test: records each request, answers 204.
#[derive(Clone, Default)]
struct Local {
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    url: String,
}

impl Local {
    async fn start() -> Self {
        let mut local = Self::default();
        let received = Arc::clone(&local.received);
        let app = axum::Router::new().route(
            "/webhook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let received = Arc::clone(&received);
                async move {
                    received.lock().unwrap().push((headers, body));
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        local.url = format!("http://{}/webhook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        local
    }

    async fn wait_for(&self, n: usize) -> Vec<(HeaderMap, Bytes)> {
        for _ in 0..1000 {
            if self.received.lock().unwrap().len() >= n {
                return self.received.lock().unwrap().clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "the local receiver got {} of {n}",
            self.received.lock().unwrap().len()
        );
    }
}

/// `hookhub listen`, its printed lines collected as they come.
struct Listener {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Listener {
    fn start(dir: &tempfile::TempDir, args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .current_dir(dir.path())
            .arg("listen")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let collected = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                collected.lock().unwrap().push(line);
            }
        });
        Self { child, lines }
    }

    async fn wait_for_lines(&self, n: usize) -> Vec<String> {
        for _ in 0..1000 {
            if self.lines.lock().unwrap().len() >= n {
                return self.lines.lock().unwrap().clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("listen printed {:?}", self.lines.lock().unwrap());
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn github_source(hub: &Hub) -> (String, String, String) {
    let source = hub
        .create_source(json!({"name": "GitHub", "provider": "github"}))
        .await;
    let field = |name: &str| source[name].as_str().unwrap().to_owned();
    (field("id"), field("url"), field("secret"))
}

/// Reads SSE `webhook` events from a stream until `n` came.
async fn read_events(response: &mut reqwest::Response, n: usize) -> Vec<Value> {
    let mut text = String::new();
    let mut events = Vec::new();
    while events.len() < n {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("the stream went quiet")
            .unwrap()
            .expect("the stream ended");
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            if block.contains("event: webhook") {
                let data = block
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap();
                let id = block.lines().find_map(|l| l.strip_prefix("id: ")).unwrap();
                let event: Value = serde_json::from_str(data).unwrap();
                assert_eq!(event["id"].to_string(), id);
                events.push(event);
            }
        }
    }
    events
}

#[tokio::test]
async fn the_stream_resumes_after_the_last_event_id_or_from_a_time() {
    let hub = Hub::start().await;
    let (id, url, secret) = github_source(&hub).await;
    let started = chrono::Utc::now() - chrono::Duration::seconds(1);
    let mut ids = Vec::new();
    for n in 1..=3 {
        let body = format!(r#"{{"n":{n}}}"#);
        let response =
            github_delivery(&hub, &url, &secret, body.as_bytes(), &format!("d-{n}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        ids.push(
            response.json::<Value>().await.unwrap()["event_id"]
                .as_i64()
                .unwrap(),
        );
    }
    let stream = |last: Option<i64>, since: Option<String>| {
        let query = since
            .map(|since| form_urlencoded::byte_serialize(since.as_bytes()).collect::<String>())
            .map(|since| format!("?since={since}"))
            .unwrap_or_default();
        let mut request = hub
            .app
            .client()
            .get(hub.app.url(&format!("/api/v1/sources/{id}/stream{query}")))
            .bearer_auth(hub.key());
        if let Some(last) = last {
            request = request.header("last-event-id", last.to_string());
        }
        request.send()
    };

    let mut resumed = stream(Some(ids[0]), None).await.unwrap();
    assert_eq!(resumed.status(), StatusCode::OK);
    assert_eq!(resumed.headers()["content-type"], "text/event-stream");
    let events = read_events(&mut resumed, 2).await;
    assert_eq!(events[0]["id"], ids[1]);
    assert_eq!(events[1]["id"], ids[2]);
    assert_eq!(events[1]["body_base64"], "eyJuIjozfQ=="); // {"n":3}
    assert_eq!(events[1]["event_type"], "push");
    assert!(
        events[1]["headers"]
            .as_array()
            .unwrap()
            .contains(&json!(["x-github-delivery", "d-3"]))
    );

    // From a time: all three; then a new one as it is stored.
    let mut from_time = stream(None, Some(started.to_rfc3339())).await.unwrap();
    assert_eq!(read_events(&mut from_time, 3).await[0]["id"], ids[0]);
    let response = github_delivery(&hub, &url, &secret, b"{}", "d-4").await;
    let fourth = response.json::<Value>().await.unwrap()["event_id"].clone();
    assert_eq!(read_events(&mut from_time, 1).await[0]["id"], fourth);
    assert_eq!(read_events(&mut resumed, 1).await[0]["id"], fourth);

    // Refusals say why, before any stream starts.
    let (status, body) = hub
        .api(
            reqwest::Method::GET,
            "/api/v1/sources/src_nope/stream",
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let bad_id = hub
        .app
        .client()
        .get(hub.app.url(&format!("/api/v1/sources/{id}/stream")))
        .bearer_auth(hub.key())
        .header("last-event-id", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_id.status(), StatusCode::BAD_REQUEST);
    let no_key = hub
        .app
        .client()
        .get(hub.app.url(&format!("/api/v1/sources/{id}/stream")))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn listen_replays_each_event_exactly_and_misses_nothing_across_a_hub_restart() {
    let mut hub = Hub::start().await;
    let (id, url, secret) = github_source(&hub).await;
    let local = Local::start().await;
    let dir = tempfile::tempdir().unwrap();
    let since = (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339();
    let hub_url = hub.app.url("");
    let listener = Listener::start(
        &dir,
        &[
            "--hub",
            &hub_url,
            "--key",
            hub.key(),
            "--source",
            &id,
            "--forward",
            &local.url,
            "--since",
            &since,
        ],
    );

    // Larger than smee.io passes (about 156 KB), well under max_body_bytes.
    let big = format!(r#"{{"blob":"{}"}}"#, "x".repeat(600 * 1024));
    let response = github_delivery(&hub, &url, &secret, big.as_bytes(), "d-1").await;
    assert_eq!(response.status(), StatusCode::OK);
    let first = local.wait_for(1).await;
    assert_eq!(
        first[0].1,
        big.as_bytes(),
        "the body was not replayed exactly"
    );
    assert_eq!(first[0].0["x-github-event"], "push");
    assert_eq!(first[0].0["x-github-delivery"], "d-1");
    assert!(
        first[0].0["x-hub-signature-256"]
            .to_str()
            .unwrap()
            .starts_with("sha256=")
    );

    // The hub goes away; what it stores as soon as it is back reaches the listener when it
    // reconnects after the last event it replayed, and that one is not replayed again.
    hub.app.restart().await;
    for n in 2..=3 {
        let body = format!(r#"{{"n":{n}}}"#);
        let response =
            github_delivery(&hub, &url, &secret, body.as_bytes(), &format!("d-{n}")).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let all = local.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        local.received.lock().unwrap().len(),
        3,
        "an event was replayed twice"
    );
    assert_eq!(all[1].1, &b"{\"n\":2}"[..]);
    assert_eq!(all[2].1, &b"{\"n\":3}"[..]);
    let lines = listener.wait_for_lines(3).await;
    assert!(
        lines
            .iter()
            .all(|l| l.contains("push") && l.contains("204")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn listen_stops_at_once_when_the_key_is_refused() {
    let hub = Hub::start().await;
    let (id, _, _) = github_source(&hub).await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(BIN);
    command
        .current_dir(dir.path())
        .args(["listen", "--hub", &hub.app.url(""), "--key", "hh_wrong"])
        .args(["--source", &id, "--forward", "http://127.0.0.1:9/webhook"]);
    // Waited for off the test's one thread, which the hub it calls runs on.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the hub refused the stream: HTTP 401"),
        "{stderr}"
    );
}

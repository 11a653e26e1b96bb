//! Handlers over real HTTP: configured through the dashboard's server functions, run in order,
//! answering for the chain, retried until they succeed, run again after a restart, and
//! forwarding to a real receiver.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::receiving::handlers::{Handler, HandlerKind, SettingError};
use server::storage::events::Event;

use crate::helpers::{SlowReceiver, TestApp};
use crate::receiving::{Hub, PUSH, github_delivery};

/// A handler kind for tests: records each run's event id and fails the first `failures` runs.
#[derive(Clone, Default)]
struct Recorder {
    runs: Arc<Mutex<Vec<i64>>>,
    failures: Arc<AtomicUsize>,
}

impl HandlerKind for Recorder {
    fn name(&self) -> &'static str {
        "record"
    }

    fn build(&self, _config: &Value) -> Result<Arc<dyn Handler>, SettingError> {
        Ok(Arc::new(self.clone()))
    }
}

impl Handler for Recorder {
    fn run<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            self.runs.lock().unwrap().push(event.id);
            let left = self.failures.load(Ordering::SeqCst);
            if left > 0 {
                self.failures.store(left - 1, Ordering::SeqCst);
                return Err(format!("refusing on purpose, {left} to go"));
            }
            Ok("recorded".to_owned())
        })
    }
}

/// A handler kind whose first run never ends, as if the process died in the middle of it.
#[derive(Clone, Default)]
struct HangOnce {
    started: Arc<AtomicUsize>,
}

impl HandlerKind for HangOnce {
    fn name(&self) -> &'static str {
        "hang-once"
    }

    fn build(&self, _config: &Value) -> Result<Arc<dyn Handler>, SettingError> {
        Ok(Arc::new(self.clone()))
    }
}

impl Handler for HangOnce {
    fn run<'a>(&'a self, _event: &'a Event) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            if self.started.fetch_add(1, Ordering::SeqCst) == 0 {
                std::future::pending::<()>().await;
            }
            Ok("finished the second time".to_owned())
        })
    }
}

async fn hub_with(kinds: Vec<Arc<dyn HandlerKind>>, retries: &str) -> Hub {
    let retries = retries.to_owned();
    let app = TestApp::spawn_with_kinds(
        move |config| {
            config.handler_retries = retries
                .split(',')
                .map(|s| Duration::from_secs_f64(s.parse().unwrap()))
                .collect();
            config.outbound_allow = "127.0.0.0/8".parse().unwrap();
        },
        kinds,
    )
    .await;
    Hub::with_app(app).await
}

/// Adds a handler through the dashboard's server function; the answer's status and body.
pub async fn add_handler(
    hub: &Hub,
    client: &Client,
    fields: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut form: Vec<(String, String)> = [
        "source_id",
        "kind",
        "position",
        "event_types",
        "status",
        "content_type",
        "body",
        "url",
        "publish_as",
    ]
    .iter()
    .map(|name| (format!("handler[{name}]"), String::new()))
    .collect();
    for (name, value) in fields {
        let key = format!("handler[{name}]");
        form.iter_mut().find(|(k, _)| *k == key).unwrap().1 = (*value).to_owned();
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let response = hub.app.call::<app::api::AddHandler>(client, &form).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn event(hub: &Hub, id: i64) -> Value {
    let (status, event) = hub
        .api(reqwest::Method::GET, &format!("/api/v1/events/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    event
}

/// Polls the event until its handling is `want`, or fails after a few seconds.
async fn wait_for_handling(hub: &Hub, id: i64, want: &str) -> Value {
    for _ in 0..200 {
        let event = event(hub, id).await;
        if event["handling"] == want {
            return event;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("event {id} never reached {want}: {}", event(hub, id).await);
}

struct Source {
    id: String,
    url: String,
    secret: String,
}

async fn github_source(hub: &Hub) -> Source {
    let source = hub
        .create_source(json!({"name": "gh", "provider": "github"}))
        .await;
    let text = |key: &str| source[key].as_str().unwrap().to_owned();
    Source {
        id: text("id"),
        url: text("url"),
        secret: text("secret"),
    }
}

async fn deliver(
    hub: &Hub,
    source: &Source,
    event_type: &str,
    delivery: &str,
) -> reqwest::Response {
    let signature = format!(
        "sha256={}",
        hex::encode(crate::receiving::hmac_sha256(
            source.secret.as_bytes(),
            &[PUSH]
        ))
    );
    if event_type == "push" {
        return github_delivery(hub, &source.url, &source.secret, PUSH, delivery).await;
    }
    hub.app
        .client()
        .post(&source.url)
        .header("content-type", "application/json")
        .header("x-github-event", event_type)
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", signature)
        .body(PUSH.to_vec())
        .send()
        .await
        .unwrap()
}

async fn event_id(response: reqwest::Response) -> i64 {
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Value>().await.unwrap()["event_id"]
        .as_i64()
        .unwrap()
}

fn run_summary(event: &Value) -> Vec<(String, String, i64)> {
    event["handler_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
                r["attempts"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_respond_handler_answers_the_sender_and_stops_the_chain() {
    let recorder = Recorder::default();
    let hub = hub_with(vec![Arc::new(recorder.clone())], "0.05").await;
    let client = hub.app.set_up().await;
    let source = github_source(&hub).await;

    for fields in [
        // Global, first in the merged chain.
        vec![("kind", "record"), ("position", "10")],
        vec![
            ("source_id", source.id.as_str()),
            ("kind", "respond"),
            ("position", "20"),
            ("event_types", "ping"),
            ("status", "202"),
            ("content_type", "text/plain"),
            ("body", "pong"),
        ],
        vec![
            ("source_id", source.id.as_str()),
            ("kind", "record"),
            ("position", "30"),
        ],
    ] {
        let (status, answer) = add_handler(&hub, &client, &fields).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }

    let ping = deliver(&hub, &source, "ping", "h-ping").await;
    assert_eq!(ping.status(), StatusCode::ACCEPTED);
    assert_eq!(ping.text().await.unwrap(), "pong");
    let push = event_id(deliver(&hub, &source, "push", "h-push").await).await;

    let push = wait_for_handling(&hub, push, "ok").await;
    assert_eq!(
        run_summary(&push),
        [
            ("record".to_owned(), "ok".to_owned(), 1),
            ("record".to_owned(), "ok".to_owned(), 1)
        ]
    );
    // The ping was stored too; only the global handler before the answer ran.
    let (_, pings) = hub
        .api(reqwest::Method::GET, "/api/v1/events?event_type=ping", None)
        .await;
    let ping_id = pings["data"][0]["id"].as_i64().unwrap();
    let ping = wait_for_handling(&hub, ping_id, "ok").await;
    assert_eq!(run_summary(&ping).len(), 1);
    assert_eq!(recorder.runs.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_failing_handler_is_retried_until_it_succeeds() {
    let recorder = Recorder::default();
    recorder.failures.store(2, Ordering::SeqCst);
    let hub = hub_with(vec![Arc::new(recorder.clone())], "0.05,0.05,0.05").await;
    let client = hub.app.set_up().await;
    let source = github_source(&hub).await;
    add_handler(
        &hub,
        &client,
        &[("source_id", &source.id), ("kind", "record")],
    )
    .await;

    let id = event_id(deliver(&hub, &source, "push", "retry-1").await).await;
    let event = wait_for_handling(&hub, id, "ok").await;
    assert_eq!(
        run_summary(&event),
        [("record".to_owned(), "ok".to_owned(), 3)]
    );
    assert_eq!(event["handler_runs"][0]["outcome"], "recorded");
    assert_eq!(*recorder.runs.lock().unwrap(), [id, id, id]);
}

#[tokio::test]
async fn a_handler_that_keeps_failing_is_marked_failed_and_shown() {
    let recorder = Recorder::default();
    recorder.failures.store(usize::MAX, Ordering::SeqCst);
    let hub = hub_with(vec![Arc::new(recorder.clone())], "0.05").await;
    let client = hub.app.set_up().await;
    let source = github_source(&hub).await;
    add_handler(
        &hub,
        &client,
        &[("source_id", &source.id), ("kind", "record")],
    )
    .await;

    let id = event_id(deliver(&hub, &source, "push", "fail-1").await).await;
    let event = wait_for_handling(&hub, id, "failed").await;
    assert_eq!(
        run_summary(&event),
        [("record".to_owned(), "failed".to_owned(), 2)]
    );
    let (_, failed) = hub
        .api(reqwest::Method::GET, "/api/v1/events?handling=failed", None)
        .await;
    assert_eq!(failed["data"][0]["id"], id);

    let page = hub.app.get(&client, &format!("/events/{id}")).await;
    let html = page.text().await.unwrap();
    assert!(html.contains("refusing on purpose"), "{html}");
}

#[tokio::test]
async fn a_run_cut_off_by_a_restart_runs_again() {
    let hang = HangOnce::default();
    let mut hub = hub_with(vec![Arc::new(hang.clone())], "0.05").await;
    let client = hub.app.set_up().await;
    let source = github_source(&hub).await;
    add_handler(
        &hub,
        &client,
        &[("source_id", &source.id), ("kind", "hang-once")],
    )
    .await;

    let id = event_id(deliver(&hub, &source, "push", "cut-1").await).await;
    for _ in 0..200 {
        if hang.started.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        hang.started.load(Ordering::SeqCst),
        1,
        "the run never started"
    );
    assert_eq!(event(&hub, id).await["handling"], "pending");

    hub.app.restart().await;
    let event = wait_for_handling(&hub, id, "ok").await;
    assert_eq!(
        event["handler_runs"][0]["outcome"],
        "finished the second time"
    );
    assert_eq!(hang.started.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_forward_handler_relays_the_exact_request() {
    let received: Arc<Mutex<Vec<(axum::http::HeaderMap, axum::body::Bytes)>>> = Arc::default();
    let sink = received.clone();
    let receiver = axum::Router::new().route(
        "/relay",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let sink = sink.clone();
                async move {
                    sink.lock().unwrap().push((headers, body));
                    "thanks"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay = format!("http://{}/relay", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let hub = hub_with(Vec::new(), "0.05").await;
    let client = hub.app.set_up().await;
    let source = github_source(&hub).await;
    let (status, answer) = add_handler(
        &hub,
        &client,
        &[
            ("source_id", &source.id),
            ("kind", "forward"),
            ("url", "ftp://nope"),
        ],
    )
    .await;
    assert!(!status.is_success());
    assert_eq!(answer["Invalid"]["field"], "url", "{answer}");
    let (status, answer) = add_handler(
        &hub,
        &client,
        &[
            ("source_id", &source.id),
            ("kind", "forward"),
            ("url", &relay),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let id = event_id(deliver(&hub, &source, "push", "fwd-1").await).await;
    let event = wait_for_handling(&hub, id, "ok").await;
    assert!(
        event["handler_runs"][0]["outcome"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 200"),
        "{event}"
    );
    let received = received.lock().unwrap();
    let (headers, body) = &received[0];
    assert_eq!(body.as_ref(), PUSH);
    assert_eq!(headers["x-github-delivery"], "fwd-1");
    assert!(headers.contains_key("x-hub-signature-256"));
    assert_eq!(headers["x-hookhub-event-id"], id.to_string().as_str());
}

#[tokio::test]
async fn a_respond_handler_cannot_serve_a_page_and_its_reply_is_sandboxed() {
    let hub = hub_with(Vec::new(), "0.05").await;
    let client = hub.app.set_up().await;
    let source = github_source(&hub).await;
    let respond = |content_type| {
        [
            ("source_id", source.id.as_str()),
            ("kind", "respond"),
            ("status", "200"),
            ("content_type", content_type),
            ("body", "<script>alert(document.domain)</script>"),
        ]
    };
    for active in ["text/html", "image/svg+xml", "text/plain, text/html"] {
        let (status, answer) = add_handler(&hub, &client, &respond(active)).await;
        assert!(!status.is_success(), "{active}: {status} {answer}");
        assert_eq!(answer["Invalid"]["field"], "content_type", "{answer}");
    }

    let (status, answer) = add_handler(&hub, &client, &respond("text/plain")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let reply = deliver(&hub, &source, "push", "sandboxed-1").await;
    assert_eq!(reply.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        reply.headers()["content-security-policy"],
        "sandbox; default-src 'none'"
    );
}

#[tokio::test]
async fn a_forward_handler_to_a_refused_address_is_refused_when_saved() {
    // No outbound_allow: loopback, private and metadata addresses are refused.
    let hub = Hub::with_app(TestApp::spawn().await).await;
    let client = hub.app.set_up().await;
    let source = github_source(&hub).await;
    for url in [
        "http://127.0.0.1:9/relay",
        "http://localhost:9/relay",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/",
    ] {
        let (status, answer) = add_handler(
            &hub,
            &client,
            &[("source_id", &source.id), ("kind", "forward"), ("url", url)],
        )
        .await;
        assert!(!status.is_success(), "{url}: {status} {answer}");
        assert_eq!(answer["Invalid"]["field"], "url", "{url}: {answer}");
    }
    let handlers: Value = hub
        .app
        .call::<app::api::ListHandlers>(&client, &[("source_id", &source.id)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(handlers, json!([]));
}

#[tokio::test]
async fn a_run_under_way_at_shutdown_is_finished_and_recorded_before_the_hub_stops() {
    let receiver = SlowReceiver::start().await;
    let mut hub = hub_with(Vec::new(), "60").await;
    let client = hub.app.set_up().await;
    let source = github_source(&hub).await;
    let fields = [
        ("source_id", source.id.as_str()),
        ("kind", "forward"),
        ("url", receiver.url.as_str()),
    ];
    let (status, answer) = add_handler(&hub, &client, &fields).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let id = event_id(deliver(&hub, &source, "push", "drain-1").await).await;
    receiver.wait_for_a_request().await;

    // Stopped mid-run, the hub waits for the answer and records it; started again, it finds
    // nothing left to run.
    hub.app.restart().await;
    let event = wait_for_handling(&hub, id, "ok").await;
    assert_eq!(
        run_summary(&event),
        [("forward".to_owned(), "ok".to_owned(), 1)]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.requests(), 1);
}

#[tokio::test]
async fn a_handler_switched_off_or_moved_takes_effect_for_the_next_event() {
    let hub = hub_with(Vec::new(), "0.05").await;
    hub.app.set_up().await;
    let source = github_source(&hub).await;
    let path = format!("/api/v1/sources/{}/handlers", source.id);
    let respond = |status: u16, position: i32| {
        let settings = json!({"status": status, "body": status.to_string()});
        json!({"kind": "respond", "position": position, "settings": settings})
    };
    let (_, first) = hub
        .api(reqwest::Method::POST, &path, Some(respond(202, 10)))
        .await;
    hub.api(reqwest::Method::POST, &path, Some(respond(208, 20)))
        .await;
    let first = format!("{path}/{}", first["id"].as_str().unwrap());
    let answer = |id: &'static str| {
        let (hub, source) = (&hub, &source);
        async move { deliver(hub, source, "push", id).await.status().as_u16() }
    };
    assert_eq!(answer("switch-1").await, 202);

    // Disabled: the next handler answers.
    let (status, changed) = hub
        .api(
            reqwest::Method::PATCH,
            &first,
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["enabled"], false);
    assert_eq!(answer("switch-2").await, 208);

    // Enabled again but moved after the other: still the other.
    let (status, changed) = hub
        .api(
            reqwest::Method::PATCH,
            &first,
            Some(json!({"enabled": true, "position": 30})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["position"], 30);
    assert_eq!(answer("switch-3").await, 208);

    // Narrowed to pings only, and put first: pushes pass it by.
    hub.api(
        reqwest::Method::PATCH,
        &first,
        Some(json!({"position": 1, "event_types": ["ping"]})),
    )
    .await;
    assert_eq!(answer("switch-4").await, 208);
    let (status, refused) = hub
        .api(
            reqwest::Method::PATCH,
            &first,
            Some(json!({"position": -1})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, _) = hub
        .api(
            reqwest::Method::PATCH,
            &format!("{path}/hdl_missing"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

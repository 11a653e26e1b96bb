//! Sending over real HTTP: a real subscriber on a random port that records what it receives
//! and fails on demand, verified with the `standardwebhooks` crate.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SlowReceiver, TestApp, assert_page};
use crate::receiving::Hub;

/// One request the subscriber received.
#[derive(Clone)]
pub struct Received {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
    /// What the subscriber answered.
    pub status: u16,
}

/// A subscriber that records every request and answers with the queued statuses, then 200.
#[derive(Clone, Default)]
pub struct Subscriber {
    pub received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
    /// How long it takes to answer each request, once recorded.
    delay: Arc<Mutex<Duration>>,
    pub base: String,
}

impl Subscriber {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    pub async fn start_on(addr: &str) -> Self {
        let mut subscriber = Self::default();
        let state = subscriber.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    let status = state.answers.lock().unwrap().pop_front().unwrap_or(200);
                    state.received.lock().unwrap().push(Received {
                        path: uri.path().to_owned(),
                        query: uri.query().map(str::to_owned),
                        headers,
                        body,
                        at: Instant::now(),
                        status,
                    });
                    let delay = *state.delay.lock().unwrap();
                    tokio::time::sleep(delay).await;
                    AxumStatus::from_u16(status).unwrap()
                }
            },
        );
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        subscriber.base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        subscriber
    }

    pub fn answer(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend(statuses);
    }

    /// Answers every request from now on `delay` after it arrived.
    pub fn delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// Waits until at least `n` requests arrived, or fails after 10 s.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..1000 {
            if self.count() >= n {
                return self.received.lock().unwrap().clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the subscriber got {} of {n} requests", self.count());
    }
}

pub async fn hub(retries: &str) -> Hub {
    let retries = retries.to_owned();
    Hub::with_app(
        TestApp::spawn_with(move |config| {
            config.outbound_allow = "127.0.0.0/8".parse().unwrap();
            config.delivery_retries = retries
                .split(',')
                .map(|s| Duration::from_secs_f64(s.parse().unwrap()))
                .collect();
        })
        .await,
    )
    .await
}

impl Hub {
    pub async fn event_type(&self, name: &str) {
        let (status, answer) = self
            .api(
                Method::POST,
                "/api/v1/event-types",
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }

    pub async fn subscribe(&self, url: &str, event_types: &[&str]) -> Value {
        let (status, answer) = self
            .api(
                Method::POST,
                "/api/v1/subscriptions",
                Some(json!({"url": url, "event_types": event_types})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer
    }

    pub async fn publish(&self, event_type: &str, payload: Value) -> String {
        let (status, answer) = self
            .api(
                Method::POST,
                "/api/v1/messages",
                Some(json!({"event_type": event_type, "payload": payload})),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        answer["id"].as_str().unwrap().to_owned()
    }

    /// The only delivery of `message_id`, once it is no longer pending.
    pub async fn settled_delivery(&self, message_id: &str) -> Value {
        for _ in 0..500 {
            let (_, page) = self.api(Method::GET, "/api/v1/deliveries", None).await;
            if let Some(d) = page["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["message_id"] == message_id && d["status"] != "pending")
            {
                let id = d["id"].as_i64().unwrap();
                return self
                    .api(Method::GET, &format!("/api/v1/deliveries/{id}"), None)
                    .await
                    .1;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no settled delivery of {message_id}");
    }
}

#[tokio::test]
async fn subscribers_verify_every_delivery_with_a_standard_webhooks_library() {
    let hub = hub("0").await;
    let subscriber = Subscriber::start().await;
    hub.event_type("invoice.paid").await;
    hub.event_type("invoice.voided").await;
    hub.event_type("user.created").await;
    let subscription = hub
        .subscribe(&format!("{}/hooks", subscriber.base), &["invoice.*"])
        .await;
    let secret = subscription["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));

    let paid = hub
        .publish("invoice.paid", json!({"id": "in_1", "amount": 42}))
        .await;
    hub.publish("user.created", json!({"id": "u_1"})).await;
    let voided = hub.publish("invoice.voided", json!({"id": "in_2"})).await;

    let received = subscriber.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(subscriber.count(), 2, "user.created is not selected");
    let verifier = standardwebhooks::Webhook::new(secret).unwrap();
    for (request, message_id) in received.iter().zip([&paid, &voided]) {
        verifier
            .verify(&request.body, &request.headers)
            .expect("the signature verifies");
        assert_eq!(request.headers["webhook-id"], message_id.as_str());
        assert_eq!(request.headers["content-type"], "application/json");
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert!(body["type"].as_str().unwrap().starts_with("invoice."));
    }
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body["data"], json!({"id": "in_1", "amount": 42}));

    let tampered = [&b"{}"[..], &received[0].body[1..]];
    for body in tampered {
        assert!(verifier.verify(body, &received[0].headers).is_err());
    }
}

#[tokio::test]
async fn a_subscriber_failing_twice_gets_the_same_webhook_id_three_times_at_the_gaps() {
    let hub = hub("0,0.3,0.6").await;
    let subscriber = Subscriber::start().await;
    subscriber.answer(&[503, 500]);
    hub.event_type("order.shipped").await;
    hub.subscribe(&format!("{}/orders", subscriber.base), &["order.shipped"])
        .await;

    let message = hub.publish("order.shipped", json!({"order": 7})).await;
    let received = subscriber.wait_for(3).await;
    let ids: Vec<_> = received.iter().map(|r| &r.headers["webhook-id"]).collect();
    assert!(ids.iter().all(|id| *id == message.as_str()), "{ids:?}");
    // ±20 % jitter around 0.3 s, then 0.6 s.
    let first_gap = received[1].at - received[0].at;
    let second_gap = received[2].at - received[1].at;
    assert!(first_gap >= Duration::from_millis(240), "{first_gap:?}");
    assert!(second_gap >= Duration::from_millis(480), "{second_gap:?}");

    let delivery = hub.settled_delivery(&message).await;
    assert_eq!(delivery["status"], "succeeded");
    let attempts = delivery["attempts"].as_array().unwrap();
    let statuses: Vec<_> = attempts
        .iter()
        .map(|a| a["response_status"].clone())
        .collect();
    assert_eq!(statuses, [json!(503), json!(500), json!(200)]);
    // The attempt log keeps the request headers as they were sent, the signature included
    // (a subscriber debugging its check needs it), and those the HTTP client adds.
    let logged: Vec<(String, String)> =
        serde_json::from_value(attempts[0]["request_headers"].clone()).unwrap();
    for (name, value) in &logged {
        let sent = received[0].headers[name.as_str()].to_str().unwrap();
        assert_eq!(sent, value, "{name} as logged and as sent");
    }
    let names: Vec<&str> = logged.iter().map(|(name, _)| name.as_str()).collect();
    for name in [
        "webhook-id",
        "webhook-signature",
        "user-agent",
        "content-length",
        "host",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
}

#[tokio::test]
async fn gone_disables_the_subscription_and_redelivery_brings_it_back() {
    let hub = hub("0,5").await;
    let subscriber = Subscriber::start().await;
    subscriber.answer(&[410]);
    hub.event_type("user.deleted").await;
    let subscription = hub
        .subscribe(&format!("{}/gone", subscriber.base), &["*"])
        .await;
    let id = subscription["id"].as_str().unwrap();

    let message = hub.publish("user.deleted", json!({"id": "u_9"})).await;
    let delivery = hub.settled_delivery(&message).await;
    assert_eq!(delivery["status"], "failed");
    let (_, disabled) = hub
        .api(Method::GET, &format!("/api/v1/subscriptions/{id}"), None)
        .await;
    assert_eq!(disabled["state"], "disabled");
    assert!(
        disabled["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410")
    );

    // Published while disabled: recorded as failed, not sent.
    let later = hub.publish("user.deleted", json!({"id": "u_10"})).await;
    assert_eq!(hub.settled_delivery(&later).await["status"], "failed");
    assert_eq!(subscriber.count(), 1);

    let (status, _) = hub
        .api(
            Method::PATCH,
            &format!("/api/v1/subscriptions/{id}"),
            Some(json!({"state": "active"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, queued) = hub
        .api(
            Method::POST,
            &format!("/api/v1/subscriptions/{id}/redeliver-failed"),
            Some(json!({"since": "2000-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(queued["queued"], 2);
    let received = subscriber.wait_for(3).await;
    let ids: Vec<_> = received[1..]
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    assert!(ids.contains(&message) && ids.contains(&later), "{ids:?}");
}

#[tokio::test]
async fn one_delivery_is_redelivered_by_hand_with_the_same_webhook_id() {
    let hub = hub("0").await;
    let subscriber = Subscriber::start().await;
    subscriber.answer(&[500]);
    hub.event_type("build.finished").await;
    let secret = hub.subscribe(&subscriber.base, &["build.finished"]).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let message = hub.publish("build.finished", json!({"ok": true})).await;
    let delivery = hub.settled_delivery(&message).await;
    assert_eq!(delivery["status"], "failed");
    assert_eq!(delivery["last_error"], "HTTP 500");

    let id = delivery["id"].as_i64().unwrap();
    let (status, _) = hub
        .api(
            Method::POST,
            &format!("/api/v1/deliveries/{id}/redeliver"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let received = subscriber.wait_for(2).await;
    assert_eq!(
        received[0].headers["webhook-id"],
        received[1].headers["webhook-id"]
    );
    let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
    for request in &received {
        verifier.verify(&request.body, &request.headers).unwrap();
    }
    for _ in 0..100 {
        let (_, d) = hub
            .api(Method::GET, &format!("/api/v1/deliveries/{id}"), None)
            .await;
        if d["status"] == "succeeded" {
            assert_eq!(d["attempts"].as_array().unwrap().len(), 2);
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the redelivery did not succeed");
}

#[tokio::test]
async fn an_idempotency_key_publishes_once() {
    let hub = hub("0").await;
    let subscriber = Subscriber::start().await;
    hub.event_type("payment.made").await;
    hub.subscribe(&subscriber.base, &["payment.made"]).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = hub
            .app
            .client()
            .post(hub.app.url("/api/v1/messages"))
            .bearer_auth(hub.key())
            .header("idempotency-key", "pay-1")
            .json(&json!({"event_type": "payment.made", "payload": {"n": 1}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        ids.push(response.json::<Value>().await.unwrap());
    }
    assert_eq!(ids[0]["id"], ids[1]["id"]);
    assert_eq!(ids[1]["duplicate"], true);
    subscriber.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(subscriber.count(), 1);
}

#[tokio::test]
async fn bad_requests_are_refused_with_what_is_wrong() {
    let hub = Hub::start().await;
    hub.event_type("invoice.paid").await;
    let cases = [
        (
            "/api/v1/subscriptions",
            json!({"url": "http://127.0.0.1:9/x", "event_types": ["*"]}),
            "loopback",
        ),
        (
            "/api/v1/subscriptions",
            json!({"url": "http://169.254.169.254/latest", "event_types": ["*"]}),
            "link-local",
        ),
        (
            "/api/v1/subscriptions",
            json!({"url": "ftp://example.com/x", "event_types": ["*"]}),
            "http",
        ),
        (
            "/api/v1/subscriptions",
            json!({"url": "https://example.com/x", "event_types": ["invoice.pad"]}),
            "catalog",
        ),
        (
            "/api/v1/subscriptions",
            json!({"url": "https://example.com/x", "event_types": ["in*voice"]}),
            "event_types",
        ),
        (
            "/api/v1/subscriptions",
            json!({"url": "https://example.com/x", "event_types": ["*"], "headers": {"webhook-id": "x"}}),
            "set by the hub",
        ),
        (
            "/api/v1/messages",
            json!({"event_type": "invoice.unknown", "payload": {}}),
            "catalog",
        ),
        (
            "/api/v1/messages",
            json!({"event_type": "bad type!", "payload": {}}),
            "event_type",
        ),
    ];
    for (path, body, needle) in cases {
        let (status, answer) = hub.api(Method::POST, path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message}");
    }
    let (status, answer) = hub
        .api(
            Method::POST,
            "/api/v1/messages",
            Some(json!({"payload": {}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(answer.to_string().contains("event_type"), "{answer}");
    let (status, _) = hub
        .api(Method::GET, "/api/v1/deliveries?status=lost", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_received_github_push_fans_out_to_subscribers() {
    let hub = hub("0").await;
    let client = hub.app.set_up().await;
    let subscribers = [Subscriber::start().await, Subscriber::start().await];
    hub.event_type("github.push").await;
    let mut secrets = Vec::new();
    for subscriber in &subscribers {
        let created = hub.subscribe(&subscriber.base, &["github.*"]).await;
        secrets.push(created["secret"].as_str().unwrap().to_owned());
    }
    let source = hub
        .create_source(json!({"name": "gh", "provider": "github", "secret": "s"}))
        .await;
    let source_id = source["id"].as_str().unwrap();
    let (status, answer) = crate::handlers::add_handler(
        &hub,
        &client,
        &[
            ("source_id", source_id),
            ("kind", "publish"),
            ("event_types", "push"),
            ("publish_as", "github.push"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let response = crate::receiving::github_delivery(
        &hub,
        source["url"].as_str().unwrap(),
        "s",
        crate::receiving::PUSH,
        "route-1",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    for (subscriber, secret) in subscribers.iter().zip(&secrets) {
        let received = subscriber.wait_for(1).await;
        standardwebhooks::Webhook::new(secret)
            .unwrap()
            .verify(&received[0].body, &received[0].headers)
            .unwrap();
        let body: Value = serde_json::from_slice(&received[0].body).unwrap();
        assert_eq!(body["type"], "github.push");
        let pushed: Value = serde_json::from_slice(crate::receiving::PUSH).unwrap();
        assert_eq!(body["data"], pushed);
        assert!(received[0].path == "/");
    }
}

#[tokio::test]
async fn one_message_s_deliveries_are_listed_by_its_id() {
    let hub = hub("0").await;
    hub.event_type("stock.changed").await;
    for path in ["a", "b"] {
        hub.subscribe(&format!("http://127.0.0.1:9/{path}"), &["stock.changed"])
            .await;
    }
    let first = hub.publish("stock.changed", json!({"n": 1})).await;
    hub.publish("stock.changed", json!({"n": 2})).await;
    let (_, listed) = hub
        .api(
            Method::GET,
            &format!("/api/v1/deliveries?message={first}"),
            None,
        )
        .await;
    let listed = listed["data"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|d| d["message_id"] == first.as_str()));
    let (_, all) = hub.api(Method::GET, "/api/v1/deliveries", None).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_subscriber_down_for_a_while_gets_everything_when_it_is_back() {
    let hub = hub("0,0.4,0.4,0.4,0.4").await;
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    hub.event_type("stock.changed").await;
    let subscription = hub
        .subscribe(&format!("http://{addr}/stock"), &["stock.changed"])
        .await;
    let id = subscription["id"].as_str().unwrap();
    let mut messages = Vec::new();
    for n in 0..3 {
        messages.push(hub.publish("stock.changed", json!({"n": n})).await);
    }
    // Down: nothing listens yet, so the first attempts fail to connect.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, pending) = hub
        .api(
            Method::GET,
            &format!("/api/v1/deliveries?subscription={id}&status=pending"),
            None,
        )
        .await;
    assert_eq!(pending["data"].as_array().unwrap().len(), 3, "{pending}");
    assert!(
        pending["data"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("connect"),
        "{pending}"
    );

    let subscriber = Subscriber::start_on(&addr.to_string()).await;
    let received = subscriber.wait_for(3).await;
    let mut ids: Vec<String> = received
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    ids.sort();
    messages.sort();
    assert_eq!(ids, messages);
    let dashboard = hub.app.set_up().await;
    for message in &messages {
        let delivery = hub.settled_delivery(message).await;
        assert_eq!(delivery["status"], "succeeded");
        let attempts = delivery["attempts"].as_array().unwrap();
        assert!(attempts.len() >= 2, "{delivery}");
        assert!(attempts[0]["error"].is_string() && attempts[0]["response_status"].is_null());
        // On the schedule: no retry came before its wait (less the 20% jitter) was over.
        let started: Vec<_> = attempts
            .iter()
            .map(|a| chrono::DateTime::parse_from_rfc3339(a["started_at"].as_str().unwrap()))
            .collect::<Result<_, _>>()
            .unwrap();
        for (n, pair) in started.windows(2).enumerate() {
            let waited = (pair[1] - pair[0]).num_milliseconds();
            let scheduled = [0, 400, 400, 400, 400][n];
            assert!(
                waited >= scheduled * 8 / 10,
                "attempt {}: {waited} ms",
                n + 2
            );
        }
        // The dashboard shows the failures, then the recovery.
        let page = hub
            .app
            .get(&dashboard, &format!("/deliveries/{}", delivery["id"]))
            .await;
        let html = assert_page(page, StatusCode::OK, "succeeded").await;
        let failed = html.matches(r#"<li class="attempt">"#).count();
        let ok = html.matches(r#"<li class="attempt ok">"#).count();
        assert_eq!((failed + 1, ok), (attempts.len(), 1), "{html}");
        assert!(html.contains("connect"), "{html}");
    }
    let (_, subscription) = hub
        .api(Method::GET, &format!("/api/v1/subscriptions/{id}"), None)
        .await;
    assert_eq!(subscription["state"], "active");
}

#[tokio::test]
async fn a_delivery_under_way_at_shutdown_is_finished_and_recorded_before_the_hub_stops() {
    let receiver = SlowReceiver::start().await;

    let mut hub = hub("0").await;
    hub.event_type("order.placed").await;
    hub.subscribe(&receiver.url, &["order.placed"]).await;
    let message = hub.publish("order.placed", json!({"n": 1})).await;
    receiver.wait_for_a_request().await;

    // Stopped mid-attempt, the hub waits for the answer and records it; started again, it
    // finds nothing left to send.
    hub.app.restart().await;
    let delivery = hub.settled_delivery(&message).await;
    assert_eq!(delivery["status"], "succeeded", "{delivery}");
    assert_eq!(delivery["attempts"].as_array().unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.requests(), 1);
}

#[tokio::test]
async fn every_failed_delivery_a_filter_finds_is_sent_again_but_a_disabled_subscriptions() {
    let hub = hub("0").await;
    let gone = Subscriber::start().await;
    gone.answer(&[410]);
    hub.event_type("order.gone").await;
    hub.subscribe(&format!("{}/gone", gone.base), &["order.gone"])
        .await;
    let message = hub.publish("order.gone", json!({})).await;
    // Answered 410: failed, and the subscription disabled.
    assert_eq!(hub.settled_delivery(&message).await["status"], "failed");

    let flaky = Subscriber::start().await;
    flaky.answer(&[500, 500]);
    hub.event_type("order.placed").await;
    let flaky_id = hub
        .subscribe(&format!("{}/in", flaky.base), &["order.placed"])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in 0..2 {
        let message = hub.publish("order.placed", json!({ "n": n })).await;
        assert_eq!(hub.settled_delivery(&message).await["status"], "failed");
    }

    // Three failed: only the two of the subscription that is not disabled go again.
    let (status, queued) = hub
        .api(
            Method::POST,
            "/api/v1/deliveries/redeliver",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["queued"], 2);
    assert_eq!(flaky.wait_for(4).await.len(), 4);
    assert_eq!(gone.count(), 1);

    // A filter narrows it; nothing of this subscription's is failed any more.
    let (status, queued) = hub
        .api(
            Method::POST,
            "/api/v1/deliveries/redeliver",
            Some(json!({ "subscription": flaky_id })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(queued["queued"], 0);
    // Only failed deliveries go again: a status is not a filter here.
    let (status, refused) = hub
        .api(
            Method::POST,
            "/api/v1/deliveries/redeliver",
            Some(json!({ "status": "pending" })),
        )
        .await;
    assert!(status.is_client_error(), "{status} {refused}");
}

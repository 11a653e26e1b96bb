//! Receiving over real HTTP: sources made through the REST API, signed deliveries stored exactly,
//! refusals with reasons, duplicates, handshakes and limits.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::TestApp;

struct Hub {
    app: TestApp,
    key: String,
}

impl Hub {
    async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    async fn start_with(adjust: impl FnOnce(&mut server::Config)) -> Self {
        let app = TestApp::spawn_with(adjust).await;
        let key = server::commands::create_key(app.config.clone(), "tests".into())
            .await
            .unwrap();
        Self { app, key }
    }

    async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .app
            .client()
            .request(method, self.app.url(path))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn create_source(&self, body: Value) -> Value {
        let (status, source) = self
            .api(reqwest::Method::POST, "/api/v1/sources", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{source}");
        source
    }
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

const PUSH: &[u8] =
    br#"{"ref":"refs/heads/main","commits":[{"message":"<script>alert(1)</script>"}]}"#;

async fn github_delivery(
    hub: &Hub,
    url: &str,
    secret: &str,
    body: &[u8],
    delivery: &str,
) -> reqwest::Response {
    let signature = format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &[body]))
    );
    hub.app
        .client()
        .post(url)
        .header("content-type", "application/json")
        .header("x-github-event", "push")
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", signature)
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn stores_a_signed_github_delivery_exactly_as_received() {
    let hub = Hub::start().await;
    let source = hub
        .create_source(json!({"name": "GitHub — my-org", "provider": "github"}))
        .await;
    let url = source["url"].as_str().unwrap();
    let secret = source["secret"].as_str().unwrap();
    assert_eq!(
        url,
        hub.app
            .url(&format!("/hooks/{}", source["id"].as_str().unwrap()))
    );

    let response = github_delivery(&hub, url, secret, PUSH, "d-1").await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["duplicate"], false);

    let id = answer["event_id"].as_i64().unwrap();
    let (status, event) = hub
        .api(reqwest::Method::GET, &format!("/api/v1/events/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(event["event_type"], "push");
    assert_eq!(event["delivery_id"], "d-1");
    assert_eq!(event["verification"], "verified");
    assert_eq!(
        STANDARD
            .decode(event["body_base64"].as_str().unwrap())
            .unwrap(),
        PUSH
    );
    let headers = event["headers"].as_array().unwrap();
    assert!(
        headers
            .iter()
            .any(|h| h[0] == "x-github-delivery" && h[1] == "d-1")
    );

    // The secret is only in the creation answer.
    let (_, listed) = hub.api(reqwest::Method::GET, "/api/v1/sources", None).await;
    assert!(!listed.to_string().contains(secret));
}

#[tokio::test]
async fn a_repeated_delivery_is_answered_2xx_and_stored_once() {
    let hub = Hub::start().await;
    let source = hub
        .create_source(
            json!({"name": "gh", "provider": "github", "secret": "It's a Secret to Everybody"}),
        )
        .await;
    let url = source["url"].as_str().unwrap();
    let first: Value = github_delivery(&hub, url, "It's a Secret to Everybody", PUSH, "same")
        .await
        .json()
        .await
        .unwrap();
    let again = github_delivery(&hub, url, "It's a Secret to Everybody", PUSH, "same").await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["event_id"], first["event_id"]);
    let (_, page) = hub.api(reqwest::Method::GET, "/api/v1/events", None).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_wrong_signature_is_refused_with_a_reason_and_not_stored() {
    let hub = Hub::start().await;
    let source = hub
        .create_source(json!({"name": "gh", "provider": "github"}))
        .await;
    let url = source["url"].as_str().unwrap();

    let response = github_delivery(&hub, url, "not the secret", PUSH, "d-1").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "verification_failed");
    assert_eq!(body["error"]["message"], "signature does not match");

    let unsigned = hub.app.client().post(url).body("{}").send().await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::BAD_REQUEST);
    let body: Value = unsigned.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing header"),
        "{body}"
    );

    let (_, page) = hub.api(reqwest::Method::GET, "/api/v1/events", None).await;
    assert!(page["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn standard_webhooks_deliveries_verify_with_fresh_timestamps_only() {
    let hub = Hub::start().await;
    let source = hub
        .create_source(json!({"name": "svix", "provider": "standard-webhooks"}))
        .await;
    let url = source["url"].as_str().unwrap();
    let secret = source["secret"].as_str().unwrap();
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let body = br#"{"type":"invoice.paid","data":{}}"#;

    let send = |ts: i64| {
        let ts = ts.to_string();
        let signature = STANDARD.encode(hmac_sha256(&key, &[b"msg_1.", ts.as_bytes(), b".", body]));
        hub.app
            .client()
            .post(url)
            .header("webhook-id", "msg_1")
            .header("webhook-timestamp", ts)
            .header("webhook-signature", format!("v1,{signature}"))
            .body(body.to_vec())
            .send()
    };
    let now = chrono::Utc::now().timestamp();
    let stale = send(now - 600).await.unwrap();
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    let fresh = send(now).await.unwrap();
    assert_eq!(fresh.status(), StatusCode::OK);
    let (_, page) = hub.api(reqwest::Method::GET, "/api/v1/events", None).await;
    assert_eq!(page["data"][0]["event_type"], "invoice.paid");
    assert_eq!(page["data"][0]["delivery_id"], "msg_1");
}

#[tokio::test]
async fn handshakes_are_answered() {
    let hub = Hub::start().await;
    let dropbox = hub
        .create_source(json!({"name": "db", "provider": "dropbox"}))
        .await;
    let url = dropbox["url"].as_str().unwrap();
    let response = hub
        .app
        .client()
        .get(format!("{url}?challenge=abc123"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.text().await.unwrap(), "abc123");

    let trello = hub
        .create_source(json!({"name": "tr", "provider": "trello"}))
        .await;
    let response = hub
        .app
        .client()
        .head(trello["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_sources_and_oversized_bodies_are_refused() {
    let hub = Hub::start_with(|c| c.max_body_bytes = 1024).await;
    let missing = hub
        .app
        .client()
        .post(hub.app.url("/hooks/src_nothing"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let source = hub
        .create_source(json!({"name": "gh", "provider": "github"}))
        .await;
    let big = vec![b'x'; 2048];
    let response = github_delivery(
        &hub,
        source["url"].as_str().unwrap(),
        source["secret"].as_str().unwrap(),
        &big,
        "big",
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_sources_api_explains_bad_input() {
    let hub = Hub::start().await;
    let cases = [
        (
            json!({"name": "x", "provider": "gitlab"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown provider",
        ),
        (
            json!({"name": "x", "provider": "pusher"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "settings",
        ),
        (
            json!({"name": "", "provider": "github"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            json!({"name": "x", "provider": "github", "colour": "red"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "colour",
        ),
    ];
    for (body, status, needle) in cases {
        let (got, answer) = hub
            .api(reqwest::Method::POST, "/api/v1/sources", Some(body.clone()))
            .await;
        assert_eq!(got, status, "{body}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{answer}"
        );
    }
    let malformed = hub
        .app
        .client()
        .post(hub.app.url("/api/v1/sources"))
        .bearer_auth(&hub.key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let answer: Value = malformed.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "invalid_request");
}

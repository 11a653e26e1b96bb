//! Receiving over real HTTP: sources made through the REST API, signed deliveries stored exactly,
//! refusals with reasons, duplicates, handshakes and limits.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::TestApp;

/// A hub with an API key, for driving it through the REST API.
pub struct Hub {
    pub app: TestApp,
    key: String,
}

impl Hub {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut server::Config)) -> Self {
        Self::with_app(TestApp::spawn_with(adjust).await).await
    }

    pub async fn with_app(app: TestApp) -> Self {
        let key = server::commands::create_key(app.config.clone(), "tests".into())
            .await
            .unwrap();
        Self { app, key }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub async fn api(
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

    pub async fn create_source(&self, body: Value) -> Value {
        let (status, source) = self
            .api(reqwest::Method::POST, "/api/v1/sources", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{source}");
        source
    }
}

pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

pub const PUSH: &[u8] =
    br#"{"ref":"refs/heads/main","commits":[{"message":"<script>alert(1)</script>"}]}"#;

pub async fn github_delivery(
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

/// Slack names no delivery in a slash command: the same signed request again (a replay inside
/// the five minutes Slack's timestamp is trusted) is a duplicate; a new one is stored.
#[tokio::test]
async fn a_replayed_request_without_a_delivery_id_is_stored_once() {
    let hub = Hub::start().await;
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let source = hub
        .create_source(json!({"name": "slack", "provider": "slack", "secret": secret}))
        .await;
    let url = source["url"].as_str().unwrap().to_owned();
    let body = "command=%2Fdeploy&text=api&user_id=U2147483697";
    let send = |timestamp: i64| {
        let signature = format!(
            "v0={}",
            hex::encode(hmac_sha256(
                secret.as_bytes(),
                &[format!("v0:{timestamp}:{body}").as_bytes()]
            ))
        );
        hub.app
            .client()
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", timestamp.to_string())
            .header("x-slack-signature", signature)
            .body(body)
            .send()
    };
    let now = chrono::Utc::now().timestamp();
    let first: Value = send(now).await.unwrap().json().await.unwrap();
    assert_eq!(first["duplicate"], false, "{first}");
    let replayed = send(now).await.unwrap();
    assert_eq!(replayed.status(), StatusCode::OK);
    let replayed: Value = replayed.json().await.unwrap();
    assert_eq!(replayed["duplicate"], true);
    assert_eq!(replayed["event_id"], first["event_id"]);
    // The same command typed again a second later is a new request.
    let again: Value = send(now + 1).await.unwrap().json().await.unwrap();
    assert_eq!(again["duplicate"], false);
    let (_, page) = hub.api(reqwest::Method::GET, "/api/v1/events", None).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
}

/// A body re-serialised on the way (here: signed compact, arriving indented) is refused saying
/// so, in the answer and in the source's refused-request log.
#[tokio::test]
async fn a_rewritten_json_body_is_refused_saying_what_happened() {
    let hub = Hub::start().await;
    let secret = "It's a Secret to Everybody";
    let source = hub
        .create_source(json!({"name": "gh", "provider": "github", "secret": secret}))
        .await;
    let signed_over = br#"{"ref":"refs/heads/main","commits":[]}"#;
    let received =
        serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(signed_over).unwrap()).unwrap();
    let signature = format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &[signed_over]))
    );
    let response = hub
        .app
        .client()
        .post(source["url"].as_str().unwrap())
        .header("content-type", "application/json")
        .header("x-github-event", "push")
        .header("x-github-delivery", "d-rewritten")
        .header("x-hub-signature-256", signature)
        .body(received)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("only as compact JSON"), "{message}");
    let (_, page) = hub.api(reqwest::Method::GET, "/api/v1/events", None).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 0);
}

/// The dashboard's "Send a test request": a correctly signed sample through the receive flow,
/// stored like a provider's; a disabled source refuses it, saying so.
#[tokio::test]
async fn a_source_is_tested_with_a_correctly_signed_request() {
    use app::api::{SetSourceEnabled, TestSource};

    let hub = Hub::start().await;
    let client = hub.app.set_up().await;
    for provider in [
        "github",
        "stripe",
        "slack",
        "standard-webhooks",
        "shopify",
        "zendesk",
    ] {
        let source = hub
            .create_source(json!({"name": provider, "provider": provider}))
            .await;
        let id = source["id"].as_str().unwrap();
        let tested: Value = hub
            .app
            .call::<TestSource>(&client, &[("id", id)])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(tested["accepted"], true, "{provider}: {tested}");
        let event_id = tested["event_id"].as_i64().unwrap();
        let (status, event) = hub
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/events/{event_id}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(event["source_id"], id);
        assert_eq!(event["verification"], "verified");
    }

    let source = hub
        .create_source(json!({"name": "off", "provider": "github"}))
        .await;
    let id = source["id"].as_str().unwrap();
    let response = hub
        .app
        .call::<SetSourceEnabled>(&client, &[("id", id), ("enabled", "false")])
        .await;
    assert!(response.status().is_success());
    let tested: Value = hub
        .app
        .call::<TestSource>(&client, &[("id", id)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tested["accepted"], false);
    assert_eq!(tested["outcome"], "Refused: the source is disabled.");
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

async fn delivered_event_id(response: reqwest::Response) -> i64 {
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    answer["event_id"].as_i64().unwrap()
}

#[tokio::test]
async fn events_are_found_by_body_text_time_and_handling() {
    let hub = Hub::start().await;
    let source = hub
        .create_source(json!({"name": "gh", "provider": "github"}))
        .await;
    let (url, secret) = (
        source["url"].as_str().unwrap(),
        source["secret"].as_str().unwrap(),
    );
    for (i, body) in [
        r#"{"sender":{"login":"octocat"},"ref":"refs/heads/main"}"#,
        r#"{"sender":{"login":"hubot"},"customer":"cus_42"}"#,
        r#"{"sender":{"login":"octocat"},"ref":"refs/heads/dev"}"#,
    ]
    .iter()
    .enumerate()
    {
        github_delivery(&hub, url, secret, body.as_bytes(), &format!("s-{i}")).await;
    }
    let ids = |answer: &Value| -> Vec<String> {
        answer["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["delivery_id"].as_str().unwrap().to_owned())
            .collect()
    };

    // New events become searchable as soon as the background indexer has taken them.
    let mut found = Value::Null;
    for _ in 0..200 {
        let (status, answer) = hub
            .api(reqwest::Method::GET, "/api/v1/events?q=octocat", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        found = answer;
        if ids(&found).len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(ids(&found), ["s-2", "s-0"], "newest first");
    let (_, found) = hub
        .api(reqwest::Method::GET, "/api/v1/events?q=cus_42", None)
        .await;
    assert_eq!(ids(&found), ["s-1"]);
    let (_, found) = hub
        .api(
            reqwest::Method::GET,
            "/api/v1/events?q=octocat&limit=1",
            None,
        )
        .await;
    let cursor = found["next_cursor"].as_i64().unwrap();
    let (_, older) = hub
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/events?q=octocat&limit=1&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(ids(&older), ["s-0"]);

    let (_, future) = hub
        .api(
            reqwest::Method::GET,
            "/api/v1/events?from=2999-01-01T00:00:00Z",
            None,
        )
        .await;
    assert!(ids(&future).is_empty());
    let (_, past) = hub
        .api(
            reqwest::Method::GET,
            "/api/v1/events?from=2000-01-01T00:00",
            None,
        )
        .await;
    assert_eq!(ids(&past).len(), 3);
    let (_, unhandled) = hub
        .api(reqwest::Method::GET, "/api/v1/events?handling=none", None)
        .await;
    assert_eq!(ids(&unhandled).len(), 3);

    for (query, needle) in [
        ("handling=maybe", "handling"),
        ("from=yesterday", "from"),
        ("colour=red", "colour"),
    ] {
        let (status, answer) = hub
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/events?{query}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(answer.to_string().contains(needle), "{query}: {answer}");
    }
}

#[tokio::test]
async fn a_rotated_secret_is_accepted_with_the_old_one_until_that_is_dropped() {
    let hub = Hub::start().await;
    let source = hub
        .create_source(json!({"name": "gh", "provider": "github", "secret": "old-secret"}))
        .await;
    let id = source["id"].as_str().unwrap();
    let url = source["url"].as_str().unwrap();

    let (status, rotated) = hub
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/sources/{id}/rotate-secret"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(rotated["rotating"], true);
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, "old-secret");

    let old = github_delivery(&hub, url, "old-secret", PUSH, "r-1").await;
    assert_eq!(
        old.status(),
        StatusCode::OK,
        "old secret during the overlap"
    );
    let new = github_delivery(&hub, url, new_secret, PUSH, "r-2").await;
    assert_eq!(new.status(), StatusCode::OK, "new secret");

    let (status, _) = hub
        .api(
            reqwest::Method::DELETE,
            &format!("/api/v1/sources/{id}/previous-secret"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let old = github_delivery(&hub, url, "old-secret", PUSH, "r-3").await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    // The sender that still has the old secret is told so, not only "does not match".
    let refused: Value = old.json().await.unwrap();
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("signed with a secret this source no longer accepts (retired at 20")
            && message.ends_with("give it the current one"),
        "{message}"
    );
    let other = github_delivery(&hub, url, "some-other-secret", PUSH, "r-5").await;
    let other: Value = other.json().await.unwrap();
    assert_eq!(other["error"]["message"], "signature does not match");
    let new = github_delivery(&hub, url, new_secret, PUSH, "r-4").await;
    assert_eq!(new.status(), StatusCode::OK);

    // A second rotation retires the first rotation's secret in turn.
    let (_, rotated) = hub
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/sources/{id}/rotate-secret"),
            Some(json!({"secret": "third-secret"})),
        )
        .await;
    assert_eq!(rotated["rotating"], true);
    hub.api(
        reqwest::Method::DELETE,
        &format!("/api/v1/sources/{id}/previous-secret"),
        None,
    )
    .await;
    let retired: Value = github_delivery(&hub, url, new_secret, PUSH, "r-6")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        retired["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no longer accepts")
    );
    let older: Value = github_delivery(&hub, url, "old-secret", PUSH, "r-7")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(older["error"]["message"], "signature does not match");
}

#[tokio::test]
async fn sources_are_renamed_disabled_and_deleted_with_their_events() {
    let hub = Hub::start().await;
    let source = hub
        .create_source(json!({"name": "gh", "provider": "github"}))
        .await;
    let id = source["id"].as_str().unwrap();
    let (url, secret) = (
        source["url"].as_str().unwrap(),
        source["secret"].as_str().unwrap(),
    );
    let path = format!("/api/v1/sources/{id}");
    let event_id = delivered_event_id(github_delivery(&hub, url, secret, PUSH, "m-1").await).await;

    let (status, patched) = hub
        .api(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"name": "GitHub — renamed", "enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "GitHub — renamed");
    assert_eq!(patched["enabled"], false);
    let refused = github_delivery(&hub, url, secret, PUSH, "m-2").await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);

    let (status, answer) = hub
        .api(reqwest::Method::PATCH, &path, Some(json!({"name": " "})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    hub.api(
        reqwest::Method::PATCH,
        &path,
        Some(json!({"enabled": true})),
    )
    .await;
    let accepted = github_delivery(&hub, url, secret, PUSH, "m-3").await;
    assert_eq!(accepted.status(), StatusCode::OK);

    let (status, _) = hub.api(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = hub.api(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let gone = github_delivery(&hub, url, secret, PUSH, "m-4").await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let (status, _) = hub
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/events/{event_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_raw_body_downloads_as_the_exact_bytes() {
    let hub = Hub::start().await;
    let source = hub
        .create_source(json!({"name": "gh", "provider": "github"}))
        .await;
    let body = b"<html><script>alert(1)</script>\xff\x00</html>";
    let event_id = delivered_event_id(
        github_delivery(
            &hub,
            source["url"].as_str().unwrap(),
            source["secret"].as_str().unwrap(),
            body,
            "raw-1",
        )
        .await,
    )
    .await;

    let api = hub
        .app
        .client()
        .get(hub.app.url(&format!("/api/v1/events/{event_id}/body")))
        .bearer_auth(&hub.key)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::OK);
    assert_eq!(api.headers()["content-type"], "application/octet-stream");
    assert!(
        api.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(api.bytes().await.unwrap().as_ref(), body);

    let page = format!("/events/{event_id}/raw");
    let anonymous = hub.app.get(&hub.app.client(), &page).await;
    assert!(anonymous.status().is_redirection());
    let signed_in = hub.app.set_up().await;
    let download = hub.app.get(&signed_in, &page).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.bytes().await.unwrap().as_ref(), body);
}

#[tokio::test]
async fn unsigned_event_names_and_ids_must_be_plain_tokens() {
    let hub = Hub::start().await;
    let markup = "</title><script>alert(1)</script>";
    let github = hub
        .create_source(json!({"name": "gh", "provider": "github"}))
        .await;
    let shopify = hub
        .create_source(json!({"name": "shop", "provider": "shopify"}))
        .await;
    let bitbucket = hub
        .create_source(json!({"name": "bb", "provider": "bitbucket"}))
        .await;
    let hex_mac = |source: &Value| {
        format!(
            "sha256={}",
            hex::encode(hmac_sha256(
                source["secret"].as_str().unwrap().as_bytes(),
                &[PUSH]
            ))
        )
    };
    let shopify_mac = STANDARD.encode(hmac_sha256(
        shopify["secret"].as_str().unwrap().as_bytes(),
        &[PUSH],
    ));
    let long = "d".repeat(129);
    // Each is correctly signed: only the unsigned name or id is wrong.
    let cases = [
        (
            &github,
            "x-github-event",
            markup,
            "x-hub-signature-256",
            hex_mac(&github),
        ),
        (
            &github,
            "x-github-delivery",
            long.as_str(),
            "x-hub-signature-256",
            hex_mac(&github),
        ),
        (
            &shopify,
            "x-shopify-topic",
            "orders create",
            "x-shopify-hmac-sha256",
            shopify_mac.clone(),
        ),
        (
            &shopify,
            "x-shopify-webhook-id",
            "\"1\"",
            "x-shopify-hmac-sha256",
            shopify_mac,
        ),
        (
            &bitbucket,
            "x-event-key",
            "<b>repo:push</b>",
            "x-hub-signature",
            hex_mac(&bitbucket),
        ),
    ];
    for (source, name, value, signature_header, signature) in cases {
        let response = hub
            .app
            .client()
            .post(source["url"].as_str().unwrap())
            .header(name, value)
            .header(signature_header, signature)
            .body(PUSH.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{name}: {value}"
        );
        let body: Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("malformed header {name}:")),
            "{message}"
        );
        assert!(
            !message.contains(value),
            "the reason does not echo the value: {message}"
        );
    }
    let (_, page) = hub.api(reqwest::Method::GET, "/api/v1/events", None).await;
    assert!(page["data"].as_array().unwrap().is_empty(), "{page}");

    let fine = github_delivery(
        &hub,
        github["url"].as_str().unwrap(),
        github["secret"].as_str().unwrap(),
        PUSH,
        "72d3162e-cc78-11e3",
    )
    .await;
    assert_eq!(fine.status(), StatusCode::OK);
}

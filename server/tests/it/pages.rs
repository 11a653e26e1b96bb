//! Dashboard pages as a browser receives them: stored markup comes back as inert text in the
//! places leptos writes unescaped (titles, textareas), and every response carries the security
//! headers, pages with a script nonce that matches their inline scripts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::receiving::{Hub, hmac_sha256};

const CLOSES_TITLE: &str = "</title><script>alert('title')</script>";
const CLOSES_TEXTAREA: &str = "</textarea><script>alert('textarea')</script>";

/// The page at `path`, which must not hold a live `<script>alert(`.
async fn inert_page(hub: &Hub, client: &reqwest::Client, path: &str) -> String {
    let response = hub.app.get(client, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let page = response.text().await.unwrap();
    assert!(
        !page.contains("<script>alert("),
        "{path} runs stored markup:\n{page}"
    );
    page
}

#[tokio::test]
async fn stored_markup_stays_text_in_titles_and_textareas() {
    let hub = Hub::with_app(
        TestApp::spawn_with(|config| config.outbound_allow = "127.0.0.0/8".parse().unwrap()).await,
    )
    .await;
    let client = hub.app.set_up().await;

    let source = hub
        .create_source(json!({"name": CLOSES_TITLE, "provider": "standard-webhooks"}))
        .await;
    let page = inert_page(
        &hub,
        &client,
        &format!("/sources/{}", source["id"].as_str().unwrap()),
    )
    .await;
    assert!(
        page.contains("<title>&lt;/title&gt;&lt;script&gt;"),
        "{page}"
    );

    // A signed body names the event type, so it reaches the event's title as it is.
    let key = STANDARD
        .decode(
            source["secret"]
                .as_str()
                .unwrap()
                .strip_prefix("whsec_")
                .unwrap(),
        )
        .unwrap();
    let body = serde_json::to_vec(&json!({"type": CLOSES_TITLE})).unwrap();
    let ts = chrono::Utc::now().timestamp().to_string();
    let signature = STANDARD.encode(hmac_sha256(&key, &[b"msg_1.", ts.as_bytes(), b".", &body]));
    let delivered: Value = hub
        .app
        .client()
        .post(source["url"].as_str().unwrap())
        .header("webhook-id", "msg_1")
        .header("webhook-timestamp", ts)
        .header("webhook-signature", format!("v1,{signature}"))
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    inert_page(&hub, &client, &format!("/events/{}", delivered["event_id"])).await;

    let (status, event_type) = hub
        .api(
            Method::POST,
            "/api/v1/event-types",
            Some(json!({"name": "a.b"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event_type}");
    let (status, subscription) = hub
        .api(
            Method::POST,
            "/api/v1/subscriptions",
            Some(json!({
                "url": format!("http://127.0.0.1:9/{CLOSES_TITLE}"),
                "event_types": ["*"],
                "headers": {"x-note": CLOSES_TEXTAREA},
                "properties": {"note": CLOSES_TEXTAREA},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{subscription}");
    let page = inert_page(
        &hub,
        &client,
        &format!("/subscriptions/{}", subscription["id"].as_str().unwrap()),
    )
    .await;
    assert!(page.contains("&lt;/textarea&gt;&lt;script&gt;"), "{page}");
}

#[tokio::test]
async fn pages_and_other_responses_carry_security_headers() {
    let hub = Hub::start().await;
    let client = hub.app.set_up().await;
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };

    for path in ["/", "/sources", "/no/such/page"] {
        let response = hub.app.get(&client, path).await;
        let policy = header(&response, "content-security-policy");
        for directive in [
            "default-src 'none'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
        ] {
            assert!(
                policy.contains(directive),
                "{path}: {directive} not in {policy:?}"
            );
        }
        assert_eq!(header(&response, "cache-control"), "no-store", "{path}");
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{path}"
        );
        assert_eq!(
            header(&response, "referrer-policy"),
            "same-origin",
            "{path}"
        );
        // Every inline script carries the nonce the policy names, and no other runs.
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {policy:?}"))
            .to_owned();
        let page = response.text().await.unwrap();
        let scripts = page.matches("<script").count();
        assert!(scripts > 0, "{path} has no scripts");
        assert_eq!(
            page.matches(&format!("<script nonce=\"{nonce}\"")).count()
                + page
                    .matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
                    .count(),
            scripts,
            "{path}: a script without this response's nonce:\n{page}"
        );
    }

    for path in ["/healthz", "/api/v1/whoami", "/pkg/none.js"] {
        let response = client
            .get(hub.app.url(path))
            .bearer_auth(hub.key())
            .send()
            .await
            .unwrap();
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{path}"
        );
        assert!(
            header(&response, "content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
    }
}

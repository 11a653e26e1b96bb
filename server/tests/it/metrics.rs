//! `/metrics`: refused until an operator opts in, then the figures of real traffic in the
//! Prometheus text format, with bounded labels.

use reqwest::StatusCode;
use serde_json::json;

use std::time::Duration;

use crate::helpers::TestApp;
use crate::receiving::{Hub, PUSH, github_delivery};
use crate::sending::Subscriber;

const TOKEN: &str = "a-scrape-token-of-some-length";

async fn scrape(hub: &Hub, token: Option<&str>) -> (StatusCode, String) {
    let mut request = hub.app.client().get(hub.app.url("/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The value of the sample `series` (a name with its labels, as the text shows it).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn metrics_are_refused_until_a_token_or_an_address_is_set() {
    let off = Hub::start().await;
    assert_eq!(scrape(&off, None).await.0, StatusCode::FORBIDDEN);

    let by_token = Hub::start_with(|c| {
        c.metrics_token = Some(server::metrics::ScrapeToken::new(TOKEN));
    })
    .await;
    assert_eq!(scrape(&by_token, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        scrape(&by_token, Some("not-the-token")).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, text) = scrape(&by_token, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.ends_with("# EOF\n"), "{text}");
    // A session's key is not a scrape token.
    assert_eq!(
        scrape(&by_token, Some(by_token.key())).await.0,
        StatusCode::UNAUTHORIZED
    );

    let by_address = Hub::start_with(|c| {
        c.metrics_allow = server::outbound::AllowList::parse("127.0.0.1/32").unwrap();
    })
    .await;
    assert_eq!(scrape(&by_address, None).await.0, StatusCode::OK);
    let elsewhere = Hub::start_with(|c| {
        c.metrics_allow = server::outbound::AllowList::parse("10.0.0.0/8").unwrap();
    })
    .await;
    assert_eq!(scrape(&elsewhere, None).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn received_webhooks_are_counted_by_source_provider_and_outcome() {
    let hub = Hub::start_with(|c| {
        c.metrics_allow = server::outbound::AllowList::parse("127.0.0.1/32").unwrap();
        c.max_body_bytes = 4096;
    })
    .await;
    let source = hub
        .create_source(json!({"name": "GitHub", "provider": "github"}))
        .await;
    let (id, url) = (
        source["id"].as_str().unwrap(),
        source["url"].as_str().unwrap(),
    );
    let secret = source["secret"].as_str().unwrap();
    github_delivery(&hub, url, secret, PUSH, "d-1").await;
    github_delivery(&hub, url, secret, PUSH, "d-1").await;
    let refused = github_delivery(&hub, url, "another secret", PUSH, "d-2").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let too_large = github_delivery(&hub, url, secret, &[b' '; 5000], "d-3").await;
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let unknown = hub.app.url("/hooks/src_made_up_by_a_sender");
    github_delivery(&hub, &unknown, secret, PUSH, "d-4").await;

    let (status, text) = scrape(&hub, None).await;
    assert_eq!(status, StatusCode::OK);
    let received = |outcome: &str, reason: &str| {
        sample(
            &text,
            &format!(
                "hookhub_webhooks_received_total{{source=\"{id}\",provider=\"github\",\
                 outcome=\"{outcome}\",reason=\"{reason}\"}}"
            ),
        )
    };
    assert_eq!(received("stored", ""), 1.0);
    assert_eq!(received("duplicate", ""), 1.0);
    assert_eq!(received("refused", "signature_mismatch"), 1.0);
    assert_eq!(received("too_large", ""), 1.0);
    // A made-up source id is not a label value: it would let senders grow the series.
    assert!(!text.contains("src_made_up_by_a_sender"), "{text}");
    assert_eq!(
        sample(
            &text,
            "hookhub_webhooks_received_total{source=\"\",provider=\"\",outcome=\"unknown_source\",reason=\"\"}"
        ),
        1.0
    );
    assert!(sample(&text, "hookhub_database_size_bytes") > 0.0);
    assert!(sample(&text, "hookhub_writer_batch_size_count") >= 1.0);
    assert_eq!(sample(&text, "hookhub_writer_queue_depth"), 0.0);
}

#[tokio::test]
async fn deliveries_are_counted_with_their_durations_latency_and_backlog() {
    let hub = Hub::with_app(
        TestApp::spawn_with(|c| {
            c.outbound_allow = server::outbound::AllowList::parse("127.0.0.0/8").unwrap();
            c.delivery_retries = vec![Duration::ZERO];
            c.metrics_allow = server::outbound::AllowList::parse("127.0.0.1/32").unwrap();
        })
        .await,
    )
    .await;
    let subscriber = Subscriber::start().await;
    subscriber.answer(&[500]);
    hub.event_type("invoice.paid").await;
    let subscription = hub
        .subscribe(&format!("{}/hooks", subscriber.base), &["invoice.paid"])
        .await;
    let subscription = subscription["id"].as_str().unwrap();
    let failing = hub.publish("invoice.paid", json!({"n": 1})).await;
    let succeeding = hub.publish("invoice.paid", json!({"n": 2})).await;
    subscriber.wait_for(2).await;
    hub.settled_delivery(&failing).await;
    hub.settled_delivery(&succeeding).await;

    let (_, text) = scrape(&hub, None).await;
    let attempts = |outcome: &str, class: &str| {
        sample(
            &text,
            &format!(
                "hookhub_delivery_attempts_total{{subscription=\"{subscription}\",\
                 outcome=\"{outcome}\",status_class=\"{class}\"}}"
            ),
        )
    };
    assert_eq!(attempts("failed", "5xx"), 1.0);
    assert_eq!(attempts("succeeded", "2xx"), 1.0);
    assert_eq!(sample(&text, "hookhub_messages_published_total"), 2.0);
    assert_eq!(
        sample(&text, "hookhub_delivery_attempt_duration_seconds_count"),
        2.0
    );
    assert_eq!(sample(&text, "hookhub_delivery_latency_seconds_count"), 1.0);
    assert_eq!(sample(&text, "hookhub_deliveries_pending"), 0.0);
    assert_eq!(
        sample(&text, "hookhub_deliveries_oldest_pending_age_seconds"),
        0.0
    );
}

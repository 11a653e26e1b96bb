//! Notices before things break: a subscription failing for a quarter, a half and three quarters
//! of `disable_after`, then disabled, each recorded and shown, and published to an alerting
//! subscription, never to the failing subscription itself. Real subscribers on random ports.

use std::time::Duration;

use app::api::Health;
use app::dto::HealthDto;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::receiving::Hub;
use crate::sending::Subscriber;

#[tokio::test]
async fn a_failing_subscription_is_noticed_at_each_quarter_and_when_disabled() {
    let hub = Hub::with_app(
        TestApp::spawn_with(|config| {
            config.outbound_allow = "127.0.0.0/8".parse().unwrap();
            // Tried again every 0.2 s for longer than it takes to be disabled.
            config.delivery_retries = vec![Duration::from_millis(200); 40];
            config.disable_after = Duration::from_secs(4);
        })
        .await,
    )
    .await;
    let (_, catalog) = hub.api(Method::GET, "/api/v1/event-types", None).await;
    let names: Vec<&str> = catalog["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"hookhub.subscription.failing"), "{names:?}");
    assert!(
        names.contains(&"hookhub.subscription.disabled"),
        "{names:?}"
    );

    hub.event_type("order.created").await;
    let alerts = Subscriber::start().await;
    hub.subscribe(
        &format!("{}/alerts", alerts.base),
        &["hookhub.subscription.*"],
    )
    .await;
    let broken = Subscriber::start().await;
    broken.answer(&[500; 200]);
    let subscription = hub
        .subscribe(
            &format!("{}/orders", broken.base),
            &["order.*", "hookhub.*"],
        )
        .await;
    let id = subscription["id"].as_str().unwrap().to_owned();
    hub.publish("order.created", json!({"id": 1})).await;

    // A quarter (1 s), a half (2 s), three quarters (3 s), then disabled (after 4 s).
    let received = alerts.wait_for(4).await;
    let bodies: Vec<Value> = received
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let stages: Vec<&str> = bodies
        .iter()
        .map(|b| b["data"]["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        ["quarter", "half", "three_quarters", "disabled"],
        "{bodies:?}"
    );
    for body in &bodies[..3] {
        assert_eq!(body["type"], "hookhub.subscription.failing");
    }
    assert_eq!(bodies[3]["type"], "hookhub.subscription.disabled");
    for body in &bodies {
        assert_eq!(body["data"]["subscription"]["id"], id.as_str());
        assert_eq!(body["data"]["disable_after_seconds"], 4);
        assert_eq!(body["data"]["last_error"], "HTTP 500");
    }
    let (_, state) = hub
        .api(Method::GET, &format!("/api/v1/subscriptions/{id}"), None)
        .await;
    assert_eq!(state["state"], "disabled");

    // The failing subscription wants `hookhub.*` too, and was told nothing about itself.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for request in broken.received.lock().unwrap().iter() {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["type"], "order.created");
    }
    assert_eq!(alerts.count(), 4, "each stage once");

    // The overview and the subscription's page show the notices, newest first.
    let client = hub.app.set_up().await;
    for form in [vec![], vec![("subscription", id.as_str())]] {
        let response = hub.app.call::<Health>(&client, &form).await;
        assert_eq!(response.status(), StatusCode::OK);
        let health: HealthDto = response.json().await.unwrap();
        let shown: Vec<&str> = health.notices.iter().map(|n| n.stage.as_str()).collect();
        assert_eq!(shown, ["disabled", "three_quarters", "half", "quarter"]);
        assert!(
            health.notices[1]
                .message
                .contains("three quarters of the 4 s")
        );
        assert!(health.notices.iter().all(|n| n.subscription_id == id));
    }
}

//! The health figures the overview, a source's page and a subscription's page show, read
//! through the dashboard's server function after real traffic.

use app::api::Health;
use app::dto::HealthDto;
use reqwest::StatusCode;
use serde_json::json;

use crate::receiving::{PUSH, github_delivery};
use crate::sending::{Subscriber, hub};

async fn figures(
    hub: &crate::receiving::Hub,
    client: &reqwest::Client,
    form: &[(&str, &str)],
) -> HealthDto {
    let response = hub.app.call::<Health>(client, form).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn total(values: &[u64]) -> u64 {
    values.iter().sum()
}

#[tokio::test]
async fn the_figures_count_what_came_in_and_went_out_by_hub_source_and_subscription() {
    let hub = hub("0").await;
    let client = hub.app.set_up().await;
    let source = hub
        .create_source(json!({"name": "GitHub", "provider": "github"}))
        .await;
    let (source_id, url) = (
        source["id"].as_str().unwrap(),
        source["url"].as_str().unwrap(),
    );
    let secret = source["secret"].as_str().unwrap();
    github_delivery(&hub, url, secret, PUSH, "d-1").await;
    github_delivery(&hub, url, secret, PUSH, "d-2").await;
    github_delivery(&hub, url, "a wrong secret", PUSH, "d-3").await;

    let subscriber = Subscriber::start().await;
    subscriber.answer(&[500]);
    hub.event_type("invoice.paid").await;
    let subscription = hub
        .subscribe(&format!("{}/hooks", subscriber.base), &["invoice.paid"])
        .await;
    let subscription_id = subscription["id"].as_str().unwrap();
    let failing = hub.publish("invoice.paid", json!({"n": 1})).await;
    let succeeding = hub.publish("invoice.paid", json!({"n": 2})).await;
    hub.settled_delivery(&failing).await;
    hub.settled_delivery(&succeeding).await;

    let all = figures(&hub, &client, &[]).await;
    assert_eq!(all.windows.len(), 2);
    for window in &all.windows {
        assert_eq!(total(&window.received), 2, "{}", window.label);
        assert_eq!(total(&window.refused), 1);
        assert_eq!(total(&window.succeeded), 1);
        assert_eq!(total(&window.failed), 1);
        // This hour, the last bucket.
        assert_eq!(*window.received.last().unwrap(), 2);
        assert_eq!(window.failing.len(), 1);
        assert_eq!(window.failing[0].id, subscription_id);
        assert_eq!(
            (window.failing[0].failed, window.failing[0].attempts),
            (1, 2)
        );
        assert_eq!(window.slowest[0].id, subscription_id);
        assert_eq!(window.refusing.len(), 1);
        assert_eq!(window.refusing[0].id, source_id);
        assert_eq!(window.refusing[0].top_reason, "signature mismatch");
    }
    assert_eq!(all.windows[0].received.len(), 24);
    assert_eq!(all.windows[1].received.len(), 28);
    assert_eq!(all.pending, Some(0));

    let of_source = figures(&hub, &client, &[("source", source_id)]).await;
    assert_eq!(total(&of_source.windows[0].received), 2);
    assert!(
        of_source.windows[0].succeeded.is_empty(),
        "a source sends nothing"
    );
    assert!(
        of_source.windows[0].failing.is_empty(),
        "rankings are the overview's"
    );
    assert_eq!(of_source.pending, None);

    let of_subscription = figures(&hub, &client, &[("subscription", subscription_id)]).await;
    assert_eq!(total(&of_subscription.windows[1].failed), 1);
    assert!(
        of_subscription.windows[1].received.is_empty(),
        "a subscription receives nothing"
    );

    let missing = hub
        .app
        .call::<Health>(&client, &[("subscription", "sub_missing")])
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

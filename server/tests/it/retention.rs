//! Retention on a real database: events and messages past the retention age are deleted with
//! their deliveries, attempts and search entries; newer ones, and messages still being
//! delivered, are kept.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use server::storage::{Db, now_millis, retention};

use crate::receiving::github_delivery;
use crate::sending::{Subscriber, hub};

const DAY: i64 = 24 * 3600 * 1000;

/// The ids of the events whose body matches `q`, once the search index has them all.
async fn search(hub: &crate::receiving::Hub, q: &str) -> Vec<i64> {
    let (_, page) = hub
        .api(Method::GET, &format!("/api/v1/events?q={q}"), None)
        .await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

async fn execute(db: &Db, sql: String) {
    db.write(move |txn| Box::pin(async move { txn.execute_unprepared(&sql).await }))
        .await
        .unwrap();
}

#[tokio::test]
async fn what_is_older_than_the_retention_age_is_deleted_and_the_rest_kept() {
    // A delivery that fails waits a minute for its retry: its message is still in progress.
    let hub = hub("0,60").await;
    let subscriber = Subscriber::start().await;
    let source = hub
        .create_source(json!({"name": "old", "provider": "github", "secret": "s"}))
        .await;
    let url = source["url"].as_str().unwrap();
    let mut events = Vec::new();
    for (n, word) in ["ancient", "recent"].iter().enumerate() {
        let body = format!(r#"{{"word":"{word}"}}"#);
        let response = github_delivery(&hub, url, "s", body.as_bytes(), &format!("d{n}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let answer: Value = response.json().await.unwrap();
        events.push(answer["event_id"].as_i64().unwrap());
    }
    for _ in 0..200 {
        if search(&hub, "ancient").await.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(search(&hub, "ancient").await, [events[0]]);

    hub.event_type("order.placed").await;
    hub.subscribe(&format!("{}/orders", subscriber.base), &["order.placed"])
        .await;
    let delivered = hub.publish("order.placed", json!({"n": 1})).await;
    let delivered_delivery = hub.settled_delivery(&delivered).await["id"].clone();
    subscriber.answer(&[503]);
    let pending = hub.publish("order.placed", json!({"n": 2})).await;
    subscriber.wait_for(2).await;

    // Age the first event and both messages by 40 days, straight in the database file.
    let db = Db::open(&hub.app.config.database).await.unwrap();
    let forty_days = 40 * DAY;
    execute(
        &db,
        format!(
            "UPDATE events SET received_at = received_at - {forty_days} WHERE id = {}",
            events[0]
        ),
    )
    .await;
    execute(
        &db,
        format!("UPDATE messages SET created_at = created_at - {forty_days}"),
    )
    .await;

    let pruned = retention::prune(&db, now_millis() - 30 * DAY)
        .await
        .unwrap();
    assert_eq!((pruned.events, pruned.messages), (1, 1));

    let hub = &hub;
    let get = move |path: String| async move { hub.api(Method::GET, &path, None).await };
    assert_eq!(
        get(format!("/api/v1/events/{}", events[0])).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(format!("/api/v1/events/{}", events[1])).await.0,
        StatusCode::OK
    );
    assert!(search(hub, "ancient").await.is_empty());
    assert_eq!(search(hub, "recent").await, [events[1]]);
    let (status, _) = get(format!("/api/v1/deliveries/{delivered_delivery}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, deliveries) = get("/api/v1/deliveries".into()).await;
    let left: Vec<&Value> = deliveries["data"].as_array().unwrap().iter().collect();
    assert_eq!(left.len(), 1, "{deliveries}");
    assert_eq!(left[0]["message_id"], pending.as_str());
    assert_eq!(left[0]["status"], "pending");

    // Nothing left to delete: a second pass finds nothing.
    let again = retention::prune(&db, now_millis() - 30 * DAY)
        .await
        .unwrap();
    assert_eq!((again.events, again.messages), (0, 0));
}

//! Payload filters over real HTTP: subscriptions with and without a filter, real subscribers,
//! and the filter checked on save and tried without saving.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::sending::{Subscriber, hub};

#[tokio::test]
async fn a_filtered_subscription_gets_only_the_payloads_that_match() {
    let hub = hub("0").await;
    let (big_eur, everything) = (Subscriber::start().await, Subscriber::start().await);
    hub.event_type("payment.made").await;
    let (status, created) = hub
        .api(
            Method::POST,
            "/api/v1/subscriptions",
            Some(json!({
                "url": big_eur.base,
                "event_types": ["payment.made"],
                "payload_filter": "  amount > 100 and currency in [\"eur\", \"chf\"]  ",
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["payload_filter"],
        "amount > 100 and currency in [\"eur\", \"chf\"]"
    );
    hub.subscribe(&everything.base, &["payment.made"]).await;

    let mut reached = Vec::new();
    for (amount, currency) in [(150, "eur"), (50, "eur"), (500, "usd"), (101, "chf")] {
        let (status, answer) = hub
            .api(
                Method::POST,
                "/api/v1/messages",
                Some(json!({"event_type": "payment.made",
                            "payload": {"amount": amount, "currency": currency}})),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        reached.push(answer["deliveries"].as_u64().unwrap());
    }
    assert_eq!(reached, [2, 1, 1, 2]);

    everything.wait_for(4).await;
    let received = big_eur.wait_for(2).await;
    let amounts: Vec<Value> = received
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["data"]["amount"].clone())
        .collect();
    assert_eq!(amounts, [json!(150), json!(101)]);
}

#[tokio::test]
async fn a_filter_with_a_mistake_is_refused_saying_where_and_nothing_is_saved() {
    let hub = hub("0").await;
    hub.event_type("payment.made").await;
    let (status, answer) = hub
        .api(
            Method::POST,
            "/api/v1/subscriptions",
            Some(
                json!({"url": "http://127.0.0.1:9/hook", "event_types": ["payment.made"],
                        "payload_filter": "amount = 100"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(
        answer["error"]["message"],
        "payload_filter: at character 8: equality is written `==`"
    );
    let (_, list) = hub.api(Method::GET, "/api/v1/subscriptions", None).await;
    assert_eq!(list["data"], json!([]));

    // Added, kept by an edit of something else, and removed by a blank one.
    let created = hub
        .subscribe("http://127.0.0.1:9/hook", &["payment.made"])
        .await;
    let path = format!("/api/v1/subscriptions/{}", created["id"].as_str().unwrap());
    assert_eq!(created["payload_filter"], Value::Null);
    let patch = |body: Value| hub.api(Method::PATCH, &path, Some(body));
    let (status, patched) = patch(json!({"payload_filter": "exists(customer)"})).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let (_, patched) = patch(json!({"description": "billing"})).await;
    assert_eq!(patched["payload_filter"], "exists(customer)");
    let (status, refused) = patch(json!({"payload_filter": "exists(customer"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at character 16: expected `)` after the path, found the end"),
        "{refused}"
    );
    let (_, patched) = patch(json!({"payload_filter": " "})).await;
    assert_eq!(patched["payload_filter"], Value::Null);
}

#[tokio::test]
async fn a_filter_is_tried_on_a_sample_without_saving() {
    let hub = hub("0").await;
    let try_it = |filter: &str, payload: Value| {
        hub.api(
            Method::POST,
            "/api/v1/payload-filters/try",
            Some(json!({"filter": filter, "payload": payload})),
        )
    };
    let (status, answer) = try_it(
        r#"data.items[0].sku == "A-1" and not exists(data.test)"#,
        json!({"data": {"items": [{"sku": "A-1"}]}}),
    )
    .await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"matches": true})));
    let (_, answer) = try_it("data.total >= 10", json!({"data": {"total": 9.5}})).await;
    assert_eq!(answer, json!({"matches": false}));
    let (status, answer) = try_it("data.total >=", json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer["error"]["message"],
        "payload_filter: at character 14: expected a value after `>=`, found the end of the filter"
    );
    let (status, _) = hub
        .app
        .client()
        .post(hub.app.url("/api/v1/payload-filters/try"))
        .json(&json!({"filter": "a == 1", "payload": {}}))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

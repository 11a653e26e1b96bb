//! Enforced schemas over real HTTP: an event type with a JSON Schema, payloads refused or
//! flagged by it, checked without publishing, and the catalog's own rules for schemas.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::sending::{Subscriber, hub};

fn invoice_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "amount"],
        "properties": {
            "id": {"type": "string", "pattern": "^in_"},
            "amount": {"type": "integer", "minimum": 0}
        }
    })
}

#[tokio::test]
async fn an_enforced_schema_refuses_a_payload_saying_where_and_why_and_sends_nothing() {
    let hub = hub("0").await;
    let subscriber = Subscriber::start().await;
    let (status, created) = hub
        .api(
            Method::POST,
            "/api/v1/event-types",
            Some(json!({"name": "invoice.paid", "schema": invoice_schema(),
                        "example": {"id": "in_1", "amount": 5}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["schema"], invoice_schema());
    assert_eq!(created["schema_mode"], "enforce");
    hub.subscribe(&subscriber.base, &["invoice.paid"]).await;

    let (status, refused) = hub
        .api(
            Method::POST,
            "/api/v1/messages",
            Some(json!({"event_type": "invoice.paid", "payload": {"id": "x_1", "amount": -5}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("payload: the payload does not match the schema of `invoice.paid`: "),
        "{message}"
    );
    let details = refused["error"]["details"].as_array().unwrap();
    let paths: Vec<&str> = details
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 2, "{details:?}");
    assert!(
        paths.contains(&"/id") && paths.contains(&"/amount"),
        "{paths:?}"
    );
    assert!(
        details
            .iter()
            .any(|d| d["message"].as_str().unwrap().contains("minimum of 0"))
    );

    // A payload that matches goes out, and only it.
    hub.publish("invoice.paid", json!({"id": "in_2", "amount": 7}))
        .await;
    let received = subscriber.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(subscriber.count(), 1);
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body["data"]["id"], "in_2");
}

#[tokio::test]
async fn a_schema_in_warn_mode_publishes_and_flags_the_message() {
    let hub = hub("0").await;
    let subscriber = Subscriber::start().await;
    let (status, _) = hub
        .api(
            Method::POST,
            "/api/v1/event-types",
            Some(
                json!({"name": "invoice.paid", "schema": invoice_schema(), "schema_mode": "warn"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    hub.subscribe(&subscriber.base, &["invoice.paid"]).await;
    let (status, answer) = hub
        .api(
            Method::POST,
            "/api/v1/messages",
            Some(json!({"event_type": "invoice.paid", "payload": {"id": "in_1"}})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["deliveries"], 1);
    assert_eq!(
        answer["schema_errors"],
        json!([{"path": "", "message": "\"amount\" is a required property"}])
    );
    subscriber.wait_for(1).await;

    // A payload that matches carries no flag.
    let (_, answer) = hub
        .api(
            Method::POST,
            "/api/v1/messages",
            Some(json!({"event_type": "invoice.paid", "payload": {"id": "in_1", "amount": 1}})),
        )
        .await;
    assert_eq!(answer.get("schema_errors"), None, "{answer}");

    // Switched to enforce, the same payload is refused.
    let (status, patched) = hub
        .api(
            Method::PATCH,
            "/api/v1/event-types/invoice.paid",
            Some(json!({"schema_mode": "enforce"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let (status, _) = hub
        .api(
            Method::POST,
            "/api/v1/messages",
            Some(json!({"event_type": "invoice.paid", "payload": {"id": "in_1"}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_payload_is_validated_without_publishing() {
    let hub = hub("0").await;
    let subscriber = Subscriber::start().await;
    let (status, _) = hub
        .api(
            Method::POST,
            "/api/v1/event-types",
            Some(json!({"name": "invoice.paid", "schema": invoice_schema()})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    hub.event_type("invoice.sent").await;
    hub.subscribe(&subscriber.base, &["*"]).await;
    let validate = |name: &str, payload: Value| {
        let path = format!("/api/v1/event-types/{name}/validate");
        let hub = &hub;
        async move {
            hub.api(Method::POST, &path, Some(json!({"payload": payload})))
                .await
        }
    };
    let (status, answer) = validate("invoice.paid", json!({"id": "in_1", "amount": "5"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["valid"], false);
    assert_eq!(answer["has_schema"], true);
    assert_eq!(answer["errors"][0]["path"], "/amount");
    assert_eq!(
        answer["errors"][0]["message"],
        "\"5\" is not of type \"integer\""
    );
    let (_, answer) = validate("invoice.paid", json!({"id": "in_1", "amount": 5})).await;
    assert_eq!(
        answer,
        json!({"valid": true, "has_schema": true, "errors": []})
    );
    let (_, answer) = validate("invoice.sent", json!([1, 2])).await;
    assert_eq!(
        answer,
        json!({"valid": true, "has_schema": false, "errors": []})
    );
    let (status, _) = validate("invoice.nope", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(subscriber.count(), 0, "validating published something");
}

#[tokio::test]
async fn schemas_that_cannot_work_and_examples_that_break_them_are_refused() {
    let hub = hub("0").await;
    let create = |body: Value| hub.api(Method::POST, "/api/v1/event-types", Some(body));
    let (status, answer) = create(json!({"name": "a.b", "schema": {"type": "integr"}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("schema: not a valid JSON Schema (draft 2020-12)"),
        "{answer}"
    );
    let (status, answer) =
        create(json!({"name": "a.b", "schema": {"$ref": "http://127.0.0.1:9/schema.json"}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (status, answer) =
        create(json!({"name": "a.b", "schema": invoice_schema(), "example": {"id": "in_1"}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer["error"]["message"],
        "example: the example does not match the schema: (the payload): \"amount\" is a required property"
    );
    let (status, answer) = create(json!({"name": "a.b", "schema_mode": "loud"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["message"], "schema_mode: enforce or warn");
    let (_, list) = hub.api(Method::GET, "/api/v1/event-types", None).await;
    assert!(
        !list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "a.b"),
        "a refused type was saved"
    );

    // A schema added later must accept the stored example; `null` removes it.
    let (status, _) = create(json!({"name": "a.b", "example": {"id": "in_1"}})).await;
    assert_eq!(status, StatusCode::CREATED);
    let patch = |body: Value| hub.api(Method::PATCH, "/api/v1/event-types/a.b", Some(body));
    let (status, _) = patch(json!({"schema": invoice_schema()})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, patched) = patch(json!({"schema": {"type": "object"}})).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["schema"], json!({"type": "object"}));
    let (_, patched) = patch(json!({"schema": null})).await;
    assert_eq!(patched["schema"], Value::Null);
}

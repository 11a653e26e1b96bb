//! One rule, whichever edge a change comes through: the REST API and the dashboard's server
//! functions call the same use case, so they check, trim and refuse alike.

use app::api::{CreateEventType, RemoveHandler, SetEventTypeDeprecated};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::handlers::add_handler;
use crate::helpers::app_error;
use crate::receiving::Hub;

#[tokio::test]
async fn event_types_follow_the_same_rules_through_the_api_and_the_dashboard() {
    let hub = Hub::start().await;
    let admin = hub.app.set_up().await;
    let long = "x".repeat(501);

    // Too long a description is refused by both, as a fault of the description.
    let (status, refused) = hub
        .api(
            Method::POST,
            "/api/v1/event-types",
            Some(json!({"name": "too.long", "description": long})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.to_string().contains("description"), "{refused}");
    let refused = hub
        .app
        .call::<CreateEventType>(&admin, &[("name", "too.long"), ("description", &long)])
        .await;
    assert_eq!(
        app_error(refused).await.for_field("description"),
        Some("At most 500 characters.")
    );

    // Both store names and descriptions trimmed.
    let (status, created) = hub
        .api(
            Method::POST,
            "/api/v1/event-types",
            Some(json!({"name": " by.api ", "description": "  padded  "})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let made = hub
        .app
        .call::<CreateEventType>(
            &admin,
            &[("name", " by.dashboard "), ("description", "  padded  ")],
        )
        .await;
    assert!(made.status().is_success());
    let (_, listed) = hub.api(Method::GET, "/api/v1/event-types", None).await;
    let types: Vec<(&str, &str)> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["description"].as_str().unwrap(),
            )
        })
        // The types hookhub publishes itself are in every catalog.
        .filter(|(name, _)| !name.starts_with("hookhub."))
        .collect();
    assert_eq!(types, [("by.api", "padded"), ("by.dashboard", "padded")]);

    // A taken name: 409 from the API, a message beside the name field in the dashboard.
    let (status, _) = hub
        .api(
            Method::POST,
            "/api/v1/event-types",
            Some(json!({"name": "by.dashboard"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let taken = hub
        .app
        .call::<CreateEventType>(&admin, &[("name", "by.api"), ("description", "")])
        .await;
    assert_eq!(
        app_error(taken).await.for_field("name"),
        Some("That event type already exists.")
    );

    // Changing a description is bounded too, and an unknown type is not found by either.
    let (status, _) = hub
        .api(
            Method::PATCH,
            "/api/v1/event-types/by.api",
            Some(json!({"description": long})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = hub
        .api(
            Method::PATCH,
            "/api/v1/event-types/no.such",
            Some(json!({"deprecated": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let unknown = hub
        .app
        .call::<SetEventTypeDeprecated>(&admin, &[("name", "no.such"), ("deprecated", "true")])
        .await;
    assert!(matches!(
        app_error(unknown).await,
        app::error::AppError::NotFound(_)
    ));
}

#[tokio::test]
async fn an_event_types_example_payload_is_kept_as_written_and_checked_as_json() {
    let hub = Hub::start().await;
    let admin = hub.app.set_up().await;

    // Through the API: any JSON, answered as the JSON it is, its keys in their order.
    let (status, created) = hub
        .api(
            Method::POST,
            "/api/v1/event-types",
            Some(json!({"name": "order.placed", "example": {"total": 42, "id": "ord_1"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["example"].to_string(),
        r#"{"total":42,"id":"ord_1"}"#
    );
    let (_, changed) = hub
        .api(
            Method::PATCH,
            "/api/v1/event-types/order.placed",
            Some(json!({"example": null})),
        )
        .await;
    assert_eq!(changed["example"], json!(null));

    // Through the dashboard: text that must be JSON, said beside the field when it is not.
    let refused = hub
        .app
        .call::<CreateEventType>(
            &admin,
            &[
                ("name", "order.shipped"),
                ("description", ""),
                ("example", "{not json"),
            ],
        )
        .await;
    let refused = app_error(refused).await;
    assert!(
        refused
            .for_field("example")
            .is_some_and(|m| m.starts_with("The example is not JSON")),
        "{refused:?}"
    );
    let written = "{\n  \"id\": \"ord_2\"\n}";
    hub.app
        .call::<CreateEventType>(
            &admin,
            &[
                ("name", "order.shipped"),
                ("description", ""),
                ("example", written),
            ],
        )
        .await;
    let (_, listed) = hub.api(Method::GET, "/api/v1/event-types", None).await;
    let shipped = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "order.shipped")
        .unwrap();
    assert_eq!(shipped["example"], json!({"id": "ord_2"}));
}

#[tokio::test]
async fn handlers_follow_the_same_rules_through_the_api_and_the_dashboard() {
    let hub = Hub::start().await;
    let admin = hub.app.set_up().await;
    let source = hub
        .create_source(json!({"name": "gh", "provider": "github"}))
        .await;
    let source = source["id"].as_str().unwrap();
    let handlers = format!("/api/v1/sources/{source}/handlers");
    let add_through_dashboard = async |event_types: &str| {
        let fields = [
            ("source_id", source),
            ("kind", "respond"),
            ("status", "202"),
            ("event_types", event_types),
        ];
        add_handler(&hub, &admin, &fields).await
    };

    // A wildcard inside a name is refused by both, as a fault of the patterns, with one message.
    let (status, refused) = hub
        .api(
            Method::POST,
            &handlers,
            Some(json!({"kind": "respond", "event_types": ["invoice*"], "settings": {"status": 202}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("event_types: `invoice*`"), "{message}");
    let (status, refused) = add_through_dashboard("invoice*").await;
    assert!(!status.is_success());
    assert_eq!(refused["Invalid"]["field"], "event_types", "{refused}");
    assert_eq!(
        refused["Invalid"]["message"].as_str(),
        message.strip_prefix("event_types: ")
    );

    // Both trim the patterns and drop blank ones; a provider's own name such as Shopify's
    // `orders/create` is a pattern too.
    let (status, by_api) = hub
        .api(
            Method::POST,
            &handlers,
            Some(json!({
                "kind": "respond",
                "event_types": [" push ", "", "orders/create"],
                "settings": {"status": 202}
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{by_api}");
    let (status, by_dashboard) = add_through_dashboard(" push , ,orders/create").await;
    assert_eq!(status, StatusCode::OK, "{by_dashboard}");
    let (_, listed) = hub.api(Method::GET, &handlers, None).await;
    let listed = listed["data"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    for handler in listed {
        assert_eq!(handler["event_types"], json!(["push", "orders/create"]));
        assert_eq!(handler["source_id"], json!(source));
    }

    // Each edge removes what the other added; a handler that is gone is not found by either.
    let (by_api, by_dashboard) = (
        by_api["id"].as_str().unwrap(),
        by_dashboard["id"].as_str().unwrap(),
    );
    let removed = hub
        .app
        .call::<RemoveHandler>(&admin, &[("source_id", source), ("id", by_api)])
        .await;
    assert!(removed.status().is_success());
    let (status, _) = hub
        .api(Method::DELETE, &format!("{handlers}/{by_dashboard}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = hub
        .api(Method::DELETE, &format!("{handlers}/{by_api}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let gone = hub
        .app
        .call::<RemoveHandler>(&admin, &[("source_id", source), ("id", by_dashboard)])
        .await;
    assert!(matches!(
        app_error(gone).await,
        app::error::AppError::NotFound(_)
    ));
    let (_, listed) = hub.api(Method::GET, &handlers, None).await;
    assert_eq!(listed["data"], json!([]));

    // The global chain has the same routes, and an unknown source is not found.
    let (status, global) = hub
        .api(
            Method::POST,
            "/api/v1/handlers",
            Some(json!({"kind": "respond", "settings": {"status": 410}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{global}");
    assert_eq!(global["source_id"], json!(null));
    assert_eq!(global["settings"]["status"], json!(410));
    let (_, listed) = hub.api(Method::GET, "/api/v1/handlers", None).await;
    assert_eq!(listed["data"][0]["id"], global["id"]);
    let (status, _) = hub
        .api(Method::GET, "/api/v1/sources/src_nope/handlers", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

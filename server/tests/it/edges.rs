//! One rule, whichever edge a change comes through: the REST API and the dashboard's server
//! functions call the same use case, so they check, trim and refuse alike.

use app::api::{CreateEventType, SetEventTypeDeprecated};
use reqwest::{Method, StatusCode};
use serde_json::json;

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
        Some("at most 500 characters")
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
        Some("that event type already exists")
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

//! Roles and subscriber credentials: a member uses the dashboard but sees no secret and manages
//! no API key; credentials in a subscription's headers and URL are shown redacted everywhere
//! but an admin's "Show secret", and an edit that sends `[redacted]` back keeps them.

use app::api::{
    AddUser, CreateApiKey, DropPreviousSecret, ListApiKeys, ListDeliveries, ListSubscriptions,
    RevokeApiKey, RotateSourceSecret, RotateSubscriptionSecret, SourceDetail, SubscriptionDetail,
    UpdateSubscription,
};
use app::error::AppError;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, app_error, assert_page};
use crate::receiving::Hub;
use crate::sending::{Subscriber, hub};

const HEADER_TOKEN: &str = "Bearer sub-header-token";
const URL_TOKEN: &str = "sub-url-token";

/// A hub with an admin and a member signed in, a GitHub source and a subscription whose
/// subscriber wants an `Authorization` header and a `?token=` in its URL.
struct Setup {
    hub: Hub,
    admin: Client,
    member: Client,
    subscriber: Subscriber,
    source: Value,
    subscription: Value,
}

async fn set_up() -> Setup {
    let hub = hub("0").await;
    let admin = hub.app.set_up().await;
    let added = hub
        .app
        .call::<AddUser>(&admin, &[("username", "bob"), ("password", PASSWORD)])
        .await;
    assert!(added.status().is_success());
    let (member, _) = hub.app.log_in("bob", PASSWORD).await;
    let source = hub
        .create_source(json!({"name": "gh", "provider": "github"}))
        .await;
    hub.event_type("invoice.paid").await;
    let subscriber = Subscriber::start().await;
    let (status, subscription) = hub
        .api(
            Method::POST,
            "/api/v1/subscriptions",
            Some(json!({
                "url": format!("{}/in?token={URL_TOKEN}&team=7", subscriber.base),
                "event_types": ["invoice.paid"],
                "headers": {"Authorization": HEADER_TOKEN, "X-Team": "blue"},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{subscription}");
    Setup {
        hub,
        admin,
        member,
        subscriber,
        source,
        subscription,
    }
}

fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap()
}

#[tokio::test]
async fn a_member_cannot_see_secrets_or_manage_api_keys() {
    let Setup {
        hub,
        admin,
        member,
        source,
        subscription,
        ..
    } = set_up().await;
    let app = &hub.app;
    let source_secret = source["secret"].as_str().unwrap();
    let signing_secret = subscription["secret"].as_str().unwrap();

    // Every admin-only server function refuses the member and changes nothing.
    let refusals = [
        app.call::<ListApiKeys>(&member, &[]).await,
        app.call::<CreateApiKey>(&member, &[("name", "mine")]).await,
        app.call::<RevokeApiKey>(&member, &[("id", "1")]).await,
        app.call::<RotateSourceSecret>(&member, &[("id", id(&source))])
            .await,
        app.call::<DropPreviousSecret>(&member, &[("id", id(&source))])
            .await,
        app.call::<RotateSubscriptionSecret>(&member, &[("id", id(&subscription))])
            .await,
    ];
    for refused in refusals {
        assert!(matches!(app_error(refused).await, AppError::Forbidden(_)));
    }
    let (status, whoami) = hub.api(Method::GET, "/api/v1/whoami", None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the member revoked the hub's key: {whoami}"
    );
    let keys: Value = app
        .call::<ListApiKeys>(&admin, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys.as_array().unwrap().len(), 1, "{keys}");

    // The detail views carry no secret for the member, and all of them for the admin.
    let secrets = [source_secret, signing_secret, HEADER_TOKEN, URL_TOKEN];
    let member_views = [
        app.call::<SourceDetail>(&member, &[("id", id(&source))])
            .await,
        app.call::<SubscriptionDetail>(&member, &[("id", id(&subscription))])
            .await,
        app.get(&member, &format!("/sources/{}", id(&source))).await,
        app.get(&member, &format!("/subscriptions/{}", id(&subscription)))
            .await,
    ];
    for view in member_views {
        assert_eq!(view.status(), StatusCode::OK);
        let text = view.text().await.unwrap();
        for secret in secrets {
            assert!(!text.contains(secret), "a member sees {secret}");
        }
    }
    let source_page = assert_page(
        app.get(&admin, &format!("/sources/{}", id(&source))).await,
        StatusCode::OK,
        source_secret,
    )
    .await;
    assert!(source_page.contains("Rotate secret"));
    let subscription_page = assert_page(
        app.get(&admin, &format!("/subscriptions/{}", id(&subscription)))
            .await,
        StatusCode::OK,
        signing_secret,
    )
    .await;
    assert!(subscription_page.contains(HEADER_TOKEN) && subscription_page.contains(URL_TOKEN));
    let member_page = assert_page(
        app.get(&member, &format!("/sources/{}", id(&source))).await,
        StatusCode::OK,
        "Only an admin can see or rotate the secret.",
    )
    .await;
    assert!(!member_page.contains("Rotate secret"));
    assert_page(
        app.get(&member, "/settings").await,
        StatusCode::OK,
        "Only an admin can create, see and revoke API keys",
    )
    .await;
}

#[tokio::test]
async fn subscriber_credentials_are_shown_redacted_everywhere_but_on_request() {
    let Setup {
        hub,
        admin,
        subscriber,
        subscription,
        ..
    } = set_up().await;
    let app = &hub.app;
    let path = format!("/api/v1/subscriptions/{}", id(&subscription));
    let message = hub.publish("invoice.paid", json!({"n": 1})).await;
    hub.settled_delivery(&message).await;

    let answers = [
        subscription.to_string(),
        hub.api(Method::GET, "/api/v1/subscriptions", None)
            .await
            .1
            .to_string(),
        hub.api(Method::GET, &path, None).await.1.to_string(),
        app.call::<ListSubscriptions>(&admin, &[])
            .await
            .text()
            .await
            .unwrap(),
        app.call::<ListDeliveries>(&admin, &[])
            .await
            .text()
            .await
            .unwrap(),
        app.get(&admin, "/subscriptions")
            .await
            .text()
            .await
            .unwrap(),
    ];
    for answer in answers {
        assert!(!answer.contains(HEADER_TOKEN), "{answer}");
        assert!(!answer.contains(URL_TOKEN), "{answer}");
        assert!(answer.contains("[redacted]"), "{answer}");
    }
    let (_, shown) = hub.api(Method::GET, &path, None).await;
    assert_eq!(shown["headers"]["x-team"], "blue");
    assert!(
        shown["url"]
            .as_str()
            .unwrap()
            .ends_with("/in?token=[redacted]&team=7")
    );

    // The admin's detail has them in clear, for "Show secret".
    let detail: Value = app
        .call::<SubscriptionDetail>(&admin, &[("id", id(&subscription))])
        .await
        .json()
        .await
        .unwrap();
    let secrets = &detail["secrets"];
    assert!(
        secrets["url"].as_str().unwrap().contains(URL_TOKEN),
        "{detail}"
    );
    assert!(
        secrets["headers"].to_string().contains(HEADER_TOKEN),
        "{detail}"
    );

    // The subscriber got the real values all along.
    let received = subscriber.wait_for(1).await;
    assert_eq!(received[0].headers["authorization"], HEADER_TOKEN);
    assert_eq!(
        received[0].query.as_deref(),
        Some(format!("token={URL_TOKEN}&team=7").as_str())
    );
}

#[tokio::test]
async fn edits_that_send_redacted_back_keep_the_credentials() {
    let Setup {
        hub,
        admin,
        subscriber,
        subscription,
        ..
    } = set_up().await;
    let app = &hub.app;
    let path = format!("/api/v1/subscriptions/{}", id(&subscription));

    // A script edits what it read back from the API, redacted values and all.
    let (_, shown) = hub.api(Method::GET, &path, None).await;
    let (status, patched) = hub
        .api(
            Method::PATCH,
            &path,
            Some(json!({
                "url": shown["url"],
                "headers": shown["headers"],
                "description": "edited by a script",
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");

    // The dashboard's form is filled from the redacted view and saved as it is.
    let detail: Value = app
        .call::<SubscriptionDetail>(&admin, &[("id", id(&subscription))])
        .await
        .json()
        .await
        .unwrap();
    let lines = |pairs: &Value| {
        pairs
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| {
                format!(
                    "{}: {}",
                    pair[0].as_str().unwrap(),
                    pair[1].as_str().unwrap()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let shown = &detail["subscription"];
    let headers = lines(&shown["headers"]);
    assert!(headers.contains("authorization: [redacted]"), "{headers}");
    let saved = app
        .call::<UpdateSubscription>(
            &admin,
            &[
                ("id", id(&subscription)),
                ("form[url]", shown["url"].as_str().unwrap()),
                ("form[description]", "edited in the dashboard"),
                ("form[event_types]", "invoice.paid"),
                ("form[headers]", &headers),
                ("form[properties]", ""),
                ("form[mode]", "standard"),
            ],
        )
        .await;
    assert!(
        saved.status().is_success(),
        "{}",
        saved.text().await.unwrap()
    );

    let message = hub.publish("invoice.paid", json!({"n": 1})).await;
    hub.settled_delivery(&message).await;
    let received = subscriber.wait_for(1).await;
    assert_eq!(received[0].headers["authorization"], HEADER_TOKEN);
    assert_eq!(received[0].headers["x-team"], "blue");
    assert_eq!(
        received[0].query.as_deref(),
        Some(format!("token={URL_TOKEN}&team=7").as_str())
    );

    // `[redacted]` where nothing is stored is refused, saying which value is missing.
    let (status, refused) = hub
        .api(
            Method::PATCH,
            &path,
            Some(json!({"headers": {"X-Api-Key": "[redacted]"}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.to_string().contains("X-Api-Key"), "{refused}");
    let (status, refused) = hub
        .api(
            Method::POST,
            "/api/v1/subscriptions",
            Some(json!({
                "url": format!("{}/in?token=[redacted]", subscriber.base),
                "event_types": ["invoice.paid"],
            })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
}

//! The REST API's base: API keys and the JSON error shape.

use app::api::{CreateApiKey, ListApiKeys, RevokeApiKey};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;

async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn whoami(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client().get(app.url("/api/v1/whoami"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn api_keys_authenticate_until_revoked() {
    let app = TestApp::spawn().await;
    let client = app.set_up().await;

    let created = json(
        app.call::<CreateApiKey>(&client, &[("name", "deploy script")])
            .await,
    )
    .await;
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["key"]["id"].as_i64().unwrap().to_string();

    let response = whoami(&app, Some(&token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["api_key"]["name"], "deploy script");

    // The list shows the key's prefix and its use, never the token.
    let listed = app
        .call::<ListApiKeys>(&client, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(!listed.contains(&token));
    let keys: Value = serde_json::from_str(&listed).unwrap();
    assert!(token.starts_with(keys[0]["prefix"].as_str().unwrap()));
    assert!(keys[0]["last_used_at"].is_i64());

    assert!(
        app.call::<RevokeApiKey>(&client, &[("id", &id)])
            .await
            .status()
            .is_success()
    );
    let response = whoami(&app, Some(&token)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        json(response).await["error"]["message"],
        "unknown or revoked API key"
    );
}

#[tokio::test]
async fn api_errors_have_one_json_shape() {
    let app = TestApp::spawn().await;
    let token = server::commands::create_key(app.config.clone(), "cli".into())
        .await
        .unwrap();

    let cases = [
        (
            whoami(&app, None).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            whoami(&app, Some("hh_wrong")).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            app.client()
                .get(app.url("/api/v1/nothing"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            app.client()
                .get(app.url("/api/v1/events/abc"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            app.client()
                .delete(app.url("/api/v1/whoami"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (response, status, code) in cases {
        assert_eq!(response.status(), status);
        let body = json(response).await;
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    assert_eq!(whoami(&app, Some(&token)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn api_key_names_are_validated() {
    let app = TestApp::spawn().await;
    let client = app.set_up().await;
    let response = app.call::<CreateApiKey>(&client, &[("name", "   ")]).await;
    let err = crate::helpers::app_error(response).await;
    assert!(err.for_field("name").is_some(), "{err:?}");
}

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
        (
            // serde would read an array as a struct's fields in order; the API takes objects.
            app.client()
                .patch(app.url("/api/v1/event-types/any.type"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("[null, null]")
                .send()
                .await
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            app.client()
                .post(app.url("/api/v1/event-types"))
                .bearer_auth(&token)
                .header("content-type", "text/plain")
                .body(r#"{"name": "a.b"}"#)
                .send()
                .await
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
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

/// The description is served without a key (it holds no secret), is OpenAPI 3.1, and names
/// every route the router has, each with the shared error answers and the bearer scheme.
#[tokio::test]
async fn the_api_describes_itself() {
    let app = TestApp::spawn().await;
    let response = app
        .client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let spec = json(response).await;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(spec["servers"][0]["url"], "/api/v1");
    assert_eq!(
        spec["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );
    let paths = spec["paths"].as_object().unwrap();
    let operations: Vec<(&str, &Value)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .values()
                .map(move |op| (path.as_str(), op))
        })
        .collect();
    assert_eq!(
        operations.len(),
        46,
        "{:?}",
        paths.keys().collect::<Vec<_>>()
    );
    for (path, op) in &operations {
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.contains_key("401"), "{path}");
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{path} has no success answer"
        );
        if path.contains('{') {
            assert!(responses.contains_key("404"), "{path}");
        }
    }
    let create_source = &spec["components"]["schemas"]["CreateSource"]["properties"]["provider"];
    assert!(
        create_source["enum"]
            .as_array()
            .unwrap()
            .contains(&Value::from("github"))
    );
}

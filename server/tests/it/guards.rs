//! What protects the dashboard: login required everywhere, cross-site posts refused, errors
//! that do not leak.

use app::api::{LogOut, public_paths};
use reqwest::StatusCode;

use crate::helpers::{TestApp, app_error, assert_page, location};

#[tokio::test]
async fn every_server_function_refuses_a_request_without_a_session() {
    let app = TestApp::spawn().await;
    app.set_up().await;
    let anonymous = app.client();

    let paths: Vec<_> = server_fn::axum::server_fn_paths()
        .filter(|(path, _)| !public_paths().contains(path))
        .collect();
    assert!(
        paths.len() >= 10,
        "only {} server functions registered",
        paths.len()
    );
    for (path, _) in paths {
        let response = anonymous
            .post(app.url(path))
            .header("origin", app.url(""))
            .form(&[("id", "1"), ("name", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            app_error(response).await,
            app::error::AppError::Unauthorized,
            "{path}"
        );
    }
}

#[tokio::test]
async fn protected_pages_redirect_to_login() {
    let app = TestApp::spawn().await;
    app.set_up().await;
    let anonymous = app.client();
    for (path, next) in [
        ("/", "/"),
        ("/settings", "/settings"),
        ("/settings?tab=x", "/settings%3Ftab%3Dx"),
        ("/no-such-page", "/no-such-page"),
    ] {
        let response = app.get(&anonymous, path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), format!("/login?next={next}"), "{path}");
    }
    assert_page(
        app.get(&anonymous, "/login").await,
        StatusCode::OK,
        "Log in",
    )
    .await;
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = TestApp::spawn().await;
    let client = app.set_up().await;

    let evil = app
        .call_from::<LogOut>(&client, &[], "https://evil.example")
        .await;
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    assert!(
        evil.text()
            .await
            .unwrap()
            .contains("Cross-site request refused")
    );

    let no_origin = client
        .post(app.url(<LogOut as server_fn::ServerFn>::PATH))
        .send()
        .await
        .unwrap();
    assert_eq!(no_origin.status(), StatusCode::FORBIDDEN);

    // The session is untouched.
    assert_page(app.get(&client, "/").await, StatusCode::OK, "Overview").await;
}

#[tokio::test]
async fn unknown_pages_are_404_pages() {
    let app = TestApp::spawn().await;
    let client = app.set_up().await;
    assert_page(
        app.get(&client, "/no/such/page").await,
        StatusCode::NOT_FOUND,
        "There is nothing here",
    )
    .await;
}

#[tokio::test]
async fn healthz_checks_the_database() {
    let app = TestApp::spawn().await;
    let response = app.get(&app.client(), "/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn malformed_server_function_input_is_a_clear_error() {
    let app = TestApp::spawn().await;
    let client = app.set_up().await;
    let response = client
        .post(app.url(<app::api::RemoveUser as server_fn::ServerFn>::PATH))
        .header("origin", app.url(""))
        .form(&[("id", "not-a-number")])
        .send()
        .await
        .unwrap();
    assert!(!response.status().is_success());
    assert!(matches!(
        app_error(response).await,
        app::error::AppError::Request(_)
    ));
}

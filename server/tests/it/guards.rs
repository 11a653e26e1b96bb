//! What protects the dashboard and the API: a session for every page and server function, a
//! valid key for every API route, cross-site posts refused, errors that do not leak. The walks
//! find the pages, server functions and API routes themselves, so new ones are covered.

use app::api::{ListDeliveries, ListEvents, RevokeApiKey, public_paths};
use reqwest::{Method, StatusCode};

use crate::helpers::{TestApp, app_error, assert_page, location};
use crate::receiving::Hub;

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

/// Every page the dashboard routes, with `1` for each path parameter.
fn dashboard_pages() -> Vec<String> {
    let pages: Vec<String> = server::http::dashboard_routes()
        .iter()
        .map(|route| with_ones(route.path()))
        .collect();
    assert!(pages.len() >= 10, "only {} pages: {pages:?}", pages.len());
    pages
}

/// A route's path with `1` for each `{parameter}`.
fn with_ones(path: &str) -> String {
    path.split('/')
        .map(|part| if part.starts_with('{') { "1" } else { part })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_page_redirects_to_login_without_a_session() {
    let app = TestApp::spawn().await;
    app.set_up().await;
    let anonymous = app.client();
    let mut pages = dashboard_pages();
    pages.extend(["/events/1/raw", "/settings?tab=x", "/no-such-page"].map(String::from));
    for path in pages {
        let response = app.get(&anonymous, &path).await;
        match path.as_str() {
            "/login" | "/portal/signed-out" => assert_eq!(response.status(), StatusCode::OK),
            "/setup" => assert_eq!(location(&response), "/login"),
            // The consumer portal has its own sign-in (tests/it/consumers.rs).
            portal if portal.starts_with("/portal") => {
                assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
                assert_eq!(location(&response), "/portal/signed-out");
            }
            _ => {
                assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
                let next = path.replace('?', "%3F").replace('=', "%3D");
                assert_eq!(location(&response), format!("/login?next={next}"));
            }
        }
    }
    assert_page(
        app.get(&anonymous, "/login").await,
        StatusCode::OK,
        "Log in",
    )
    .await;
}

/// Every route of the REST API as (method, path), read from its description, which is built
/// from the router itself: a new route is walked without being listed here.
async fn api_routes(app: &TestApp) -> Vec<(Method, String)> {
    let description: serde_json::Value = app
        .client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut routes = Vec::new();
    for (path, item) in description["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            routes.push((method, format!("/api/v1{}", with_ones(path))));
        }
    }
    assert!(
        routes.len() >= 30,
        "only {} API routes: {routes:?}",
        routes.len()
    );
    routes
}

#[tokio::test]
async fn every_api_route_refuses_a_request_without_a_valid_key() {
    let hub = Hub::start().await;
    let app = &hub.app;
    // A dashboard session is no API credential.
    let signed_in = app.set_up().await;
    let revoked = hub.key().to_owned();
    let (status, _) = hub.api(Method::GET, "/api/v1/whoami", None).await;
    assert_eq!(status, StatusCode::OK, "the key works before it is revoked");
    let response = app.call::<RevokeApiKey>(&signed_in, &[("id", "1")]).await;
    assert!(response.status().is_success());

    let routes = api_routes(app).await;
    for (method, path) in &routes {
        for authorization in [
            None,
            Some("Bearer not-a-key".to_owned()),
            Some(format!("Bearer {revoked}")),
            Some(revoked.clone()),
        ] {
            let mut request = signed_in
                .request(method.clone(), app.url(path))
                .header("origin", app.url(""))
                .json(&serde_json::json!({}));
            if let Some(authorization) = &authorization {
                request = request.header("authorization", authorization);
            }
            let response = request.send().await.unwrap();
            let what = format!("{method} {path} with {authorization:?}");
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unauthorized", "{what}");
        }
    }
}

#[tokio::test]
async fn every_server_function_refuses_a_cross_site_call() {
    let app = TestApp::spawn().await;
    let client = app.set_up().await;

    // Another scheme or port at the same host is another origin too.
    let evil_origins = [
        "https://evil.example".to_owned(),
        format!("https://{}", app.addr),
        format!("http://{}:{}", app.addr.ip(), app.addr.port() + 1),
    ];
    for (path, _) in server_fn::axum::server_fn_paths() {
        for origin in &evil_origins {
            let evil = client
                .post(app.url(path))
                .header("origin", origin)
                .form(&[("id", "1"), ("name", "x")])
                .send()
                .await
                .unwrap();
            assert_eq!(evil.status(), StatusCode::FORBIDDEN, "{path} from {origin}");
            let text = evil.text().await.unwrap();
            assert!(
                text.contains("Cross-site request refused"),
                "{path}: {text}"
            );
        }
        let no_origin = client
            .post(app.url(path))
            .form(&[("id", "1"), ("name", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(no_origin.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // The session is untouched: logging out was refused too.
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
    let health: serde_json::Value = response.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert!(
        ["checking", "ok"].contains(&health["integrity"].as_str().unwrap()),
        "{health}"
    );
}

#[tokio::test]
async fn lists_answer_a_call_without_filters() {
    // As the hydrated app calls them on a page opened without a query string.
    let app = TestApp::spawn().await;
    let client = app.set_up().await;
    let events = app.call::<ListEvents>(&client, &[]).await;
    assert_eq!(
        events.status(),
        StatusCode::OK,
        "{}",
        events.text().await.unwrap()
    );
    let deliveries = app.call::<ListDeliveries>(&client, &[]).await;
    assert_eq!(deliveries.status(), StatusCode::OK);
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

#[tokio::test]
async fn server_function_errors_answer_the_status_they_mean() {
    use app::api::{AddUser, RemoveUser};
    let app = TestApp::spawn_with(|c| c.login_max_failures = 2).await;
    let admin = app.set_up().await;
    let status = |response: reqwest::Response| response.status();

    // A field to fix, a thing that is not there, a request that does not parse.
    let invalid = app
        .call::<AddUser>(&admin, &[("username", "no spaces"), ("password", "x")])
        .await;
    assert_eq!(status(invalid), StatusCode::UNPROCESSABLE_ENTITY);
    let missing = app.call::<RemoveUser>(&admin, &[("id", "999999")]).await;
    assert_eq!(status(missing), StatusCode::NOT_FOUND);
    let malformed = app.call::<RemoveUser>(&admin, &[("id", "one")]).await;
    assert_eq!(status(malformed), StatusCode::BAD_REQUEST);
    let huge = admin
        .post(app.url(<RemoveUser as server_fn::ServerFn>::PATH))
        .header("origin", app.url(""))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 8 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(status(huge), StatusCode::PAYLOAD_TOO_LARGE);

    // Not an admin.
    let added = app
        .call::<AddUser>(
            &admin,
            &[("username", "bob"), ("password", crate::helpers::PASSWORD)],
        )
        .await;
    assert!(added.status().is_success());
    let (bob, _) = app.log_in("bob", crate::helpers::PASSWORD).await;
    let refused = app
        .call::<AddUser>(
            &bob,
            &[("username", "eve"), ("password", crate::helpers::PASSWORD)],
        )
        .await;
    assert_eq!(status(refused), StatusCode::FORBIDDEN);

    // A wrong password, then throttled, with the wait in Retry-After; the body is still the
    // error the dashboard shows.
    let (_, wrong) = app.log_in("bob", "wrong horse battery").await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    app.log_in("bob", "wrong horse battery").await;
    let (_, throttled) = app.log_in("bob", "wrong horse battery").await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().contains_key("retry-after"));
    assert!(matches!(
        app_error(throttled).await,
        app::error::AppError::Throttled { .. }
    ));
}

#[tokio::test]
async fn missing_detail_pages_are_404() {
    let app = TestApp::spawn().await;
    let client = app.set_up().await;
    for path in [
        "/events/999999",
        "/sources/src_nope",
        "/subscriptions/sub_nope",
        "/deliveries/999999",
    ] {
        let page = app.get(&client, path).await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{path}");
        let html = page.text().await.unwrap();
        assert!(html.contains("There is no such"), "{path}: {html}");
    }
}

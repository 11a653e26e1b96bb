//! Behind a reverse proxy: forwarding headers believed only from `trusted_proxies`, both ways,
//! for the events' remote address, the login throttle, cookies and the cross-site check.

use app::api::LogIn;
use app::error::AppError;
use reqwest::StatusCode;
use reqwest::header::{ORIGIN, SET_COOKIE};
use serde_json::json;

use crate::helpers::{TestApp, app_error};
use crate::receiving::{Hub, PUSH, hmac_sha256};

/// Sends a signed GitHub delivery with `headers` added; answers the stored event's remote address.
async fn remote_addr_of_a_delivery(hub: &Hub, delivery: &str, headers: &[(&str, &str)]) -> String {
    let source = hub
        .create_source(json!({"name": delivery, "provider": "github"}))
        .await;
    let secret = source["secret"].as_str().unwrap();
    let signature = format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &[PUSH]))
    );
    let mut request = hub
        .app
        .client()
        .post(source["url"].as_str().unwrap())
        .header("content-type", "application/json")
        .header("x-github-event", "push")
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", signature)
        .body(PUSH.to_vec());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let id = response.json::<serde_json::Value>().await.unwrap()["event_id"]
        .as_i64()
        .unwrap();
    let (_, event) = hub
        .api(reqwest::Method::GET, &format!("/api/v1/events/{id}"), None)
        .await;
    event["remote_addr"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn forwarding_headers_are_ignored_without_trusted_proxies() {
    let hub = Hub::start().await;
    let forged = [
        ("x-forwarded-for", "203.0.113.9"),
        ("forwarded", "for=203.0.113.9;proto=https"),
    ];
    assert_eq!(
        remote_addr_of_a_delivery(&hub, "d-1", &forged).await,
        "127.0.0.1"
    );
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client() {
    let hub = Hub::start_with(|c| {
        c.trusted_proxies = server::outbound::AllowList::parse("127.0.0.0/8").unwrap();
    })
    .await;
    // The client forged the left-most entry; the proxy appended what it saw.
    let via_proxy = [("x-forwarded-for", "198.51.100.1, 203.0.113.9")];
    assert_eq!(
        remote_addr_of_a_delivery(&hub, "d-1", &via_proxy).await,
        "203.0.113.9"
    );
    let rfc7239 = [("forwarded", r#"for="[2001:db8::7]:4711";proto=https"#)];
    assert_eq!(
        remote_addr_of_a_delivery(&hub, "d-2", &rfc7239).await,
        "2001:db8::7"
    );
    assert_eq!(
        remote_addr_of_a_delivery(&hub, "d-3", &[]).await,
        "127.0.0.1"
    );
}

/// Failed logins for different user names, each from `client`; answers whether the last is
/// throttled.
async fn third_failure_throttled(app: &TestApp, clients: [&str; 4]) -> bool {
    let mut last = None;
    for (n, client) in clients.iter().enumerate() {
        let response = app
            .client()
            .post(app.url(<LogIn as server_fn::ServerFn>::PATH))
            .header(ORIGIN, app.url(""))
            .header("x-forwarded-for", *client)
            .form(&[
                ("username", format!("nobody-{n}").as_str()),
                ("password", "wrong password!"),
            ])
            .send()
            .await
            .unwrap();
        last = Some(app_error(response).await);
    }
    matches!(last, Some(AppError::Throttled { .. }))
}

#[tokio::test]
async fn the_login_throttle_counts_the_client_behind_a_trusted_proxy() {
    let trusting = TestApp::spawn_with(|c| {
        c.login_max_failures = 3;
        c.trusted_proxies = server::outbound::AllowList::parse("127.0.0.1").unwrap();
    })
    .await;
    trusting.set_up().await;
    let same = ["203.0.113.9"; 4];
    assert!(third_failure_throttled(&trusting, same).await);
    let different = [
        "203.0.113.10",
        "203.0.113.11",
        "203.0.113.12",
        "203.0.113.13",
    ];
    assert!(
        !third_failure_throttled(&trusting, different).await,
        "clients behind one proxy were throttled together"
    );

    // Without the setting the header is the client's own word, so it cannot dodge the throttle.
    let untrusting = TestApp::spawn_with(|c| c.login_max_failures = 3).await;
    untrusting.set_up().await;
    assert!(third_failure_throttled(&untrusting, different).await);
}

#[tokio::test]
async fn https_at_a_trusted_proxy_makes_the_cookie_secure_and_the_origin_https() {
    let app = TestApp::spawn_with(|c| {
        c.trusted_proxies = server::outbound::AllowList::parse("127.0.0.1").unwrap();
    })
    .await;
    let host = app.url("").trim_start_matches("http://").to_owned();
    let setup = |proto: &'static str| {
        app.client()
            .post(app.url(<app::api::SetUp as server_fn::ServerFn>::PATH))
            .header(ORIGIN, format!("https://{host}"))
            .header("x-forwarded-proto", proto)
            .form(&[
                ("username", "admin"),
                ("password", "a long enough password"),
                ("confirm", "a long enough password"),
            ])
    };
    // Over plain HTTP, an https:// origin is another site.
    let refused = setup("http").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let response = setup("https").send().await.unwrap();
    let status = response.status();
    assert!(status.is_success() || status.is_redirection(), "{status}");
    let cookies: Vec<_> = response.headers().get_all(SET_COOKIE).iter().collect();
    assert!(!cookies.is_empty());
    for cookie in cookies {
        assert!(cookie.to_str().unwrap().contains("; Secure"), "{cookie:?}");
    }
}

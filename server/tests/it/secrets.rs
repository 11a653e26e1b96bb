//! Secrets stay secret: the real binary's logs, at debug level, never contain a password, an
//! API key, a session cookie, a source secret or a subscription's signing secret, even while
//! all of them are in use.

use std::process::Stdio;
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use crate::cli::hookhub;
use crate::helpers::{ADMIN, PASSWORD, healthy_within};
use crate::receiving::hmac_sha256;
use crate::sending::Subscriber;

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let key = crate::cli::create_api_key(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::from(hookhub(&dir))
        .env("HOOKHUB_LISTEN", format!("127.0.0.1:{port}"))
        .env("HOOKHUB_LOG", "debug")
        .env("HOOKHUB_OUTBOUND_ALLOW", "127.0.0.0/8")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = Client::builder().cookie_store(true).build().unwrap();
    assert!(
        healthy_within(&base, Duration::from_secs(10)).await,
        "the server did not start"
    );

    // A password at setup and login, wrong and right.
    let form = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    use server_fn::ServerFn;
    let set_up = client
        .post(format!("{base}{}", <app::api::SetUp as ServerFn>::PATH))
        .header("origin", &base)
        .form(&form(&[
            ("username", ADMIN),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    let cookie = set_up
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("setup signs the admin in")
        .to_owned();
    client
        .post(format!("{base}{}", <app::api::LogIn as ServerFn>::PATH))
        .header("origin", &base)
        .form(&form(&[
            ("username", ADMIN),
            ("password", "wrong horse battery"),
        ]))
        .send()
        .await
        .unwrap();
    // A password typed into the user name field.
    client
        .post(format!("{base}{}", <app::api::LogIn as ServerFn>::PATH))
        .header("origin", &base)
        .form(&form(&[
            ("username", "typed-in-the-wrong-field"),
            ("password", ""),
        ]))
        .send()
        .await
        .unwrap();

    // A source secret in use, a signing secret in use, the API key in use.
    let api = |method: reqwest::Method, path: &str| {
        client
            .request(method, format!("{base}/api/v1{path}"))
            .bearer_auth(&key)
    };
    let source: Value = api(reqwest::Method::POST, "/sources")
        .json(&json!({"name": "s", "provider": "github", "secret": "source-secret-value"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body = br#"{"zen":"x"}"#;
    client
        .post(source["url"].as_str().unwrap())
        .header("x-github-event", "ping")
        .header("x-github-delivery", "d")
        .header(
            "x-hub-signature-256",
            format!(
                "sha256={}",
                hex::encode(hmac_sha256(b"source-secret-value", &[body]))
            ),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let subscriber = Subscriber::start().await;
    api(reqwest::Method::POST, "/event-types")
        .json(&json!({"name": "a.b"}))
        .send()
        .await
        .unwrap();
    let subscription: Value = api(reqwest::Method::POST, "/subscriptions")
        .json(&json!({"url": subscriber.base, "event_types": ["*"],
                      "headers": {"authorization": "Bearer subscriber-token"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let signing_secret = subscription["secret"].as_str().unwrap().to_owned();
    api(reqwest::Method::POST, "/messages")
        .json(&json!({"event_type": "a.b", "payload": {}}))
        .send()
        .await
        .unwrap();
    subscriber.wait_for(1).await;

    child.start_kill().unwrap();
    let mut logs = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    assert!(logs.contains("source created"), "the logs were captured");
    let key_secret = &key[key.len() - 20..];
    let signing_key = signing_secret.trim_start_matches("whsec_");
    for secret in [
        PASSWORD,
        "wrong horse battery",
        key_secret,
        "source-secret-value",
        signing_key,
        "subscriber-token",
        "typed-in-the-wrong-field",
    ] {
        assert!(!logs.contains(secret), "a secret is in the logs");
    }
    let session_id = cookie.split(';').next().unwrap().split('=').nth(1).unwrap();
    assert!(!logs.contains(session_id), "the session id is in the logs");
}

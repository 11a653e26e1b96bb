//! Durability: the real binary is killed with SIGKILL while signed deliveries pour in, and in the
//! middle of a large fan-out; after a restart every delivery it had answered 2xx is stored, and
//! every outgoing delivery arrives.

use std::collections::HashSet;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};
use tokio::process::Child;

use crate::cli::hookhub;
use crate::receiving::hmac_sha256;
use crate::sending::Subscriber;

const SENDERS: usize = 16;

struct Server {
    child: Child,
    base: String,
}

async fn start(dir: &tempfile::TempDir, port: u16) -> Server {
    start_with(dir, port, &[]).await
}

async fn start_with(dir: &tempfile::TempDir, port: u16, env: &[(&str, &str)]) -> Server {
    let child = tokio::process::Command::from(hookhub(dir))
        .env("HOOKHUB_LISTEN", format!("127.0.0.1:{port}"))
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = Client::new();
    for _ in 0..400 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server did not start");
}

/// Every delivery id the hub has stored, paging through the events API.
async fn stored_ids(base: &str, key: &str) -> HashSet<String> {
    let client = Client::new();
    let mut ids = HashSet::new();
    let mut cursor: Option<i64> = None;
    loop {
        let mut url = format!("{base}/api/v1/events?limit=250");
        if let Some(cursor) = cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page: Value = client
            .get(url)
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for event in page["data"].as_array().unwrap() {
            ids.insert(event["delivery_id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_i64() {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn every_acknowledged_event_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let key = crate::cli::create_api_key(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = start(&dir, port).await;
    let source: Value = Client::new()
        .post(format!("{}/api/v1/sources", server.base))
        .bearer_auth(&key)
        .json(&json!({"name": "crash", "provider": "github", "secret": "s3cret"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = source["url"].as_str().unwrap().to_owned();
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();

    // Kill at two different moments of a steady flood, each time after more acknowledgements.
    for (round, kill_after) in [(0, 150), (1, 400)] {
        let stop = Arc::new(AtomicBool::new(false));
        let mut senders = tokio::task::JoinSet::new();
        for sender in 0..SENDERS {
            let (url, stop, acknowledged) = (url.clone(), stop.clone(), acknowledged.clone());
            senders.spawn(async move {
                let client = Client::new();
                for n in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let id = format!("r{round}-s{sender}-{n}");
                    let body = format!(r#"{{"delivery":"{id}","padding":"{}"}}"#, "x".repeat(900));
                    let signature = format!(
                        "sha256={}",
                        hex::encode(hmac_sha256(b"s3cret", &[body.as_bytes()]))
                    );
                    let sent = client
                        .post(&url)
                        .header("x-github-event", "push")
                        .header("x-github-delivery", &id)
                        .header("x-hub-signature-256", signature)
                        .body(body)
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().is_success() => acknowledged.lock().unwrap().push(id),
                        Ok(r) => panic!("refused while up: {}", r.status()),
                        Err(_) => break, // the server is gone
                    }
                }
            });
        }
        let target = acknowledged.lock().unwrap().len() + kill_after;
        while acknowledged.lock().unwrap().len() < target {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        server.child.start_kill().unwrap();
        server.child.wait().await.unwrap();
        stop.store(true, Ordering::SeqCst);
        while let Some(joined) = senders.join_next().await {
            joined.unwrap();
        }

        server = start(&dir, port).await;
        let stored = stored_ids(&server.base, &key).await;
        let acknowledged = acknowledged.lock().unwrap().clone();
        let lost: Vec<&String> = acknowledged
            .iter()
            .filter(|id| !stored.contains(*id))
            .collect();
        assert!(
            lost.is_empty(),
            "round {round}: {} of {} acknowledged events lost, e.g. {:?}",
            lost.len(),
            acknowledged.len(),
            &lost[..lost.len().min(5)]
        );
        // Whatever was stored was either acknowledged or in flight at the kill.
        assert!(stored.len() <= acknowledged.len() + SENDERS * (round + 1));
    }
}

#[tokio::test]
async fn a_fan_out_cut_by_sigkill_is_delivered_completely_after_restart() {
    const SUBSCRIPTIONS: usize = 20;
    const MESSAGES: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let key = crate::cli::create_api_key(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let subscriber = Subscriber::start().await;
    let mut server = start_with(&dir, port, &[("HOOKHUB_OUTBOUND_ALLOW", "127.0.0.0/8")]).await;
    let api = |path: &str| format!("{}/api/v1{path}", server.base);
    let client = Client::new();
    let post = |url: String, body: Value| client.post(url).bearer_auth(&key).json(&body).send();
    post(api("/event-types"), json!({"name": "load.test"}))
        .await
        .unwrap();
    for i in 0..SUBSCRIPTIONS {
        let created = post(
            api("/subscriptions"),
            json!({"url": format!("{}/s{i}", subscriber.base), "event_types": ["*"]}),
        )
        .await
        .unwrap();
        assert!(created.status().is_success());
    }
    for n in 0..MESSAGES {
        let published = post(
            api("/messages"),
            json!({"event_type": "load.test", "payload": {"n": n}}),
        )
        .await
        .unwrap();
        assert_eq!(published.status(), reqwest::StatusCode::ACCEPTED);
    }

    // Kill it in the middle of the fan-out.
    let total = SUBSCRIPTIONS * MESSAGES;
    while subscriber.count() < total / 4 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
    let at_kill = subscriber.count();
    assert!(at_kill < total, "the fan-out finished before the kill");

    let _server = start_with(&dir, port, &[("HOOKHUB_OUTBOUND_ALLOW", "127.0.0.0/8")]).await;
    let mut unique = HashSet::new();
    for _ in 0..1500 {
        unique = subscriber
            .received
            .lock()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.path.clone(),
                    r.headers["webhook-id"].to_str().unwrap().to_owned(),
                )
            })
            .collect::<HashSet<_>>();
        if unique.len() == total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(unique.len(), total, "deliveries lost after the kill");
    // At least once: what was in flight at the kill may come twice, nothing more.
    let duplicates = subscriber.count() - total;
    assert!(duplicates <= 64, "{duplicates} duplicates");
}

//! Durability: the real binary is killed with SIGKILL while signed webhooks pour in, and at
//! several points of heavy sending; after each restart every webhook it had answered 2xx is
//! stored, and every message it had accepted reaches every subscriber.

use std::collections::HashSet;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};
use tokio::process::Child;

use crate::cli::hookhub;
use crate::helpers::healthy_within;
use crate::receiving::hmac_sha256;
use crate::sending::Subscriber;

const SENDERS: usize = 16;

/// The real binary, running as a child process.
pub struct Server {
    pub child: Child,
    pub base: String,
}

async fn start(dir: &tempfile::TempDir, port: u16) -> Server {
    start_with(dir, port, &[]).await
}

/// `hookhub` serving on `port` with the settings of `hookhub(dir)` and `env`, once healthy.
pub async fn start_with(dir: &tempfile::TempDir, port: u16, env: &[(&str, &str)]) -> Server {
    let child = tokio::process::Command::from(hookhub(dir))
        .env("HOOKHUB_LISTEN", format!("127.0.0.1:{port}"))
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = healthy_within(&base, Duration::from_secs(10)).await;
    assert!(started, "the server did not start");
    Server { child, base }
}

/// Every delivery id the hub has stored, paging through the events API.
pub async fn stored_ids(base: &str, key: &str) -> HashSet<String> {
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

/// Kills the server once the subscriber has received `more` requests beyond what it had.
async fn kill_after(server: &mut Server, subscriber: &Subscriber, more: usize) {
    let target = subscriber.count() + more;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while subscriber.count() < target {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {more} more requests arrived within 60 s: no backlog was left to kill in",
            more + subscriber.count() - target
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
}

/// Publishes messages one after another until the server is gone or `limit` is reached,
/// keeping the id of every message answered 202.
async fn publish(base: String, key: String, limit: usize, accepted: Arc<Mutex<Vec<String>>>) {
    let client = Client::new();
    for _ in 0..limit {
        let sent = client
            .post(format!("{base}/api/v1/messages"))
            .bearer_auth(&key)
            .json(&json!({"event_type": "load.test", "payload": {"padding": "x".repeat(400)}}))
            .send()
            .await;
        match sent {
            Ok(r) if r.status() == reqwest::StatusCode::ACCEPTED => {
                let message: Value = r.json().await.unwrap();
                accepted
                    .lock()
                    .unwrap()
                    .push(message["id"].as_str().unwrap().to_owned());
            }
            Ok(r) => panic!("refused while up: {}", r.status()),
            Err(_) => return, // the server is gone
        }
    }
}

/// Every (subscription path, message id) pair the subscriber has accepted, and how many
/// requests it accepted in all.
pub fn delivered_pairs(subscriber: &Subscriber) -> (HashSet<(String, String)>, usize) {
    let received = subscriber.received.lock().unwrap();
    let delivered: Vec<_> = received.iter().filter(|r| r.status == 200).collect();
    let pairs = delivered
        .iter()
        .map(|r| {
            let id = r.headers["webhook-id"].to_str().unwrap().to_owned();
            (r.path.clone(), id)
        })
        .collect();
    (pairs, delivered.len())
}

#[tokio::test]
async fn every_accepted_message_is_delivered_through_repeated_sigkills() {
    const SUBSCRIPTIONS: usize = 10;
    const PUBLISHERS: usize = 4;
    const CONCURRENCY: usize = 64;
    let dir = tempfile::tempdir().unwrap();
    let key = crate::cli::create_api_key(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let concurrency = CONCURRENCY.to_string();
    let env = [
        ("HOOKHUB_OUTBOUND_ALLOW", "127.0.0.0/8"),
        ("HOOKHUB_DELIVERY_CONCURRENCY", concurrency.as_str()),
        // Quick retries, enough of them that no delivery runs out in this test.
        ("HOOKHUB_DELIVERY_RETRY_SECS", "0.2,0.2,0.5,0.5,1,1,1,1,1,1"),
    ];
    let subscriber = Subscriber::start().await;
    let mut server = start_with(&dir, port, &env).await;
    let client = Client::new();
    let api = |path: &str| format!("{}/api/v1{path}", server.base);
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
    let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
    let publishers = |server: &Server, each: usize| {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..PUBLISHERS {
            let task = publish(server.base.clone(), key.clone(), each, accepted.clone());
            set.spawn(task);
        }
        set
    };

    // 1. While messages are still being published and fanned out.
    let mut publishing = publishers(&server, usize::MAX);
    kill_after(&mut server, &subscriber, 400).await;
    while let Some(joined) = publishing.join_next().await {
        joined.unwrap();
    }
    let unacknowledged_at_most = PUBLISHERS; // a message stored but not yet answered

    // 2. While a backlog of queued deliveries is being worked through, nothing published. A
    // slow subscriber keeps the backlog from draining while the messages are published: at
    // most 64 requests every 100 ms get through.
    server = start_with(&dir, port, &env).await;
    subscriber.delay(Duration::from_millis(100));
    let mut publishing = publishers(&server, 25);
    while let Some(joined) = publishing.join_next().await {
        joined.unwrap();
    }
    kill_after(&mut server, &subscriber, 300).await;
    subscriber.delay(Duration::ZERO);

    // 3. While failed attempts wait for their retries.
    server = start_with(&dir, port, &env).await;
    subscriber.answer(&[503; 150]);
    kill_after(&mut server, &subscriber, 250).await;

    let _server = start_with(&dir, port, &env).await;
    let accepted = accepted.lock().unwrap().clone();
    let expected: HashSet<(String, String)> = (0..SUBSCRIPTIONS)
        .flat_map(|i| {
            accepted
                .iter()
                .map(move |id| (format!("/s{i}"), id.clone()))
        })
        .collect();
    let mut delivered = (HashSet::new(), 0);
    for _ in 0..3000 {
        delivered = delivered_pairs(&subscriber);
        if delivered.0.is_superset(&expected) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (pairs, requests) = delivered;
    let missing = expected.difference(&pairs).count();
    assert_eq!(
        missing,
        0,
        "{missing} of {} deliveries lost",
        expected.len()
    );
    // Anything else came from a message stored in the instant before a kill, unanswered.
    let extra = pairs.len() - expected.len();
    assert!(
        extra <= unacknowledged_at_most * SUBSCRIPTIONS,
        "{extra} unexpected deliveries"
    );
    // At least once: a delivery is repeated only if the kill came between its answer and the
    // write of its attempt, so at most what was in flight at each kill.
    let repeated = requests - pairs.len();
    assert!(
        repeated <= 3 * CONCURRENCY,
        "{repeated} repeated deliveries"
    );
}

//! Several hubs: real `hookhub` processes sharing one PostgreSQL database, with webhooks and
//! messages spread over all of them. They always run on PostgreSQL, the engine several hubs
//! need: the test command starts a throwaway server and names it in
//! `HOOKHUB_TEST_POSTGRES_URL`.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::storage::testing;

use crate::cli::hookhub;
use crate::crash::{Server as Hub, delivered_pairs, start_with, stored_ids};
use crate::receiving::hmac_sha256;
use crate::sending::Subscriber;

const SECRET: &str = "cluster-secret";

/// A database of its own on the test run's PostgreSQL server.
async fn shared_database() -> String {
    let server = std::env::var(testing::SERVER_VAR).unwrap_or_else(|_| {
        panic!(
            "the several-hub tests need PostgreSQL: run `make test`, which starts one, or name a server in {}",
            testing::SERVER_VAR
        )
    });
    testing::new_postgres_database(&server).await
}

/// A `hookhub serve` on a free port, named `node`, on the database at `url`.
async fn start_hub(dir: &tempfile::TempDir, url: &str, node: &str, env: &[(&str, &str)]) -> Hub {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let shared = [
        ("HOOKHUB_DATABASE", url),
        ("HOOKHUB_NODE_ID", node),
        ("HOOKHUB_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ];
    let env: Vec<(&str, &str)> = shared.iter().chain(env).copied().collect();
    start_with(dir, port, &env).await
}

/// An API key made with the command line on the database at `url`.
fn api_key(dir: &tempfile::TempDir, url: &str) -> String {
    let mut command = hookhub(dir);
    command.env("HOOKHUB_DATABASE", url);
    crate::cli::create_api_key_with(command)
}

/// Sets up, through `hub`, a GitHub source and `subscriptions` subscriptions to `subscriber`
/// for every event type; answers the source's path.
async fn set_up(hub: &Hub, key: &str, subscriber: &Subscriber, subscriptions: usize) -> String {
    let client = Client::new();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{}/api/v1{path}", hub.base))
            .bearer_auth(key)
            .json(&body)
            .send()
    };
    let source: Value = post(
        "/sources",
        json!({"name": "cluster", "provider": "github", "secret": SECRET}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let created = post("/event-types", json!({"name": "cluster.test"}))
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
    for i in 0..subscriptions {
        let created = post(
            "/subscriptions",
            json!({"url": format!("{}/s{i}", subscriber.base), "event_types": ["*"]}),
        )
        .await
        .unwrap();
        assert!(created.status().is_success(), "{}", created.status());
    }
    let url = source["url"].as_str().unwrap();
    url[url.find("/hooks/").unwrap()..].to_owned()
}

/// Sends a signed GitHub webhook with delivery id `id` to `base`.
async fn send_webhook(client: &Client, base: &str, path: &str, id: &str) -> StatusCode {
    let body = format!(r#"{{"delivery":"{id}"}}"#);
    let signature = format!(
        "sha256={}",
        hex::encode(hmac_sha256(SECRET.as_bytes(), &[body.as_bytes()]))
    );
    client
        .post(format!("{base}{path}"))
        .header("x-github-event", "push")
        .header("x-github-delivery", id)
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

/// Publishes a message through `base`; answers its id.
async fn publish(client: &Client, base: &str, key: &str) -> String {
    let response = client
        .post(format!("{base}/api/v1/messages"))
        .bearer_auth(key)
        .json(&json!({"event_type": "cluster.test", "payload": {"n": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let message: Value = response.json().await.unwrap();
    message["id"].as_str().unwrap().to_owned()
}

/// Waits until the subscriber has every pair of `expected` (a minute at most); what it has.
async fn wait_for(
    subscriber: &Subscriber,
    expected: &HashSet<(String, String)>,
) -> (HashSet<(String, String)>, usize) {
    let mut seen = delivered_pairs(subscriber);
    for _ in 0..600 {
        if seen.0.is_superset(expected) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = delivered_pairs(subscriber);
    }
    seen
}

/// Whether any delivery is still to make, as the hub at `hub` reports.
async fn pending(hub: &Hub, key: &str) -> usize {
    let page: Value = Client::new()
        .get(format!(
            "{}/api/v1/deliveries?status=pending&limit=100",
            hub.base
        ))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["data"].as_array().unwrap().len()
}

fn every_pair(subscriptions: usize, messages: &[String]) -> HashSet<(String, String)> {
    (0..subscriptions)
        .flat_map(|i| {
            messages
                .iter()
                .map(move |id| (format!("/s{i}"), id.clone()))
        })
        .collect()
}

#[tokio::test]
async fn three_hubs_share_the_work_and_deliver_every_message_exactly_once() {
    const SUBSCRIPTIONS: usize = 4;
    const WEBHOOKS: usize = 240;
    const MESSAGES: usize = 120;
    let dir = tempfile::tempdir().unwrap();
    let subscriber = Subscriber::start().await;
    // All three start at once on a database none has migrated: one migrates, the others wait.
    let url = shared_database().await;
    let starting = ["hub-a", "hub-b", "hub-c"].map(|node| start_hub(&dir, &url, node, &[]));
    let hubs = futures::future::join_all(starting).await;
    let key = api_key(&dir, &url);
    let path = set_up(&hubs[0], &key, &subscriber, SUBSCRIPTIONS).await;

    // Webhooks and messages round-robin over the three, from several clients at once.
    let bases: Vec<String> = hubs.iter().map(|hub| hub.base.clone()).collect();
    let mut senders = tokio::task::JoinSet::new();
    for sender in 0..6 {
        let (bases, path, key) = (bases.clone(), path.clone(), key.clone());
        senders.spawn(async move {
            let client = Client::new();
            let mut published = Vec::new();
            for n in (sender..WEBHOOKS).step_by(6) {
                let base = &bases[n % bases.len()];
                let status = send_webhook(&client, base, &path, &format!("d{n}")).await;
                assert_eq!(status, StatusCode::OK, "webhook {n} on {base}");
                if n < MESSAGES {
                    published.push(publish(&client, base, &key).await);
                }
            }
            published
        });
    }
    let mut messages = Vec::new();
    while let Some(sent) = senders.join_next().await {
        messages.extend(sent.unwrap());
    }
    assert_eq!(messages.len(), MESSAGES);

    // Every acknowledged webhook stored once, and every hub shows the same history.
    let expected_events: HashSet<String> = (0..WEBHOOKS).map(|n| format!("d{n}")).collect();
    for hub in &hubs {
        assert_eq!(
            stored_ids(&hub.base, &key).await,
            expected_events,
            "{}",
            hub.base
        );
    }

    // Every message delivered to every subscriber, none twice.
    let expected = every_pair(SUBSCRIPTIONS, &messages);
    let (pairs, requests) = wait_for(&subscriber, &expected).await;
    assert_eq!(expected.difference(&pairs).count(), 0, "deliveries missing");
    assert_eq!(pairs.len(), expected.len(), "deliveries nobody published");
    assert_eq!(requests, expected.len(), "deliveries sent twice");

    // Each reports the engine; a session made on one works on the others, whose overview
    // names all three.
    let health: Value = Client::new()
        .get(format!("{}/healthz", hubs[2].base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["engine"], "postgres");
    assert_eq!(health["node"], "hub-c");
    let admin = sign_up(&hubs[0]).await;
    let overview: Value = admin
        .post(format!(
            "{}{}",
            hubs[2].base,
            <app::api::Overview as server_fn::ServerFn>::PATH
        ))
        .header("origin", &hubs[2].base)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nodes: Vec<&str> = overview["hubs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hub| hub["node_id"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["hub-a", "hub-b", "hub-c"]);
    assert_eq!(overview["database_engine"], "postgres");

    for mut hub in hubs {
        hub.child.start_kill().unwrap();
        hub.child.wait().await.unwrap();
    }
}

/// The first admin, set up through `hub`: a client signed in there.
async fn sign_up(hub: &Hub) -> Client {
    let admin = Client::builder().cookie_store(true).build().unwrap();
    let password = "a long enough password";
    let set_up = admin
        .post(format!(
            "{}{}",
            hub.base,
            <app::api::SetUp as server_fn::ServerFn>::PATH
        ))
        .header("origin", &hub.base)
        .form(&[
            ("username", "admin"),
            ("password", password),
            ("confirm", password),
        ])
        .send()
        .await
        .unwrap();
    assert!(set_up.status().is_success(), "{}", set_up.status());
    admin
}

#[tokio::test]
async fn what_a_killed_hub_held_is_delivered_by_the_others_once_its_lease_lapses() {
    const SUBSCRIPTIONS: usize = 4;
    const MESSAGES: usize = 300;
    const CONCURRENCY: usize = 16;
    let dir = tempfile::tempdir().unwrap();
    let url = shared_database().await;
    let key = api_key(&dir, &url);
    let subscriber = Subscriber::start().await;
    let concurrency = CONCURRENCY.to_string();
    let env = [
        ("HOOKHUB_LEASE_SECS", "3"),
        ("HOOKHUB_OUTBOUND_TIMEOUT_SECS", "2"),
        ("HOOKHUB_DELIVERY_CONCURRENCY", concurrency.as_str()),
    ];
    let mut hubs = Vec::new();
    for node in ["hub-a", "hub-b", "hub-c"] {
        hubs.push(start_hub(&dir, &url, node, &env).await);
    }
    set_up(&hubs[0], &key, &subscriber, SUBSCRIPTIONS).await;
    // Each delivery takes a while, so that the hub killed has some in flight.
    subscriber.delay(Duration::from_millis(20));

    let client = Client::new();
    let mut messages = Vec::new();
    for n in 0..MESSAGES {
        messages.push(publish(&client, &hubs[n % hubs.len()].base, &key).await);
    }
    let expected = every_pair(SUBSCRIPTIONS, &messages);
    while delivered_pairs(&subscriber).1 < expected.len() / 4 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut killed = hubs.remove(0);
    killed.child.start_kill().unwrap();
    killed.child.wait().await.unwrap();
    // The killed hub's requests in flight reached the subscriber, but it never recorded their
    // answers: those deliveries stay pending until their lease lapses and another hub makes
    // them again.
    let (pairs, requests) = wait_for(&subscriber, &expected).await;
    assert_eq!(
        expected.difference(&pairs).count(),
        0,
        "deliveries lost with the killed hub"
    );
    let mut left = usize::MAX;
    for _ in 0..300 {
        left = pending(&hubs[0], &key).await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        left, 0,
        "deliveries the killed hub held were never made again"
    );
    // A delivery is repeated only when the kill came between its request and the record of
    // it: at most what the killed hub had in flight.
    let repeated = requests - pairs.len();
    assert!(repeated <= CONCURRENCY, "{repeated} deliveries repeated");
    for mut hub in hubs {
        hub.child.start_kill().unwrap();
        hub.child.wait().await.unwrap();
    }
}

#[tokio::test]
async fn a_hub_that_starts_leaves_the_deliveries_another_hub_holds_alone() {
    const MESSAGES: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let url = shared_database().await;
    let key = api_key(&dir, &url);
    let subscriber = Subscriber::start().await;
    let env = [("HOOKHUB_DELIVERY_CONCURRENCY", "8")];
    let b = start_hub(&dir, &url, "hub-b", &env).await;
    set_up(&b, &key, &subscriber, 1).await;
    // B's attempts take long enough to be under way, leased to B, when A starts.
    subscriber.delay(Duration::from_millis(1500));
    let client = Client::new();
    let mut messages = Vec::new();
    for _ in 0..MESSAGES {
        messages.push(publish(&client, &b.base, &key).await);
    }
    while delivered_pairs(&subscriber).1 < 8 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A starts (as after a crash, it releases the leases it held): B's stay B's, so nothing
    // B has under way is made a second time.
    let a = start_hub(&dir, &url, "hub-a", &env).await;
    let expected = every_pair(1, &messages);
    let (pairs, requests) = wait_for(&subscriber, &expected).await;
    assert_eq!(expected.difference(&pairs).count(), 0, "deliveries missing");
    assert_eq!(requests, expected.len(), "deliveries made twice");
    for mut hub in [a, b] {
        hub.child.start_kill().unwrap();
        hub.child.wait().await.unwrap();
    }
}

/// Polls `refused` for at most a second; whether it came true.
async fn within_a_second<F: Future<Output = bool>>(mut refused: impl FnMut() -> F) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        if refused().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn a_change_on_one_hub_takes_effect_on_the_others_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let url = shared_database().await;
    let key = api_key(&dir, &url);
    let subscriber = Subscriber::start().await;
    let a = start_hub(&dir, &url, "hub-a", &[]).await;
    let b = start_hub(&dir, &url, "hub-b", &[]).await;
    let path = set_up(&a, &key, &subscriber, 0).await;
    let client = Client::new();
    // B has read the source (and keeps it in memory) before A disables it.
    assert_eq!(
        send_webhook(&client, &b.base, &path, "before").await,
        StatusCode::OK
    );
    let source_id = path.trim_start_matches("/hooks/");
    let disabled = client
        .patch(format!("{}/api/v1/sources/{source_id}", a.base))
        .bearer_auth(&key)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert!(disabled.status().is_success(), "{}", disabled.status());
    let refused = within_a_second(|| async {
        let status = send_webhook(&client, &b.base, &path, "after").await;
        status != StatusCode::OK
    })
    .await;
    assert!(
        refused,
        "hub B still accepts webhooks for a source disabled on A"
    );

    // A schema given on A to an event type B has read is enforced by B.
    publish(&client, &b.base, &key).await;
    let schema = json!({"type": "object", "required": ["order"]});
    let changed = client
        .patch(format!("{}/api/v1/event-types/cluster.test", a.base))
        .bearer_auth(&key)
        .json(&json!({"schema": schema, "schema_mode": "enforce"}))
        .send()
        .await
        .unwrap();
    assert!(changed.status().is_success(), "{}", changed.status());
    let refused = within_a_second(|| async {
        let answer = client
            .post(format!("{}/api/v1/messages", b.base))
            .bearer_auth(&key)
            .json(&json!({"event_type": "cluster.test", "payload": {"n": 1}}))
            .send()
            .await
            .unwrap();
        answer.status() == StatusCode::UNPROCESSABLE_ENTITY
    })
    .await;
    assert!(refused, "hub B ignores a schema given on A");

    // An API key revoked on A is refused by B.
    let whoami = |base: String| {
        let (client, key) = (client.clone(), key.clone());
        async move {
            client
                .get(format!("{base}/api/v1/whoami"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
        }
    };
    let me: Value = whoami(b.base.clone()).await.json().await.unwrap();
    let key_id = me["api_key"]["id"].as_i64().unwrap().to_string();
    let admin = sign_up(&a).await;
    let server_fn = |path: &str, form: Vec<(&'static str, String)>| {
        admin
            .post(format!("{}{path}", a.base))
            .header("origin", &a.base)
            .form(&form)
            .send()
    };
    let revoked = server_fn(
        <app::api::RevokeApiKey as server_fn::ServerFn>::PATH,
        vec![("id", key_id)],
    )
    .await
    .unwrap();
    assert!(revoked.status().is_success(), "{}", revoked.status());
    let refused = within_a_second(|| async {
        whoami(b.base.clone()).await.status() == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(refused, "hub B still accepts an API key revoked on A");
}

#[tokio::test]
async fn a_sqlite_database_copied_to_postgres_answers_the_same() {
    let subscriber = Subscriber::start().await;
    let from = crate::sending::hub("0").await;
    let file = match &from.app.config.database {
        server::storage::Location::Sqlite(path) => path.clone(),
        other => panic!("the hub to copy from runs on SQLite, not {other}"),
    };
    let source = from
        .create_source(json!({"name": "GitHub", "provider": "github", "secret": SECRET}))
        .await;
    let path = source["url"].as_str().unwrap();
    let path = &path[path.find("/hooks/").unwrap()..];
    let client = Client::new();
    for n in 0..5 {
        let sent = send_webhook(&client, &from.app.url(""), path, &format!("copy-{n}")).await;
        assert_eq!(sent, StatusCode::OK);
    }
    from.event_type("invoice.paid").await;
    from.subscribe(&format!("{}/copied", subscriber.base), &["*"])
        .await;
    let message = from.publish("invoice.paid", json!({"amount": 7})).await;
    from.settled_delivery(&message).await;
    let admin = from.app.set_up().await;
    let pages = ["/events", "/subscriptions", "/messages"];
    let page = |app: &crate::helpers::TestApp, client: &Client, path: &'static str| {
        let request = client.get(app.url(path));
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let mut before = Vec::new();
    for path in pages {
        before.push(page(&from.app, &admin, path).await);
    }
    let expected = api_answers(&from).await;
    let mut from = from;
    from.app.stop().await;

    let url = shared_database().await;
    let copy_database = || {
        tokio::process::Command::new(crate::cli::BIN)
            .args(["copy-database", "--from"])
            .arg(&file)
            .args(["--to", &url])
            .output()
    };
    let copy = copy_database().await.unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&copy.stdout),
        String::from_utf8_lossy(&copy.stderr),
    );
    assert!(copy.status.success(), "{err}");
    assert!(out.contains("events: 5"), "{out}");
    assert!(err.contains("events: 5 of 5"), "{err}");

    let to = crate::receiving::Hub::start_with(|config| {
        config.database = server::storage::Location::Postgres(url.clone());
    })
    .await;
    assert_eq!(api_answers(&to).await, expected);
    let (admin, logged_in) = to
        .app
        .log_in(crate::helpers::ADMIN, crate::helpers::PASSWORD)
        .await;
    assert!(logged_in.status().is_success(), "{}", logged_in.status());
    for (path, before) in pages.into_iter().zip(before) {
        let after = page(&to.app, &admin, path).await;
        // The same rows: every link to an event, subscription or message on one is on the other.
        let links = |html: &str| -> Vec<String> {
            html.split("href=\"")
                .skip(1)
                .filter_map(|rest| rest.split('"').next())
                .filter(|href| href.matches('/').count() >= 2)
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(links(&after), links(&before), "{path}");
        assert!(links(&after).len() > 1, "{path}: {after}");
    }

    // A second copy into the same database is refused, and says why.
    let again = copy_database().await.unwrap();
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("empty database"), "{err}");
}

/// What the REST API lists, as the hub answers, with its own address taken out.
async fn api_answers(hub: &crate::receiving::Hub) -> String {
    let mut answers = Vec::new();
    for path in [
        "/api/v1/sources",
        "/api/v1/events",
        "/api/v1/event-types",
        "/api/v1/subscriptions",
        "/api/v1/deliveries",
    ] {
        let (status, answer) = hub.api(reqwest::Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        answers.push(answer);
    }
    Value::Array(answers)
        .to_string()
        .replace(&hub.app.url(""), "http://hub")
}

/// Calls the server function `F` on `hub` as the dashboard does; the answer's status and body.
async fn call<F: server_fn::ServerFn>(
    client: &Client,
    hub: &Hub,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = client
        .post(format!("{}{}", hub.base, F::PATH))
        .header("origin", &hub.base)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_account_rules_hold_with_two_hubs_writing_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = shared_database().await;
    let a = start_hub(&dir, &url, "hub-a", &[]).await;
    let b = start_hub(&dir, &url, "hub-b", &[]).await;

    // Eight first-run setups at once, half through each hub: one admin comes of them.
    let password = "a long enough password";
    let setups = (0..8).map(|n| {
        let hub = if n % 2 == 0 { &a } else { &b };
        async move {
            let client = Client::builder().cookie_store(true).build().unwrap();
            let name = format!("admin{n}");
            let form = [
                ("username", name.as_str()),
                ("password", password),
                ("confirm", password),
            ];
            let (status, _) = call::<app::api::SetUp>(&client, hub, &form).await;
            (status, client, name)
        }
    });
    let results = futures::future::join_all(setups).await;
    let winners: Vec<_> = results
        .iter()
        .filter(|(status, _, _)| status.is_success())
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    let root = &winners[0].1;
    let (status, users) = call::<app::api::ListUsers>(root, &b, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(users.as_array().unwrap().len(), 1);

    // Two admins removing each other at once, one through each hub, leave one of them.
    for round in 0..4 {
        let mut pair = Vec::new();
        for (hub, name) in [(&a, format!("x{round}")), (&b, format!("y{round}"))] {
            let form = [
                ("username", name.as_str()),
                ("password", password),
                ("is_admin", "on"),
            ];
            let (status, added) = call::<app::api::AddUser>(root, &a, &form).await;
            assert!(status.is_success(), "{status}: {added}");
            let client = Client::builder().cookie_store(true).build().unwrap();
            let form = [("username", name.as_str()), ("password", password)];
            let (status, _) = call::<app::api::LogIn>(&client, hub, &form).await;
            assert!(status.is_success() || status.is_redirection(), "{status}");
            pair.push((hub, client, name));
        }
        let (_, users) = call::<app::api::ListUsers>(root, &a, &[]).await;
        let id_of = |name: &str| {
            users
                .as_array()
                .unwrap()
                .iter()
                .find(|user| user["username"] == name)
                .map(|user| user["id"].as_i64().unwrap().to_string())
                .unwrap()
        };
        let (x, y) = (id_of(&pair[0].2), id_of(&pair[1].2));
        let (remove_y, remove_x) = ([("id", y.as_str())], [("id", x.as_str())]);
        let (x_removes_y, y_removes_x) = tokio::join!(
            call::<app::api::RemoveUser>(&pair[0].1, pair[0].0, &remove_y),
            call::<app::api::RemoveUser>(&pair[1].1, pair[1].0, &remove_x),
        );
        let removed = [x_removes_y.0, y_removes_x.0]
            .iter()
            .filter(|status| status.is_success())
            .count();
        assert_eq!(removed, 1, "round {round}: {x_removes_y:?} {y_removes_x:?}");
        let (_, users) = call::<app::api::ListUsers>(root, &b, &[]).await;
        let left = users
            .as_array()
            .unwrap()
            .iter()
            .filter(|user| {
                user["username"] == pair[0].2.as_str() || user["username"] == pair[1].2.as_str()
            })
            .count();
        assert_eq!(left, 1, "round {round}");
    }

    // Failed logins through both hubs add up: the fifth locks the name out on either hub.
    let client = Client::new();
    let wrong = [("username", "admin0"), ("password", "not the password")];
    for n in 0..5 {
        let hub = if n % 2 == 0 { &a } else { &b };
        let (status, _) = call::<app::api::LogIn>(&client, hub, &wrong).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "attempt {n}");
    }
    for hub in [&a, &b] {
        let (status, _) = call::<app::api::LogIn>(&client, hub, &wrong).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{}", hub.base);
    }
}

/// A TCP proxy in front of the PostgreSQL server that can be cut, as a network failure would:
/// cutting closes every connection through it and refuses new ones until restored.
struct Link {
    addr: std::net::SocketAddr,
    up: Arc<std::sync::atomic::AtomicBool>,
    cut: Arc<tokio::sync::Notify>,
}

impl Link {
    async fn to(server: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let cut = Arc::new(tokio::sync::Notify::new());
        let (accepting, cutting) = (Arc::clone(&up), Arc::clone(&cut));
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropped: refused
                }
                let cutting = Arc::clone(&cutting);
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(server).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        () = cutting.notified() => {}
                    }
                });
            }
        });
        Self { addr, up, cut }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_hub_that_loses_the_database_answers_503_and_recovers_by_itself() {
    let url = shared_database().await;
    let options: sea_orm::sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let server: std::net::SocketAddr = format!("{}:{}", options.get_host(), options.get_port())
        .parse()
        .unwrap();
    let link = Link::to(server).await;
    let through_link = url.replacen(&server.to_string(), &link.addr.to_string(), 1);
    assert_ne!(through_link, url);
    let hub = crate::receiving::Hub::start_with(|config| {
        config.database = server::storage::Location::Postgres(through_link.clone());
    })
    .await;
    let source = hub
        .create_source(json!({"name": "GitHub", "provider": "github", "secret": SECRET}))
        .await;
    let path = source["url"].as_str().unwrap();
    let path = path[path.find("/hooks/").unwrap()..].to_owned();
    let base = hub.app.url("");
    let client = Client::new();
    assert_eq!(
        send_webhook(&client, &base, &path, "up-1").await,
        StatusCode::OK
    );

    link.cut();
    let status = send_webhook(&client, &base, &path, "down-1").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);

    link.restore();
    let mut healthy = false;
    for _ in 0..100 {
        let health = client.get(format!("{base}/healthz")).send().await.unwrap();
        if health.status().is_success() {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        healthy,
        "the hub did not recover once the database was back"
    );
    assert_eq!(
        send_webhook(&client, &base, &path, "up-2").await,
        StatusCode::OK
    );

    // What was answered 2xx is stored; what was answered 503 is not.
    let stored = stored_ids(&base, hub.key()).await;
    let expected: HashSet<String> = ["up-1", "up-2"].map(String::from).into();
    assert_eq!(stored, expected);
}

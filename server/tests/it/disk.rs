//! Storage faults under a running hub: a disk that fills up and frees again, and a database file
//! deleted under it. Whatever the hub answered 2xx is stored; what it could not store it answered
//! 503 with `Retry-After`, so the provider tries again; and it writes again by itself once the
//! disk has room.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use server::storage::Location;
use tokio::sync::Mutex;

use crate::crash::stored_ids;
use crate::helpers::TestApp;
use crate::receiving::{Hub, github_delivery};

/// A small file system of the test's own, so the disk can really fill. Mounting needs root,
/// which the test command has.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("running mount");
        assert!(status.success(), "mounting a tmpfs failed (it needs root)");
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn free_bytes(&self) -> u64 {
        let out = Command::new("df")
            .args(["--block-size=1", "--output=avail"])
            .arg(self.path())
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines().nth(1).unwrap().trim().parse().unwrap()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

async fn health(app: &TestApp) -> StatusCode {
    app.get(&app.client(), "/healthz").await.status()
}

/// Posts signed webhooks from `senders` tasks until `stop` is set; returns the delivery ids
/// answered 2xx and the number answered 503. Any other answer fails the test.
async fn pour(
    hub: &Arc<Hub>,
    url: &str,
    secret: &str,
    prefix: &str,
    senders: usize,
    stop: impl Fn(usize, usize) -> bool + Send + Sync + 'static,
) -> (HashSet<String>, usize) {
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let refused = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(stop);
    let body = Arc::new(format!(r#"{{"padding":"{}"}}"#, "x".repeat(1024)));
    let mut tasks = Vec::new();
    for sender in 0..senders {
        let (hub, url, secret) = (Arc::clone(hub), url.to_owned(), secret.to_owned());
        let (acked, refused, done, stop, body) = (
            Arc::clone(&acked),
            Arc::clone(&refused),
            Arc::clone(&done),
            Arc::clone(&stop),
            Arc::clone(&body),
        );
        let prefix = prefix.to_owned();
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                let id = format!("{prefix}-{sender}-{n}");
                let response = github_delivery(&hub, &url, &secret, body.as_bytes(), &id).await;
                match response.status() {
                    StatusCode::OK => {
                        acked.lock().await.insert(id);
                    }
                    StatusCode::SERVICE_UNAVAILABLE => {
                        assert!(response.headers().contains_key("retry-after"));
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    other => panic!(
                        "{id} was answered {other}: {}",
                        response.text().await.unwrap()
                    ),
                }
                let acked_now = acked.lock().await.len();
                if stop(acked_now, refused.load(Ordering::Relaxed)) {
                    done.store(true, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let acked = acked.lock().await.clone();
    (acked, refused.load(Ordering::Relaxed))
}

#[tokio::test]
async fn a_full_disk_loses_no_acknowledged_webhook_and_writing_resumes_when_space_returns() {
    let disk = Tmpfs::mount("16m");
    let database = disk.path().join("hookhub.db");
    let app = TestApp::spawn_with(|config| config.database = database.clone().into()).await;
    let hub = Arc::new(Hub::with_app(app).await);
    let source = hub
        .create_source(json!({"name": "GitHub", "provider": "github"}))
        .await;
    let (url, secret) = (
        source["url"].as_str().unwrap().to_owned(),
        source["secret"].as_str().unwrap().to_owned(),
    );

    // Leave the database little room, then pour webhooks in until well after it ran out.
    let filler = disk.path().join("filler");
    let room = 256 * 1024;
    std::fs::write(&filler, vec![0u8; (disk.free_bytes() - room) as usize]).unwrap();
    let (mut full, refused) = pour(&hub, &url, &secret, "full", 8, |acked, refused| {
        refused >= 200 || acked >= 20_000
    })
    .await;
    assert!(
        refused >= 200,
        "the disk never filled ({} acknowledged)",
        full.len()
    );
    // While writes fail, the health check says so. A small write can still fit where failed
    // ones left room in the WAL file, so the hub may commit now and then with the disk full and
    // be healthy again for a moment: look right after a refusal, up to 50 times.
    let mut unhealthy = false;
    for round in 0..50 {
        let prefix = format!("full{round}");
        let (acked, refused) =
            pour(&hub, &url, &secret, &prefix, 1, |_, refused| refused >= 1).await;
        full.extend(acked);
        if refused >= 1 && health(&hub.app).await == StatusCode::SERVICE_UNAVAILABLE {
            unhealthy = true;
            break;
        }
    }
    assert!(unhealthy, "/healthz never said that writes were failing");

    // Space returns: the health check's own probe write finds it, and webhooks commit again.
    std::fs::remove_file(&filler).unwrap();
    let mut healthy = false;
    for _ in 0..100 {
        if health(&hub.app).await == StatusCode::OK {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(healthy, "the hub did not recover once the disk had room");
    let (after, refused_after) =
        pour(&hub, &url, &secret, "after", 8, |acked, _| acked >= 400).await;
    assert_eq!(refused_after, 0);

    // Every webhook answered 2xx, before and after the disk was full, is there after a restart.
    let mut hub = Arc::into_inner(hub).unwrap();
    hub.app.restart().await;
    let stored = stored_ids(&hub.app.url(""), hub.key()).await;
    let acked: HashSet<String> = full.union(&after).cloned().collect();
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged webhooks lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    assert_eq!(
        stored, acked,
        "stored webhooks that were never acknowledged"
    );
}

#[tokio::test]
async fn a_deleted_database_file_fails_writes_instead_of_acknowledging_them() {
    let hub = Hub::start().await;
    let source = hub
        .create_source(json!({"name": "GitHub", "provider": "github"}))
        .await;
    let (url, secret) = (
        source["url"].as_str().unwrap(),
        source["secret"].as_str().unwrap(),
    );
    let response = github_delivery(&hub, url, secret, b"{}", "before").await;
    assert_eq!(response.status(), StatusCode::OK);
    let admin = hub.app.set_up().await;

    let Location::Sqlite(database) = hub.app.config.database.clone() else {
        unreachable!("the disk tests run on SQLite")
    };
    std::fs::remove_file(&database).unwrap();

    // A change in the dashboard is refused as one to try again, not as a fault of the hub's.
    let refused = hub
        .app
        .call::<app::api::CreateEventType>(&admin, &[("name", "after.delete"), ("description", "")])
        .await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        crate::helpers::app_error(refused).await,
        app::error::AppError::Unavailable
    );

    let response = github_delivery(&hub, url, secret, b"{}", "after").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(health(&hub.app).await, StatusCode::SERVICE_UNAVAILABLE);
}

//! The ceiling: the least a server must do to accept a GitHub delivery durably, to measure the
//! hub against. axum, HMAC-SHA256 over the exact body in constant time, and one writer task
//! that drains whatever is queued, inserts it all in one transaction and answers each request
//! only after the commit. The table is what storing a received event needs: hookhub's first
//! `events` table, with its unique (source, delivery id) index and its (source, id) index; the
//! connection is set up as the hub's (WAL, synchronous=NORMAL, foreign keys on).
//!
//! With `hub_schema`, it also maintains what hookhub's events table has gained since for
//! browsing and search: three more indexes and the FTS5 body index kept by a trigger, so the
//! gap between hub and ceiling can be split into schema and code path.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hmac::{KeyInit, Mac};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous,
};
use sea_orm::sqlx::{self, ConnectOptions, Connection, Row};
use sha2::Sha256;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The same bounds as the hub's writer.
const MAX_BATCH: usize = 512;
const QUEUE: usize = 4096;
pub const SOURCE_ID: &str = "src_ceiling";

const SCHEMA: &[&str] = &[
    "CREATE TABLE sources (id TEXT NOT NULL PRIMARY KEY, secret TEXT NOT NULL)",
    "CREATE TABLE events (
        id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
        source_id TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        method TEXT NOT NULL,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        content_type TEXT,
        remote_addr TEXT,
        event_type TEXT,
        delivery_id TEXT,
        verification TEXT NOT NULL,
        FOREIGN KEY (source_id) REFERENCES sources (id) ON DELETE CASCADE)",
    "CREATE UNIQUE INDEX idx_events_source_delivery ON events (source_id, delivery_id)",
    "CREATE INDEX idx_events_source_id ON events (source_id, id)",
];

/// hookhub's later additions to its events table (migration 3): browsing indexes and search.
const HUB_SCHEMA: &[&str] = &[
    "ALTER TABLE events ADD COLUMN handling TEXT NOT NULL DEFAULT 'none'",
    "CREATE INDEX idx_events_event_type ON events (event_type, id)",
    "CREATE INDEX idx_events_handling ON events (handling, id)",
    "CREATE INDEX idx_events_received_at ON events (received_at, id)",
    "CREATE VIRTUAL TABLE events_fts USING fts5(body, content='', contentless_delete=1)",
    "CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN \
       INSERT INTO events_fts(rowid, body) VALUES (new.id, CAST(new.body AS TEXT)); END",
];

/// What the ceiling does besides the least: the diagnostics of `ingest`.
#[derive(Clone, Copy, Default)]
pub struct Extras {
    /// Wrap each insert in its own savepoint, as hookhub's writer does.
    pub savepoints: bool,
    /// Keep hookhub's later indexes and full-text index too.
    pub hub_schema: bool,
}

struct Job {
    received_at: i64,
    headers: String,
    body: Bytes,
    content_type: Option<String>,
    remote_addr: String,
    event_type: Option<String>,
    delivery_id: Option<String>,
    done: oneshot::Sender<Result<(i64, bool), String>>,
}

#[derive(Clone)]
struct Ceiling {
    secret: Arc<[u8]>,
    jobs: mpsc::Sender<Job>,
}

pub struct Running {
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        Ok(self.server.await??)
    }
}

fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
}

pub async fn start(database: &Path, secret: &[u8], extras: Extras) -> anyhow::Result<Running> {
    start_on("127.0.0.1:0".parse()?, database, secret, extras).await
}

/// [`start`] on a chosen address.
pub async fn start_on(
    listen: SocketAddr,
    database: &Path,
    secret: &[u8],
    extras: Extras,
) -> anyhow::Result<Running> {
    let mut conn = options(database)
        .connect()
        .await
        .context("opening the ceiling's database")?;
    for statement in SCHEMA {
        sqlx::query(*statement).execute(&mut conn).await?;
    }
    if extras.hub_schema {
        for statement in HUB_SCHEMA {
            sqlx::query(*statement).execute(&mut conn).await?;
        }
    }
    sqlx::query("INSERT INTO sources (id, secret) VALUES (?, ?)")
        .bind(SOURCE_ID)
        .bind(String::from_utf8_lossy(secret).into_owned())
        .execute(&mut conn)
        .await?;
    let (jobs, queue) = mpsc::channel(QUEUE);
    tokio::spawn(writer(conn, queue, extras.savepoints));

    let app = Router::new()
        .route("/hooks/{source}", post(receive))
        .with_state(Ceiling {
            secret: secret.into(),
            jobs,
        });
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .into_future(),
    );
    Ok(Running {
        addr,
        shutdown,
        server,
    })
}

async fn receive(
    State(ceiling): State<Ceiling>,
    UrlPath(source): UrlPath<String>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if source != SOURCE_ID {
        return (StatusCode::NOT_FOUND, "no such source").into_response();
    }
    let Some(signature) = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha256="))
        .and_then(|hex_sig| hex::decode(hex_sig).ok())
    else {
        return (StatusCode::BAD_REQUEST, "missing or malformed signature").into_response();
    };
    let mut mac =
        <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&ceiling.secret).expect("any key size");
    mac.update(&body);
    if mac.verify_slice(&signature).is_err() {
        return (StatusCode::UNAUTHORIZED, "signature does not match").into_response();
    }
    let text = |name: &str| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let pairs: Vec<(&str, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let (done, answer) = oneshot::channel();
    let job = Job {
        received_at: server::storage::now_millis(),
        headers: serde_json::to_string(&pairs).unwrap_or_default(),
        content_type: text("content-type"),
        remote_addr: remote.ip().to_string(),
        event_type: text("x-github-event"),
        delivery_id: text("x-github-delivery"),
        body,
        done,
    };
    if ceiling.jobs.send(job).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "writer stopped").into_response();
    }
    match answer.await {
        Ok(Ok((event_id, duplicate))) => {
            axum::Json(serde_json::json!({"event_id": event_id, "duplicate": duplicate}))
                .into_response()
        }
        Ok(Err(_)) | Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "not stored").into_response(),
    }
}

/// Group commit: everything queued goes into one transaction; answers follow the commit.
async fn writer(mut conn: SqliteConnection, mut queue: mpsc::Receiver<Job>, savepoints: bool) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut answers = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcome = async {
            let mut txn = conn.begin().await?;
            for job in batch.drain(..) {
                let stored = if savepoints {
                    in_savepoint(&mut txn, &job).await
                } else {
                    insert(&mut txn, &job).await
                };
                answers.push((job.done, stored));
            }
            txn.commit().await
        }
        .await;
        for (done, stored) in answers.drain(..) {
            let _ = done.send(match &outcome {
                Ok(()) => stored.map_err(|e| e.to_string()),
                Err(err) => Err(err.to_string()),
            });
        }
        batch.clear();
    }
}

async fn in_savepoint(conn: &mut SqliteConnection, job: &Job) -> Result<(i64, bool), sqlx::Error> {
    sqlx::query("SAVEPOINT job").execute(&mut *conn).await?;
    let stored = insert(conn, job).await;
    let end = if stored.is_ok() {
        "RELEASE SAVEPOINT job"
    } else {
        "ROLLBACK TO SAVEPOINT job"
    };
    sqlx::query(end).execute(&mut *conn).await?;
    stored
}

async fn insert(conn: &mut SqliteConnection, job: &Job) -> Result<(i64, bool), sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO events (source_id, received_at, method, headers, body, content_type, \
         remote_addr, event_type, delivery_id, verification) \
         VALUES (?, ?, 'POST', ?, ?, ?, ?, ?, ?, 'verified') RETURNING id",
    )
    .bind(SOURCE_ID)
    .bind(job.received_at)
    .bind(&job.headers)
    .bind(job.body.as_ref())
    .bind(&job.content_type)
    .bind(&job.remote_addr)
    .bind(&job.event_type)
    .bind(&job.delivery_id)
    .fetch_one(&mut *conn)
    .await;
    match inserted {
        Ok(row) => Ok((row.try_get(0)?, false)),
        Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
            let row = sqlx::query("SELECT id FROM events WHERE source_id = ? AND delivery_id = ?")
                .bind(SOURCE_ID)
                .bind(&job.delivery_id)
                .fetch_one(&mut *conn)
                .await?;
            Ok((row.try_get(0)?, true))
        }
        Err(err) => Err(err),
    }
}

/// Delivery ids stored in the ceiling's database.
pub async fn stored_delivery_ids(database: &Path) -> anyhow::Result<Vec<String>> {
    let mut conn = options(database).read_only(true).connect().await?;
    let rows = sqlx::query("SELECT delivery_id FROM events WHERE delivery_id IS NOT NULL")
        .fetch_all(&mut conn)
        .await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?)
}

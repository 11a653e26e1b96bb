//! Storage: an embedded SQLite file or a shared PostgreSQL server behind sea-orm. Queries live
//! in modules named by aggregate.
//!
//! The engine seam is [`Db`]: reads go through [`Db::read`], a pool, and every write through
//! [`Db::write`], the only way to change the database. Behind it sits the engine's way of
//! committing: for SQLite ([`sqlite`]), the single [`writer`] task that commits whatever is
//! queued in one transaction (group commit); for PostgreSQL, a pooled transaction per write
//! ([`postgres`]).
//! A write is a closure over a transaction and must not rely on being the only write under
//! way: rules that need rows to stay put (one first-run setup, the last admin) lock or claim
//! them in the same write, so they hold where writes run concurrently, from several hubs too.
//! What only one engine can do lives in the module that owns it: full-text search in
//! [`search`], `json_each` in [`shapes`], the file's integrity check in [`sqlite`], the
//! notices between hubs in [`changes`].

pub mod activity;
pub mod api_keys;
mod batches;
mod cache;
pub mod catalog;
pub mod changes;
pub mod columns;
pub mod consumers;
pub mod copy;
pub mod deliveries;
mod entities;
pub mod events;
pub mod handlers;
mod health;
pub mod hubs;
pub mod leads;
mod lease;
mod location;
pub mod login_failures;
pub mod messages;
pub mod notices;
pub mod paging;
mod postgres;
pub mod retention;
pub mod search;
pub mod sessions;
mod shapes;
pub mod sources;
mod sqlite;
pub mod states;
pub mod subscriptions;
pub mod testing;
pub mod users;
mod writer;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    PrimaryKeyTrait, TryInsertResult,
};
use tokio_util::sync::{CancellationToken, DropGuard};

pub use health::{Failure, is_storage_failure};
pub use location::Location;
use postgres::Postgres;
use writer::Writer;

/// What an acknowledged write survives. Both survive the process being killed at any moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// SQLite's `synchronous=NORMAL` in WAL mode: the last commits before a power loss or an
    /// operating-system crash may be lost (the database stays consistent).
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit is on disk before it is acknowledged, so it survives a
    /// power loss too, at the cost of an fsync per group commit.
    Full,
}

/// The outcome of the integrity check run at start ([`Db::check_integrity`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrity {
    Checking,
    Ok,
    Failed(String),
}

#[derive(Clone)]
pub struct Db {
    read: DatabaseConnection,
    engine: Engine,
    location: Location,
    /// Sources, API keys and event types as the hot paths read them; see [`cache`].
    caches: cache::Caches,
    /// Received events stored together, one multi-row insert per write; see [`events::insert`].
    inserts: batches::Batches<events::NewEvent>,
    /// Messages published together, one insert per table per write; see [`messages::publish`].
    publications: batches::Batches<messages::Outgoing>,
    /// What this hub and the others sharing the database tell each other.
    changes: changes::Changes,
    /// Stops the engine's background tasks once the last handle is dropped.
    _stop: Arc<DropGuard>,
    integrity: Arc<Mutex<Integrity>>,
}

#[derive(Clone)]
enum Engine {
    Sqlite(Writer),
    Postgres(Postgres),
}

impl Engine {
    /// The writer that commits in batches: SQLite's only one, PostgreSQL's for the hot path.
    fn writer(&self) -> &Writer {
        match self {
            Engine::Sqlite(writer) => writer,
            Engine::Postgres(postgres) => postgres.batched(),
        }
    }
}

impl Db {
    /// A fresh database for unit tests, on the engine the test run names (see [`testing`]); it
    /// lasts as long as the directory handed back with it.
    #[cfg(test)]
    pub async fn open_temp() -> (tempfile::TempDir, Self) {
        let dir = tempfile::tempdir().unwrap();
        let location = testing::database(dir.path()).await;
        (dir, Self::open(location).await.unwrap())
    }

    /// A fresh SQLite file, for the tests of what only SQLite has, whatever the run's engine.
    #[cfg(test)]
    pub async fn open_temp_sqlite() -> (tempfile::TempDir, Self) {
        let dir = tempfile::tempdir().unwrap();
        let db = Self::open(dir.path().join("test.db")).await.unwrap();
        (dir, db)
    }

    /// How SQLite would run `query`: the `detail` of each step of its `EXPLAIN QUERY PLAN`.
    #[cfg(test)]
    pub async fn sqlite_plan(&self, query: impl sea_orm::QueryTrait) -> Vec<String> {
        use sea_orm::ConnectionTrait;
        let statement = query.build(self.read().get_database_backend());
        let plan = sea_orm::Statement {
            sql: format!("EXPLAIN QUERY PLAN {}", statement.sql),
            ..statement
        };
        self.read()
            .query_all_raw(plan)
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get("", "detail").unwrap())
            .collect()
    }

    /// Opens the database (creating a SQLite file if needed), applies migrations and starts
    /// the engine's writing.
    pub async fn open(location: impl Into<Location>) -> Result<Self, DbErr> {
        Self::open_with(location, Durability::default()).await
    }

    /// [`Db::open`] with the durability of your choice (SQLite's; a PostgreSQL server has
    /// its own settings for it).
    pub async fn open_with(
        location: impl Into<Location>,
        durability: Durability,
    ) -> Result<Self, DbErr> {
        let location = location.into();
        let stop = CancellationToken::new();
        let caches = cache::Caches::default();
        let (read, engine, changes) = match &location {
            Location::Sqlite(path) => {
                let (read, writer) = sqlite::open(path, durability).await?;
                (read, Engine::Sqlite(writer), changes::Changes::alone())
            }
            Location::Postgres(url) => {
                let postgres = Postgres::open(url).await?;
                let pool = postgres.pool().get_postgres_connection_pool().clone();
                let forget = caches.clone();
                let apply = move |change: &changes::Change| forget.heard(change);
                let changes = changes::Changes::shared(pool, apply, stop.clone());
                (postgres.pool().clone(), Engine::Postgres(postgres), changes)
            }
        };
        Ok(Self {
            read,
            inserts: batches::Batches::start(engine.writer().clone()),
            publications: batches::Batches::start(engine.writer().clone()),
            engine,
            location,
            caches,
            changes,
            _stop: Arc::new(stop.drop_guard()),
            integrity: Arc::new(Mutex::new(Integrity::Checking)),
        })
    }

    pub fn read(&self) -> &DatabaseConnection {
        &self.read
    }

    /// Runs `f` in a transaction and answers once that transaction has committed: the value
    /// `f` answered, or its error (and then none of its changes are kept). The error is a
    /// storage failure ([`is_storage_failure`]) when the database could not take the write.
    pub async fn write<T, F>(&self, f: F) -> Result<T, DbErr>
    where
        T: Send + 'static,
        F: WriteFn<T>,
    {
        match &self.engine {
            Engine::Sqlite(writer) => writer.write(f).await,
            Engine::Postgres(postgres) => postgres.write(f).await,
        }
    }

    /// What hubs sharing this database tell each other; see [`changes`].
    pub fn changes(&self) -> &changes::Changes {
        &self.changes
    }

    /// Forgets what `change` made stale in this hub's caches and tells the other hubs to
    /// forget it in theirs: after every write that changes a cached row.
    fn changed(&self, change: changes::Change) {
        self.caches.heard(&change);
        self.changes.announce(change);
    }

    /// [`Db::write`] for the writes of the hot path that PostgreSQL may commit together with
    /// others (SQLite commits every write so): each must take no row lock another write waits
    /// on, but for unique keys.
    pub async fn write_batched<T, F>(&self, f: F) -> Result<T, DbErr>
    where
        T: Send + 'static,
        F: WriteFn<T>,
    {
        self.engine.writer().write(f).await
    }

    /// [`Db::write_batched`] for a write whose only change is one statement (reads besides
    /// are fine): SQLite undoes a failed statement by itself, so it needs no savepoint.
    pub async fn write_statement<T, F>(&self, f: F) -> Result<T, DbErr>
    where
        T: Send + 'static,
        F: WriteFn<T>,
    {
        self.engine.writer().write_statement(f).await
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// The size of the database: the SQLite file and its write-ahead log on disk, or the
    /// database on the PostgreSQL server.
    pub async fn size_bytes(&self) -> u64 {
        match (&self.engine, &self.location) {
            (Engine::Sqlite(_), Location::Sqlite(path)) => {
                let wal = PathBuf::from(format!("{}-wal", path.display()));
                [path.as_path(), wal.as_path()]
                    .iter()
                    .filter_map(|p| std::fs::metadata(p).ok())
                    .map(|m| m.len())
                    .sum()
            }
            (Engine::Postgres(postgres), _) => postgres.size_bytes().await.unwrap_or(0),
            _ => 0,
        }
    }

    /// Writes waiting for the writer's next group commit (on PostgreSQL, those it batches).
    pub fn writer_queue_depth(&self) -> usize {
        self.engine.writer().queue_depth()
    }

    /// How many writes each group commit took: a histogram the hub's metrics show.
    pub fn writer_batch_sizes(&self) -> prometheus_client::metrics::histogram::Histogram {
        self.engine.writer().batch_sizes()
    }

    /// Why writes are failing, while they are; see [`health::Health`].
    pub fn write_failure(&self) -> Option<Failure> {
        match &self.engine {
            Engine::Sqlite(writer) => writer.health().failure(),
            Engine::Postgres(postgres) => postgres.health().failure(),
        }
    }

    /// Checks that the read pool and the writer answer and that writes commit. While writes
    /// are failing this makes a real write, so a health check notices by itself when there is
    /// room again, even when no other write comes.
    pub async fn ping(&self) -> Result<(), DbErr> {
        match &self.engine {
            Engine::Sqlite(writer) => {
                self.read.execute_unprepared("SELECT 1").await?;
                if self.write_failure().is_none() {
                    return writer.ping().await;
                }
            }
            Engine::Postgres(postgres) => {
                postgres.ping().await?;
                if self.write_failure().is_none() {
                    return Ok(());
                }
            }
        }
        self.write(|txn| {
            Box::pin(async move {
                let probe = Alias::new("write_probe");
                let insert = Query::insert()
                    .into_table(probe.clone())
                    .columns([Alias::new("filler")])
                    .values_panic([vec![0u8; PROBE_BYTES].into()])
                    .to_owned();
                txn.execute(&insert).await?;
                txn.execute(&Query::delete().from_table(probe).to_owned())
                    .await?;
                Ok(())
            })
        })
        .await
    }

    pub fn integrity(&self) -> Integrity {
        self.integrity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// SQLite's `quick_check` over the whole file: a damaged database is reported loudly at
    /// start instead of failing later, one page at a time. It reads every page, so it runs in
    /// the background on a read connection. A PostgreSQL server checks its own pages.
    pub async fn check_integrity(&self) {
        if self.is_postgres() {
            *self.integrity.lock().unwrap_or_else(|e| e.into_inner()) = Integrity::Ok;
            return;
        }
        let started = std::time::Instant::now();
        let outcome = sqlite::quick_check(&self.read).await;
        match &outcome {
            Integrity::Failed(problems) => tracing::error!(
                database = %self.location,
                %problems,
                "the database is damaged: stop hookhub, keep a copy of the file and restore it from a backup (or try `sqlite3 FILE .recover`)"
            ),
            _ => tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "database integrity check passed"
            ),
        }
        *self.integrity.lock().unwrap_or_else(|e| e.into_inner()) = outcome;
    }
}

/// A write: a closure over the transaction it runs in, answering a `T` (see [`Db::write`]).
pub trait WriteFn<T>:
    for<'c> FnOnce(&'c DatabaseTransaction) -> BoxFuture<'c, Result<T, DbErr>> + Send + 'static
{
}

impl<T, F> WriteFn<T> for F where
    F: for<'c> FnOnce(&'c DatabaseTransaction) -> BoxFuture<'c, Result<T, DbErr>> + Send + 'static
{
}

/// The size of the health check's probe write: more than a page, so it needs room to grow.
const PROBE_BYTES: usize = 16 * 1024;

pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A stored time (milliseconds since the epoch) as RFC 3339 in UTC, to the millisecond, as the
/// API, the delivery body and the relay write it; `None` outside chrono's range.
pub fn rfc3339(millis: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Inserts `row` unless a row with the same `key` exists, answering the new row's primary key,
/// or `None` when the key was taken. The collision is settled by `ON CONFLICT (key) DO NOTHING`
/// rather than by a failing statement, which on PostgreSQL would abort the whole transaction
/// (and with it every other job of the batch).
pub(crate) async fn insert_new<A, C>(
    db: &C,
    row: A,
    key: impl IntoIterator<Item = <A::Entity as EntityTrait>::Column>,
) -> Result<Option<<<A::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType>, DbErr>
where
    A: ActiveModelTrait,
    C: ConnectionTrait,
{
    match A::Entity::insert(row)
        .on_conflict_do_nothing_on(key)
        .exec(db)
        .await?
    {
        TryInsertResult::Inserted(inserted) => Ok(Some(inserted.last_insert_id)),
        TryInsertResult::Conflicted | TryInsertResult::Empty => Ok(None),
    }
}

/// True when `err` is a unique-key violation: a result to act on, not a failure.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use sea_orm::sqlx::sqlite::SqliteConnectOptions;
    use sea_orm::sqlx::{ConnectOptions, Connection, Executor};

    use super::*;

    #[tokio::test]
    async fn the_integrity_check_reports_a_damaged_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("damaged.db");
        let mut conn = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
            .await
            .unwrap();
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) \
             INSERT INTO t (body) SELECT randomblob(1000) FROM n",
        )
        .await
        .unwrap();
        conn.close().await.unwrap();

        let db = Db::open(&path).await.unwrap();
        db.check_integrity().await;
        assert_eq!(db.integrity(), Integrity::Ok);
        drop(db);

        // Scribble over pages in the middle of the table, as a failing disk would.
        let mut bytes = std::fs::read(&path).unwrap();
        for byte in &mut bytes[20 * 4096..24 * 4096] {
            *byte = 0x5a;
        }
        std::fs::write(&path, bytes).unwrap();

        let db = Db::open(&path).await.unwrap();
        db.check_integrity().await;
        assert!(
            matches!(db.integrity(), Integrity::Failed(_)),
            "{:?}",
            db.integrity()
        );
    }
}

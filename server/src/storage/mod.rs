//! Storage: one SQLite file behind sea-orm. Queries live in modules named by aggregate.
//!
//! The engine seam is [`Db`]: reads go through [`Db::read`], a pool, and every write through
//! [`Db::write`], the only way to change the database. Behind it sits the engine's way of
//! committing: for SQLite, the single [`writer`] task that commits whatever is queued in one
//! transaction (group commit). A write is a closure over a transaction and must not rely on
//! being the only write under way: rules that need rows to stay put (one first-run setup, the
//! last admin) lock or claim them in the same write, so they hold where an engine runs writes
//! concurrently too. What only one engine can do lives in the module that
//! owns it: FTS5 in [`search`], `json_each` in [`shapes`], the file's integrity check here.

pub mod api_keys;
pub mod catalog;
pub mod columns;
pub mod deliveries;
mod entities;
pub mod events;
pub mod handlers;
pub mod leads;
mod lease;
pub mod messages;
pub mod retention;
pub mod search;
pub mod sessions;
mod shapes;
pub mod sources;
pub mod states;
pub mod subscriptions;
pub mod users;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use migrations::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Alias, Query};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    PrimaryKeyTrait, SqlxSqliteConnector, TryInsertResult,
};

use writer::Writer;
pub use writer::{Failure, is_storage_failure};

const READ_CONNECTIONS: u32 = 4;

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
    writer: Writer,
    path: PathBuf,
    /// Sources as the receive path reads them on every request; see [`sources::find`].
    sources: sources::Cache,
    integrity: Arc<Mutex<Integrity>>,
}

impl Db {
    /// A fresh database in a temporary directory, for unit tests; it lasts as long as the
    /// directory handed back with it.
    #[cfg(test)]
    pub async fn open_temp() -> (tempfile::TempDir, Self) {
        let dir = tempfile::tempdir().unwrap();
        let db = Self::open(&dir.path().join("test.db")).await.unwrap();
        (dir, db)
    }

    /// Opens (creating if needed) the database file, applies migrations and starts the writer.
    pub async fn open(path: &Path) -> Result<Self, DbErr> {
        Self::open_with(path, Durability::default()).await
    }

    /// [`Db::open`] with the durability of your choice.
    pub async fn open_with(path: &Path, durability: Durability) -> Result<Self, DbErr> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbErr::Custom(format!("creating {}: {e}", dir.display())))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Normal => SqliteSynchronous::Normal,
                Durability::Full => SqliteSynchronous::Full,
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone())
            .await
            .map_err(sqlx_err)?;
        let write = SqlxSqliteConnector::from_sqlx_sqlite_pool(write_pool);
        Migrator::up(&write, None).await?;

        // Read connections are kept for good, like the writer: each holds SQLite's page cache
        // (2 MiB, SQLite's default) and a thread, which replacing it would throw away and
        // build again.
        let read_pool = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .min_connections(READ_CONNECTIONS)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone().read_only(true))
            .await
            .map_err(sqlx_err)?;
        let connector = writer::Connector {
            options,
            path: path.to_path_buf(),
            file: writer::FileId::of(path),
        };
        Ok(Self {
            read: SqlxSqliteConnector::from_sqlx_sqlite_pool(read_pool),
            writer: Writer::start(write, connector),
            path: path.to_path_buf(),
            sources: sources::Cache::default(),
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
        F: for<'c> FnOnce(&'c DatabaseTransaction) -> BoxFuture<'c, Result<T, DbErr>>
            + Send
            + 'static,
    {
        self.writer.write(f).await
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The size of the database and its write-ahead log on disk.
    pub fn size_bytes(&self) -> u64 {
        let wal = PathBuf::from(format!("{}-wal", self.path.display()));
        [self.path.as_path(), wal.as_path()]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Why writes are failing, while they are; see [`writer::Health`].
    pub fn write_failure(&self) -> Option<Failure> {
        self.writer.health().failure()
    }

    /// Checks that the read pool and the writer answer and that writes commit. While writes
    /// are failing this makes a real write, so a health check notices by itself when there is
    /// room again, even when no other write comes.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.read.execute_unprepared("SELECT 1").await?;
        if self.write_failure().is_none() {
            return self.writer.ping().await;
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
    /// the background on a read connection.
    pub async fn check_integrity(&self) {
        let started = std::time::Instant::now();
        let outcome = match self
            .read
            .query_all_raw(sea_orm::Statement::from_string(
                self.read.get_database_backend(),
                "PRAGMA quick_check(10)",
            ))
            .await
        {
            Ok(rows) => {
                let problems: Vec<String> = rows
                    .iter()
                    .filter_map(|row| row.try_get_by_index::<String>(0).ok())
                    .filter(|line| line != "ok")
                    .collect();
                if problems.is_empty() {
                    Integrity::Ok
                } else {
                    Integrity::Failed(problems.join("; "))
                }
            }
            Err(err) => Integrity::Failed(err.to_string()),
        };
        match &outcome {
            Integrity::Failed(problems) => tracing::error!(
                database = %self.path.display(),
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

/// The size of the health check's probe write: more than a page, so it needs room to grow.
const PROBE_BYTES: usize = 16 * 1024;

fn sqlx_err(err: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Custom(format!("connecting to SQLite: {err}"))
}

pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
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

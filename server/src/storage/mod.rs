//! Storage: one SQLite file behind sea-orm. Reads go through a pool; every write goes through
//! the single [`writer::Writer`] task, which commits whatever is queued in one transaction.
//! Queries live in modules named by aggregate.

pub mod api_keys;
pub mod catalog;
pub mod deliveries;
mod entities;
pub mod events;
pub mod handlers;
pub mod retention;
pub mod sessions;
mod shapes;
pub mod sources;
pub mod subscriptions;
pub mod users;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, SqlxSqliteConnector};

pub use writer::Writer;

const READ_CONNECTIONS: u32 = 4;

#[derive(Clone)]
pub struct Db {
    read: DatabaseConnection,
    writer: Writer,
    path: PathBuf,
    /// Sources as the receive path reads them on every request; see [`sources::find`].
    sources: sources::Cache,
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
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbErr::Custom(format!("creating {}: {e}", dir.display())))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
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
            .connect_with(options.read_only(true))
            .await
            .map_err(sqlx_err)?;
        Ok(Self {
            read: SqlxSqliteConnector::from_sqlx_sqlite_pool(read_pool),
            writer: Writer::start(write),
            path: path.to_path_buf(),
            sources: sources::Cache::default(),
        })
    }

    pub fn read(&self) -> &DatabaseConnection {
        &self.read
    }

    pub fn writer(&self) -> &Writer {
        &self.writer
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

    /// Checks that both the read pool and the writer answer.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.read.execute_unprepared("SELECT 1").await?;
        self.writer
            .write(|txn| {
                Box::pin(async move { txn.execute_unprepared("SELECT 1").await.map(|_| ()) })
            })
            .await
    }
}

fn sqlx_err(err: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Custom(format!("connecting to SQLite: {err}"))
}

pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// True when `err` is a unique-key violation: a result to act on, not a failure.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

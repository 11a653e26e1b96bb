//! SQLite: one file that one hub owns. Reads go through a pool of read-only connections; writes
//! through the one [`Writer`] task. Its integrity check is here too.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, SqlxSqliteConnector};

use super::writer::{Connector, FileId, Writer, sqlx_err};
use super::{Durability, Integrity};

const READ_CONNECTIONS: u32 = 4;

/// Opens (creating if needed) the SQLite file, applies migrations and starts the writer; the
/// read pool and the writer.
pub(super) async fn open(
    path: &Path,
    durability: Durability,
) -> Result<(DatabaseConnection, Writer), DbErr> {
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
    // (2 MiB, SQLite's default) and a thread, which replacing it would throw away and build
    // again.
    let read_pool = SqlitePoolOptions::new()
        .max_connections(READ_CONNECTIONS)
        .min_connections(READ_CONNECTIONS)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options.clone().read_only(true))
        .await
        .map_err(sqlx_err)?;
    let connector = Connector::Sqlite {
        options: Box::new(options),
        path: path.to_path_buf(),
        file: FileId::of(path),
    };
    Ok((
        SqlxSqliteConnector::from_sqlx_sqlite_pool(read_pool),
        Writer::start(write, connector, Arc::default()),
    ))
}

/// SQLite's `quick_check` over the whole file, on a read connection.
pub(super) async fn quick_check(read: &DatabaseConnection) -> Integrity {
    let check =
        sea_orm::Statement::from_string(sea_orm::DatabaseBackend::Sqlite, "PRAGMA quick_check(10)");
    match read.query_all_raw(check).await {
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
    }
}

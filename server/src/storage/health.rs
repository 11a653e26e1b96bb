//! Whether the database takes writes, as both engines report it.

use std::sync::Mutex;

use sea_orm::sqlx::postgres::PgDatabaseError;
use sea_orm::{DbErr, RuntimeErr};

/// Whether writes are committing, as the engine last found. `/healthz` and the receive and
/// publish endpoints read it to answer 503 while the disk is full or failing, or the database
/// server cannot be reached.
#[derive(Debug, Default)]
pub struct Health {
    failure: Mutex<Option<Failure>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// When writes started failing, in Unix milliseconds.
    pub since: i64,
    pub reason: String,
}

impl Health {
    /// `None` while writes commit.
    pub fn failure(&self) -> Option<Failure> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(super) fn fail(&self, reason: String) {
        let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        match failure.as_mut() {
            Some(failure) => failure.reason = reason,
            None => {
                tracing::error!(%reason, "writes are failing; receiving and publishing answer 503 until they commit again");
                *failure = Some(Failure {
                    since: super::now_millis(),
                    reason,
                });
            }
        }
    }

    pub(super) fn recover(&self) {
        let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(previous) = failure.take() {
            tracing::warn!(
                failing_since = previous.since,
                "writes commit again; the database has recovered"
            );
        }
    }
}

/// True when `err` means the storage could not take a write (disk full, I/O error, corrupt or
/// read-only file, the writer gone, or the database server out of reach or out of room), as
/// opposed to a write that was refused on its merits.
pub fn is_storage_failure(err: &DbErr) -> bool {
    storage_failure(err).is_some()
}

pub(super) fn storage_failure(err: &DbErr) -> Option<String> {
    match err {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => Some(err.to_string()),
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            use sea_orm::sqlx::Error;
            match &**e {
                Error::Io(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed => {
                    return Some(err.to_string());
                }
                _ => {}
            }
            let database = e.as_database_error()?;
            let code = database.code()?;
            let failed = if database.try_downcast_ref::<PgDatabaseError>().is_some() {
                postgres_storage_code(&code)
            } else {
                code.parse::<i32>().is_ok_and(sqlite_storage_code)
            };
            failed.then(|| err.to_string())
        }
        _ => None,
    }
}

/// SQLite's primary result codes (the low byte of the extended one) for a file that cannot
/// take writes.
fn sqlite_storage_code(code: i32) -> bool {
    const READONLY: i32 = 8;
    const IOERR: i32 = 10;
    const CORRUPT: i32 = 11;
    const FULL: i32 = 13;
    const CANTOPEN: i32 = 14;
    const NOTADB: i32 = 26;
    matches!(
        code & 0xff,
        READONLY | IOERR | CORRUPT | FULL | CANTOPEN | NOTADB
    )
}

/// PostgreSQL's SQLSTATE classes for a server that cannot take writes: the connection (08),
/// insufficient resources such as a full disk (53), an operator or crash shutdown (57P),
/// system and internal errors (58, XX), and a read-only transaction, as on a standby (25006).
fn postgres_storage_code(code: &str) -> bool {
    ["08", "53", "57P", "58", "XX"]
        .iter()
        .any(|class| code.starts_with(class))
        || code == "25006"
}

//! The one writer. SQLite admits one writer at a time, so instead of a pool of connections
//! fighting for its lock, one task owns the write connection and commits everything queued in a
//! single transaction (group commit). Each job runs in its own savepoint, so one failing job
//! does not undo the others, and its caller hears back only after the commit. On PostgreSQL the
//! same writer commits the hot path's writes in batches on a connection of the pool
//! ([`Connector::Postgres`]), beside the pooled transactions of every other write.
//!
//! A caller is told its write succeeded only when the transaction that holds it committed. When
//! the disk fills or fails, a `COMMIT` (or a savepoint's release or rollback) can fail and leave
//! the connection inside a transaction that the driver no longer tracks; every later "commit"
//! on it would then only release a savepoint of a transaction that never ends. So after any such
//! failure the SQLite writer closes its connection and opens a fresh one for the next batch, and
//! [`Health`] says writes are failing until a batch commits a change again.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, RuntimeErr, SqlErr, SqliteTransactionMode,
    SqlxSqliteConnector, TransactionOptions, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};

use super::WriteFn;
use super::health::{Health, storage_failure};

/// The most jobs committed together; bounds the latency a long batch adds.
const MAX_BATCH: usize = 512;
const QUEUE: usize = 4096;
const IMMEDIATE: TransactionOptions = TransactionOptions {
    isolation_level: None,
    access_mode: None,
    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
};

/// Called with the outcome of the batch's commit.
type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn for<'c> FnOnce(&'c DatabaseTransaction) -> BoxFuture<'c, Ran> + Send>;

/// How a failed job's changes are taken back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Undo {
    /// In a savepoint of its own, rolled back when it fails.
    Savepoint,
    /// By the database: a job that changes at most one statement's worth, on an engine that
    /// undoes a failed statement by itself (SQLite), needs no savepoint, which saves two
    /// round trips to the connection per job.
    Statement,
}

/// What one job did inside the batch's transaction.
struct Ran {
    complete: Completion,
    step: Step,
    /// Whether this job's success shows the storage takes writes (a ping's does not).
    proves: bool,
}

enum Step {
    /// The job's changes are in the transaction.
    Done,
    /// The job failed and its savepoint took its changes back; `storage` says whether the
    /// failure was the disk's (full, I/O error, corrupt, read-only) rather than the job's.
    Failed { storage: Option<String> },
    /// A savepoint could not be released or rolled back: the transaction can no longer be
    /// trusted, so the whole batch is rolled back and the connection replaced.
    Broken(String),
}

/// Where the writer's connection comes from.
pub(super) enum Connector {
    /// A SQLite file: the writer's own connection, replaced after a failure; and how it tells
    /// that its file is still the one at the configured path.
    Sqlite {
        options: Box<SqliteConnectOptions>,
        path: PathBuf,
        /// The identity of the file opened at start; `None` where the platform gives none.
        file: Option<FileId>,
    },
    /// A PostgreSQL pool, shared with the rest of the hub: each batch takes a connection of
    /// it, and one left inside a failed transaction is rolled back as it goes back.
    Postgres,
}

/// A file's device and inode: the same path naming another inode means the database file was
/// deleted or replaced while the hub had it open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileId(u64, u64);

impl FileId {
    pub fn of(path: &Path) -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(path).ok().map(|m| Self(m.dev(), m.ino()))
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            None
        }
    }
}

impl Connector {
    async fn connect(&self) -> Result<DatabaseConnection, DbErr> {
        let Self::Sqlite { options, .. } = self else {
            return Err(unavailable("the writer's pool is gone".into()));
        };
        // Never create the file here: a missing file is a fault to report, not a fresh start.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.as_ref().clone().create_if_missing(false))
            .await
            .map_err(sqlx_err)?;
        Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
    }

    /// An error when the configured path no longer names the file the writer has open, so that
    /// nothing is acknowledged into a file that is gone.
    fn check_file(&self) -> Result<(), String> {
        match self {
            Self::Sqlite {
                path,
                file: Some(opened),
                ..
            } if FileId::of(path) != Some(*opened) => Err(format!(
                "the database file {} was deleted or replaced while hookhub had it open; restart hookhub",
                path.display()
            )),
            _ => Ok(()),
        }
    }

    /// SQLite's batches take the write lock up front (IMMEDIATE), where the busy timeout
    /// applies: a deferred transaction that reads first fails at once if another process (the
    /// CLI, a second opener of the file) wrote in between, since its snapshot can no longer be
    /// upgraded. PostgreSQL's take row locks as they go.
    fn transaction_options(&self) -> TransactionOptions {
        match self {
            Self::Sqlite { .. } => IMMEDIATE,
            Self::Postgres => TransactionOptions::default(),
        }
    }

    /// SQLite undoes a failed statement and keeps its transaction; PostgreSQL aborts the whole
    /// transaction, so every job there needs a savepoint.
    fn undo(&self) -> Undo {
        match self {
            Self::Sqlite { .. } => Undo::Statement,
            Self::Postgres => Undo::Savepoint,
        }
    }

    /// Whether a connection that saw a failure is replaced (SQLite's own) or kept (a pool).
    fn replaces_after_failure(&self) -> bool {
        matches!(self, Self::Sqlite { .. })
    }
}

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// How the engine behind takes back a failed statement.
    undo: Undo,
    health: Arc<Health>,
    /// How many jobs each commit took, for the hub's metrics.
    batch_sizes: Histogram,
}

impl Writer {
    /// Starts writing on `conn`; `health` is what it reports failures and recoveries to.
    pub(super) fn start(
        conn: DatabaseConnection,
        connector: Connector,
        health: Arc<Health>,
    ) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let undo = connector.undo();
        // 1 to 512: MAX_BATCH.
        let batch_sizes = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        tokio::spawn(run(
            conn,
            connector,
            Arc::clone(&health),
            batch_sizes.clone(),
            rx,
        ));
        Self {
            jobs,
            undo,
            health,
            batch_sizes,
        }
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Jobs waiting for the next batch.
    pub fn queue_depth(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    pub fn batch_sizes(&self) -> Histogram {
        self.batch_sizes.clone()
    }

    /// Runs `f` in the next group transaction and answers once that transaction is committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T, DbErr>
    where
        T: Send + 'static,
        F: WriteFn<T>,
    {
        self.submit(f, true, false).await
    }

    /// [`Writer::write`] for an `f` whose only change is one statement (it may read besides):
    /// where the engine undoes a failed statement by itself, it runs without a savepoint.
    pub async fn write_statement<T, F>(&self, f: F) -> Result<T, DbErr>
    where
        T: Send + 'static,
        F: WriteFn<T>,
    {
        self.submit(f, true, true).await
    }

    /// Answers once the writer has run an empty job: it is alive and not stuck. Says nothing
    /// about the disk, so it never clears a failure.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.submit(|_| Box::pin(async { Ok(()) }), false, true)
            .await
    }

    async fn submit<T, F>(&self, f: F, proves: bool, one_statement: bool) -> Result<T, DbErr>
    where
        T: Send + 'static,
        F: WriteFn<T>,
    {
        let (done, answer) = oneshot::channel();
        let as_is = one_statement && self.undo == Undo::Statement;
        let job: Job = Box::new(move |txn| {
            Box::pin(async move {
                let (result, step) = if as_is {
                    as_statement(txn, f).await
                } else {
                    in_savepoint(txn, f).await
                };
                let complete = Box::new(move |commit: Result<(), String>| {
                    let outcome = match commit {
                        Ok(()) => result,
                        Err(message) => Err(unavailable(message)),
                    };
                    let _ = done.send(outcome);
                }) as Completion;
                Ran {
                    complete,
                    step,
                    proves,
                }
            })
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| unavailable("the database writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| unavailable("the database writer dropped the write".into()))?
    }
}

/// The error a caller gets when its write was not committed for a reason of the storage's.
fn unavailable(message: String) -> DbErr {
    DbErr::Conn(RuntimeErr::Internal(message))
}

/// Runs a one-statement job as it is. A statement refused by a constraint was undone by SQLite
/// and the transaction goes on, as after an error of the job's own; after any other failure of
/// the database SQLite may have ended the whole transaction, so the batch can no longer be
/// trusted.
async fn as_statement<T, F>(txn: &DatabaseTransaction, f: F) -> (Result<T, DbErr>, Step)
where
    F: for<'c> FnOnce(&'c DatabaseTransaction) -> BoxFuture<'c, Result<T, DbErr>>,
{
    match f(txn).await {
        Ok(value) => (Ok(value), Step::Done),
        Err(err) => {
            let refused = matches!(
                err.sql_err(),
                Some(
                    SqlErr::UniqueConstraintViolation(_) | SqlErr::ForeignKeyConstraintViolation(_)
                )
            );
            let from_database = matches!(
                err,
                DbErr::Exec(_) | DbErr::Query(_) | DbErr::Conn(_) | DbErr::ConnectionAcquire(_)
            );
            let step = if from_database && !refused {
                Step::Broken(format!("a write failed outside a savepoint: {err}"))
            } else {
                Step::Failed { storage: None }
            };
            (Err(err), step)
        }
    }
}

async fn in_savepoint<T, F>(txn: &DatabaseTransaction, f: F) -> (Result<T, DbErr>, Step)
where
    F: for<'c> FnOnce(&'c DatabaseTransaction) -> BoxFuture<'c, Result<T, DbErr>>,
{
    let savepoint = match txn.begin().await {
        Ok(savepoint) => savepoint,
        Err(err) => {
            let step = Step::Broken(format!("could not open a savepoint: {err}"));
            return (Err(err), step);
        }
    };
    match f(&savepoint).await {
        Ok(value) => match savepoint.commit().await {
            Ok(()) => (Ok(value), Step::Done),
            Err(err) => {
                let step = Step::Broken(format!("could not release a savepoint: {err}"));
                (Err(err), step)
            }
        },
        Err(err) => {
            let step = match savepoint.rollback().await {
                Ok(()) => Step::Failed {
                    storage: storage_failure(&err),
                },
                // SQLite ends the whole transaction on some errors (a full disk among them),
                // taking the savepoint with it.
                Err(rollback) => Step::Broken(format!(
                    "{err}, and its savepoint could not be rolled back: {rollback}"
                )),
            };
            (Err(err), step)
        }
    }
}

async fn run(
    conn: DatabaseConnection,
    connector: Connector,
    health: Arc<Health>,
    batch_sizes: Histogram,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut conn = Some(conn);
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        batch_sizes.observe(batch.len() as f64);
        let current = match conn.take() {
            Some(current) => current,
            None => match connector.connect().await {
                Ok(fresh) => {
                    tracing::info!("the writer opened a fresh database connection");
                    fresh
                }
                Err(err) => {
                    health.fail(format!("cannot open the database: {err}"));
                    // Dropping the jobs tells each caller its write did not happen.
                    batch.clear();
                    continue;
                }
            },
        };
        match commit_batch(&current, &connector, &mut batch).await {
            Batch::Committed { changed: true } => health.recover(),
            Batch::Committed { changed: false } => {}
            Batch::Failed(reason) => health.fail(reason),
        }
        if health.failure().is_some() && connector.replaces_after_failure() {
            // The connection may be stuck inside a transaction it does not know about (a failed
            // COMMIT leaves it so): only a fresh one is known to be back in autocommit.
            current.close().await.ok();
        } else {
            conn = Some(current);
        }
    }
}

enum Batch {
    /// `changed` is false when every job failed on its merits, so nothing proved the disk good.
    Committed { changed: bool },
    /// Nothing in the batch was committed.
    Failed(String),
}

/// Runs `batch` in one transaction, answers every caller, and says how the storage fared.
async fn commit_batch(
    conn: &DatabaseConnection,
    connector: &Connector,
    batch: &mut Vec<Job>,
) -> Batch {
    let txn = match conn
        .begin_with_options(connector.transaction_options())
        .await
    {
        Ok(txn) => txn,
        Err(err) => {
            batch.clear();
            return Batch::Failed(format!("cannot begin a write transaction: {err}"));
        }
    };
    let mut completions = Vec::with_capacity(batch.len());
    let mut changed = false;
    let mut storage = None;
    let mut broken = None;
    for job in batch.drain(..) {
        match AssertUnwindSafe(job(&txn)).catch_unwind().await {
            Ok(Ran {
                complete,
                step,
                proves,
            }) => {
                completions.push(complete);
                match step {
                    Step::Done => changed |= proves,
                    Step::Failed { storage: None } => {}
                    Step::Failed {
                        storage: Some(reason),
                    } => storage = Some(reason),
                    Step::Broken(reason) => {
                        broken = Some(reason);
                        break;
                    }
                }
            }
            Err(_) => {
                // A bug, not bad input: undo the whole batch, tell every caller, keep writing.
                tracing::error!("a write job panicked; its batch was rolled back");
                broken = Some("a write job panicked".into());
                break;
            }
        }
    }
    let outcome = match broken {
        Some(reason) => {
            batch.clear();
            drop(txn);
            Err(reason)
        }
        None => match connector.check_file() {
            Err(reason) => {
                drop(txn);
                Err(reason)
            }
            Ok(()) => txn
                .commit()
                .await
                .map_err(|err| format!("group commit failed: {err}")),
        },
    };
    for complete in completions {
        complete(outcome.clone());
    }
    match outcome {
        // Logged once, when writes start failing (`Health::fail`): a full disk must not also
        // fill the log.
        Err(reason) => Batch::Failed(reason),
        Ok(()) => match storage {
            Some(reason) => Batch::Failed(reason),
            None => Batch::Committed { changed },
        },
    }
}

pub(super) fn sqlx_err(err: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Custom(format!("connecting to SQLite: {err}"))
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DbErr};

    use crate::storage::is_storage_failure;
    use crate::storage::{Db, Engine};

    fn writer(db: &Db) -> &super::Writer {
        match &db.engine {
            Engine::Sqlite(writer) => writer,
            Engine::Postgres(_) => unreachable!("opened on SQLite"),
        }
    }

    async fn count(db: &Db) -> i64 {
        let row = db
            .read()
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "SELECT COUNT(*) AS n FROM users",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    }

    fn insert(name: String) -> String {
        format!(
            "INSERT INTO users (username, password_hash, is_admin, created_at) VALUES ('{name}', 'x', false, 0)"
        )
    }

    async fn write_sql(db: &Db, sql: String) -> Result<(), DbErr> {
        db.write(move |txn| Box::pin(async move { txn.execute_unprepared(&sql).await.map(|_| ()) }))
            .await
    }

    #[tokio::test]
    async fn concurrent_writes_commit_and_a_failing_one_undoes_only_itself() {
        let (_dir, db) = Db::open_temp_sqlite().await;

        let mut tasks = Vec::new();
        for i in 0..200 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                db.write(move |txn| {
                    Box::pin(async move {
                        txn.execute_unprepared(&insert(format!("u{i}"))).await?;
                        if i % 10 == 0 {
                            // Fails after its insert: the savepoint must take the insert back.
                            return Err(DbErr::Custom("refused".into()));
                        }
                        Ok(i)
                    })
                })
                .await
            }));
        }
        let mut failed = 0;
        for task in tasks {
            if task.await.unwrap().is_err() {
                failed += 1;
            }
        }
        assert_eq!(failed, 20);
        assert_eq!(count(&db).await, 180);
        assert_eq!(writer(&db).health().failure(), None);
    }

    #[tokio::test]
    async fn a_panicking_job_fails_its_caller_and_the_writer_keeps_going() {
        let (_dir, db) = Db::open_temp_sqlite().await;
        let panicked = db
            .write(
                |_txn| -> futures::future::BoxFuture<'_, Result<(), DbErr>> {
                    Box::pin(async move { panic!("a bug in a write job") })
                },
            )
            .await;
        assert!(panicked.is_err());
        write_sql(&db, insert("after".into())).await.unwrap();
        assert_eq!(count(&db).await, 1);
    }

    /// A full database: the writer reports the failure, commits nothing it acknowledged, and
    /// writes again by itself once there is room.
    #[tokio::test]
    async fn a_full_database_fails_writes_and_recovers_when_room_returns() {
        let (_dir, db) = Db::open_temp_sqlite().await;
        // The limit is the connection's own: set it on the writer's connection.
        let pages: i64 = {
            let row = db
                .read()
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DatabaseBackend::Sqlite,
                    "PRAGMA page_count",
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index(0).unwrap()
        };
        write_sql(&db, format!("PRAGMA max_page_count = {}", pages + 2))
            .await
            .unwrap();

        let mut acknowledged = 0;
        loop {
            let name = format!("{acknowledged:0>2000}");
            match write_sql(&db, insert(name)).await {
                Ok(()) => acknowledged += 1,
                Err(err) => {
                    assert!(is_storage_failure(&err), "{err}");
                    break;
                }
            }
            assert!(acknowledged < 1000, "the database never filled");
        }
        // A ping shows the writer alive but proves nothing about room: still failing.
        writer(&db).ping().await.unwrap();
        let failure = writer(&db)
            .health()
            .failure()
            .expect("writes reported failing");
        assert!(failure.reason.contains("full"), "{}", failure.reason);

        // The fresh connection the writer opened after the failure has SQLite's default limit:
        // room has returned, and the next write commits and clears the failure by itself.
        write_sql(&db, insert("after".into())).await.unwrap();
        assert_eq!(writer(&db).health().failure(), None);
        assert_eq!(count(&db).await, acknowledged + 1);
    }

    #[tokio::test]
    async fn writes_fail_once_the_database_file_is_replaced() {
        let (dir, db) = Db::open_temp_sqlite().await;
        write_sql(&db, insert("before".into())).await.unwrap();
        let path = dir.path().join("test.db");
        std::fs::rename(&path, dir.path().join("moved.db")).unwrap();
        std::fs::write(&path, b"").unwrap();

        let err = write_sql(&db, insert("lost".into())).await.unwrap_err();
        assert!(is_storage_failure(&err), "{err}");
        let failure = writer(&db)
            .health()
            .failure()
            .expect("writes reported failing");
        assert!(
            failure.reason.contains("deleted or replaced"),
            "{}",
            failure.reason
        );
    }
}

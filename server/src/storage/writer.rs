//! The one writer. SQLite admits one writer at a time, so instead of a pool of connections
//! fighting for its lock, one task owns the write connection and commits everything queued in a
//! single transaction (group commit). Each job runs in its own savepoint, so one failing job
//! does not undo the others, and its caller hears back only after the commit.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use futures::future::BoxFuture;
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};

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
type Job = Box<dyn for<'c> FnOnce(&'c DatabaseTransaction) -> BoxFuture<'c, Completion> + Send>;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub fn start(conn: DatabaseConnection) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(conn, rx));
        Self { jobs }
    }

    /// Runs `f` in the next group transaction and answers once that transaction is committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T, DbErr>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c DatabaseTransaction) -> BoxFuture<'c, Result<T, DbErr>>
            + Send
            + 'static,
    {
        let (done, answer) = oneshot::channel();
        let job: Job = Box::new(move |txn| {
            Box::pin(async move {
                let result = in_savepoint(txn, f).await;
                Box::new(move |commit: Result<(), String>| {
                    let outcome = match commit {
                        Ok(()) => result,
                        Err(message) => Err(DbErr::Custom(message)),
                    };
                    let _ = done.send(outcome);
                }) as Completion
            })
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| DbErr::Custom("the database writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| DbErr::Custom("the database writer dropped the write".into()))?
    }
}

async fn in_savepoint<T, F>(txn: &DatabaseTransaction, f: F) -> Result<T, DbErr>
where
    F: for<'c> FnOnce(&'c DatabaseTransaction) -> BoxFuture<'c, Result<T, DbErr>>,
{
    let savepoint = txn.begin().await?;
    match f(&savepoint).await {
        Ok(value) => {
            savepoint.commit().await?;
            Ok(value)
        }
        Err(err) => {
            let _ = savepoint.rollback().await;
            Err(err)
        }
    }
}

async fn run(conn: DatabaseConnection, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // IMMEDIATE takes the write lock up front, where the busy timeout applies. A deferred
        // transaction that reads first fails at once if another process (the CLI, a second
        // opener of the file) wrote in between, since its snapshot can no longer be upgraded.
        let txn = match conn.begin_with_options(IMMEDIATE).await {
            Ok(txn) => txn,
            Err(err) => {
                tracing::error!(error = %err, "cannot begin a write transaction");
                // Dropping the jobs tells each caller its write did not happen.
                batch.clear();
                continue;
            }
        };
        let mut completions = Vec::with_capacity(batch.len());
        let mut panicked = false;
        for job in batch.drain(..) {
            match AssertUnwindSafe(job(&txn)).catch_unwind().await {
                Ok(complete) => completions.push(complete),
                Err(_) => {
                    panicked = true;
                    break;
                }
            }
        }
        if panicked {
            // A bug, not bad input: undo the whole batch, tell every caller, keep writing.
            tracing::error!("a write job panicked; its batch was rolled back");
            batch.clear();
            drop(txn);
            for complete in completions {
                complete(Err("the write was rolled back".into()));
            }
            continue;
        }
        let outcome = txn.commit().await.map_err(|err| {
            tracing::error!(error = %err, "group commit failed");
            format!("commit failed: {err}")
        });
        for complete in completions {
            complete(outcome.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DbErr};

    use crate::storage::Db;

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

    #[tokio::test]
    async fn concurrent_writes_commit_and_a_failing_one_undoes_only_itself() {
        let (_dir, db) = Db::open_temp().await;

        let mut tasks = Vec::new();
        for i in 0..200 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                db.writer()
                    .write(move |txn| {
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
    }

    #[tokio::test]
    async fn a_panicking_job_fails_its_caller_and_the_writer_keeps_going() {
        let (_dir, db) = Db::open_temp().await;
        let panicked = db
            .writer()
            .write(
                |_txn| -> futures::future::BoxFuture<'_, Result<(), DbErr>> {
                    Box::pin(async move { panic!("a bug in a write job") })
                },
            )
            .await;
        assert!(panicked.is_err());
        db.writer()
            .write(|txn| {
                Box::pin(async move {
                    txn.execute_unprepared(&insert("after".into()))
                        .await
                        .map(|_| ())
                })
            })
            .await
            .unwrap();
        assert_eq!(count(&db).await, 1);
    }
}

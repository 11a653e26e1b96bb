//! The one writer. SQLite admits one writer at a time, so instead of a pool of connections
//! fighting for its lock, one task owns the write connection and commits everything queued in a
//! single transaction (group commit). Each job runs in its own savepoint, so one failing job
//! does not undo the others, and its caller hears back only after the commit.

use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

/// The most jobs committed together; bounds the latency a long batch adds.
const MAX_BATCH: usize = 512;
const QUEUE: usize = 4096;

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
        let txn = match conn.begin().await {
            Ok(txn) => txn,
            Err(err) => {
                tracing::error!(error = %err, "cannot begin a write transaction");
                // Dropping the jobs tells each caller its write did not happen.
                batch.clear();
                continue;
            }
        };
        let mut completions = Vec::with_capacity(batch.len());
        for job in batch.drain(..) {
            completions.push(job(&txn).await);
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

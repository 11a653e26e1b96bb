//! Writes of one kind that arrive together, committed as one job of the next group commit. One
//! task per kind takes whatever has arrived, writes it with one multi-row statement per table,
//! answers each caller once that committed, and meanwhile the next writes gather: a few
//! statements per batch instead of a few per write, which is what the hot paths' throughput
//! was waiting on.

use std::sync::Arc;

use futures::future::BoxFuture;
use sea_orm::{DatabaseTransaction, DbErr, RuntimeErr};
use tokio::sync::{mpsc, oneshot};

use super::is_storage_failure;
use super::writer::Writer;

/// A kind of write that can be committed together with others of its kind.
pub(super) trait Batched: Send + Sync + 'static {
    type Written: Send + 'static;
    /// Writes taken into one batch at most (bound values stay well under the engines'
    /// limits).
    const MAX: usize;
    /// Whether [`Batched::write_all`]'s only change is one statement (reads besides are
    /// fine), so it may run without a savepoint (see [`Writer::write_statement`]).
    const ONE_STATEMENT: bool;

    /// Writes `items` and says, in their order, what became of each.
    fn write_all<'c>(
        txn: &'c DatabaseTransaction,
        items: &'c [Arc<Self>],
    ) -> BoxFuture<'c, Result<Vec<Self::Written>, DbErr>>;
}

type Waiting<B> = (
    Arc<B>,
    oneshot::Sender<Result<<B as Batched>::Written, DbErr>>,
);

/// The queue of one kind of batched write.
pub(super) struct Batches<B: Batched>(mpsc::Sender<Waiting<B>>);

impl<B: Batched> Clone for Batches<B> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<B: Batched> Batches<B> {
    /// Starts the task; it ends once every handle is dropped, and drops `writer` then.
    pub(super) fn start(writer: Writer) -> Self {
        let (waiting, queue) = mpsc::channel(B::MAX * 4);
        tokio::spawn(write_in_batches(writer, queue));
        Self(waiting)
    }

    /// Answers once `item` is committed, with what became of it.
    pub(super) async fn write(&self, item: B) -> Result<B::Written, DbErr> {
        let gone = || DbErr::Conn(RuntimeErr::Internal("a batching writer has stopped".into()));
        let (done, answer) = oneshot::channel();
        self.0
            .send((Arc::new(item), done))
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn write_in_batches<B: Batched>(writer: Writer, mut queue: mpsc::Receiver<Waiting<B>>) {
    let mut batch = Vec::with_capacity(B::MAX);
    while queue.recv_many(&mut batch, B::MAX).await > 0 {
        let (items, answers): (Vec<Arc<B>>, Vec<_>) = batch.drain(..).unzip();
        match write(&writer, items.clone()).await {
            Ok(written) => {
                for (answer, written) in answers.into_iter().zip(written) {
                    let _ = answer.send(Ok(written));
                }
            }
            Err(err) if is_storage_failure(&err) => {
                for answer in answers {
                    let _ = answer.send(Err(err.clone()));
                }
            }
            // One item refused (its source deleted meanwhile, say) took the others with it:
            // each is written, or refused, on its own.
            Err(_) => {
                for (answer, item) in answers.into_iter().zip(items) {
                    let written = write(&writer, vec![item]).await;
                    let _ = answer.send(written.and_then(|mut one| {
                        one.pop()
                            .ok_or_else(|| DbErr::Custom("a batched write answered nothing".into()))
                    }));
                }
            }
        }
    }
}

async fn write<B: Batched>(writer: &Writer, items: Vec<Arc<B>>) -> Result<Vec<B::Written>, DbErr> {
    if B::ONE_STATEMENT {
        writer
            .write_statement(move |txn| Box::pin(async move { B::write_all(txn, &items).await }))
            .await
    } else {
        writer
            .write(move |txn| Box::pin(async move { B::write_all(txn, &items).await }))
            .await
    }
}

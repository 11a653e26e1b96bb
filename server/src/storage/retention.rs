//! Retention: received events and sent messages older than the configured age are deleted, a
//! batch per write so the writer is never held for long. An event waits while a handler run is
//! pending, a message while one of its deliveries is. Deleting a message takes its deliveries
//! and their attempts with it (foreign-key cascade); deleting an event, its handler runs and its
//! search-index entry (cascade and trigger).

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbErr, Statement};
use tokio_util::sync::CancellationToken;

use super::{Db, now_millis};

/// Rows deleted per write.
const BATCH: i64 = 1000;
/// How often old rows are looked for.
const EVERY: Duration = Duration::from_secs(3600);

/// Oldest first, found through the index on `received_at`. Ordered by `id` instead, SQLite
/// read the whole table in id order to skip a sort: at 750,000 events, 5 s on the one writer
/// every hour when nothing was old, and every write waited.
const OLD_EVENTS: &str = "DELETE FROM events WHERE id IN (SELECT id FROM events \
     WHERE received_at < ? AND handling <> 'pending' ORDER BY received_at, id LIMIT ?)";
const OLD_MESSAGES: &str = "DELETE FROM messages WHERE id IN (SELECT m.id FROM messages m \
     WHERE m.created_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d \
       WHERE d.message_id = m.id AND d.status = 'pending') \
     ORDER BY m.created_at LIMIT ?)";

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub events: u64,
    pub messages: u64,
}

/// Deletes events received and messages created before `before` (Unix milliseconds).
pub async fn prune(db: &Db, before: i64) -> Result<Pruned, DbErr> {
    Ok(Pruned {
        events: delete_in_batches(db, OLD_EVENTS, before).await?,
        messages: delete_in_batches(db, OLD_MESSAGES, before).await?,
    })
}

async fn delete_in_batches(db: &Db, sql: &'static str, before: i64) -> Result<u64, DbErr> {
    let mut deleted = 0;
    loop {
        let batch = db
            .writer()
            .write(move |txn| {
                Box::pin(async move {
                    let backend = txn.get_database_backend();
                    let values = vec![before.into(), BATCH.into()];
                    let statement = Statement::from_sql_and_values(backend, sql, values);
                    Ok(txn.execute_raw(statement).await?.rows_affected())
                })
            })
            .await?;
        deleted += batch;
        if batch < BATCH as u64 {
            return Ok(deleted);
        }
    }
}

/// Prunes what is older than `keep` now and every hour until `shutdown`.
pub async fn prune_periodically(db: Db, keep: Duration, shutdown: CancellationToken) {
    loop {
        let before = now_millis().saturating_sub(keep.as_millis() as i64);
        match prune(&db, before).await {
            Ok(pruned) if pruned != Pruned::default() => tracing::info!(
                events = pruned.events,
                messages = pruned.messages,
                "deleted what is older than the retention period"
            ),
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "deleting old events and messages failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finding_what_is_old_reads_an_index_not_a_whole_table() {
        let (_dir, db) = Db::open_temp().await;
        for sql in [OLD_EVENTS, OLD_MESSAGES] {
            let backend = db.read().get_database_backend();
            let plan = Statement::from_sql_and_values(
                backend,
                format!("EXPLAIN QUERY PLAN {sql}"),
                [0i64.into(), BATCH.into()],
            );
            let steps: Vec<String> = db
                .read()
                .query_all_raw(plan)
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get("", "detail").unwrap())
                .collect();
            assert!(
                steps.iter().any(|step| step.contains("USING INDEX idx_")),
                "{sql}: {steps:?}"
            );
            assert!(
                !steps.iter().any(|step| step.starts_with("SCAN")),
                "{sql}: {steps:?}"
            );
        }
    }
}

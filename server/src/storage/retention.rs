//! Retention: received events and sent messages older than the configured age are deleted, a
//! batch per write so the writer is never held for long. An event waits while a handler run is
//! pending, a message while one of its deliveries is. Deleting a message takes its deliveries
//! and their attempts with it (foreign-key cascade); deleting an event, its handler runs and its
//! search-index entry (cascade and trigger).

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait, Order, Query};
use sea_orm::{ColumnTrait, DbErr, DeleteMany, EntityTrait, QueryFilter};
use tokio_util::sync::CancellationToken;

use super::entities::delivery::{self, Entity as Deliveries};
use super::entities::event::{self, Entity as Events};
use super::entities::message::{self, Entity as Messages};
use super::states::{DeliveryStatus, Handling};
use super::{Db, leads, now_millis};

/// Rows deleted per write.
const BATCH: u64 = 1000;
/// How often old rows are looked for.
const EVERY: Duration = Duration::from_secs(3600);

/// The oldest events received before `before` whose handlers are done, oldest first, found
/// through the index on `received_at`. Ordered by `id` instead, SQLite read the whole table in
/// id order to skip a sort: at 750,000 events, 5 s on the one writer every hour when nothing
/// was old, and every write waited.
fn old_events(before: i64) -> DeleteMany<Events> {
    let oldest = Query::select()
        .column(event::Column::Id)
        .from(Events)
        .and_where(event::Column::ReceivedAt.lt(before))
        .and_where(event::Column::Handling.ne(Handling::Pending))
        .order_by(event::Column::ReceivedAt, Order::Asc)
        .order_by(event::Column::Id, Order::Asc)
        .limit(BATCH)
        .to_owned();
    Events::delete_many().filter(event::Column::Id.in_subquery(oldest))
}

/// The oldest messages created before `before` with no delivery still pending.
fn old_messages(before: i64) -> DeleteMany<Messages> {
    let pending = Query::select()
        .expr(Expr::val(1))
        .from(Deliveries)
        .and_where(
            Expr::col((Deliveries, delivery::Column::MessageId))
                .equals((Messages, message::Column::Id)),
        )
        .and_where(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .to_owned();
    let oldest = Query::select()
        .column(message::Column::Id)
        .from(Messages)
        .and_where(message::Column::CreatedAt.lt(before))
        .and_where(Expr::exists(pending).not())
        .order_by(message::Column::CreatedAt, Order::Asc)
        .limit(BATCH)
        .to_owned();
    Messages::delete_many().filter(message::Column::Id.in_subquery(oldest))
}

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub events: u64,
    pub messages: u64,
}

/// Deletes events received and messages created before `before` (Unix milliseconds).
pub async fn prune(db: &Db, before: i64) -> Result<Pruned, DbErr> {
    Ok(Pruned {
        events: delete_in_batches(db, old_events, before).await?,
        messages: delete_in_batches(db, old_messages, before).await?,
    })
}

async fn delete_in_batches<E: EntityTrait>(
    db: &Db,
    batch_before: fn(i64) -> DeleteMany<E>,
    before: i64,
) -> Result<u64, DbErr> {
    let mut deleted = 0;
    loop {
        let batch = db
            .write(move |txn| {
                Box::pin(async move { Ok(batch_before(before).exec(txn).await?.rows_affected) })
            })
            .await?;
        deleted += batch;
        if batch < BATCH {
            return Ok(deleted);
        }
    }
}

/// Prunes what is older than `keep` now and every hour until `shutdown`, on one hub at a time:
/// the one holding the `retention` lead (see [`leads`]).
pub async fn prune_periodically(
    db: Db,
    node: Arc<str>,
    keep: Duration,
    shutdown: CancellationToken,
) {
    leads::periodically(&db, "retention", node, EVERY, shutdown, || async {
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
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finding_what_is_old_reads_an_index_not_a_whole_table() {
        let (_dir, db) = Db::open_temp_sqlite().await;
        for (query, steps) in [
            ("old events", db.sqlite_plan(old_events(0)).await),
            ("old messages", db.sqlite_plan(old_messages(0)).await),
        ] {
            assert!(
                steps.iter().any(|step| step.contains("USING INDEX idx_")),
                "{query}: {steps:?}"
            );
            assert!(
                !steps.iter().any(|step| step.starts_with("SCAN")),
                "{query}: {steps:?}"
            );
        }
    }
}

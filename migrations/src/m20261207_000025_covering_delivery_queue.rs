//! The delivery queue's indexes carry the columns a claim filters on, so a claim decides from
//! the index which rows it skips. Before, it read the table row of every due delivery it passed
//! over: behind a subscription that never answers, thousands of rows held back by its
//! concurrency limit, read again at every claim. `leased_until` stays out of the due index:
//! every claim and every attempt would rewrite its entry.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Deliveries {
    Table,
    Id,
    Status,
    NextAttemptAt,
    SubscriptionId,
    LeasedUntil,
}

/// The indexes replaced: `(status, next_attempt_at)` and `(leased_until)`.
const DUE: &str = "idx_deliveries_due";
const LEASED: &str = "idx_deliveries_leased";
/// Due deliveries in the order claims take them (`next_attempt_at`, then `id`), with their
/// subscription, which a claim checks before reading the row.
const DUE_COVERING: &str = "idx_deliveries_queue";
/// The leases alive, counted per subscription by every claim, without reading a row.
const LEASED_COVERING: &str = "idx_deliveries_leases";

fn index(name: &str, columns: &[Deliveries]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Deliveries::Table);
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

fn drop_statement(name: &str) -> IndexDropStatement {
    Index::drop().name(name).table(Deliveries::Table).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Deliveries::*;
        let due = [Status, NextAttemptAt, Id, SubscriptionId];
        manager.create_index(index(DUE_COVERING, &due)).await?;
        manager.drop_index(drop_statement(DUE)).await?;
        let leased = [Status, LeasedUntil, SubscriptionId];
        manager
            .create_index(index(LEASED_COVERING, &leased))
            .await?;
        manager.drop_index(drop_statement(LEASED)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Deliveries::*;
        manager
            .create_index(index(DUE, &[Status, NextAttemptAt]))
            .await?;
        manager.drop_index(drop_statement(DUE_COVERING)).await?;
        manager.create_index(index(LEASED, &[LeasedUntil])).await?;
        manager.drop_index(drop_statement(LEASED_COVERING)).await
    }
}

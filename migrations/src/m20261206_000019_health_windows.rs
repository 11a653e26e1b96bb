//! The overview's health figures read the last 24 hours and 7 days of delivery attempts and
//! refused requests: indexes on their times find those without reading the whole tables. A
//! refused request keeps the kind of its refusal too, so reasons can be counted together
//! (their words carry numbers: "timestamp is 912 s old").

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Attempts {
    Table,
    StartedAt,
}

#[derive(DeriveIden)]
enum RefusedRequests {
    Table,
    ReceivedAt,
    Kind,
}

const ATTEMPTS: &str = "idx_attempts_started_at";
const REFUSED: &str = "idx_refused_received_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(ATTEMPTS)
                    .table(Attempts::Table)
                    .col(Attempts::StartedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(REFUSED)
                    .table(RefusedRequests::Table)
                    .col(RefusedRequests::ReceivedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefusedRequests::Table)
                    .add_column(text_null(RefusedRequests::Kind))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RefusedRequests::Table)
                    .drop_column(RefusedRequests::Kind)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(REFUSED)
                    .table(RefusedRequests::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(ATTEMPTS)
                    .table(Attempts::Table)
                    .to_owned(),
            )
            .await
    }
}

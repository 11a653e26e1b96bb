//! Notices: a subscription failing for a quarter, a half and three quarters of the time after
//! which it is disabled, and its disabling. One row per streak and stage (the unique index keeps
//! it so when several hubs record attempts at once).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notices {
    Table,
    Id,
    SubscriptionId,
    Stage,
    FailingSince,
    Message,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Subscriptions {
    Table,
    Id,
}

const STREAK_STAGE: &str = "idx_notices_streak_stage";
const CREATED: &str = "idx_notices_created_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notices::Table)
                    .col(pk_auto(Notices::Id).big_integer())
                    .col(string(Notices::SubscriptionId))
                    .col(string(Notices::Stage))
                    .col(big_integer(Notices::FailingSince))
                    .col(text(Notices::Message))
                    .col(big_integer(Notices::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Notices::Table, Notices::SubscriptionId)
                            .to(Subscriptions::Table, Subscriptions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(STREAK_STAGE)
                    .table(Notices::Table)
                    .col(Notices::SubscriptionId)
                    .col(Notices::FailingSince)
                    .col(Notices::Stage)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(CREATED)
                    .table(Notices::Table)
                    .col(Notices::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Notices::Table).to_owned())
            .await
    }
}

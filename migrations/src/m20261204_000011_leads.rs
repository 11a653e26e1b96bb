//! Leads: which hub runs a periodic job (retention, session cleanup) while several share one
//! database. A lead is a row per job naming its holder and until when it holds it; the holder
//! renews it on every pass, and once it lapses any hub may take it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Leads {
    Table,
    Job,
    HeldBy,
    Until,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Leads::Table)
                    .col(string(Leads::Job).primary_key())
                    .col(string(Leads::HeldBy))
                    .col(big_integer(Leads::Until))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Leads::Table).to_owned())
            .await
    }
}

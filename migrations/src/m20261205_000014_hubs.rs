//! The hubs running on this database, each with the time it last said it was alive, for the
//! overview page.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Hubs {
    Table,
    NodeId,
    Version,
    StartedAt,
    LastSeen,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Hubs::Table)
                    .col(string(Hubs::NodeId).primary_key())
                    .col(string(Hubs::Version))
                    .col(big_integer(Hubs::StartedAt))
                    .col(big_integer(Hubs::LastSeen))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Hubs::Table).to_owned())
            .await
    }
}

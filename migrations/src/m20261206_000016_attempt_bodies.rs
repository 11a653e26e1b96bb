//! The exact body of an attempt, where it cannot be rebuilt from its message: an ASP.NET
//! WebHooks body counts its attempt and carries the subscription's properties as they were.
//! A Standard Webhooks body is the same on every attempt and is rebuilt from the message, so
//! it is not stored again per attempt.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Attempts {
    Table,
    RequestBody,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Attempts::Table)
                    .add_column(blob_null(Attempts::RequestBody))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Attempts::Table)
                    .drop_column(Attempts::RequestBody)
                    .to_owned(),
            )
            .await
    }
}

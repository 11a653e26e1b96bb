//! A handler can be switched off without removing it (and its history of runs): a disabled
//! handler stays in its chain's list and runs for no event until it is enabled again.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Handlers {
    Table,
    Enabled,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Handlers::Table)
                    .add_column(boolean(Handlers::Enabled).default(true))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Handlers::Table)
                    .drop_column(Handlers::Enabled)
                    .to_owned(),
            )
            .await
    }
}

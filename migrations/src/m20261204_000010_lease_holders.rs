//! Leases name their holder: the node id of the hub that claimed the delivery or handler run,
//! so a hub that starts gives back only what it held itself, never a lease another live hub
//! holds on the same database. Rows leased before this column existed have no holder; any
//! hub may release those.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    LeasedBy,
}

#[derive(DeriveIden)]
enum HandlerRuns {
    Table,
    LeasedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .add_column(ColumnDef::new(Deliveries::LeasedBy).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(HandlerRuns::Table)
                    .add_column(ColumnDef::new(HandlerRuns::LeasedBy).string().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(HandlerRuns::Table)
                    .drop_column(HandlerRuns::LeasedBy)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .drop_column(Deliveries::LeasedBy)
                    .to_owned(),
            )
            .await
    }
}

//! Enforced schemas: an event type's JSON Schema and what a payload that does not match it
//! meets (`enforce`: refused; `warn`: published, with the mismatches kept on the message).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EventTypes {
    Table,
    Schema,
    SchemaMode,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    SchemaErrors,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(EventTypes::Table)
                    .add_column(text_null(EventTypes::Schema))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EventTypes::Table)
                    .add_column(string(EventTypes::SchemaMode).default("enforce"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .add_column(text_null(Messages::SchemaErrors))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .drop_column(Messages::SchemaErrors)
                    .to_owned(),
            )
            .await?;
        for column in [EventTypes::SchemaMode, EventTypes::Schema] {
            manager
                .alter_table(
                    Table::alter()
                        .table(EventTypes::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

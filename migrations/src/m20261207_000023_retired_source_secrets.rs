//! A source's last retired secret, kept after a rotation ends for one purpose: to tell a sender
//! that still signs with it so, rather than "signature does not match". Never accepted.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sources {
    Table,
    RetiredSecret,
    RetiredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            text_null(Sources::RetiredSecret),
            big_integer_null(Sources::RetiredAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sources::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Sources::RetiredAt, Sources::RetiredSecret] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sources::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

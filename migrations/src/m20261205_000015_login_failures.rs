//! Failed logins per user name and per client, counted in the database so that the throttle
//! holds across every hub sharing it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    /// `user:<name>` or `client:<address>`.
    Key,
    Failures,
    LastAttempt,
    LockedUntil,
}

const IDLE: &str = "idx_login_failures_last_attempt";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(string(LoginFailures::Key).primary_key())
                    .col(integer(LoginFailures::Failures))
                    .col(big_integer(LoginFailures::LastAttempt))
                    .col(big_integer_null(LoginFailures::LockedUntil))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(IDLE)
                    .table(LoginFailures::Table)
                    .col(LoginFailures::LastAttempt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginFailures::Table).to_owned())
            .await
    }
}

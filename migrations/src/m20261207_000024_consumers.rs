//! Consumers: who a message is for (a publisher's customer, by the id the publisher chose), the
//! subscriptions that belong to one, and the tokens of their portal: single-use sign-in links
//! and the sessions they start, each valid only under the consumer's key at the time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Consumers {
    Table,
    Id,
    Name,
    Metadata,
    PortalKey,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PortalTokens {
    Table,
    TokenHash,
    ConsumerId,
    PortalKey,
    Kind,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Subscriptions {
    Table,
    ConsumerId,
    AllConsumers,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    ConsumerId,
}

const SUBSCRIPTION_CONSUMER: &str = "idx_subscriptions_consumer";
const MESSAGE_CONSUMER: &str = "idx_messages_consumer";
const TOKEN_CONSUMER: &str = "idx_portal_tokens_consumer";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Consumers::Table)
                    .col(string(Consumers::Id).primary_key())
                    .col(string(Consumers::Name))
                    .col(text(Consumers::Metadata))
                    .col(string(Consumers::PortalKey))
                    .col(big_integer(Consumers::CreatedAt))
                    .col(big_integer(Consumers::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PortalTokens::Table)
                    .col(string(PortalTokens::TokenHash).primary_key())
                    .col(string(PortalTokens::ConsumerId))
                    .col(string(PortalTokens::PortalKey))
                    .col(string(PortalTokens::Kind))
                    .col(big_integer(PortalTokens::ExpiresAt))
                    .col(big_integer(PortalTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PortalTokens::Table, PortalTokens::ConsumerId)
                            .to(Consumers::Table, Consumers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(TOKEN_CONSUMER)
                    .table(PortalTokens::Table)
                    .col(PortalTokens::ConsumerId)
                    .to_owned(),
            )
            .await?;
        for column in [
            string_null(Subscriptions::ConsumerId),
            boolean(Subscriptions::AllConsumers)
                .default(false)
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Subscriptions::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .add_column(string_null(Messages::ConsumerId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(SUBSCRIPTION_CONSUMER)
                    .table(Subscriptions::Table)
                    .col(Subscriptions::ConsumerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(MESSAGE_CONSUMER)
                    .table(Messages::Table)
                    .col(Messages::ConsumerId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(MESSAGE_CONSUMER)
                    .table(Messages::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(SUBSCRIPTION_CONSUMER)
                    .table(Subscriptions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .drop_column(Messages::ConsumerId)
                    .to_owned(),
            )
            .await?;
        for column in [Subscriptions::AllConsumers, Subscriptions::ConsumerId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Subscriptions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(PortalTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Consumers::Table).to_owned())
            .await
    }
}

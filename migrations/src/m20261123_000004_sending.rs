//! Sending: the event-type catalog, subscriptions, messages, one delivery per message and
//! matching subscription (the deliveries table is the work queue), and every attempt's record.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EventTypes {
    Table,
    Name,
    Description,
    Deprecated,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Subscriptions {
    Table,
    Id,
    Url,
    Description,
    /// JSON array of names and patterns.
    EventTypes,
    Secret,
    PreviousSecret,
    /// The previous secret signs too until then (a rotation's overlap).
    PreviousSecretUntil,
    /// JSON object of extra headers.
    Headers,
    /// JSON object of extra properties.
    Properties,
    /// `standard` or `aspnet`.
    Mode,
    /// `active`, `paused` or `disabled`.
    State,
    DisabledReason,
    DisabledAt,
    /// Set at the first failure after a success; a subscription failing for long is disabled.
    FailingSince,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    EventType,
    Payload,
    IdempotencyKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    MessageId,
    SubscriptionId,
    EventType,
    /// `pending`, `succeeded` or `failed`.
    Status,
    /// Attempts since it was (re)queued; the retry schedule counts these.
    Attempts,
    NextAttemptAt,
    LeasedUntil,
    LastStatus,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Attempts {
    Table,
    Id,
    DeliveryId,
    StartedAt,
    DurationMs,
    RequestHeaders,
    ResponseStatus,
    ResponseHeaders,
    ResponseBody,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EventTypes::Table)
                    .col(string(EventTypes::Name).primary_key())
                    .col(text(EventTypes::Description))
                    .col(boolean(EventTypes::Deprecated))
                    .col(big_integer(EventTypes::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Subscriptions::Table)
                    .col(string(Subscriptions::Id).primary_key())
                    .col(text(Subscriptions::Url))
                    .col(text(Subscriptions::Description))
                    .col(text(Subscriptions::EventTypes))
                    .col(string(Subscriptions::Secret))
                    .col(string_null(Subscriptions::PreviousSecret))
                    .col(big_integer_null(Subscriptions::PreviousSecretUntil))
                    .col(text(Subscriptions::Headers))
                    .col(text(Subscriptions::Properties))
                    .col(string(Subscriptions::Mode))
                    .col(string(Subscriptions::State))
                    .col(text_null(Subscriptions::DisabledReason))
                    .col(big_integer_null(Subscriptions::DisabledAt))
                    .col(big_integer_null(Subscriptions::FailingSince))
                    .col(big_integer(Subscriptions::CreatedAt))
                    .col(big_integer(Subscriptions::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(string(Messages::Id).primary_key())
                    .col(string(Messages::EventType))
                    .col(text(Messages::Payload))
                    .col(string_null(Messages::IdempotencyKey).unique_key())
                    .col(big_integer(Messages::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .col(pk_auto(Deliveries::Id).big_integer())
                    .col(string(Deliveries::MessageId))
                    .col(string(Deliveries::SubscriptionId))
                    .col(string(Deliveries::EventType))
                    .col(string(Deliveries::Status))
                    .col(integer(Deliveries::Attempts))
                    .col(big_integer(Deliveries::NextAttemptAt))
                    .col(big_integer_null(Deliveries::LeasedUntil))
                    .col(integer_null(Deliveries::LastStatus))
                    .col(text_null(Deliveries::LastError))
                    .col(big_integer(Deliveries::CreatedAt))
                    .col(big_integer(Deliveries::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Deliveries::Table, Deliveries::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Deliveries::Table, Deliveries::SubscriptionId)
                            .to(Subscriptions::Table, Subscriptions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_deliveries_due",
                vec![Deliveries::Status, Deliveries::NextAttemptAt],
            ),
            (
                "idx_deliveries_subscription",
                vec![Deliveries::SubscriptionId, Deliveries::Id],
            ),
            ("idx_deliveries_message", vec![Deliveries::MessageId]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Deliveries::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Attempts::Table)
                    .col(pk_auto(Attempts::Id).big_integer())
                    .col(big_integer(Attempts::DeliveryId))
                    .col(big_integer(Attempts::StartedAt))
                    .col(big_integer(Attempts::DurationMs))
                    .col(text(Attempts::RequestHeaders))
                    .col(integer_null(Attempts::ResponseStatus))
                    .col(text_null(Attempts::ResponseHeaders))
                    .col(blob_null(Attempts::ResponseBody))
                    .col(text_null(Attempts::Error))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attempts::Table, Attempts::DeliveryId)
                            .to(Deliveries::Table, Deliveries::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attempts_delivery")
                    .table(Attempts::Table)
                    .col(Attempts::DeliveryId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Attempts::Table.into_iden(),
            Deliveries::Table.into_iden(),
            Messages::Table.into_iden(),
            Subscriptions::Table.into_iden(),
            EventTypes::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

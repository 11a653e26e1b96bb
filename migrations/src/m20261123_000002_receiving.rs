//! Receiving: sources (receiver endpoints), the events they stored, and a capped log of refused
//! requests per source.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sources {
    Table,
    Id,
    Name,
    Provider,
    Settings,
    Secret,
    PreviousSecret,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    SourceId,
    ReceivedAt,
    Method,
    Headers,
    Body,
    ContentType,
    RemoteAddr,
    EventType,
    DeliveryId,
    Verification,
}

#[derive(DeriveIden)]
enum RefusedRequests {
    Table,
    Id,
    SourceId,
    ReceivedAt,
    Reason,
    RemoteAddr,
    Headers,
    BodyPrefix,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sources::Table)
                    .col(string(Sources::Id).primary_key())
                    .col(string(Sources::Name))
                    .col(string(Sources::Provider))
                    .col(text(Sources::Settings))
                    .col(string(Sources::Secret))
                    .col(string_null(Sources::PreviousSecret))
                    .col(boolean(Sources::Enabled))
                    .col(big_integer(Sources::CreatedAt))
                    .col(big_integer(Sources::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(pk_auto(Events::Id).big_integer())
                    .col(string(Events::SourceId))
                    .col(big_integer(Events::ReceivedAt))
                    .col(string(Events::Method))
                    .col(text(Events::Headers))
                    .col(blob(Events::Body))
                    .col(string_null(Events::ContentType))
                    .col(string_null(Events::RemoteAddr))
                    .col(string_null(Events::EventType))
                    .col(string_null(Events::DeliveryId))
                    .col(string(Events::Verification))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Events::Table, Events::SourceId)
                            .to(Sources::Table, Sources::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A provider's retry of the same delivery must not be stored twice.
        manager
            .create_index(
                Index::create()
                    .name("idx_events_source_delivery")
                    .table(Events::Table)
                    .col(Events::SourceId)
                    .col(Events::DeliveryId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_events_source_id")
                    .table(Events::Table)
                    .col(Events::SourceId)
                    .col(Events::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefusedRequests::Table)
                    .col(pk_auto(RefusedRequests::Id).big_integer())
                    .col(string(RefusedRequests::SourceId))
                    .col(big_integer(RefusedRequests::ReceivedAt))
                    .col(string(RefusedRequests::Reason))
                    .col(string_null(RefusedRequests::RemoteAddr))
                    .col(text(RefusedRequests::Headers))
                    .col(blob(RefusedRequests::BodyPrefix))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefusedRequests::Table, RefusedRequests::SourceId)
                            .to(Sources::Table, Sources::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refused_source_id")
                    .table(RefusedRequests::Table)
                    .col(RefusedRequests::SourceId)
                    .col(RefusedRequests::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RefusedRequests::Table.into_iden(),
            Events::Table.into_iden(),
            Sources::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

//! Handlers (ordered steps run on each verified event, per source or global), the durable queue
//! of their runs, and what the events browser needs at a million events: indexes for its
//! filters and a full-text index over bodies.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sources {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    ReceivedAt,
    EventType,
    /// What the handlers made of it: `none`, `pending`, `ok` or `failed`.
    Handling,
}

#[derive(DeriveIden)]
enum Handlers {
    Table,
    Id,
    /// `NULL` for a global handler, run for every source.
    SourceId,
    Position,
    Kind,
    /// JSON array of event-type patterns; empty means every event.
    EventTypes,
    Config,
    CreatedAt,
}

#[derive(DeriveIden)]
enum HandlerRuns {
    Table,
    Id,
    EventId,
    HandlerId,
    HandlerKind,
    Position,
    Status,
    Attempts,
    NextAt,
    LeasedUntil,
    Outcome,
    UpdatedAt,
}

/// Full-text search over bodies. SQLite's FTS5 with no stored copy of the text (the events table
/// has it); triggers keep it in step with every insert and delete, cascades included (inserts
/// moved to a background indexer in migration 5). A PostgreSQL backend would use a `tsvector`
/// column instead; only `storage::events` queries it. The last statement indexes the events
/// already stored.
const SQLITE_FTS: &[&str] = &[
    "CREATE VIRTUAL TABLE events_fts USING fts5(body, content='', contentless_delete=1)",
    "CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN \
       INSERT INTO events_fts(rowid, body) VALUES (new.id, CAST(new.body AS TEXT)); END",
    "CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN \
       DELETE FROM events_fts WHERE rowid = old.id; END",
    "INSERT INTO events_fts(rowid, body) SELECT id, CAST(body AS TEXT) FROM events",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(string(Events::Handling).default("none"))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_events_event_type", [Events::EventType, Events::Id]),
            ("idx_events_handling", [Events::Handling, Events::Id]),
            ("idx_events_received_at", [Events::ReceivedAt, Events::Id]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Events::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Handlers::Table)
                    .col(string(Handlers::Id).primary_key())
                    .col(string_null(Handlers::SourceId))
                    .col(integer(Handlers::Position))
                    .col(string(Handlers::Kind))
                    .col(text(Handlers::EventTypes))
                    .col(text(Handlers::Config))
                    .col(big_integer(Handlers::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Handlers::Table, Handlers::SourceId)
                            .to(Sources::Table, Sources::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HandlerRuns::Table)
                    .col(pk_auto(HandlerRuns::Id).big_integer())
                    .col(big_integer(HandlerRuns::EventId))
                    // No foreign key: a run's record outlives the handler that made it.
                    .col(string(HandlerRuns::HandlerId))
                    .col(string(HandlerRuns::HandlerKind))
                    .col(integer(HandlerRuns::Position))
                    .col(string(HandlerRuns::Status))
                    .col(integer(HandlerRuns::Attempts))
                    .col(big_integer(HandlerRuns::NextAt))
                    .col(big_integer_null(HandlerRuns::LeasedUntil))
                    .col(text_null(HandlerRuns::Outcome))
                    .col(big_integer(HandlerRuns::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(HandlerRuns::Table, HandlerRuns::EventId)
                            .to(Events::Table, Events::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_handler_runs_due")
                    .table(HandlerRuns::Table)
                    .col(HandlerRuns::Status)
                    .col(HandlerRuns::NextAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_handler_runs_event")
                    .table(HandlerRuns::Table)
                    .col(HandlerRuns::EventId)
                    .to_owned(),
            )
            .await?;

        crate::on_sqlite(manager, SQLITE_FTS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::on_sqlite(
            manager,
            &[
                "DROP TRIGGER events_fts_delete",
                "DROP TRIGGER events_fts_insert",
                "DROP TABLE events_fts",
            ],
        )
        .await?;
        for table in [HandlerRuns::Table.into_iden(), Handlers::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for name in [
            "idx_events_event_type",
            "idx_events_handling",
            "idx_events_received_at",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Events::Table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .drop_column(Events::Handling)
                    .to_owned(),
            )
            .await
    }
}

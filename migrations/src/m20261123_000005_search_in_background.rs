//! Bodies are indexed for search by a background task in batches instead of by a trigger in
//! every insert, which halved ingest throughput. `search_progress` holds the last event id
//! indexed; event ids only grow, so everything above it is still to index.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::on_sqlite(
            manager,
            &[
                "DROP TRIGGER events_fts_insert",
                "CREATE TABLE search_progress (id INTEGER PRIMARY KEY CHECK (id = 1), \
                   last_event_id BIGINT NOT NULL)",
                "INSERT INTO search_progress (id, last_event_id) \
                   SELECT 1, coalesce(max(id), 0) FROM events",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::on_sqlite(
            manager,
            &[
                "DROP TABLE search_progress",
                "CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN \
                   INSERT INTO events_fts(rowid, body) VALUES (new.id, CAST(new.body AS TEXT)); END",
            ],
        )
        .await
    }
}

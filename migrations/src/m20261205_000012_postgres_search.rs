//! Full-text search on PostgreSQL: each event's words as a `tsvector`, written by the background
//! indexer (`storage::search`), with a GIN index to search them and a partial index on the
//! events still to index. SQLite keeps its FTS5 table (migrations 3, 5 and 7).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::on_postgres(
            manager,
            &[
                "ALTER TABLE events ADD COLUMN words tsvector",
                "CREATE INDEX idx_events_words ON events USING GIN (words)",
                "CREATE INDEX idx_events_unindexed ON events (id) WHERE words IS NULL",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::on_postgres(
            manager,
            &[
                "DROP INDEX idx_events_unindexed",
                "DROP INDEX idx_events_words",
                "ALTER TABLE events DROP COLUMN words",
            ],
        )
        .await
    }
}

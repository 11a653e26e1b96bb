//! The words in the search index, one row per occurrence, read-only: a search whose last word
//! is the start of a word looks up the few words it can finish as, then searches for those,
//! instead of asking FTS5 for a prefix, which gathers every matching event before it can say
//! which are newest.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm_migration::sea_orm::DatabaseBackend::Sqlite {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE VIRTUAL TABLE events_fts_words USING fts5vocab(events_fts, 'instance')",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm_migration::sea_orm::DatabaseBackend::Sqlite {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE events_fts_words")
            .await
            .map(|_| ())
    }
}

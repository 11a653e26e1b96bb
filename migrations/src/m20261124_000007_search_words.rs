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
        crate::on_sqlite(
            manager,
            &["CREATE VIRTUAL TABLE events_fts_words USING fts5vocab(events_fts, 'instance')"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::on_sqlite(manager, &["DROP TABLE events_fts_words"]).await
    }
}

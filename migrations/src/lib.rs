//! Every table and index hookhub uses, applied at startup by `Migrator::up`.
//!
//! Times are stored as `BIGINT` milliseconds since the Unix epoch: portable across SQLite and
//! PostgreSQL, cheap to index and compare.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_accounts;
mod m20261123_000002_receiving;
mod m20261123_000003_handlers_search;
mod m20261123_000004_sending;
mod m20261123_000005_search_in_background;
mod m20261123_000006_retention;
mod m20261124_000007_search_words;
mod m20261202_000008_write_probe;
mod m20261203_000009_milestones;
mod m20261204_000010_lease_holders;
mod m20261204_000011_leads;

pub struct Migrator;

/// Runs `statements` in order where the search index lives, SQLite's FTS5; other backends
/// have no search index and skip them.
async fn on_sqlite(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm_migration::sea_orm::DatabaseBackend::Sqlite {
        return Ok(());
    }
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_accounts::Migration),
            Box::new(m20261123_000002_receiving::Migration),
            Box::new(m20261123_000003_handlers_search::Migration),
            Box::new(m20261123_000004_sending::Migration),
            Box::new(m20261123_000005_search_in_background::Migration),
            Box::new(m20261123_000006_retention::Migration),
            Box::new(m20261124_000007_search_words::Migration),
            Box::new(m20261202_000008_write_probe::Migration),
            Box::new(m20261203_000009_milestones::Migration),
            Box::new(m20261204_000010_lease_holders::Migration),
            Box::new(m20261204_000011_leads::Migration),
        ]
    }
}

//! Every table and index hookhub uses, applied at startup by `Migrator::up`.
//!
//! Times are stored as `BIGINT` milliseconds since the Unix epoch: portable across SQLite and
//! PostgreSQL, cheap to index and compare.

pub use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

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
mod m20261205_000012_postgres_search;
mod m20261205_000013_leased_deliveries;
mod m20261205_000014_hubs;
mod m20261205_000015_login_failures;
mod m20261206_000016_attempt_bodies;
mod m20261206_000017_handler_switch;
mod m20261206_000018_event_type_examples;
mod m20261206_000019_health_windows;
mod m20261207_000020_notices;
mod m20261207_000021_payload_filters;
mod m20261207_000022_event_type_schemas;
mod m20261207_000023_retired_source_secrets;
mod m20261207_000024_consumers;
mod m20261207_000025_covering_delivery_queue;

pub struct Migrator;

/// Runs `statements` in order on SQLite only: what only it has, such as its FTS5 search index.
async fn on_sqlite(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    on(DatabaseBackend::Sqlite, manager, statements).await
}

/// Runs `statements` in order on PostgreSQL only: what only it has, such as `tsvector`.
async fn on_postgres(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    on(DatabaseBackend::Postgres, manager, statements).await
}

async fn on(
    backend: DatabaseBackend,
    manager: &SchemaManager<'_>,
    statements: &[&str],
) -> Result<(), DbErr> {
    if manager.get_database_backend() != backend {
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
            Box::new(m20261205_000012_postgres_search::Migration),
            Box::new(m20261205_000013_leased_deliveries::Migration),
            Box::new(m20261205_000014_hubs::Migration),
            Box::new(m20261205_000015_login_failures::Migration),
            Box::new(m20261206_000016_attempt_bodies::Migration),
            Box::new(m20261206_000017_handler_switch::Migration),
            Box::new(m20261206_000018_event_type_examples::Migration),
            Box::new(m20261206_000019_health_windows::Migration),
            Box::new(m20261207_000020_notices::Migration),
            Box::new(m20261207_000021_payload_filters::Migration),
            Box::new(m20261207_000022_event_type_schemas::Migration),
            Box::new(m20261207_000023_retired_source_secrets::Migration),
            Box::new(m20261207_000024_consumers::Migration),
            Box::new(m20261207_000025_covering_delivery_queue::Migration),
        ]
    }
}

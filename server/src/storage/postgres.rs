//! PostgreSQL: one server that any number of hubs share. Reads and writes use one pool, and each
//! write is a transaction of its own on a pooled connection, so this hub's writes and other
//! hubs' run side by side: the rules rest on row locks, `SKIP LOCKED` claims and unique keys,
//! never on a write running alone.

use std::sync::Arc;
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, SqlxPostgresConnector, TransactionError,
    TransactionTrait,
};

use super::WriteFn;
use super::health::{Health, storage_failure};
use super::writer::{Connector, Writer};

/// Connections this hub keeps to the server. Writes are short transactions, so a few carry a
/// hub's whole load; several hubs together must stay under the server's `max_connections`.
const POOL: u32 = 10;
/// How long a request waits for a connection before it is told the database is unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// The advisory lock every hub takes to migrate, so that of several starting at once one
/// applies the migrations and the others wait for it, then find nothing left to do.
const MIGRATION_LOCK: i64 = 0x686f_6f6b_6875_6201;

#[derive(Clone)]
pub(super) struct Postgres {
    pool: DatabaseConnection,
    /// Commits the hot path's writes (webhooks stored) in batches; see [`Postgres::write_batched`].
    batched: Writer,
    health: Arc<Health>,
}

impl Postgres {
    /// Connects to `url`, applies the migrations under the migration lock and opens the pool.
    pub async fn open(url: &str) -> Result<Self, DbErr> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|err| DbErr::Custom(format!("not a PostgreSQL URL: {err}")))?;
        let options = options.application_name("hookhub");
        migrate(options.clone()).await?;
        let pool = PgPoolOptions::new()
            .max_connections(POOL)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(connect_err)?;
        let pool = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
        let health = Arc::<Health>::default();
        Ok(Self {
            batched: Writer::start(pool.clone(), Connector::Postgres, Arc::clone(&health)),
            pool,
            health,
        })
    }

    pub fn pool(&self) -> &DatabaseConnection {
        &self.pool
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Runs `f` in a transaction of its own; see [`super::Db::write`].
    pub async fn write<T, F>(&self, f: F) -> Result<T, DbErr>
    where
        T: Send + 'static,
        F: WriteFn<T>,
    {
        let outcome = match self.pool.transaction::<F, T, DbErr>(f).await {
            Ok(value) => Ok(value),
            Err(TransactionError::Connection(err) | TransactionError::Transaction(err)) => Err(err),
        };
        match &outcome {
            Ok(_) => self.health.recover(),
            Err(err) => {
                if let Some(reason) = storage_failure(err) {
                    self.health.fail(reason);
                }
            }
        }
        outcome
    }

    /// The one batching writer: it commits a batch as one transaction, each write in a
    /// savepoint of its own, for the writes of the
    /// hot path that take no locks another hub's batch could wait on in the other order (so
    /// batches of several hubs cannot deadlock). Everything else goes through [`Self::write`].
    pub(super) fn batched(&self) -> &Writer {
        &self.batched
    }

    /// Checks that the server answers; a failure to reach it counts as writes failing.
    pub async fn ping(&self) -> Result<(), DbErr> {
        let answer = self.pool.execute_unprepared("SELECT 1").await.map(|_| ());
        if let Err(err) = &answer
            && let Some(reason) = storage_failure(err)
        {
            self.health.fail(reason);
        }
        answer
    }

    /// The database's size on the server.
    pub async fn size_bytes(&self) -> Result<u64, DbErr> {
        let row = self
            .pool
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT pg_database_size(current_database()) AS bytes",
            ))
            .await?;
        let bytes: i64 = row.map_or(Ok(0), |row| row.try_get("", "bytes"))?;
        Ok(bytes.max(0) as u64)
    }
}

/// Applies the migrations on a connection of its own that holds the migration lock throughout
/// (an advisory lock belongs to the connection that took it).
async fn migrate(options: PgConnectOptions) -> Result<(), DbErr> {
    let one = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(connect_err)?;
    let conn = SqlxPostgresConnector::from_sqlx_postgres_pool(one);
    conn.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .await?;
    let migrated = Migrator::up(&conn, None).await;
    // Closing the connection releases the lock too, even when the unlock is not reached.
    let unlocked = conn
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
        .await;
    conn.close().await?;
    migrated?;
    unlocked.map(|_| ())
}

fn connect_err(err: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Custom(format!("connecting to PostgreSQL: {err}"))
}

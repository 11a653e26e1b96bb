//! The two work queues, deliveries and handler runs, lease their rows one way. A row is due
//! when it is pending, its time has come and no live lease holds it; a claim leases it until a
//! time in the name of the hub claiming it (its node id), and a worker that dies leaves a lease
//! that lapses, or that the same hub's next start releases. Claims lock the rows they read with
//! `FOR UPDATE SKIP LOCKED` where the engine has row locks, so two hubs on one database never
//! claim the same row, and a hub that starts never takes back another live hub's leases.

use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, UpdateMany, Value,
};

use super::shapes::one_of;

/// A table used as a queue: its columns, and the status its waiting rows have.
pub(super) struct Queue<E: EntityTrait> {
    pub id: E::Column,
    pub status: E::Column,
    pub pending: Value,
    /// When a row is due.
    pub due_at: E::Column,
    pub leased_until: E::Column,
    pub leased_by: E::Column,
}

impl<E: EntityTrait> Queue<E> {
    /// Up to `limit` rows due at `now`, the longest due first, locked where the engine can.
    /// Callers may narrow it further.
    pub fn due(&self, now: i64, limit: u64) -> Select<E> {
        E::find()
            .filter(self.status.eq(self.pending.clone()))
            .filter(self.due_at.lte(now))
            .filter(
                Condition::any()
                    .add(self.leased_until.is_null())
                    .add(self.leased_until.lt(now)),
            )
            .order_by_asc(self.due_at)
            .order_by_asc(self.id)
            .limit(limit)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
    }

    /// Leases the rows `ids` to the hub `node` until `until`; callers may set more columns on
    /// the way.
    pub fn lease(
        &self,
        db: &impl ConnectionTrait,
        ids: impl IntoIterator<Item = i64>,
        node: &str,
        until: i64,
    ) -> UpdateMany<E> {
        E::update_many()
            .col_expr(self.leased_until, Expr::value(until))
            .col_expr(self.leased_by, Expr::value(node))
            .filter(one_of(db, self.id, ids))
    }

    /// Gives the rows `ids` back to the queue, due as they were.
    pub async fn release(
        &self,
        txn: &impl ConnectionTrait,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<(), DbErr> {
        self.unlease(E::update_many())
            .filter(one_of(txn, self.id, ids))
            .exec(txn)
            .await
            .map(|_| ())
    }

    /// Releases the leases the hub `node` holds on waiting rows, and those no hub is named on
    /// (taken before leases named their holder); how many. Only for the start of `node`, when
    /// nothing it claimed can be running; other hubs' leases stay until they lapse.
    pub async fn release_held_by(
        &self,
        txn: &impl ConnectionTrait,
        node: &str,
    ) -> Result<u64, DbErr> {
        let released = self
            .unlease(E::update_many())
            .filter(self.status.eq(self.pending.clone()))
            .filter(self.leased_until.is_not_null())
            .filter(
                Condition::any()
                    .add(self.leased_by.eq(node))
                    .add(self.leased_by.is_null()),
            )
            .exec(txn)
            .await?;
        Ok(released.rows_affected)
    }

    /// `update` with the lease taken off: no time, no holder.
    pub fn unlease(&self, update: UpdateMany<E>) -> UpdateMany<E> {
        update
            .col_expr(self.leased_until, Expr::value(Option::<i64>::None))
            .col_expr(self.leased_by, Expr::value(Option::<String>::None))
    }
}

/// Waits, inside the transaction `txn`, until no other hub's transaction holds the turn
/// `key`, and holds it until `txn` ends: for claims that count what is leased before leasing
/// more, which two transactions running side by side would both count short. Only PostgreSQL
/// needs it; SQLite runs one write at a time.
pub(super) async fn take_turn(txn: &impl ConnectionTrait, key: i64) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({key})"))
            .await?;
    }
    Ok(())
}

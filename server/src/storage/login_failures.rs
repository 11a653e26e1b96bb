//! The login throttle's counts (see `auth::throttle`), kept where every hub sees them.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::Db;
use super::entities::login_failure::{self, Entity as LoginFailures};

/// Counts an attempt against every one of `keys` at `now` (Unix milliseconds), unless one of
/// them is locked out: then nothing is counted and the answer is how long the lockout still
/// runs, in milliseconds. A count idle for `idle_ms` starts again from zero; `lockout` says
/// how long the n-th failure in a row locks its key, if at all.
///
/// The keys' rows are locked, in key order, before they are read, so attempts at once on any
/// hubs are counted one after the other and cannot all slip past.
pub async fn count_attempt(
    db: &Db,
    mut keys: Vec<String>,
    now: i64,
    idle_ms: i64,
    lockout: impl Fn(u32) -> Option<i64> + Send + 'static,
) -> Result<Result<(), i64>, DbErr> {
    keys.sort();
    keys.dedup();
    db.write(move |txn| {
        Box::pin(async move {
            LoginFailures::delete_many()
                .filter(login_failure::Column::LastAttempt.lt(now - idle_ms))
                .exec(txn)
                .await?;
            let fresh = keys.iter().map(|key| login_failure::ActiveModel {
                key: Set(key.clone()),
                failures: Set(0),
                last_attempt: Set(now),
                locked_until: Set(None),
            });
            LoginFailures::insert_many(fresh)
                .on_conflict(
                    OnConflict::column(login_failure::Column::Key)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
            let rows = LoginFailures::find()
                .filter(login_failure::Column::Key.is_in(keys))
                .order_by_asc(login_failure::Column::Key)
                .lock_exclusive()
                .all(txn)
                .await?;
            let wait = rows
                .iter()
                .filter_map(|row| row.locked_until)
                .filter(|until| *until > now)
                .map(|until| until - now)
                .max();
            if let Some(wait) = wait {
                return Ok(Err(wait));
            }
            for row in rows {
                let failures = if now - row.last_attempt >= idle_ms {
                    1
                } else {
                    row.failures.saturating_add(1)
                };
                let mut row = row.into_active_model();
                row.failures = Set(failures);
                row.last_attempt = Set(now);
                row.locked_until = Set(lockout(failures.max(0) as u32).map(|ms| now + ms));
                row.update(txn).await?;
            }
            Ok(Ok(()))
        })
    })
    .await
}

/// Clears the counts of `keys`, after a login succeeded.
pub async fn clear(db: &Db, keys: Vec<String>) -> Result<(), DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            LoginFailures::delete_many()
                .filter(login_failure::Column::Key.is_in(keys))
                .exec(txn)
                .await
                .map(drop)
        })
    })
    .await
}

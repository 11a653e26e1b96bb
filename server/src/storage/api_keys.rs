//! API keys for the REST API. Only a SHA-256 of each key is stored: keys are long random
//! strings, so a fast hash is enough and lookups stay one indexed read.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use super::changes::Change;
use super::entities::api_key::{self, Entity as ApiKeys};
use super::{Db, now_millis};
pub use api_key::Model as ApiKey;

/// `last_used_at` is written at most this often per key, so busy keys cost no writes.
const TOUCH_EVERY_MS: i64 = 60_000;

pub async fn create(
    db: &Db,
    name: String,
    prefix: String,
    key_hash: String,
) -> Result<ApiKey, sea_orm::DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            api_key::ActiveModel {
                name: Set(name),
                prefix: Set(prefix),
                key_hash: Set(key_hash),
                created_at: Set(now_millis()),
                ..Default::default()
            }
            .insert(txn)
            .await
        })
    })
    .await
}

pub async fn list(db: &Db) -> Result<Vec<ApiKey>, sea_orm::DbErr> {
    ApiKeys::find()
        .order_by_desc(api_key::Column::CreatedAt)
        .order_by_desc(api_key::Column::Id)
        .all(db.read())
        .await
}

pub async fn count_active(db: &Db) -> Result<u64, sea_orm::DbErr> {
    ApiKeys::find()
        .filter(api_key::Column::RevokedAt.is_null())
        .count(db.read())
        .await
}

/// The key with this hash, unless it was revoked; kept in memory (see [`super::cache`]), as
/// every API request reads it.
pub async fn find_active(db: &Db, key_hash: &str) -> Result<Option<ApiKey>, sea_orm::DbErr> {
    let read = ApiKeys::find()
        .filter(api_key::Column::KeyHash.eq(key_hash))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db.read());
    db.caches.api_keys.get_or_read(key_hash, read).await
}

/// Records a use of `key`, unless one was recorded within the last minute.
pub async fn touch(db: &Db, key: &ApiKey) -> Result<(), sea_orm::DbErr> {
    let now = now_millis();
    if key.last_used_at.is_some_and(|t| now - t < TOUCH_EVERY_MS) {
        return Ok(());
    }
    let id = key.id;
    let touched = db
        .write(move |txn| {
            Box::pin(async move {
                ApiKeys::update_many()
                    .col_expr(api_key::Column::LastUsedAt, now.into())
                    .filter(api_key::Column::Id.eq(id))
                    .exec(txn)
                    .await
                    .map(|_| ())
            })
        })
        .await;
    // This hub's next request reads the new time; another hub's copy is older, so it writes
    // once itself and then reads it.
    db.caches.api_keys.forget(&key.key_hash);
    touched
}

/// Revokes a key; false when there was no such key. It stops working on this hub at once and
/// on the others as soon as they hear of it (see [`super::changes`]).
pub async fn revoke(db: &Db, id: i64) -> Result<bool, sea_orm::DbErr> {
    let revoked = db
        .write(move |txn| {
            Box::pin(async move {
                let exists = ApiKeys::find_by_id(id).one(txn).await?.is_some();
                ApiKeys::update_many()
                    .col_expr(api_key::Column::RevokedAt, now_millis().into())
                    .filter(api_key::Column::Id.eq(id))
                    .filter(api_key::Column::RevokedAt.is_null())
                    .exec(txn)
                    .await?;
                Ok(exists)
            })
        })
        .await;
    db.changed(Change::ApiKeys);
    revoked
}

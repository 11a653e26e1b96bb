//! Sources: the receiver endpoints, `POST /hooks/{id}`.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbErr, EntityTrait, QueryOrder};

use super::changes::Change;
use super::entities::source::{self, Entity as Sources};
use super::{Db, now_millis};
use crate::ids::SourceId;
pub use source::Model as Source;

#[derive(Debug, Clone)]
pub struct NewSource {
    pub id: SourceId,
    pub name: String,
    pub provider: String,
    pub settings: String,
    pub secret: String,
}

pub async fn create(db: &Db, new: NewSource) -> Result<Source, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let now = now_millis();
            source::ActiveModel {
                id: Set(new.id),
                name: Set(new.name),
                provider: Set(new.provider),
                settings: Set(new.settings),
                secret: Set(new.secret),
                previous_secret: Set(None),
                enabled: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                retired_secret: Set(None),
                retired_at: Set(None),
            }
            .insert(txn)
            .await
        })
    })
    .await
}

/// Drops the source from this hub's cache and tells the other hubs to drop it from theirs.
fn forget(db: &Db, id: &str) {
    db.changed(Change::Source(id.to_owned()));
}

/// The source with this id, kept in memory (see [`super::cache`]): every webhook reads its
/// source.
pub async fn find(db: &Db, id: &str) -> Result<Option<Source>, DbErr> {
    let read = Sources::find_by_id(id).one(db.read());
    db.caches.sources.get_or_read(id, read).await
}

pub async fn list(db: &Db) -> Result<Vec<Source>, DbErr> {
    Sources::find()
        .order_by_asc(source::Column::Name)
        .all(db.read())
        .await
}

/// What an edit changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SourceChange {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub settings: Option<String>,
}

/// Applies `change`; `None` when there is no such source.
pub async fn update(db: &Db, id: SourceId, change: SourceChange) -> Result<Option<Source>, DbErr> {
    modify(db, id, move |active| {
        if let Some(name) = change.name {
            active.name = Set(name);
        }
        if let Some(enabled) = change.enabled {
            active.enabled = Set(enabled);
        }
        if let Some(settings) = change.settings {
            active.settings = Set(settings);
        }
    })
    .await
}

/// Starts a rotation: `secret` becomes current and the current one stays accepted as the previous
/// one until [`drop_previous_secret`].
/// A previous secret still accepted from an earlier rotation is retired.
pub async fn rotate_secret(db: &Db, id: SourceId, secret: String) -> Result<Option<Source>, DbErr> {
    modify(db, id, move |active| {
        retire_previous(active);
        active.previous_secret = Set(Some(active.secret.as_ref().clone()));
        active.secret = Set(secret);
    })
    .await
}

/// Ends a rotation: the previous secret is no longer accepted, and is kept as the retired one.
pub async fn drop_previous_secret(db: &Db, id: SourceId) -> Result<Option<Source>, DbErr> {
    modify(db, id, |active| {
        retire_previous(active);
        active.previous_secret = Set(None);
    })
    .await
}

fn retire_previous(active: &mut source::ActiveModel) {
    if let Some(previous) = active.previous_secret.as_ref().clone() {
        active.retired_secret = Set(Some(previous));
        active.retired_at = Set(Some(now_millis()));
    }
}

async fn modify(
    db: &Db,
    id: SourceId,
    change: impl FnOnce(&mut source::ActiveModel) + Send + 'static,
) -> Result<Option<Source>, DbErr> {
    let cache = db.clone();
    let forget_id = id.clone();
    let changed = db
        .write(move |txn| {
            Box::pin(async move {
                let Some(source) = Sources::find_by_id(id).one(txn).await? else {
                    return Ok(None);
                };
                let mut active: source::ActiveModel = source.into();
                change(&mut active);
                active.updated_at = Set(now_millis());
                active.update(txn).await.map(Some)
            })
        })
        .await;
    forget(&cache, &forget_id);
    changed
}

/// Deletes the source with its events, refused requests and handlers. True when it existed.
pub async fn delete(db: &Db, id: &str) -> Result<bool, DbErr> {
    let deleted = delete_row(db, id.into()).await;
    forget(db, id);
    deleted
}

async fn delete_row(db: &Db, id: SourceId) -> Result<bool, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let deleted = Sources::delete_by_id(id).exec(txn).await?;
            Ok(deleted.rows_affected > 0)
        })
    })
    .await
}

//! Sources: the receiver endpoints, `POST /hooks/{id}`.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbErr, EntityTrait, QueryOrder};

use super::entities::source::{self, Entity as Sources};
use super::{Db, now_millis};
pub use source::Model as Source;

#[derive(Debug, Clone)]
pub struct NewSource {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub settings: String,
    pub secret: String,
}

pub async fn create(db: &Db, new: NewSource) -> Result<Source, DbErr> {
    db.writer()
        .write(move |txn| {
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
                }
                .insert(txn)
                .await
            })
        })
        .await
}

pub async fn find(db: &Db, id: &str) -> Result<Option<Source>, DbErr> {
    Sources::find_by_id(id).one(db.read()).await
}

pub async fn list(db: &Db) -> Result<Vec<Source>, DbErr> {
    Sources::find()
        .order_by_asc(source::Column::Name)
        .all(db.read())
        .await
}

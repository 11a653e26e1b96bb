//! The event-type catalog: the names this hub publishes, which subscriptions filter on.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DbErr, EntityTrait, IntoActiveModel, QueryOrder,
};

use super::entities::event_type::{self, Entity as EventTypes};
use super::{Db, insert_new, now_millis};
pub use event_type::Model as EventType;

/// `Ok(None)` when the name is taken.
pub async fn create(
    db: &Db,
    name: String,
    description: String,
) -> Result<Option<EventType>, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let created = EventType {
                name,
                description,
                deprecated: false,
                created_at: now_millis(),
            };
            let row = created.clone().into_active_model();
            Ok(insert_new(txn, row, [event_type::Column::Name])
                .await?
                .map(|_| created))
        })
    })
    .await
}

pub async fn list(db: &Db) -> Result<Vec<EventType>, DbErr> {
    EventTypes::find()
        .order_by_asc(event_type::Column::Name)
        .all(db.read())
        .await
}

pub async fn find(db: &Db, name: &str) -> Result<Option<EventType>, DbErr> {
    EventTypes::find_by_id(name).one(db.read()).await
}

/// Changes the description and deprecation; `None` leaves a field as it is. `Ok(None)` when
/// there is no such type.
pub async fn update(
    db: &Db,
    name: String,
    description: Option<String>,
    deprecated: Option<bool>,
) -> Result<Option<EventType>, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let Some(found) = EventTypes::find_by_id(name).one(txn).await? else {
                return Ok(None);
            };
            let mut active: event_type::ActiveModel = found.into();
            if let Some(description) = description {
                active.description = Set(description);
            }
            if let Some(deprecated) = deprecated {
                active.deprecated = Set(deprecated);
            }
            active.update(txn).await.map(Some)
        })
    })
    .await
}

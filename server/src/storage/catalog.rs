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
    example: Option<String>,
) -> Result<Option<EventType>, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let created = EventType {
                name,
                description,
                deprecated: false,
                created_at: now_millis(),
                example,
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

/// What can change of an event type; `None` leaves a field as it is (`Some(None)` removes the
/// example).
#[derive(Debug, Clone, Default)]
pub struct EventTypeChange {
    pub description: Option<String>,
    pub deprecated: Option<bool>,
    pub example: Option<Option<String>>,
}

/// Changes an event type. `Ok(None)` when there is no such type.
pub async fn update(
    db: &Db,
    name: String,
    change: EventTypeChange,
) -> Result<Option<EventType>, DbErr> {
    let EventTypeChange {
        description,
        deprecated,
        example,
    } = change;
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
            if let Some(example) = example {
                active.example = Set(example);
            }
            active.update(txn).await.map(Some)
        })
    })
    .await
}

//! The event-type catalog: the names this hub publishes, which subscriptions filter on.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DbErr, EntityTrait, IntoActiveModel, QueryOrder,
};

use super::changes::Change;
use super::entities::event_type::{self, Entity as EventTypes};
use super::{Db, insert_new, now_millis};
pub use event_type::Model as EventType;

/// Adds `new`, created now. `Ok(None)` when the name is taken.
pub async fn create(db: &Db, new: EventType) -> Result<Option<EventType>, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let created = EventType {
                created_at: now_millis(),
                ..new
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

/// The event type of this name, kept in memory (see [`super::cache`]): every publish reads its
/// type.
pub async fn find(db: &Db, name: &str) -> Result<Option<EventType>, DbErr> {
    let read = EventTypes::find_by_id(name).one(db.read());
    db.caches.event_types.get_or_read(name, read).await
}

/// What can change of an event type; `None` leaves a field as it is (`Some(None)` removes the
/// example).
#[derive(Debug, Clone, Default)]
pub struct EventTypeChange {
    pub description: Option<String>,
    pub deprecated: Option<bool>,
    pub example: Option<Option<String>>,
    /// `Some(None)` removes the schema.
    pub schema: Option<Option<String>>,
    pub schema_mode: Option<String>,
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
        schema,
        schema_mode,
    } = change;
    let forget = Change::EventType(name.clone());
    let updated = db
        .write(move |txn| {
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
                if let Some(schema) = schema {
                    active.schema = Set(schema);
                }
                if let Some(schema_mode) = schema_mode {
                    active.schema_mode = Set(schema_mode);
                }
                active.update(txn).await.map(Some)
            })
        })
        .await;
    db.changed(forget);
    updated
}

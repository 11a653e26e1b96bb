//! Notices about subscriptions whose deliveries keep failing (`crate::sending::notices` decides
//! when): each committed with the message that publishes it, once per streak and stage.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::event_type;
use super::entities::notice::{self, Entity as Notices};
use super::messages::{NewMessage, Recipients, publish_in};
use super::{Db, insert_new, now_millis};
use crate::ids::SubscriptionId;
pub use notice::Model as Notice;

#[derive(Debug, Clone)]
pub struct NewNotice {
    pub subscription_id: SubscriptionId,
    pub stage: &'static str,
    pub failing_since: i64,
    pub message: String,
}

/// Records the notice and publishes `message` to `to`, in one write, unless this streak already
/// has a notice at this stage (another hub's, or from before a restart); whether it was new.
pub async fn record(
    db: &Db,
    notice: NewNotice,
    message: NewMessage,
    to: Recipients,
) -> Result<bool, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let row = notice::ActiveModel {
                subscription_id: Set(notice.subscription_id),
                stage: Set(notice.stage.to_owned()),
                failing_since: Set(notice.failing_since),
                message: Set(notice.message),
                created_at: Set(now_millis()),
                ..Default::default()
            };
            let key = [
                notice::Column::SubscriptionId,
                notice::Column::FailingSince,
                notice::Column::Stage,
            ];
            if insert_new(txn, row, key).await?.is_none() {
                return Ok(false);
            }
            publish_in(txn, message, to).await?;
            Ok(true)
        })
    })
    .await
}

/// The newest notices since a time, of one subscription or all, newest first.
pub async fn recent(
    db: &Db,
    subscription_id: Option<&str>,
    since: i64,
    limit: u64,
) -> Result<Vec<Notice>, DbErr> {
    let mut query = Notices::find().filter(notice::Column::CreatedAt.gte(since));
    if let Some(id) = subscription_id {
        query = query.filter(notice::Column::SubscriptionId.eq(id));
    }
    query
        .order_by_desc(notice::Column::Id)
        .limit(limit)
        .all(db.read())
        .await
}

/// Adds the event types hookhub publishes itself to the catalog, where they are missing.
pub async fn add_event_types(
    db: &Db,
    types: &[(&'static str, &'static str, &'static str)],
) -> Result<(), DbErr> {
    let names: Vec<&str> = types.iter().map(|(name, _, _)| *name).collect();
    let present = event_type::Entity::find()
        .filter(event_type::Column::Name.is_in(names))
        .all(db.read())
        .await?;
    if present.len() == types.len() {
        return Ok(());
    }
    let types = types.to_vec();
    db.write(move |txn| {
        Box::pin(async move {
            let now = now_millis();
            for (name, description, example) in types {
                let row = event_type::ActiveModel {
                    name: Set(name.to_owned()),
                    description: Set(description.to_owned()),
                    deprecated: Set(false),
                    created_at: Set(now),
                    example: Set(Some(example.to_owned())),
                    schema: Set(None),
                    schema_mode: Set("enforce".to_owned()),
                };
                insert_new(txn, row, [event_type::Column::Name]).await?;
            }
            Ok(())
        })
    })
    .await
}

//! Subscriptions: where messages are sent, with their filters, secrets and state.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::{Map, Value};

use super::columns::JsonText;
use super::entities::subscription::{self, Entity as Subscriptions};
use super::states::{SigningMode, SubscriptionState};
use super::{Db, now_millis};
use crate::ids::SubscriptionId;
pub use subscription::ActiveModel as SubscriptionChange;
pub use subscription::Model as Subscription;

#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub id: SubscriptionId,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub payload_filter: Option<String>,
    pub secret: String,
    pub headers: BTreeMap<String, String>,
    pub properties: Map<String, Value>,
    pub mode: SigningMode,
    pub consumer_id: Option<String>,
    pub all_consumers: bool,
}

pub async fn create(db: &Db, new: NewSubscription) -> Result<Subscription, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let now = now_millis();
            subscription::ActiveModel {
                id: Set(new.id),
                url: Set(new.url),
                description: Set(new.description),
                event_types: Set(JsonText(new.event_types)),
                payload_filter: Set(new.payload_filter),
                secret: Set(new.secret),
                previous_secret: Set(None),
                previous_secret_until: Set(None),
                headers: Set(JsonText(new.headers)),
                properties: Set(JsonText(new.properties)),
                mode: Set(new.mode),
                state: Set(SubscriptionState::Active),
                disabled_reason: Set(None),
                disabled_at: Set(None),
                failing_since: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                consumer_id: Set(new.consumer_id),
                all_consumers: Set(new.all_consumers),
            }
            .insert(txn)
            .await
        })
    })
    .await
}

pub async fn find(db: &Db, id: &str) -> Result<Option<Subscription>, DbErr> {
    Subscriptions::find_by_id(id).one(db.read()).await
}

pub async fn list(db: &Db) -> Result<Vec<Subscription>, DbErr> {
    Subscriptions::find()
        .order_by_asc(subscription::Column::CreatedAt)
        .all(db.read())
        .await
}

/// The subscriptions of one consumer, oldest first.
pub async fn of_consumer(db: &Db, consumer_id: &str) -> Result<Vec<Subscription>, DbErr> {
    Subscriptions::find()
        .filter(subscription::Column::ConsumerId.eq(consumer_id))
        .order_by_asc(subscription::Column::CreatedAt)
        .all(db.read())
        .await
}

/// How many subscriptions each consumer has (consumers with none left out).
pub async fn count_by_consumer(db: &Db) -> Result<HashMap<String, u64>, DbErr> {
    let counts: Vec<(String, i64)> = Subscriptions::find()
        .select_only()
        .column(subscription::Column::ConsumerId)
        .column_as(subscription::Column::Id.count(), "n")
        .filter(subscription::Column::ConsumerId.is_not_null())
        .group_by(subscription::Column::ConsumerId)
        .into_tuple()
        .all(db.read())
        .await?;
    Ok(counts
        .into_iter()
        .map(|(consumer, n)| (consumer, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// Applies `change` to the stored subscription in one write; `Ok(None)` when there is none.
pub async fn modify(
    db: &Db,
    id: String,
    change: impl FnOnce(&mut SubscriptionChange) + Send + 'static,
) -> Result<Option<Subscription>, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let Some(found) = Subscriptions::find_by_id(id).one(txn).await? else {
                return Ok(None);
            };
            let mut active: SubscriptionChange = found.into();
            change(&mut active);
            active.updated_at = Set(now_millis());
            active.update(txn).await.map(Some)
        })
    })
    .await
}

/// Deletes the subscription with its deliveries and their attempts. True when it existed.
pub async fn delete(db: &Db, id: String) -> Result<bool, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let deleted = Subscriptions::delete_by_id(id).exec(txn).await?;
            Ok(deleted.rows_affected > 0)
        })
    })
    .await
}

/// A subscription to every event type at a made-up address, for storage tests.
#[cfg(test)]
pub(crate) fn sample(id: SubscriptionId) -> NewSubscription {
    NewSubscription {
        id,
        url: "https://example.com/hook".into(),
        description: String::new(),
        event_types: vec!["*".into()],
        payload_filter: None,
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        headers: BTreeMap::new(),
        properties: Map::new(),
        mode: SigningMode::Standard,
        consumer_id: None,
        all_consumers: false,
    }
}

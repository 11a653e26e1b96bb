//! Messages: what was published, committed in one transaction with a delivery for each
//! subscription it is for (the queue in [`super::deliveries`]).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use futures::future::BoxFuture;
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QuerySelect, QueryTrait,
};

use super::batches::Batched;
use super::columns::JsonText;
use super::entities::delivery;
use super::entities::message::{self, Entity as Messages};
use super::entities::subscription::{self, Entity as Subscriptions};
use super::shapes::{insert_all, one_of};
use super::states::{DeliveryStatus, SubscriptionState};
use super::{Db, now_millis};
use crate::ids::{MessageId, SubscriptionId};
pub use message::Model as Message;

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: MessageId,
    pub event_type: String,
    pub payload: String,
    pub idempotency_key: Option<String>,
    /// Where the payload does not match its type's schema (`warn` mode), as JSON.
    pub schema_errors: Option<String>,
    /// The consumer it is addressed to, if any.
    pub consumer_id: Option<String>,
}

/// What a subscription asks for, as publishing reads it.
pub struct Wants<'a> {
    /// Names and patterns.
    pub event_types: &'a [String],
    pub payload_filter: Option<&'a str>,
}

/// Whether a subscription wants the message being published (the sending rules decide).
pub type Select = Arc<dyn Fn(Wants<'_>) -> bool + Send + Sync>;

/// Who a message goes to. Of the subscriptions it is addressed to: a message addressed to a
/// consumer, to theirs and to those of no consumer that take every consumer's; one addressed
/// to nobody, to those of no consumer. So a consumer never receives what was not meant for
/// them. (The index on the subscriptions' consumer keeps this cheap with many consumers.)
pub enum Recipients {
    /// Every subscription it is addressed to that wants it.
    Matching(Select),
    /// Only this subscription, whatever it wants (a test event).
    Only(SubscriptionId),
    /// As `Matching`, but never this subscription (a notice about it).
    MatchingExcept(Select, SubscriptionId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    New {
        message_id: MessageId,
        deliveries: u64,
    },
    /// The idempotency key was used before: the first message, untouched.
    Existing { message_id: MessageId },
}

/// A message and who it goes to, published together with the others that arrive meanwhile
/// (see [`super::batches`]).
pub(super) struct Outgoing {
    new: NewMessage,
    to: Recipients,
}

impl Batched for Outgoing {
    type Written = Published;
    /// 7 values a message row.
    const MAX: usize = 256;
    /// The messages, then their deliveries.
    const ONE_STATEMENT: bool = false;

    fn write_all<'c>(
        txn: &'c DatabaseTransaction,
        items: &'c [Arc<Self>],
    ) -> BoxFuture<'c, Result<Vec<Published>, DbErr>> {
        Box::pin(publish_all(txn, items))
    }
}

/// Commits the message and its deliveries in one transaction. A disabled subscription's
/// delivery is recorded as failed at once, so "re-enable and redeliver" can pick it up.
pub async fn publish(db: &Db, new: NewMessage, to: Recipients) -> Result<Published, DbErr> {
    db.publications.write(Outgoing { new, to }).await
}

/// [`publish`] inside an open transaction, for callers that commit more with it.
pub(crate) async fn publish_in<C: ConnectionTrait>(
    txn: &C,
    new: NewMessage,
    to: Recipients,
) -> Result<Published, DbErr> {
    let mut published = publish_all(txn, &[Arc::new(Outgoing { new, to })]).await?;
    published
        .pop()
        .ok_or_else(|| DbErr::Custom("publishing answered nothing".into()))
}

/// Inserts the messages, then the deliveries of the new ones, and says, in their order, what
/// became of each: one statement per table whatever the number of messages.
async fn publish_all<C: ConnectionTrait>(
    txn: &C,
    items: &[Arc<Outgoing>],
) -> Result<Vec<Published>, DbErr> {
    let now = now_millis();
    let inserted = insert_messages(txn, items, now).await?;
    let candidates = candidates(txn, items).await?;
    let mut published = Vec::with_capacity(items.len());
    let mut rows = Vec::new();
    for item in items {
        let new = &item.new;
        if !inserted.contains(&new.id) {
            let first = Messages::find()
                .filter(message::Column::IdempotencyKey.eq(new.idempotency_key.clone()))
                .one(txn)
                .await?
                .ok_or_else(|| DbErr::RecordNotFound("the first message of a key".into()))?;
            published.push(Published::Existing {
                message_id: first.id,
            });
            continue;
        }
        let before = rows.len();
        rows.extend(
            candidates
                .iter()
                .filter(|candidate| candidate.wants(item))
                .map(|candidate| {
                    let disabled = candidate.state == SubscriptionState::Disabled;
                    delivery::ActiveModel {
                        message_id: Set(new.id.clone()),
                        subscription_id: Set(candidate.id.clone()),
                        event_type: Set(new.event_type.clone()),
                        status: Set(if disabled {
                            DeliveryStatus::Failed
                        } else {
                            DeliveryStatus::Pending
                        }),
                        attempts: Set(0),
                        next_attempt_at: Set(now),
                        leased_until: Set(None),
                        last_status: Set(None),
                        last_error: Set(
                            disabled.then(|| "the subscription is disabled".to_owned())
                        ),
                        created_at: Set(now),
                        updated_at: Set(now),
                        ..Default::default()
                    }
                }),
        );
        published.push(Published::New {
            message_id: new.id.clone(),
            deliveries: (rows.len() - before) as u64,
        });
    }
    insert_all(txn, rows).await?;
    Ok(published)
}

/// Inserts the messages whose idempotency key (if any) is new, and answers their ids.
async fn insert_messages<C: ConnectionTrait>(
    txn: &C,
    items: &[Arc<Outgoing>],
    now: i64,
) -> Result<HashSet<MessageId>, DbErr> {
    let rows = items.iter().map(|item| {
        let new = &item.new;
        message::ActiveModel {
            id: Set(new.id.clone()),
            event_type: Set(new.event_type.clone()),
            payload: Set(new.payload.clone()),
            idempotency_key: Set(new.idempotency_key.clone()),
            created_at: Set(now),
            schema_errors: Set(new.schema_errors.clone()),
            consumer_id: Set(new.consumer_id.clone()),
        }
    });
    let mut insert = Messages::insert_many(rows).on_conflict(
        OnConflict::column(message::Column::IdempotencyKey)
            .do_nothing()
            .to_owned(),
    );
    let statement = QueryTrait::query(&mut insert)
        .returning(Query::returning().column(message::Column::Id))
        .to_owned();
    let statement = txn.get_database_backend().build(&statement);
    let mut inserted = HashSet::with_capacity(items.len());
    for row in txn.query_all_raw(statement).await? {
        inserted.insert(row.try_get::<MessageId>("", "id")?);
    }
    Ok(inserted)
}

/// A subscription as choosing the recipients reads it.
struct Candidate {
    id: SubscriptionId,
    event_types: JsonText<Vec<String>>,
    payload_filter: Option<String>,
    state: SubscriptionState,
    consumer_id: Option<String>,
    all_consumers: bool,
}

impl Candidate {
    /// Whether `item` goes to this subscription: addressed to it (see [`Recipients`]) and, but
    /// for a test event, wanted.
    fn wants(&self, item: &Outgoing) -> bool {
        let addressed = match (&item.to, &item.new.consumer_id) {
            (Recipients::Only(id), _) => return *id == self.id,
            (_, None) => self.consumer_id.is_none(),
            (_, Some(consumer)) => match &self.consumer_id {
                Some(theirs) => theirs == consumer,
                None => self.all_consumers,
            },
        };
        let wants = || Wants {
            event_types: &self.event_types.0,
            payload_filter: self.payload_filter.as_deref(),
        };
        addressed
            && match &item.to {
                Recipients::Only(_) => true,
                Recipients::Matching(select) => select(wants()),
                Recipients::MatchingExcept(select, except) => *except != self.id && select(wants()),
            }
    }
}

/// Every subscription any of the messages may be addressed to: those of no consumer, those of
/// the consumers they are addressed to, and those a test event names. Only what choosing the
/// recipients needs: this runs in the write, which every other write waits for.
async fn candidates<C: ConnectionTrait>(
    txn: &C,
    items: &[Arc<Outgoing>],
) -> Result<Vec<Candidate>, DbErr> {
    let consumers: BTreeSet<&str> = items
        .iter()
        .filter_map(|item| item.new.consumer_id.as_deref())
        .collect();
    let named: BTreeSet<&SubscriptionId> = items
        .iter()
        .filter_map(|item| match &item.to {
            Recipients::Only(id) => Some(id),
            _ => None,
        })
        .collect();
    let mut any = Condition::any();
    if items
        .iter()
        .any(|item| !matches!(item.to, Recipients::Only(_)))
    {
        any = any.add(subscription::Column::ConsumerId.is_null());
    }
    if !consumers.is_empty() {
        any = any.add(subscription::Column::ConsumerId.is_in(consumers));
    }
    if !named.is_empty() {
        any = any.add(subscription::Column::Id.is_in(named.into_iter().cloned()));
    }
    type Row = (
        SubscriptionId,
        JsonText<Vec<String>>,
        Option<String>,
        SubscriptionState,
        Option<String>,
        bool,
    );
    let rows: Vec<Row> = Subscriptions::find()
        .select_only()
        .columns([
            subscription::Column::Id,
            subscription::Column::EventTypes,
            subscription::Column::PayloadFilter,
            subscription::Column::State,
            subscription::Column::ConsumerId,
            subscription::Column::AllConsumers,
        ])
        .filter(any)
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, event_types, payload_filter, state, consumer_id, all_consumers)| Candidate {
                id,
                event_types,
                payload_filter,
                state,
                consumer_id,
                all_consumers,
            },
        )
        .collect())
}

pub async fn find_message(db: &Db, id: &str) -> Result<Option<Message>, DbErr> {
    Messages::find_by_id(id).one(db.read()).await
}

/// The messages with these ids.
pub async fn find_messages(db: &Db, ids: Vec<MessageId>) -> Result<Vec<Message>, DbErr> {
    Messages::find()
        .filter(one_of(db.read(), message::Column::Id, ids))
        .all(db.read())
        .await
}

/// How many messages were published, up to [`super::paging::COUNT_CAP`].
pub async fn count(db: &Db) -> Result<u64, DbErr> {
    super::paging::count(db, Messages::find()).await
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use sea_orm::PaginatorTrait;

    use super::*;
    use crate::storage::consumers::{self, NewConsumer};
    use crate::storage::subscriptions;

    fn message(key: Option<String>, consumer: Option<&str>) -> NewMessage {
        NewMessage {
            id: MessageId::generate(),
            event_type: "order.created".into(),
            payload: "{}".into(),
            idempotency_key: key,
            schema_errors: None,
            consumer_id: consumer.map(str::to_owned),
        }
    }

    fn every() -> Select {
        Arc::new(|_: Wants<'_>| true)
    }

    /// Messages published at once, and so together, each reach whom they are addressed to, and
    /// a key used twice, in one batch or across two, publishes once.
    #[tokio::test]
    async fn messages_published_together_keep_their_own_recipients() {
        let (_dir, db) = Db::open_temp().await;
        for consumer in ["c1", "c2"] {
            let new = NewConsumer {
                id: consumer.into(),
                name: consumer.into(),
                metadata: Default::default(),
                portal_key: format!("key-{consumer}"),
            };
            assert!(consumers::create(&db, new).await.unwrap());
        }
        // Of no consumer; of no consumer taking every consumer's; of c1; of c2.
        let ids: Vec<SubscriptionId> = (0..4).map(|_| SubscriptionId::generate()).collect();
        for (n, id) in ids.iter().enumerate() {
            let mut new = subscriptions::sample(id.clone());
            new.all_consumers = n == 1;
            new.consumer_id = [None, None, Some("c1"), Some("c2")][n].map(str::to_owned);
            subscriptions::create(&db, new).await.unwrap();
        }

        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..240 {
            let (db, ids) = (db.clone(), ids.clone());
            tasks.spawn(async move {
                // 20 keys, each used three times.
                let key = (n % 4 == 0).then(|| format!("key-{}", (n / 4) % 20));
                let (consumer, to, expected) = match n % 5 {
                    0 => (None, Recipients::Matching(every()), 2),
                    1 => (Some("c1"), Recipients::Matching(every()), 2),
                    2 => (
                        Some("c2"),
                        Recipients::MatchingExcept(every(), ids[3].clone()),
                        1,
                    ),
                    3 => (None, Recipients::Only(ids[2].clone()), 1),
                    _ => (
                        None,
                        Recipients::Matching(Arc::new(|_: Wants<'_>| false)),
                        0,
                    ),
                };
                let published = publish(&db, message(key.clone(), consumer), to).await;
                (key, expected, published.unwrap())
            });
        }
        let mut first_of_key: HashMap<String, MessageId> = HashMap::new();
        let mut repeats: Vec<(String, MessageId)> = Vec::new();
        let mut delivered = 0;
        while let Some(done) = tasks.join_next().await {
            match done.unwrap() {
                (
                    key,
                    expected,
                    Published::New {
                        message_id,
                        deliveries,
                    },
                ) => {
                    assert_eq!(deliveries, expected, "{key:?}");
                    delivered += deliveries;
                    if let Some(key) = key {
                        let earlier = first_of_key.insert(key.clone(), message_id);
                        assert!(earlier.is_none(), "{key} was published twice");
                    }
                }
                (Some(key), _, Published::Existing { message_id }) => {
                    repeats.push((key, message_id));
                }
                (None, _, existing) => panic!("no key, yet {existing:?}"),
            }
        }
        assert_eq!((first_of_key.len(), repeats.len()), (20, 40));
        for (key, message_id) in repeats {
            assert_eq!(first_of_key[&key], message_id, "{key}");
        }
        let stored = super::super::entities::delivery::Entity::find()
            .count(db.read())
            .await
            .unwrap();
        assert_eq!(stored, delivered);
        assert_eq!(count(&db).await.unwrap(), 240 - 40);
    }
}

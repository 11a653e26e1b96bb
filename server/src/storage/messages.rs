//! Messages: what was published, committed in one transaction with a delivery for each
//! subscription it is for (the queue in [`super::deliveries`]).

use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QuerySelect,
};

use super::columns::JsonText;
use super::entities::delivery;
use super::entities::message::{self, Entity as Messages};
use super::entities::subscription::{self, Entity as Subscriptions};
use super::shapes::{insert_all, one_of};
use super::states::{DeliveryStatus, SubscriptionState};
use super::{Db, insert_new, now_millis};
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
pub type Select = Box<dyn Fn(Wants<'_>) -> bool + Send + Sync>;

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

/// Commits the message and its deliveries in one transaction. A disabled subscription's
/// delivery is recorded as failed at once, so "re-enable and redeliver" can pick it up.
pub async fn publish(db: &Db, new: NewMessage, to: Recipients) -> Result<Published, DbErr> {
    db.write(move |txn| Box::pin(async move { publish_in(txn, new, to).await }))
        .await
}

/// [`publish`] inside an open transaction, for callers that commit more with it.
pub(crate) async fn publish_in<C: ConnectionTrait>(
    txn: &C,
    new: NewMessage,
    to: Recipients,
) -> Result<Published, DbErr> {
    let now = now_millis();
    let key = new.idempotency_key.clone();
    let row = message::ActiveModel {
        id: Set(new.id.clone()),
        event_type: Set(new.event_type.clone()),
        payload: Set(new.payload),
        idempotency_key: Set(new.idempotency_key),
        created_at: Set(now),
        schema_errors: Set(new.schema_errors),
        consumer_id: Set(new.consumer_id.clone()),
    };
    if insert_new(txn, row, [message::Column::IdempotencyKey])
        .await?
        .is_none()
    {
        let first = Messages::find()
            .filter(message::Column::IdempotencyKey.eq(key))
            .one(txn)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("the first message of a key".into()))?;
        return Ok(Published::Existing {
            message_id: first.id,
        });
    }

    // Only what choosing the recipients needs: this runs in the write, which every other
    // write waits for.
    let mut candidates = Subscriptions::find().select_only().columns([
        subscription::Column::Id,
        subscription::Column::EventTypes,
        subscription::Column::PayloadFilter,
        subscription::Column::State,
    ]);
    candidates = match (&to, &new.consumer_id) {
        (Recipients::Only(id), _) => candidates.filter(subscription::Column::Id.eq(id.clone())),
        (_, None) => candidates.filter(subscription::Column::ConsumerId.is_null()),
        (_, Some(consumer)) => candidates.filter(
            Condition::any()
                .add(subscription::Column::ConsumerId.eq(consumer.as_str()))
                .add(
                    Condition::all()
                        .add(subscription::Column::ConsumerId.is_null())
                        .add(subscription::Column::AllConsumers.eq(true)),
                ),
        ),
    };
    type Candidate = (
        SubscriptionId,
        JsonText<Vec<String>>,
        Option<String>,
        SubscriptionState,
    );
    let candidates: Vec<Candidate> = candidates.into_tuple().all(txn).await?;
    let rows: Vec<delivery::ActiveModel> = candidates
        .into_iter()
        .filter(|(id, event_types, payload_filter, _)| {
            let wants = Wants {
                event_types: &event_types.0,
                payload_filter: payload_filter.as_deref(),
            };
            match &to {
                Recipients::Only(_) => true,
                Recipients::Matching(select) => select(wants),
                Recipients::MatchingExcept(select, except) => id != except && select(wants),
            }
        })
        .map(|(id, _, _, state)| {
            let disabled = state == SubscriptionState::Disabled;
            delivery::ActiveModel {
                message_id: Set(new.id.clone()),
                subscription_id: Set(id),
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
                last_error: Set(disabled.then(|| "the subscription is disabled".to_owned())),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
        })
        .collect();
    let deliveries = rows.len() as u64;
    insert_all(txn, rows).await?;
    Ok(Published::New {
        message_id: new.id,
        deliveries,
    })
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

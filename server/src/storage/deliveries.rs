//! Deliveries (the work queue: one row per message and subscription) and the record of every
//! attempt. The worker claims due deliveries with a lease, so a crash leaves them to be claimed
//! again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
};

use super::columns::{HeaderPairs, JsonText};
use super::entities::attempt::{self, Entity as Attempts};
use super::entities::delivery::{self, Entity as Deliveries};
use super::entities::subscription::{self, Entity as Subscriptions};
use super::lease::Queue;
use super::paging::{self, Cursor};
use super::shapes::{insert_all, one_of};
use super::states::{DeliveryStatus, SubscriptionState};
use super::{Db, now_millis};
use crate::ids::SubscriptionId;
pub use attempt::Model as Attempt;
pub use delivery::Model as Delivery;

/// The deliveries, as a queue: pending until they succeed or fail for good, due at their
/// next attempt.
fn queue() -> Queue<Deliveries> {
    Queue {
        id: delivery::Column::Id,
        status: delivery::Column::Status,
        pending: DeliveryStatus::Pending.into(),
        due_at: delivery::Column::NextAttemptAt,
        leased_until: delivery::Column::LeasedUntil,
        leased_by: delivery::Column::LeasedBy,
    }
}

/// What a claim asks for: up to `limit` due deliveries of active subscriptions, oldest due
/// first, leased to the hub `node` for `lease_ms`, and no more for a subscription than
/// `per_subscription` leased at once by all hubs together.
#[derive(Debug, Clone)]
pub struct Claim {
    pub node: Arc<str>,
    pub limit: u64,
    pub lease_ms: i64,
    pub per_subscription: usize,
}

/// Claims what `claim` asks for, due at `now`, in a write of its own.
pub async fn claim_due(db: &Db, claim: Claim, now: i64) -> Result<Vec<Delivery>, DbErr> {
    db.write(move |txn| Box::pin(async move { claim_in(txn, &claim, now).await }))
        .await
}

/// Claims inside an open write. The leases alive are counted inside the claim, and claims take
/// turns (see [`super::lease::take_turn`]), so two hubs claiming at once cannot both see room
/// for the same subscription.
async fn claim_in(
    txn: &impl ConnectionTrait,
    claim: &Claim,
    now: i64,
) -> Result<Vec<Delivery>, DbErr> {
    if claim.limit == 0 {
        return Ok(Vec::new());
    }
    super::lease::take_turn(txn, CLAIMS).await?;
    let per_subscription = claim.per_subscription;
    let mut leased: HashMap<SubscriptionId, usize> = leases_alive(now)
        .into_tuple::<(SubscriptionId, i64)>()
        .all(txn)
        .await?
        .into_iter()
        .map(|(id, n)| (id, usize::try_from(n).unwrap_or(0)))
        .collect();
    let full: Vec<SubscriptionId> = leased
        .iter()
        .filter(|(_, n)| **n >= per_subscription)
        .map(|(id, _)| id.clone())
        .collect();
    let mut due = claimable(txn, now, claim.limit, full).all(txn).await?;
    due.retain(|delivery| {
        let n = leased.entry(delivery.subscription_id.clone()).or_default();
        *n += 1;
        *n <= per_subscription
    });
    if due.is_empty() {
        return Ok(due);
    }
    let until = now + claim.lease_ms;
    queue()
        .lease(txn, due.iter().map(|d| d.id), &claim.node, until)
        .exec(txn)
        .await?;
    for delivery in &mut due {
        delivery.leased_until = Some(until);
        delivery.leased_by = Some(claim.node.to_string());
    }
    Ok(due)
}

/// How many deliveries each subscription has leased at `now`, by all hubs.
fn leases_alive(now: i64) -> Select<Deliveries> {
    Deliveries::find()
        .select_only()
        .column(delivery::Column::SubscriptionId)
        .column_as(delivery::Column::Id.count(), "leased")
        .filter(delivery::Column::LeasedUntil.gte(now))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .group_by(delivery::Column::SubscriptionId)
}

/// The due deliveries a claim may take, in the order it takes them: those of active
/// subscriptions other than `full`. The queue's index holds each row's subscription, so the
/// rows of a subscription at its limit are passed over without reading them from the table.
fn claimable(
    db: &impl ConnectionTrait,
    now: i64,
    limit: u64,
    full: Vec<SubscriptionId>,
) -> Select<Deliveries> {
    let active = Query::select()
        .column(subscription::Column::Id)
        .from(Subscriptions)
        .and_where(subscription::Column::State.eq(SubscriptionState::Active))
        .to_owned();
    let due = queue()
        .due(now, limit)
        .filter(delivery::Column::SubscriptionId.in_subquery(active));
    if full.is_empty() {
        due
    } else {
        due.filter(one_of(db, delivery::Column::SubscriptionId, full).not())
    }
}

/// The turn delivery claims take, one hub at a time.
const CLAIMS: i64 = 0x686f_6f6b_6875_6202;

/// When the hub `node` starts nothing of its own is in flight: the leases its crash left are
/// released at once (other hubs' leases stay with them).
pub async fn release_leases(db: &Db, node: Arc<str>) -> Result<u64, DbErr> {
    db.write(move |txn| Box::pin(async move { queue().release_held_by(txn, &node).await }))
        .await
}

/// Gives claimed deliveries back without an attempt (over a concurrency limit, or their
/// subscription was paused meanwhile).
pub async fn release(db: &Db, ids: Vec<i64>) -> Result<(), DbErr> {
    db.write(move |txn| Box::pin(async move { queue().release(txn, ids).await }))
        .await
}

/// One attempt as it is recorded.
#[derive(Debug, Clone)]
pub struct NewAttempt {
    pub started_at: i64,
    pub duration_ms: i64,
    pub request_headers: JsonText<HeaderPairs>,
    pub response_status: Option<i32>,
    pub response_headers: Option<JsonText<HeaderPairs>>,
    pub response_body: Option<Vec<u8>>,
    pub error: Option<String>,
    /// The exact body sent, where its message alone cannot rebuild it.
    pub request_body: Option<Vec<u8>>,
}

/// What an attempt means for its delivery and subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    RetryAt(i64),
    /// Given up: the schedule is used up.
    Failed,
    /// Given up, and the subscription is disabled for `reason` (a `410 Gone`, or failing
    /// continuously for too long).
    Disable {
        reason: String,
    },
}

/// An attempt to record, with what it means for its delivery.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery: Delivery,
    pub attempt: NewAttempt,
    pub outcome: Outcome,
}

/// A subscription whose attempts failed in a batch, with the streak they continue.
#[derive(Debug, Clone)]
pub struct Failing {
    pub subscription: subscription::Model,
    /// When its streak of failures began; `None` when this batch began it.
    pub since: Option<i64>,
    /// Disabled by this batch, and why.
    pub disabled: Option<String>,
    pub last_error: Option<String>,
}

/// What a write of attempts did.
#[derive(Debug)]
pub struct Recorded {
    /// The subscriptions that failed, for the notices.
    pub failing: Vec<Failing>,
    /// The deliveries claimed in the same write.
    pub claimed: Vec<Delivery>,
}

/// Records attempts and their outcomes in one write: the attempt rows, each delivery's new
/// state, and each subscription's failure streak (started on a failure, cleared on a success).
/// A subscription failing since before `disable_before` is disabled. Then claims what `next`
/// asks for in the same write, counting the leases just ended as ended: the worker's next
/// deliveries cost no commit of their own.
pub async fn record_attempts(
    db: &Db,
    records: Vec<AttemptRecord>,
    disable_before: i64,
    next: Option<Claim>,
) -> Result<Recorded, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let now = now_millis();
            // A delivery deleted meanwhile, with its subscription, has no attempt to record.
            let ids: Vec<i64> = records.iter().map(|r| r.delivery.id).collect();
            let kept: HashSet<i64> = Deliveries::find()
                .select_only()
                .column(delivery::Column::Id)
                .filter(one_of(txn, delivery::Column::Id, ids))
                .into_tuple::<i64>()
                .all(txn)
                .await?
                .into_iter()
                .collect();
            let mut records = records;
            records.retain(|r| kept.contains(&r.delivery.id));
            // The headers and bodies move into the rows: the writer is the one thread every
            // write waits for, so it copies nothing it need not.
            let attempts = records.iter_mut().map(|r| attempt::ActiveModel {
                delivery_id: Set(r.delivery.id),
                started_at: Set(r.attempt.started_at),
                duration_ms: Set(r.attempt.duration_ms),
                request_headers: Set(std::mem::take(&mut r.attempt.request_headers)),
                response_status: Set(r.attempt.response_status),
                response_headers: Set(r.attempt.response_headers.take()),
                response_body: Set(r.attempt.response_body.take()),
                request_body: Set(r.attempt.request_body.take()),
                error: Set(r.attempt.error.clone()),
                ..Default::default()
            });
            insert_all(txn, attempts.collect()).await?;

            // Each subscription's failure streak, read once for the whole batch.
            let failing: Vec<SubscriptionId> = records
                .iter()
                .filter(|r| matches!(r.outcome, Outcome::RetryAt(_) | Outcome::Failed))
                .map(|r| r.delivery.subscription_id.clone())
                .collect();
            let mut streaks: std::collections::HashMap<SubscriptionId, Failing> =
                if failing.is_empty() {
                    Default::default()
                } else {
                    Subscriptions::find()
                        .filter(one_of(txn, subscription::Column::Id, failing.clone()))
                        .all(txn)
                        .await?
                        .into_iter()
                        .map(|s| {
                            let failing = Failing {
                                since: s.failing_since,
                                disabled: None,
                                last_error: None,
                                subscription: s,
                            };
                            (failing.subscription.id.clone(), failing)
                        })
                        .collect()
                };

            let mut succeeded: Vec<SubscriptionId> = Vec::new();
            // Delivered, by the status the subscriber answered: one statement each.
            let mut delivered: HashMap<Option<i32>, Vec<i64>> = HashMap::new();
            let mut disabled: Vec<(SubscriptionId, String)> = Vec::new();
            for record in records {
                let AttemptRecord {
                    delivery,
                    attempt,
                    mut outcome,
                } = record;
                let subscription_id = delivery.subscription_id.clone();
                if outcome == Outcome::Succeeded {
                    let status = attempt.response_status;
                    delivered.entry(status).or_default().push(delivery.id);
                    succeeded.push(subscription_id);
                    continue;
                }
                if matches!(outcome, Outcome::RetryAt(_) | Outcome::Failed) {
                    let since = streaks
                        .get(&subscription_id)
                        .and_then(|f| f.since)
                        .unwrap_or(now);
                    if since < disable_before {
                        outcome = Outcome::Disable {
                            reason: format!(
                                "Every delivery failed since {}.",
                                chrono::DateTime::from_timestamp_millis(since)
                                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                                    .unwrap_or_default()
                            ),
                        };
                    }
                }
                let error = attempt
                    .error
                    .or_else(|| attempt.response_status.map(|s| format!("HTTP {s}")));
                if let Some(streak) = streaks.get_mut(&subscription_id) {
                    streak.last_error.clone_from(&error);
                    if let Outcome::Disable { reason } = &outcome {
                        streak.disabled = Some(reason.clone());
                    }
                }
                let mut active: delivery::ActiveModel = delivery.into();
                active.attempts = Set(active.attempts.as_ref() + 1);
                active.leased_until = Set(None);
                active.leased_by = Set(None);
                active.last_status = Set(attempt.response_status);
                active.updated_at = Set(now);
                match outcome {
                    // Taken above.
                    Outcome::Succeeded => {}
                    Outcome::RetryAt(at) => {
                        active.status = Set(DeliveryStatus::Pending);
                        active.next_attempt_at = Set(at);
                        active.last_error = Set(error);
                    }
                    Outcome::Failed => {
                        active.status = Set(DeliveryStatus::Failed);
                        active.last_error = Set(error);
                    }
                    Outcome::Disable { reason } => {
                        active.status = Set(DeliveryStatus::Failed);
                        active.last_error = Set(error);
                        disabled.push((subscription_id, reason));
                    }
                }
                active.update(txn).await?;
            }
            for (status, ids) in delivered {
                queue()
                    .unlease(Deliveries::update_many())
                    .col_expr(
                        delivery::Column::Status,
                        Expr::value(DeliveryStatus::Succeeded),
                    )
                    .col_expr(
                        delivery::Column::Attempts,
                        Expr::col(delivery::Column::Attempts).add(1),
                    )
                    .col_expr(delivery::Column::LastStatus, Expr::value(status))
                    .col_expr(
                        delivery::Column::LastError,
                        Expr::value(Option::<String>::None),
                    )
                    .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
                    .filter(one_of(txn, delivery::Column::Id, ids))
                    .exec(txn)
                    .await?;
            }

            for (subscription_id, reason) in disabled {
                Subscriptions::update_many()
                    .filter(subscription::Column::Id.eq(subscription_id))
                    .filter(subscription::Column::State.ne(SubscriptionState::Disabled))
                    .col_expr(
                        subscription::Column::State,
                        Expr::value(SubscriptionState::Disabled),
                    )
                    .col_expr(subscription::Column::DisabledReason, Expr::value(reason))
                    .col_expr(subscription::Column::DisabledAt, Expr::value(now))
                    .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
                    .exec(txn)
                    .await?;
            }
            // A failure starts a streak where none runs; a success ends one. Only rows that
            // change are touched.
            if !failing.is_empty() {
                Subscriptions::update_many()
                    .col_expr(subscription::Column::FailingSince, Expr::value(now))
                    .filter(one_of(txn, subscription::Column::Id, failing))
                    .filter(subscription::Column::FailingSince.is_null())
                    .exec(txn)
                    .await?;
            }
            if !succeeded.is_empty() {
                Subscriptions::update_many()
                    .col_expr(
                        subscription::Column::FailingSince,
                        Expr::value(Option::<i64>::None),
                    )
                    .filter(one_of(txn, subscription::Column::Id, succeeded))
                    .filter(subscription::Column::FailingSince.is_not_null())
                    .exec(txn)
                    .await?;
            }
            let claimed = match next {
                Some(claim) => claim_in(txn, &claim, now).await?,
                None => Vec::new(),
            };
            Ok(Recorded {
                failing: streaks.into_values().collect(),
                claimed,
            })
        })
    })
    .await
}

/// Which deliveries to list: newest first, paged by id.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub subscription_id: Option<String>,
    /// Those of the consumer's subscriptions.
    pub consumer_id: Option<String>,
    pub message_id: Option<String>,
    pub status: Option<DeliveryStatus>,
    pub event_type: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub cursor: Cursor,
    pub limit: u64,
}

/// A page of deliveries, newest first, wherever `filter.cursor` puts it.
pub async fn list(db: &Db, filter: DeliveryFilter) -> Result<Vec<Delivery>, DbErr> {
    let page = matching(&filter, filter.cursor)
        .limit(filter.limit)
        .all(db.read())
        .await?;
    Ok(filter.cursor.newest_first(page))
}

/// How many deliveries match `filter`, its cursor left aside, and how many of them are newer
/// than `newer_than` (see [`paging::total_and_newer`]).
pub async fn count(
    db: &Db,
    filter: &DeliveryFilter,
    newer_than: Option<i64>,
) -> Result<(u64, u64), DbErr> {
    paging::total_and_newer(db, newer_than, |cursor| {
        std::future::ready(Ok(matching(filter, cursor)))
    })
    .await
}

/// The failed deliveries `filter` finds (its own status and cursor left aside) that can be sent
/// again: those of subscriptions that are not disabled.
fn redeliverable(filter: &DeliveryFilter) -> Select<Deliveries> {
    let failed = DeliveryFilter {
        status: Some(DeliveryStatus::Failed),
        ..filter.clone()
    };
    let enabled = Query::select()
        .column(subscription::Column::Id)
        .from(Subscriptions)
        .and_where(subscription::Column::State.ne(SubscriptionState::Disabled))
        .to_owned();
    matching(&failed, Cursor::Newest).filter(delivery::Column::SubscriptionId.in_subquery(enabled))
}

/// How many deliveries [`redeliver_matching`] would queue again, up to [`paging::COUNT_CAP`].
pub async fn count_redeliverable(db: &Db, filter: &DeliveryFilter) -> Result<u64, DbErr> {
    paging::count(db, redeliverable(filter)).await
}

/// Queues again, in one write, every failed delivery `filter` finds whose subscription is not
/// disabled, each with a fresh schedule; answers how many.
pub async fn redeliver_matching(db: &Db, filter: DeliveryFilter) -> Result<u64, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let ids = redeliverable(&filter)
                .select_only()
                .column(delivery::Column::Id)
                .into_query();
            let requeued = requeue(Deliveries::update_many())
                .filter(delivery::Column::Id.in_subquery(ids))
                .exec(txn)
                .await?;
            Ok(requeued.rows_affected)
        })
    })
    .await
}

/// The deliveries `filter` asks for, ordered and bounded as `cursor` says.
fn matching(filter: &DeliveryFilter, cursor: Cursor) -> Select<Deliveries> {
    let mut query = Deliveries::find();
    if let Some(subscription_id) = &filter.subscription_id {
        query = query.filter(delivery::Column::SubscriptionId.eq(subscription_id.as_str()));
    }
    if let Some(consumer_id) = &filter.consumer_id {
        let theirs = Query::select()
            .column(subscription::Column::Id)
            .from(Subscriptions)
            .and_where(subscription::Column::ConsumerId.eq(consumer_id.as_str()))
            .to_owned();
        query = query.filter(delivery::Column::SubscriptionId.in_subquery(theirs));
    }
    if let Some(message_id) = &filter.message_id {
        query = query.filter(delivery::Column::MessageId.eq(message_id.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(delivery::Column::Status.eq(status));
    }
    if let Some(event_type) = &filter.event_type {
        query = query.filter(delivery::Column::EventType.eq(event_type.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(delivery::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(delivery::Column::CreatedAt.lt(to));
    }
    cursor.bound(
        QueryTrait::query(&mut query),
        Expr::col((Deliveries, delivery::Column::Id)),
    );
    query
}

pub async fn for_message(db: &Db, message_id: &str) -> Result<Vec<Delivery>, DbErr> {
    Deliveries::find()
        .filter(delivery::Column::MessageId.eq(message_id))
        .all(db.read())
        .await
}

pub async fn find(db: &Db, id: i64) -> Result<Option<Delivery>, DbErr> {
    Deliveries::find_by_id(id).one(db.read()).await
}

/// A delivery's attempts, oldest first.
pub async fn attempts(db: &Db, delivery_id: i64) -> Result<Vec<Attempt>, DbErr> {
    Attempts::find()
        .filter(attempt::Column::DeliveryId.eq(delivery_id))
        .order_by_asc(attempt::Column::Id)
        .all(db.read())
        .await
}

/// How many attempts each of `ids` has had in all, redeliveries included (a delivery's own
/// `attempts` counts only those since its last redelivery, for the retry schedule).
pub async fn attempt_counts(db: &Db, ids: Vec<i64>) -> Result<HashMap<i64, u64>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let counts = Attempts::find()
        .select_only()
        .column(attempt::Column::DeliveryId)
        .column_as(attempt::Column::Id.count(), "attempts")
        .filter(attempt::Column::DeliveryId.is_in(ids))
        .group_by(attempt::Column::DeliveryId)
        .into_tuple::<(i64, i64)>()
        .all(db.read())
        .await?;
    Ok(counts
        .into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// Queues a delivery again, now, with a fresh retry schedule. False when there is none.
pub async fn redeliver(db: &Db, id: i64) -> Result<bool, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let requeued = requeue(Deliveries::update_many())
                .filter(delivery::Column::Id.eq(id))
                .exec(txn)
                .await?;
            Ok(requeued.rows_affected > 0)
        })
    })
    .await
}

/// Queues again every delivery of the subscription that failed and was created at or after
/// `since`, optionally making the subscription active first, in one write. Answers how many.
pub async fn redeliver_failed(
    db: &Db,
    subscription_id: String,
    since: i64,
    reactivate: bool,
) -> Result<u64, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            if reactivate {
                Subscriptions::update_many()
                    .col_expr(
                        subscription::Column::State,
                        Expr::value(SubscriptionState::Active),
                    )
                    .col_expr(
                        subscription::Column::DisabledReason,
                        Expr::value(Option::<String>::None),
                    )
                    .col_expr(
                        subscription::Column::FailingSince,
                        Expr::value(Option::<i64>::None),
                    )
                    .col_expr(subscription::Column::UpdatedAt, Expr::value(now_millis()))
                    .filter(subscription::Column::Id.eq(subscription_id.clone()))
                    .exec(txn)
                    .await?;
            }
            let requeued = requeue(Deliveries::update_many())
                .filter(delivery::Column::SubscriptionId.eq(subscription_id))
                .filter(delivery::Column::Status.eq(DeliveryStatus::Failed))
                .filter(delivery::Column::CreatedAt.gte(since))
                .exec(txn)
                .await?;
            Ok(requeued.rows_affected)
        })
    })
    .await
}

fn requeue(update: sea_orm::UpdateMany<Deliveries>) -> sea_orm::UpdateMany<Deliveries> {
    let update = update
        .col_expr(
            delivery::Column::Status,
            Expr::value(DeliveryStatus::Pending),
        )
        .col_expr(delivery::Column::Attempts, Expr::value(0))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(now_millis()))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now_millis()));
    queue().unlease(update)
}

/// How many of a subscription's deliveries are pending, succeeded and failed.
pub async fn counts(db: &Db, subscription_id: &str) -> Result<[u64; 3], DbErr> {
    let mut counts = [0; 3];
    for (slot, status) in counts.iter_mut().zip([
        DeliveryStatus::Pending,
        DeliveryStatus::Succeeded,
        DeliveryStatus::Failed,
    ]) {
        *slot = Deliveries::find()
            .filter(delivery::Column::SubscriptionId.eq(subscription_id))
            .filter(delivery::Column::Status.eq(status))
            .count(db.read())
            .await?;
    }
    Ok(counts)
}

/// The deliveries still to make, to one subscription or all, and when the oldest of them was
/// created.
pub async fn backlog(db: &Db, subscription: Option<&str>) -> Result<(u64, Option<i64>), DbErr> {
    let mut pending =
        Deliveries::find().filter(delivery::Column::Status.eq(DeliveryStatus::Pending));
    if let Some(id) = subscription {
        pending = pending.filter(delivery::Column::SubscriptionId.eq(id));
    }
    let (count, oldest) = pending
        .select_only()
        .column_as(delivery::Column::Id.count(), "pending")
        .column_as(delivery::Column::CreatedAt.min(), "oldest")
        .into_tuple::<(i64, Option<i64>)>()
        .one(db.read())
        .await?
        .unwrap_or_default();
    Ok((u64::try_from(count).unwrap_or(0), oldest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MessageId;
    use crate::storage::messages::{self, NewMessage, Recipients};
    use crate::storage::subscriptions;

    /// A subscription with `messages` deliveries due.
    async fn due_for_one_subscription(db: &Db, messages: usize) -> SubscriptionId {
        let subscription = SubscriptionId::generate();
        subscriptions::create(db, subscriptions::sample(subscription.clone()))
            .await
            .unwrap();
        for _ in 0..messages {
            let message = NewMessage {
                id: MessageId::generate(),
                event_type: "invoice.paid".into(),
                payload: "{}".into(),
                idempotency_key: None,
                schema_errors: None,
                consumer_id: None,
            };
            messages::publish(db, message, Recipients::Only(subscription.clone()))
                .await
                .unwrap();
        }
        subscription
    }

    /// A first attempt at `delivery` that succeeded.
    fn answered_204(delivery: Delivery) -> AttemptRecord {
        AttemptRecord {
            delivery,
            attempt: NewAttempt {
                started_at: now_millis(),
                duration_ms: 1,
                request_headers: JsonText::default(),
                response_status: Some(204),
                response_headers: None,
                response_body: None,
                error: None,
                request_body: None,
            },
            outcome: Outcome::Succeeded,
        }
    }

    /// A claim for the hub `node`, leasing for a minute.
    fn lease_to(node: &str, limit: u64, per_subscription: usize) -> Claim {
        Claim {
            node: node.into(),
            limit,
            lease_ms: 60_000,
            per_subscription,
        }
    }

    #[tokio::test]
    async fn a_claim_skips_rows_by_the_index_and_takes_them_in_its_order() {
        let (_dir, db) = Db::open_temp_sqlite().await;
        let full = vec![SubscriptionId::generate()];
        let steps = db.sqlite_plan(claimable(db.read(), 0, 256, full)).await;
        assert!(
            steps
                .iter()
                .any(|step| step.contains("USING INDEX idx_deliveries_queue")),
            "{steps:?}"
        );
        // No sort: the index gives the claim's order, so it stops after `limit` rows.
        assert!(
            !steps.iter().any(|step| step.contains("TEMP B-TREE")),
            "{steps:?}"
        );
        let leases = db.sqlite_plan(leases_alive(0)).await;
        assert!(
            leases
                .iter()
                .any(|step| step.contains("COVERING INDEX idx_deliveries_leases")),
            "{leases:?}"
        );
    }

    #[tokio::test]
    async fn hubs_claiming_at_once_lease_no_more_than_the_subscription_limit_together() {
        let (dir, db) = Db::open_temp().await;
        due_for_one_subscription(&db, 50).await;
        // Three hubs: handles of their own on the same database, claiming at the same moment.
        let mut hubs = vec![db.clone()];
        for _ in 0..2 {
            hubs.push(Db::open(db.location()).await.unwrap());
        }
        let now = now_millis();
        let claims = hubs.iter().enumerate().flat_map(|(n, hub)| {
            (0..4)
                .map(move |round| claim_due(hub, lease_to(&format!("hub-{n}-{round}"), 10, 3), now))
        });
        let claimed: usize = futures::future::join_all(claims)
            .await
            .into_iter()
            .map(|claim| claim.unwrap().len())
            .sum();
        assert_eq!(claimed, 3, "the limit holds across hubs");
        // A lease that lapses makes room again.
        let later = now + 60_001;
        assert_eq!(
            claim_due(&hubs[1], lease_to("hub-x", 10, 3), later)
                .await
                .unwrap()
                .len(),
            3
        );
        drop(dir);
    }

    #[tokio::test]
    async fn recording_attempts_claims_the_next_deliveries_in_the_same_write() {
        let (_dir, db) = Db::open_temp().await;
        let subscription = due_for_one_subscription(&db, 5).await;
        let first = claim_due(&db, lease_to("hub", 10, 2), now_millis())
            .await
            .unwrap();
        assert_eq!(first.len(), 2, "the subscription's limit");
        let records = first.iter().cloned().map(answered_204).collect();
        let recorded = record_attempts(&db, records, 0, Some(lease_to("hub", 10, 2)))
            .await
            .unwrap();
        // The two leases the records ended leave room for two more, and only two.
        let next = &recorded.claimed;
        assert_eq!(next.len(), 2);
        assert!(next.iter().all(|d| d.attempts == 0
            && d.leased_by.as_deref() == Some("hub")
            && !first.iter().any(|f| f.id == d.id)));
        let [pending, succeeded, failed] = counts(&db, &subscription).await.unwrap();
        assert_eq!((pending, succeeded, failed), (3, 2, 0));
        // They are leased: another hub finds the subscription at its limit.
        let other = claim_due(&db, lease_to("other", 10, 2), now_millis())
            .await
            .unwrap();
        assert!(other.is_empty(), "{other:?}");
    }

    #[tokio::test]
    async fn attempts_of_a_deleted_subscription_leave_the_others_recorded() {
        let (_dir, db) = Db::open_temp().await;
        let kept = due_for_one_subscription(&db, 1).await;
        let deleted = due_for_one_subscription(&db, 1).await;
        let claimed = claim_due(&db, lease_to("hub", 10, 10), now_millis())
            .await
            .unwrap();
        assert_eq!(claimed.len(), 2);
        assert!(
            subscriptions::delete(&db, deleted.to_string())
                .await
                .unwrap()
        );
        let records = claimed.into_iter().map(answered_204).collect();
        record_attempts(&db, records, 0, None).await.unwrap();
        assert_eq!(counts(&db, &kept).await.unwrap(), [0, 1, 0]);
    }

    #[tokio::test]
    async fn a_hub_that_starts_releases_only_the_leases_it_held() {
        let (_dir, db) = Db::open_temp().await;
        due_for_one_subscription(&db, 4).await;
        let (a, b): (Arc<str>, Arc<str>) = ("hub-a".into(), "hub-b".into());
        let now = now_millis();
        let claim = |node: &Arc<str>, limit| claim_due(&db, lease_to(node, limit, usize::MAX), now);
        let held_by_a = claim(&a, 2).await.unwrap();
        let held_by_b = claim(&b, 1).await.unwrap();
        assert_eq!((held_by_a.len(), held_by_b.len()), (2, 1));
        // One more, leased before leases named their holder.
        let unnamed = claim(&b, 1).await.unwrap()[0].id;
        db.write(move |txn| {
            Box::pin(async move {
                Deliveries::update_many()
                    .col_expr(
                        delivery::Column::LeasedBy,
                        Expr::value(Option::<String>::None),
                    )
                    .filter(delivery::Column::Id.eq(unnamed))
                    .exec(txn)
                    .await
                    .map(drop)
            })
        })
        .await
        .unwrap();

        // B restarts: its own lease and the unnamed one come back; A's stay leased.
        assert_eq!(release_leases(&db, Arc::clone(&b)).await.unwrap(), 2);
        let mut freed: Vec<i64> = claim(&b, 10).await.unwrap().iter().map(|d| d.id).collect();
        freed.sort();
        let mut expected = vec![held_by_b[0].id, unnamed];
        expected.sort();
        assert_eq!(freed, expected);
        // A restarts: its two come back.
        assert_eq!(release_leases(&db, Arc::clone(&a)).await.unwrap(), 2);
        let again = claim(&a, 10).await.unwrap();
        assert_eq!(
            again.iter().map(|d| d.id).collect::<Vec<_>>(),
            held_by_a.iter().map(|d| d.id).collect::<Vec<_>>()
        );
        assert!(
            again
                .iter()
                .all(|d| d.leased_by.as_deref() == Some("hub-a"))
        );
    }
}

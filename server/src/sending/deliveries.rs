//! Deliveries queued again by hand: one delivery now, or everything a subscription failed since
//! a time, and the test event. Each wakes the delivery worker, so nothing waits for its poll.
//! A disabled subscription is sent nothing, so these are refused for it until it is enabled,
//! rather than left pending with nobody to make them.

use crate::Hub;
use crate::error::{Error, Result, invalid};
use crate::storage::deliveries::DeliveryFilter;
use crate::storage::states::SubscriptionState;
use crate::storage::subscriptions::{self, Subscription};
use crate::storage::{deliveries, now_millis};

/// Queues one delivery again now, with a fresh schedule and the same `webhook-id`.
pub async fn redeliver(hub: &Hub, id: i64) -> Result<()> {
    let delivery = deliveries::find(&hub.db, id)
        .await?
        .ok_or(Error::NotFound("delivery"))?;
    enabled(find_subscription(hub, &delivery.subscription_id).await?)?;
    if !deliveries::redeliver(&hub.db, id).await? {
        return Err(Error::NotFound("delivery"));
    }
    hub.deliveries.wake();
    tracing::info!(delivery = id, "redelivery queued");
    Ok(())
}

/// Queues again every failed delivery `filter` finds, but for disabled subscriptions' (they
/// would wait for ever); answers how many.
pub async fn redeliver_matching(hub: &Hub, filter: DeliveryFilter) -> Result<u64> {
    let count = deliveries::redeliver_matching(&hub.db, filter).await?;
    hub.deliveries.wake();
    tracing::info!(count, "failed deliveries matching a filter queued again");
    Ok(count)
}

/// Queues again every failed delivery of the subscription created at or after `since`
/// (Unix milliseconds); answers how many.
pub async fn redeliver_failed(hub: &Hub, subscription_id: &str, since: i64) -> Result<u64> {
    enabled(find_subscription(hub, subscription_id).await?)?;
    requeue_failed(hub, subscription_id, since, false).await
}

/// Makes a disabled subscription active again and queues what failed since it was disabled.
pub async fn reenable_and_redeliver(hub: &Hub, subscription_id: &str) -> Result<u64> {
    let subscription = find_subscription(hub, subscription_id).await?;
    let since = subscription.disabled_at.unwrap_or_else(now_millis);
    requeue_failed(hub, subscription_id, since, true).await
}

/// Queues the failed deliveries of a subscription the caller has found.
async fn requeue_failed(
    hub: &Hub,
    subscription_id: &str,
    since: i64,
    reactivate: bool,
) -> Result<u64> {
    let count =
        deliveries::redeliver_failed(&hub.db, subscription_id.to_owned(), since, reactivate)
            .await?;
    hub.deliveries.wake();
    tracing::info!(
        subscription = %subscription_id,
        count,
        reactivate,
        "failed deliveries queued again"
    );
    Ok(count)
}

/// Sends a `hookhub.test` message to one subscription; answers the id of its delivery.
pub async fn send_test(hub: &Hub, subscription_id: &str) -> Result<i64> {
    let subscription = enabled(find_subscription(hub, subscription_id).await?)?;
    let message_id = super::subscriptions::send_test(&hub.db, &subscription).await?;
    hub.deliveries.wake();
    deliveries::for_message(&hub.db, &message_id)
        .await?
        .first()
        .map(|d| d.id)
        .ok_or(Error::NotFound("delivery"))
}

async fn find_subscription(hub: &Hub, id: &str) -> Result<Subscription> {
    subscriptions::find(&hub.db, id)
        .await?
        .ok_or(Error::NotFound("subscription"))
}

/// The subscription, unless it is disabled: what is queued for it would wait for ever.
fn enabled(subscription: Subscription) -> Result<Subscription> {
    if subscription.state == SubscriptionState::Disabled {
        return Err(invalid(
            "subscription",
            "the subscription is disabled, so nothing is sent to it: enable it first (Re-enable \
             and redeliver on its page sends what failed meanwhile)",
        ));
    }
    Ok(subscription)
}

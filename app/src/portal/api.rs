//! The portal's server functions, under `/portal/fn`: each starts from the consumer the
//! request's portal session speaks for (the server's portal gate put it there) and reaches
//! only that consumer's own things. A dashboard session opens none of them.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::backend::require_consumer;
use crate::dto::{
    DeliveryDetailDto, DeliveryPageDto, DeliveryQuery, EventTypeDto, PortalDto,
    PortalSubscriptionFormDto, SubscriptionDetailDto, SubscriptionDto,
};
use crate::error::AppError;

/// Where the portal's server functions live: inside the portal gate, outside the dashboard's.
pub const PREFIX: &str = "/portal/fn";

#[server(prefix = "/portal/fn")]
pub async fn portal_frame() -> Result<PortalDto, AppError> {
    let (portal, consumer) = require_consumer()?;
    portal.frame(&consumer).await
}

#[server(prefix = "/portal/fn")]
pub async fn portal_event_types() -> Result<Vec<EventTypeDto>, AppError> {
    let (portal, consumer) = require_consumer()?;
    portal.event_types(&consumer).await
}

#[server(prefix = "/portal/fn")]
pub async fn portal_subscriptions() -> Result<Vec<SubscriptionDto>, AppError> {
    let (portal, consumer) = require_consumer()?;
    portal.subscriptions(&consumer).await
}

#[server(prefix = "/portal/fn")]
pub async fn portal_subscription(id: String) -> Result<SubscriptionDetailDto, AppError> {
    let (portal, consumer) = require_consumer()?;
    portal.subscription(&consumer, id).await
}

#[server(prefix = "/portal/fn")]
pub async fn portal_create_subscription(
    form: PortalSubscriptionFormDto,
) -> Result<SubscriptionDto, AppError> {
    let (portal, consumer) = require_consumer()?;
    let created = portal.create_subscription(&consumer, form).await?;
    leptos_axum::redirect(&format!("/portal/subscriptions/{}?created=1", created.id));
    Ok(created)
}

#[server(prefix = "/portal/fn")]
pub async fn portal_update_subscription(
    id: String,
    form: PortalSubscriptionFormDto,
) -> Result<(), AppError> {
    let (portal, consumer) = require_consumer()?;
    portal.update_subscription(&consumer, id, form).await
}

#[server(prefix = "/portal/fn")]
pub async fn portal_set_subscription_state(id: String, state: String) -> Result<(), AppError> {
    let (portal, consumer) = require_consumer()?;
    portal.set_subscription_state(&consumer, id, state).await
}

#[server(prefix = "/portal/fn")]
pub async fn portal_delete_subscription(id: String) -> Result<(), AppError> {
    let (portal, consumer) = require_consumer()?;
    portal.delete_subscription(&consumer, id).await?;
    leptos_axum::redirect("/portal");
    Ok(())
}

#[server(prefix = "/portal/fn")]
pub async fn portal_rotate_secret(id: String) -> Result<(), AppError> {
    let (portal, consumer) = require_consumer()?;
    portal.rotate_secret(&consumer, id).await
}

#[server(prefix = "/portal/fn")]
pub async fn portal_send_test_event(id: String) -> Result<i64, AppError> {
    let (portal, consumer) = require_consumer()?;
    portal.send_test_event(&consumer, id).await
}

// Unfiltered, a query has no fields to send: `default` lets it arrive empty.
#[server(prefix = "/portal/fn")]
pub async fn portal_deliveries(
    #[server(default)] query: DeliveryQuery,
) -> Result<DeliveryPageDto, AppError> {
    let (portal, consumer) = require_consumer()?;
    portal.deliveries(&consumer, query).await
}

#[server(prefix = "/portal/fn")]
pub async fn portal_delivery(id: i64) -> Result<DeliveryDetailDto, AppError> {
    let (portal, consumer) = require_consumer()?;
    portal.delivery(&consumer, id).await
}

#[server(prefix = "/portal/fn")]
pub async fn portal_redeliver(id: i64) -> Result<(), AppError> {
    let (portal, consumer) = require_consumer()?;
    portal.redeliver(&consumer, id).await
}

#[server(prefix = "/portal/fn")]
pub async fn portal_redeliver_failed_since(since: String) -> Result<u64, AppError> {
    let (portal, consumer) = require_consumer()?;
    portal.redeliver_failed_since(&consumer, since).await
}

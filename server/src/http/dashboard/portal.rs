//! The consumer portal's port: each operation first finds what it names within the signed-in
//! consumer's [`Scope`], then does what the dashboard does with it. Another consumer's ids are
//! "not found".

use app::backend::{Backend, Portal};
use app::dto::{
    DeliveryDetailDto, DeliveryPageDto, DeliveryQuery, EventTypeDto, PortalDto,
    PortalSubscriptionFormDto, SubscriptionDetailDto, SubscriptionDto,
};
use app::error::AppError;

use super::HubBackend;
use super::dtos::{event_type_dto, event_type_list, readable_body, subscription_dto};
use super::errors::{internal, sentence};
use crate::receiving::history::{self, DeliveryParams};
use crate::sending::consumers::{self, Scope};
use crate::sending::deliveries as redelivery;
use crate::sending::subscriptions::{self as sending, SubscriptionInput};
use crate::storage::catalog;
use crate::storage::states;
use crate::storage::subscriptions::Subscription;

/// Built-in event types (notices about subscriptions, the test event) are the operator's.
const BUILT_IN: &str = "hookhub.";

impl HubBackend {
    /// The consumer's own subscription `id`, or "not found".
    async fn theirs(&self, consumer: &str, id: &str) -> Result<Subscription, AppError> {
        Ok(Scope::new(consumer)
            .subscription(&self.0.hub.db, id)
            .await?)
    }

    /// The subscription as a consumer's form edits it; what they cannot set is kept.
    async fn portal_input(
        &self,
        consumer: &str,
        current: Option<String>,
        form: PortalSubscriptionFormDto,
    ) -> Result<SubscriptionInput, AppError> {
        let kept = match current {
            Some(id) => Some(self.theirs(consumer, &id).await?),
            None => None,
        };
        Ok(SubscriptionInput {
            url: form.url,
            description: form.description,
            event_types: event_type_list(&form.event_types),
            payload_filter: form.payload_filter,
            headers: kept
                .as_ref()
                .map(|s| s.headers.0.clone().into_iter().collect())
                .unwrap_or_default(),
            properties: kept
                .as_ref()
                .map(|s| s.properties.0.clone())
                .unwrap_or_default(),
            mode: kept.map(|s| states::word(s.mode)).unwrap_or_default(),
            secret: None,
            verify_echo: false,
            consumer: Some(consumer.to_owned()),
            all_consumers: false,
        })
    }
}

/// A subscription as its consumer sees it: headers and properties are the operator's to set,
/// and may hold the operator's credentials, so they are left out.
fn as_consumer_sees(subscription: SubscriptionDto) -> SubscriptionDto {
    SubscriptionDto {
        headers: Vec::new(),
        properties: Vec::new(),
        ..subscription
    }
}

#[async_trait::async_trait]
impl Portal for HubBackend {
    async fn frame(&self, consumer: &str) -> Result<PortalDto, AppError> {
        let found = consumers::find(&self.0.hub.db, consumer).await?;
        let settings = &self.0.hub.config.portal;
        Ok(PortalDto {
            operator_name: if settings.name.is_empty() {
                "Webhooks".to_owned()
            } else {
                settings.name.clone()
            },
            logo_url: settings.logo_url.clone(),
            consumer_id: found.id,
            consumer_name: found.name,
        })
    }

    async fn event_types(&self, _consumer: &str) -> Result<Vec<EventTypeDto>, AppError> {
        Ok(catalog::list(&self.0.hub.db)
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|t| !t.deprecated && !t.name.starts_with(BUILT_IN))
            .map(event_type_dto)
            .map(|t| EventTypeDto {
                example: t.example.and_then(|e| readable_body(e.as_bytes())),
                ..t
            })
            .collect())
    }

    async fn subscriptions(&self, consumer: &str) -> Result<Vec<SubscriptionDto>, AppError> {
        let theirs = Scope::new(consumer).subscriptions(&self.0.hub.db).await?;
        Ok(theirs
            .into_iter()
            .map(|s| as_consumer_sees(subscription_dto(s)))
            .collect())
    }

    async fn subscription(
        &self,
        consumer: &str,
        id: String,
    ) -> Result<SubscriptionDetailDto, AppError> {
        self.theirs(consumer, &id).await?;
        let mut detail = self.subscription_detail(id).await?;
        detail.subscription = as_consumer_sees(detail.subscription);
        if let Some(secrets) = detail.secrets.as_mut() {
            secrets.headers.clear();
        }
        Ok(detail)
    }

    async fn create_subscription(
        &self,
        consumer: &str,
        form: PortalSubscriptionFormDto,
    ) -> Result<SubscriptionDto, AppError> {
        let input = self.portal_input(consumer, None, form).await?;
        let created = sending::create(&self.0.hub.db, &self.0.hub.outbound, input).await?;
        Ok(subscription_dto(created))
    }

    async fn update_subscription(
        &self,
        consumer: &str,
        id: String,
        form: PortalSubscriptionFormDto,
    ) -> Result<(), AppError> {
        let input = self.portal_input(consumer, Some(id.clone()), form).await?;
        sending::update(&self.0.hub.db, &self.0.hub.outbound, &id, input).await?;
        Ok(())
    }

    async fn set_subscription_state(
        &self,
        consumer: &str,
        id: String,
        state: String,
    ) -> Result<(), AppError> {
        self.theirs(consumer, &id).await?;
        Backend::set_subscription_state(self, id, state).await
    }

    async fn delete_subscription(&self, consumer: &str, id: String) -> Result<(), AppError> {
        self.theirs(consumer, &id).await?;
        Backend::delete_subscription(self, id).await
    }

    async fn rotate_secret(&self, consumer: &str, id: String) -> Result<(), AppError> {
        self.theirs(consumer, &id).await?;
        self.rotate_subscription_secret(id).await
    }

    async fn send_test_event(&self, consumer: &str, id: String) -> Result<i64, AppError> {
        self.theirs(consumer, &id).await?;
        Backend::send_test_event(self, id).await
    }

    async fn deliveries(
        &self,
        consumer: &str,
        query: DeliveryQuery,
    ) -> Result<DeliveryPageDto, AppError> {
        self.list_deliveries(DeliveryQuery {
            consumer: Some(consumer.to_owned()),
            ..query
        })
        .await
    }

    async fn delivery(&self, consumer: &str, id: i64) -> Result<DeliveryDetailDto, AppError> {
        Scope::new(consumer).delivery(&self.0.hub.db, id).await?;
        self.delivery_detail(id).await
    }

    async fn redeliver(&self, consumer: &str, id: i64) -> Result<(), AppError> {
        Scope::new(consumer).delivery(&self.0.hub.db, id).await?;
        Backend::redeliver(self, id).await
    }

    async fn redeliver_failed_since(&self, consumer: &str, since: String) -> Result<u64, AppError> {
        if since.trim().is_empty() {
            return Err(AppError::invalid(
                "since",
                "Say since when, such as 2026-12-07 09:00.",
            ));
        }
        let filter = history::delivery_filter(DeliveryParams {
            consumer: Some(consumer.to_owned()),
            from: Some(since),
            limit: 1,
            ..Default::default()
        })
        .map_err(|e| AppError::invalid("since", sentence(&e.message)))?;
        Ok(redelivery::redeliver_matching(&self.0.hub, filter).await?)
    }
}

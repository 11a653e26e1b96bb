//! The port through which server functions reach the backend (ssr-only). The server crate
//! implements [`Backend`] and hands it in with `provide_context(BackendRef(..))`.

use std::sync::Arc;

use leptos::prelude::use_context;

use crate::dto::{
    ApiKeyDto, ConsumerDto, ConsumerFormDto, DeliveryDetailDto, DeliveryPageDto, DeliveryQuery,
    EventDetailDto, EventPageDto, EventQuery, EventTypeDto, EventTypeFormDto, HandlerChangeDto,
    HandlerDto, HealthDto, NewApiKeyDto, NewHandlerDto, OverviewDto, PortalDto, PortalLinkDto,
    PortalSubscriptionFormDto, PublishedDto, SourceDetailDto, SourceDto, SourceTestDto,
    SubscriptionDetailDto, SubscriptionDto, SubscriptionFormDto, UserDto,
};
use crate::error::AppError;
use crate::session::{AuthSession, PortalConsumer};

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn needs_setup(&self) -> Result<bool, AppError>;
    /// Creates the first admin; refused once any user exists.
    async fn set_up_admin(&self, username: String, password: String) -> Result<UserDto, AppError>;
    /// Checks a login, throttling repeated failures per user name and per client.
    async fn authenticate(
        &self,
        username: String,
        password: String,
        client: Option<String>,
    ) -> Result<UserDto, AppError>;
    async fn find_user(&self, id: i64) -> Result<Option<UserDto>, AppError>;
    async fn change_password(
        &self,
        user_id: i64,
        current: String,
        new: String,
    ) -> Result<UserDto, AppError>;
    async fn list_users(&self) -> Result<Vec<UserDto>, AppError>;
    async fn add_user(
        &self,
        username: String,
        password: String,
        is_admin: bool,
    ) -> Result<UserDto, AppError>;
    async fn remove_user(&self, acting_user_id: i64, id: i64) -> Result<(), AppError>;
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyDto>, AppError>;
    async fn create_api_key(&self, name: String) -> Result<NewApiKeyDto, AppError>;
    async fn revoke_api_key(&self, id: i64) -> Result<(), AppError>;
    /// The REST API's OpenAPI description, as JSON text.
    fn api_description(&self) -> &'static str;
    /// `host` is the Host the page was requested on, for the sample request's URL.
    async fn overview(&self, host: Option<String>) -> Result<OverviewDto, AppError>;
    /// The hub's figures, or one source's, or one subscription's.
    async fn health(
        &self,
        source: Option<String>,
        subscription: Option<String>,
    ) -> Result<HealthDto, AppError>;
    /// `host` is the Host the page was requested on, for endpoint URLs when no public URL is set.
    async fn list_sources(&self, host: Option<String>) -> Result<Vec<SourceDto>, AppError>;
    async fn create_source(
        &self,
        host: Option<String>,
        name: String,
        provider: String,
        secret: Option<String>,
        pusher_key: Option<String>,
    ) -> Result<SourceDto, AppError>;
    async fn source_detail(
        &self,
        host: Option<String>,
        id: String,
    ) -> Result<SourceDetailDto, AppError>;
    /// Renames a source and changes its provider settings (Pusher's key, Trello's callback URL).
    async fn update_source(
        &self,
        id: String,
        name: String,
        pusher_key: Option<String>,
        callback_url: Option<String>,
    ) -> Result<(), AppError>;
    async fn set_source_enabled(&self, id: String, enabled: bool) -> Result<(), AppError>;
    /// The new secret is generated when `secret` is `None`; the old one stays accepted.
    /// Sends the source a correctly signed sample request; `host` as for endpoint URLs.
    async fn test_source(
        &self,
        host: Option<String>,
        id: String,
    ) -> Result<SourceTestDto, AppError>;
    async fn rotate_source_secret(
        &self,
        id: String,
        secret: Option<String>,
    ) -> Result<(), AppError>;
    async fn drop_previous_secret(&self, id: String) -> Result<(), AppError>;
    async fn delete_source(&self, id: String) -> Result<(), AppError>;
    /// A source's own handlers, or the global ones for `None`.
    async fn list_handlers(&self, source_id: Option<String>) -> Result<Vec<HandlerDto>, AppError>;
    async fn add_handler(&self, new: NewHandlerDto) -> Result<HandlerDto, AppError>;
    /// Moves, narrows or switches a saved handler.
    async fn change_handler(&self, change: HandlerChangeDto) -> Result<HandlerDto, AppError>;
    async fn remove_handler(&self, source_id: Option<String>, id: String) -> Result<(), AppError>;
    async fn list_events(&self, query: EventQuery) -> Result<EventPageDto, AppError>;
    async fn event_detail(&self, id: i64) -> Result<EventDetailDto, AppError>;
    /// Runs again the handler runs that gave up: event `event_id`'s, or else those of every
    /// event of `source_id`. Answers how many.
    async fn retry_failed_runs(
        &self,
        event_id: Option<i64>,
        source_id: Option<String>,
    ) -> Result<u64, AppError>;

    async fn list_event_types(&self) -> Result<Vec<EventTypeDto>, AppError>;
    async fn create_event_type(&self, form: EventTypeFormDto) -> Result<EventTypeDto, AppError>;
    /// A blank `schema` removes it.
    async fn set_event_type_schema(
        &self,
        name: String,
        schema: String,
        schema_mode: String,
    ) -> Result<(), AppError>;
    async fn set_event_type_deprecated(
        &self,
        name: String,
        deprecated: bool,
    ) -> Result<(), AppError>;
    /// Publishes a message to every subscription that wants its type, addressed to a consumer
    /// (an id) or, blank, to nobody.
    async fn publish(
        &self,
        event_type: String,
        payload: String,
        consumer: String,
    ) -> Result<PublishedDto, AppError>;
    async fn list_consumers(&self) -> Result<Vec<ConsumerDto>, AppError>;
    async fn create_consumer(&self, form: ConsumerFormDto) -> Result<ConsumerDto, AppError>;
    async fn delete_consumer(&self, id: String) -> Result<(), AppError>;
    /// A link that signs the consumer in to their portal once; `host` as for endpoint URLs.
    async fn portal_link(
        &self,
        host: Option<String>,
        id: String,
    ) -> Result<PortalLinkDto, AppError>;
    /// Ends every portal link and session of the consumer.
    async fn rotate_portal_key(&self, id: String) -> Result<(), AppError>;
    async fn list_subscriptions(&self) -> Result<Vec<SubscriptionDto>, AppError>;
    async fn create_subscription(
        &self,
        form: SubscriptionFormDto,
    ) -> Result<SubscriptionDto, AppError>;
    async fn update_subscription(
        &self,
        id: String,
        form: SubscriptionFormDto,
    ) -> Result<(), AppError>;
    async fn subscription_detail(&self, id: String) -> Result<SubscriptionDetailDto, AppError>;
    /// Whether a payload filter matches a sample payload.
    async fn try_payload_filter(&self, filter: String, sample: String) -> Result<bool, AppError>;
    /// `state`: `active` (resume or re-enable) or `paused`.
    async fn set_subscription_state(&self, id: String, state: String) -> Result<(), AppError>;
    async fn delete_subscription(&self, id: String) -> Result<(), AppError>;
    /// A new secret signs from now on; the old one signs too for the overlap.
    async fn rotate_subscription_secret(&self, id: String) -> Result<(), AppError>;
    /// Sends a `hookhub.test` message to this subscription only; answers the delivery id.
    async fn send_test_event(&self, id: String) -> Result<i64, AppError>;
    /// Redelivers everything that failed for the subscription since `since`; answers how many.
    async fn redeliver_failed(&self, id: String, since: String) -> Result<u64, AppError>;
    /// Re-enables a disabled subscription and redelivers what failed since it was disabled.
    async fn reenable_and_redeliver(&self, id: String) -> Result<u64, AppError>;
    async fn list_deliveries(&self, query: DeliveryQuery) -> Result<DeliveryPageDto, AppError>;
    async fn delivery_detail(&self, id: i64) -> Result<DeliveryDetailDto, AppError>;
    async fn redeliver(&self, id: i64) -> Result<(), AppError>;
    /// Queues again every failed delivery the filters find (but disabled subscriptions');
    /// answers how many.
    async fn redeliver_matching(&self, query: DeliveryQuery) -> Result<u64, AppError>;
}

/// What a consumer's portal may do, always within the signed-in consumer's own subscriptions
/// and deliveries: another consumer's ids are "not found". The server crate implements it
/// and hands it in with `provide_context(PortalRef(..))`.
#[async_trait::async_trait]
pub trait Portal: Send + Sync + 'static {
    async fn frame(&self, consumer: &str) -> Result<PortalDto, AppError>;
    /// The event types they may subscribe to: the catalog's, but deprecated and built-in ones.
    async fn event_types(&self, consumer: &str) -> Result<Vec<EventTypeDto>, AppError>;
    async fn subscriptions(&self, consumer: &str) -> Result<Vec<SubscriptionDto>, AppError>;
    async fn subscription(
        &self,
        consumer: &str,
        id: String,
    ) -> Result<SubscriptionDetailDto, AppError>;
    async fn create_subscription(
        &self,
        consumer: &str,
        form: PortalSubscriptionFormDto,
    ) -> Result<SubscriptionDto, AppError>;
    async fn update_subscription(
        &self,
        consumer: &str,
        id: String,
        form: PortalSubscriptionFormDto,
    ) -> Result<(), AppError>;
    /// `active` or `paused`.
    async fn set_subscription_state(
        &self,
        consumer: &str,
        id: String,
        state: String,
    ) -> Result<(), AppError>;
    async fn delete_subscription(&self, consumer: &str, id: String) -> Result<(), AppError>;
    async fn rotate_secret(&self, consumer: &str, id: String) -> Result<(), AppError>;
    /// Answers the test delivery's id.
    async fn send_test_event(&self, consumer: &str, id: String) -> Result<i64, AppError>;
    async fn deliveries(
        &self,
        consumer: &str,
        query: DeliveryQuery,
    ) -> Result<DeliveryPageDto, AppError>;
    async fn delivery(&self, consumer: &str, id: i64) -> Result<DeliveryDetailDto, AppError>;
    async fn redeliver(&self, consumer: &str, id: i64) -> Result<(), AppError>;
    /// Queues again everything of theirs that failed since `since`; answers how many.
    async fn redeliver_failed_since(&self, consumer: &str, since: String) -> Result<u64, AppError>;
}

#[derive(Clone)]
pub struct BackendRef(pub Arc<dyn Backend>);

#[derive(Clone)]
pub struct PortalRef(pub Arc<dyn Portal>);

/// The portal and the consumer its session speaks for, or `Unauthorized`. Every portal server
/// function starts here; a dashboard session does not count.
pub fn require_consumer() -> Result<(Arc<dyn Portal>, String), AppError> {
    let portal = use_context::<PortalRef>()
        .map(|p| p.0)
        .ok_or(AppError::Internal)?;
    let consumer = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<PortalConsumer>().cloned())
        .ok_or(AppError::Unauthorized)?;
    Ok((portal, consumer.0))
}

pub fn backend() -> Result<Arc<dyn Backend>, AppError> {
    use_context::<BackendRef>()
        .map(|b| b.0)
        .ok_or(AppError::Internal)
}

/// The signed-in user, or `Unauthorized`. Every protected server function starts here.
pub async fn require_user() -> Result<(Arc<dyn Backend>, AuthSession, UserDto), AppError> {
    let backend = backend()?;
    let session = AuthSession::extract().await?;
    let user_id = session.user_id().await?.ok_or(AppError::Unauthorized)?;
    let user = backend
        .find_user(user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if !session.is_current_for(&user).await? {
        return Err(AppError::Unauthorized);
    }
    Ok((backend, session, user))
}

/// The Host header of the current request, for building endpoint URLs.
pub async fn request_host() -> Option<String> {
    leptos_axum::extract::<axum::http::HeaderMap>()
        .await
        .ok()?
        .get(axum::http::header::HOST)?
        .to_str()
        .ok()
        .map(str::to_owned)
}

pub async fn require_admin() -> Result<(Arc<dyn Backend>, UserDto), AppError> {
    let (backend, _, user) = require_user().await?;
    if !user.is_admin {
        return Err(AppError::admin_only());
    }
    Ok((backend, user))
}

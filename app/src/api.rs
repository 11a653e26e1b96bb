//! Server functions. Each one checks the session, calls the backend once, and returns a DTO.
//! `Login` and `SetUp` are the only ones callable without a session; the server's tests walk
//! every registered server function to prove the rest refuse.
//!
//! Roles are enforced here and nowhere else. A member may do everything an admin may except:
//! see or rotate secrets (source secrets, signing secrets, subscriber credentials), manage API
//! keys (a key can do anything on the REST API, so it is an admin's credential), and add or
//! remove users. Those functions start with `require_admin`, and the detail views drop their
//! secrets for a member.

use leptos::prelude::*;

use crate::dto::{
    ApiKeyDto, ConsumerDto, ConsumerFormDto, DeliveryDetailDto, DeliveryPageDto, DeliveryQuery,
    EventDetailDto, EventPageDto, EventQuery, EventTypeDto, HandlerChangeDto, HandlerDto,
    HealthDto, NewApiKeyDto, NewHandlerDto, OverviewDto, PortalLinkDto, PublishedDto,
    SourceDetailDto, SourceDto, SourceTestDto, SubscriptionDetailDto, SubscriptionDto,
    SubscriptionFormDto, UserDto,
};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    backend::{backend, request_host, require_admin, require_user},
    session::AuthSession,
};

/// Paths of the server functions that work without a session.
pub fn public_paths() -> [&'static str; 2] {
    use server_fn::ServerFn;
    [<LogIn as ServerFn>::PATH, <SetUp as ServerFn>::PATH]
}

#[server]
pub async fn log_in(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;

    let backend = backend()?;
    let client = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .ok()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    let user = backend.authenticate(username, password, client).await?;
    AuthSession::extract().await?.log_in(&user).await?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Only same-site paths are followed after login, never another origin. Browsers drop tabs and
/// newlines from URLs (`/\t/evil` becomes `//evil`), so only visible ASCII is accepted.
#[cfg(feature = "ssr")]
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[server]
pub async fn set_up(username: String, password: String, confirm: String) -> Result<(), AppError> {
    if password != confirm {
        return Err(AppError::invalid("confirm", "The passwords do not match."));
    }
    let user = backend()?.set_up_admin(username, password).await?;
    AuthSession::extract().await?.log_in(&user).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server]
pub async fn log_out() -> Result<(), AppError> {
    let (_, session, _) = require_user().await?;
    session.log_out().await?;
    leptos_axum::redirect("/login");
    Ok(())
}

#[server]
pub async fn current_user() -> Result<UserDto, AppError> {
    let (_, _, user) = require_user().await?;
    Ok(user)
}

/// The figures of the hub, or of one source or one subscription: `None` for both is the hub's.
#[server]
pub async fn health(
    source: Option<String>,
    subscription: Option<String>,
) -> Result<HealthDto, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.health(source, subscription).await
}

#[server]
pub async fn overview() -> Result<OverviewDto, AppError> {
    let (backend, _, user) = require_user().await?;
    let overview = backend.overview(request_host().await).await?;
    Ok(if user.is_admin {
        overview
    } else {
        overview.without_secrets()
    })
}

#[server]
pub async fn change_password(
    current: String,
    new: String,
    confirm: String,
) -> Result<(), AppError> {
    let (backend, session, user) = require_user().await?;
    if new != confirm {
        return Err(AppError::invalid(
            "confirm",
            "The new passwords do not match.",
        ));
    }
    let user = backend.change_password(user.id, current, new).await?;
    session.renew(&user).await
}

#[server]
pub async fn list_users() -> Result<Vec<UserDto>, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.list_users().await
}

#[server]
pub async fn add_user(
    username: String,
    password: String,
    is_admin: Option<String>,
) -> Result<UserDto, AppError> {
    let (backend, _) = require_admin().await?;
    backend
        .add_user(username, password, is_admin.is_some())
        .await
}

#[server]
pub async fn remove_user(id: i64) -> Result<(), AppError> {
    let (backend, admin) = require_admin().await?;
    backend.remove_user(admin.id, id).await
}

/// The REST API's OpenAPI description, for the reference page.
#[server]
pub async fn api_description() -> Result<String, AppError> {
    let (backend, _, _) = require_user().await?;
    Ok(backend.api_description().to_owned())
}

#[server]
pub async fn list_api_keys() -> Result<Vec<ApiKeyDto>, AppError> {
    let (backend, _) = require_admin().await?;
    backend.list_api_keys().await
}

#[server]
pub async fn create_api_key(name: String) -> Result<NewApiKeyDto, AppError> {
    let (backend, _) = require_admin().await?;
    backend.create_api_key(name).await
}

#[server]
pub async fn revoke_api_key(id: i64) -> Result<(), AppError> {
    let (backend, _) = require_admin().await?;
    backend.revoke_api_key(id).await
}

#[server]
pub async fn list_sources() -> Result<Vec<SourceDto>, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.list_sources(request_host().await).await
}

#[server]
pub async fn create_source(
    name: String,
    provider: String,
    secret: Option<String>,
    pusher_key: Option<String>,
) -> Result<SourceDto, AppError> {
    let (backend, _, _) = require_user().await?;
    backend
        .create_source(
            request_host().await,
            name,
            provider,
            given(secret),
            given(pusher_key),
        )
        .await
}

#[server]
pub async fn source_detail(id: String) -> Result<SourceDetailDto, AppError> {
    let (backend, _, user) = require_user().await?;
    let detail = backend.source_detail(request_host().await, id).await?;
    Ok(if user.is_admin {
        detail
    } else {
        detail.without_secrets()
    })
}

/// Blank form fields mean "not given".
#[cfg(feature = "ssr")]
fn given(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

#[server]
pub async fn update_source(
    id: String,
    name: String,
    pusher_key: Option<String>,
    callback_url: Option<String>,
) -> Result<(), AppError> {
    let (backend, _, _) = require_user().await?;
    backend
        .update_source(id, name, given(pusher_key), given(callback_url))
        .await
}

#[server]
pub async fn set_source_enabled(id: String, enabled: bool) -> Result<(), AppError> {
    let (backend, _, _) = require_user().await?;
    backend.set_source_enabled(id, enabled).await
}

#[server]
pub async fn rotate_source_secret(id: String, secret: Option<String>) -> Result<(), AppError> {
    let (backend, _) = require_admin().await?;
    backend.rotate_source_secret(id, given(secret)).await
}

/// Sends the source a correctly signed sample request, as its provider would, and says what
/// became of it.
#[server]
pub async fn test_source(id: String) -> Result<SourceTestDto, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.test_source(request_host().await, id).await
}

/// Whether a payload filter matches a sample payload (the "try it" box).
#[server]
pub async fn try_payload_filter(filter: String, sample: String) -> Result<bool, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.try_payload_filter(filter, sample).await
}

#[server]
pub async fn drop_previous_secret(id: String) -> Result<(), AppError> {
    let (backend, _) = require_admin().await?;
    backend.drop_previous_secret(id).await
}

#[server]
pub async fn delete_source(id: String) -> Result<(), AppError> {
    let (backend, _, _) = require_user().await?;
    backend.delete_source(id).await?;
    leptos_axum::redirect("/sources?deleted=1");
    Ok(())
}

#[server]
pub async fn list_handlers(source_id: Option<String>) -> Result<Vec<HandlerDto>, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.list_handlers(given(source_id)).await
}

#[server]
pub async fn add_handler(handler: NewHandlerDto) -> Result<HandlerDto, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.add_handler(handler).await
}

#[server]
pub async fn change_handler(change: HandlerChangeDto) -> Result<HandlerDto, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.change_handler(change).await
}

#[server]
pub async fn remove_handler(source_id: Option<String>, id: String) -> Result<(), AppError> {
    let (backend, _, _) = require_user().await?;
    backend.remove_handler(given(source_id), id).await
}

// Unfiltered, a query has no fields to send: `default` lets it arrive empty.
#[server]
pub async fn list_events(#[server(default)] query: EventQuery) -> Result<EventPageDto, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.list_events(query).await
}

#[server]
pub async fn event_detail(id: i64) -> Result<EventDetailDto, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.event_detail(id).await
}

/// Runs again the failed handler runs of one event (`event_id`) or of a source's events.
#[server]
pub async fn retry_failed_runs(
    event_id: Option<i64>,
    source_id: Option<String>,
) -> Result<u64, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.retry_failed_runs(event_id, given(source_id)).await
}

#[server]
pub async fn list_event_types() -> Result<Vec<EventTypeDto>, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.list_event_types().await
}

#[server]
pub async fn create_event_type(
    name: String,
    description: String,
    example: Option<String>,
    schema: Option<String>,
    schema_mode: Option<String>,
) -> Result<EventTypeDto, AppError> {
    let (backend, _, _) = require_user().await?;
    let form = crate::dto::EventTypeFormDto {
        name,
        description,
        example: example.unwrap_or_default(),
        schema: schema.unwrap_or_default(),
        schema_mode: schema_mode.unwrap_or_default(),
    };
    backend.create_event_type(form).await
}

/// Sets (or, blank, removes) an event type's schema and its mode.
#[server]
pub async fn set_event_type_schema(
    name: String,
    schema: String,
    schema_mode: String,
) -> Result<(), AppError> {
    let (backend, _, _) = require_user().await?;
    backend
        .set_event_type_schema(name, schema, schema_mode)
        .await
}

#[server]
pub async fn set_event_type_deprecated(name: String, deprecated: bool) -> Result<(), AppError> {
    let (backend, _, _) = require_user().await?;
    backend.set_event_type_deprecated(name, deprecated).await
}

#[server]
pub async fn publish_message(
    event_type: String,
    payload: String,
    #[server(default)] consumer: String,
) -> Result<PublishedDto, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.publish(event_type, payload, consumer).await
}

#[server]
pub async fn list_consumers() -> Result<Vec<ConsumerDto>, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.list_consumers().await
}

#[server]
pub async fn create_consumer(form: ConsumerFormDto) -> Result<ConsumerDto, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.create_consumer(form).await
}

#[server]
pub async fn delete_consumer(id: String) -> Result<(), AppError> {
    let (backend, _, _) = require_user().await?;
    backend.delete_consumer(id).await
}

/// A link that signs the consumer in to their portal: a credential, so for admins only.
#[server]
pub async fn portal_link(id: String) -> Result<PortalLinkDto, AppError> {
    let (backend, _) = require_admin().await?;
    backend.portal_link(request_host().await, id).await
}

#[server]
pub async fn rotate_portal_key(id: String) -> Result<(), AppError> {
    let (backend, _) = require_admin().await?;
    backend.rotate_portal_key(id).await
}

#[server]
pub async fn list_subscriptions() -> Result<Vec<SubscriptionDto>, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.list_subscriptions().await
}

#[server]
pub async fn create_subscription(form: SubscriptionFormDto) -> Result<SubscriptionDto, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.create_subscription(form).await
}

#[server]
pub async fn update_subscription(id: String, form: SubscriptionFormDto) -> Result<(), AppError> {
    let (backend, _, _) = require_user().await?;
    backend.update_subscription(id, form).await
}

#[server]
pub async fn subscription_detail(id: String) -> Result<SubscriptionDetailDto, AppError> {
    let (backend, _, user) = require_user().await?;
    let detail = backend.subscription_detail(id).await?;
    Ok(if user.is_admin {
        detail
    } else {
        detail.without_secrets()
    })
}

#[server]
pub async fn set_subscription_state(id: String, state: String) -> Result<(), AppError> {
    let (backend, _, _) = require_user().await?;
    backend.set_subscription_state(id, state).await
}

#[server]
pub async fn delete_subscription(id: String) -> Result<(), AppError> {
    let (backend, _, _) = require_user().await?;
    backend.delete_subscription(id).await?;
    leptos_axum::redirect("/subscriptions?deleted=1");
    Ok(())
}

#[server]
pub async fn rotate_subscription_secret(id: String) -> Result<(), AppError> {
    let (backend, _) = require_admin().await?;
    backend.rotate_subscription_secret(id).await
}

#[server]
pub async fn send_test_event(id: String) -> Result<i64, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.send_test_event(id).await
}

#[server]
pub async fn redeliver_failed(id: String, since: String) -> Result<u64, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.redeliver_failed(id, since).await
}

#[server]
pub async fn reenable_and_redeliver(id: String) -> Result<u64, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.reenable_and_redeliver(id).await
}

// Unfiltered, a query has no fields to send: `default` lets it arrive empty.
#[server]
pub async fn list_deliveries(
    #[server(default)] query: DeliveryQuery,
) -> Result<DeliveryPageDto, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.list_deliveries(query).await
}

#[server]
pub async fn delivery_detail(id: i64) -> Result<DeliveryDetailDto, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.delivery_detail(id).await
}

#[server]
pub async fn redeliver(id: i64) -> Result<(), AppError> {
    let (backend, _, _) = require_user().await?;
    backend.redeliver(id).await
}

#[server]
pub async fn redeliver_matching(#[server(default)] query: DeliveryQuery) -> Result<u64, AppError> {
    let (backend, _, _) = require_user().await?;
    backend.redeliver_matching(query).await
}

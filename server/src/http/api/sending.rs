//! The sending side of the REST API: the event-type catalog, subscriptions, publishing
//! messages, and the deliveries with their attempts and redelivery.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Authenticated, rfc3339};
use crate::AppState;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::receiving::history::{self, DeliveryParams, parse_instant};
use crate::sending::catalog as domain_catalog;
use crate::sending::credentials;
use crate::sending::deliveries as redelivery;
use crate::sending::subscriptions::{self as domain, SubscriptionInput};
use crate::storage::catalog::{self, EventType};
use crate::storage::deliveries::{self, Delivery, Published};
use crate::storage::subscriptions::{self, Subscription};

type Answer = Result<Json<Value>, ApiError>;
type Rejection<T> = Result<T, axum::extract::rejection::QueryRejection>;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
}

// ---- event types ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEventType {
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn create_event_type(
    _: Authenticated,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewEventType>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let created = domain_catalog::create(&state.hub.db, &body.name, &body.description).await?;
    Ok((StatusCode::CREATED, Json(event_type_json(&created))))
}

pub async fn list_event_types(_: Authenticated, State(state): State<AppState>) -> Answer {
    let types = catalog::list(&state.hub.db)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(
        json!({ "data": types.iter().map(event_type_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchEventType {
    description: Option<String>,
    deprecated: Option<bool>,
}

pub async fn patch_event_type(
    _: Authenticated,
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<PatchEventType>,
) -> Answer {
    let updated = domain_catalog::update(
        &state.hub.db,
        &name,
        body.description.as_deref(),
        body.deprecated,
    )
    .await?;
    Ok(Json(event_type_json(&updated)))
}

fn event_type_json(t: &EventType) -> Value {
    json!({
        "name": t.name,
        "description": t.description,
        "deprecated": t.deprecated,
        "created_at": rfc3339(t.created_at),
    })
}

// ---- subscriptions ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionBody {
    url: String,
    event_types: Vec<String>,
    secret: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    properties: Map<String, Value>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    verify_echo: bool,
}

impl From<SubscriptionBody> for SubscriptionInput {
    fn from(body: SubscriptionBody) -> Self {
        Self {
            url: body.url,
            description: body.description,
            event_types: body.event_types,
            headers: body.headers.into_iter().collect(),
            properties: body.properties,
            mode: body.mode,
            secret: body.secret,
            verify_echo: body.verify_echo,
        }
    }
}

pub async fn create_subscription(
    _: Authenticated,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SubscriptionBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let created = domain::create(&state.hub.db, &state.hub.outbound, body.into()).await?;
    let mut json = subscription_json(&created);
    // The one answer that carries the secret: the subscriber needs it to verify.
    json["secret"] = Value::String(created.secret.clone());
    Ok((StatusCode::CREATED, Json(json)))
}

pub async fn list_subscriptions(_: Authenticated, State(state): State<AppState>) -> Answer {
    let all = subscriptions::list(&state.hub.db)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(
        json!({ "data": all.iter().map(subscription_json).collect::<Vec<_>>() }),
    ))
}

pub async fn get_subscription(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer {
    Ok(Json(subscription_json(
        &find_subscription(&state, &id).await?,
    )))
}

/// Edits replace the URL, filters, headers, properties, description and mode; a `state` of
/// `active` or `paused` resumes or pauses.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchSubscription {
    url: Option<String>,
    event_types: Option<Vec<String>>,
    headers: Option<BTreeMap<String, String>>,
    properties: Option<Map<String, Value>>,
    description: Option<String>,
    mode: Option<String>,
    state: Option<String>,
}

pub async fn patch_subscription(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchSubscription>,
) -> Answer {
    let current = find_subscription(&state, &id).await?;
    let mut updated = current.clone();
    if body.url.is_some()
        || body.event_types.is_some()
        || body.headers.is_some()
        || body.properties.is_some()
        || body.description.is_some()
        || body.mode.is_some()
    {
        let input = SubscriptionInput {
            url: body.url.unwrap_or(current.url.clone()),
            description: body.description.unwrap_or(current.description.clone()),
            event_types: body
                .event_types
                .unwrap_or_else(|| stored(&current.event_types)),
            headers: body
                .headers
                .unwrap_or_else(|| stored(&current.headers))
                .into_iter()
                .collect(),
            properties: body
                .properties
                .unwrap_or_else(|| stored(&current.properties)),
            mode: body.mode.unwrap_or(current.mode.clone()),
            secret: None,
            verify_echo: false,
        };
        updated = domain::update(&state.hub.db, &state.hub.outbound, &id, input).await?;
    }
    if let Some(new_state) = body.state {
        updated = domain::set_state(&state.hub, &id, &new_state).await?;
    }
    Ok(Json(subscription_json(&updated)))
}

pub async fn delete_subscription(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    domain::delete(&state.hub.db, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    secret: Option<String>,
}

/// The new secret signs from now on; the old one too until the overlap ends.
pub async fn rotate_subscription_secret(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RotateSecret>,
) -> Answer {
    let rotated = domain::rotate_secret(&state.hub, &id, body.secret).await?;
    let mut json = subscription_json(&rotated);
    json["secret"] = Value::String(rotated.secret.clone());
    Ok(Json(json))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeliverFailed {
    /// RFC 3339; failed deliveries created at or after it are queued again.
    since: String,
}

pub async fn redeliver_failed(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RedeliverFailed>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let since = parse_instant(body.since.trim()).map_err(|e| invalid(format!("since: {e}")))?;
    let queued = redelivery::redeliver_failed(&state.hub, &id, since).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "queued": queued }))))
}

fn stored<T: serde::de::DeserializeOwned + Default>(json: &str) -> T {
    serde_json::from_str(json).unwrap_or_default()
}

async fn find_subscription(state: &AppState, id: &str) -> Result<Subscription, ApiError> {
    subscriptions::find(&state.hub.db, id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such subscription"))
}

fn subscription_json(s: &Subscription) -> Value {
    let parse = |json: &str| serde_json::from_str::<Value>(json).unwrap_or(Value::Null);
    json!({
        "id": s.id,
        "url": credentials::redact_url(&s.url),
        "description": s.description,
        "event_types": parse(&s.event_types),
        "headers": stored::<BTreeMap<String, String>>(&s.headers)
            .into_iter()
            .map(credentials::redact_header)
            .collect::<BTreeMap<_, _>>(),
        "properties": parse(&s.properties),
        "mode": s.mode,
        "state": s.state,
        "disabled_reason": s.disabled_reason,
        "disabled_at": s.disabled_at.and_then(rfc3339),
        "previous_secret_until": s.previous_secret_until.and_then(rfc3339),
        "created_at": rfc3339(s.created_at),
        "updated_at": rfc3339(s.updated_at),
    })
}

// ---- messages ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    event_type: String,
    payload: Value,
}

/// `POST /messages`: answered 202 once the message and its deliveries are committed. The same
/// `Idempotency-Key` again answers the first message's id and sends nothing more.
pub async fn publish(
    _: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewMessage>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = match headers.get("idempotency-key") {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))?
                .to_owned(),
        ),
        None => None,
    };
    let hub = &state.hub;
    let published = domain::publish(
        &hub.db,
        &hub.deliveries,
        &body.event_type,
        &body.payload,
        key,
    )
    .await?;
    Ok(match published {
        Published::New {
            message_id,
            deliveries,
        } => (
            StatusCode::ACCEPTED,
            Json(json!({ "id": message_id, "deliveries": deliveries, "duplicate": false })),
        ),
        Published::Existing { message_id } => (
            StatusCode::ACCEPTED,
            Json(json!({ "id": message_id, "duplicate": true })),
        ),
    })
}

// ---- deliveries ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListDeliveries {
    subscription: Option<String>,
    status: Option<String>,
    event_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<i64>,
    limit: Option<u64>,
}

pub async fn list_deliveries(
    _: Authenticated,
    State(state): State<AppState>,
    query: Rejection<Query<ListDeliveries>>,
) -> Answer {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=250).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 250"));
    }
    let filter = history::delivery_filter(DeliveryParams {
        subscription: query.subscription,
        status: query.status,
        event_type: query.event_type,
        from: query.from,
        to: query.to,
        before: query.cursor,
        limit,
    })
    .map_err(|e| ApiError::bad_request(format!("{}: {}", e.field, e.message)))?;
    let page = deliveries::list(&state.hub.db, filter)
        .await
        .map_err(ApiError::internal)?;
    let next_cursor = (page.len() as u64 == limit)
        .then(|| page.last().map(|d| d.id))
        .flatten();
    Ok(Json(json!({
        "data": page.iter().map(delivery_json).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

pub async fn get_delivery(
    _: Authenticated,
    State(state): State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Answer {
    let Path(id) = id.map_err(|_| ApiError::bad_request("a delivery id is a whole number"))?;
    let delivery = deliveries::find(&state.hub.db, id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such delivery"))?;
    let attempts = deliveries::attempts(&state.hub.db, id)
        .await
        .map_err(ApiError::internal)?;
    let mut json = delivery_json(&delivery);
    json["attempts"] = attempts
        .iter()
        .map(|a| {
            let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
            json!({
                "started_at": rfc3339(a.started_at),
                "duration_ms": a.duration_ms,
                "request_headers": parse(&a.request_headers),
                "response_status": a.response_status,
                "response_headers": a.response_headers.as_deref().map(parse),
                "response_body": a.response_body.as_deref().map(String::from_utf8_lossy),
                "error": a.error,
            })
        })
        .collect();
    Ok(Json(json))
}

pub async fn redeliver(
    _: Authenticated,
    State(state): State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::bad_request("a delivery id is a whole number"))?;
    redelivery::redeliver(&state.hub, id).await?;
    Ok(StatusCode::ACCEPTED)
}

fn delivery_json(d: &Delivery) -> Value {
    json!({
        "id": d.id,
        "message_id": d.message_id,
        "subscription_id": d.subscription_id,
        "event_type": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": (d.status == deliveries::PENDING).then(|| rfc3339(d.next_attempt_at)),
        "last_status": d.last_status,
        "last_error": d.last_error,
        "created_at": rfc3339(d.created_at),
    })
}

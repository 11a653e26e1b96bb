//! The sending side of the REST API: the event-type catalog, subscriptions, publishing
//! messages, and the deliveries with their attempts and redelivery.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{Authenticated, List, Page, Queued, page_limit, rfc3339};
use crate::AppState;
use crate::error::Detail;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::receiving::history::{self, DeliveryParams, parse_instant};
use crate::sending::catalog as domain_catalog;
use crate::sending::credentials;
use crate::sending::deliveries as redelivery;
use crate::sending::subscriptions::{self as domain, SubscriptionInput};
use crate::storage::catalog::{self, EventType};
use crate::storage::columns::HeaderPairs;
use crate::storage::deliveries::{self, Attempt, Delivery};
use crate::storage::messages::Published;
use crate::storage::states::{self, DeliveryStatus, SigningMode, SubscriptionState};
use crate::storage::subscriptions::{self, Subscription};

type Answer<T> = Result<Json<T>, ApiError>;
type Rejection<T> = Result<T, axum::extract::rejection::QueryRejection>;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
}

// ---- event types ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEventType {
    /// Dot-separated segments of letters, digits, `_` and `-`, such as `invoice.paid`.
    #[schema(pattern = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$", max_length = 128)]
    name: String,
    #[serde(default)]
    description: String,
    /// An example payload: any JSON.
    example: Option<Value>,
    /// A JSON Schema (draft 2020-12) every payload of this type must match: an object, or
    /// `true` or `false`.
    #[schema(value_type = Option<Value>)]
    schema: Option<Value>,
    /// `enforce` (the default): a payload that does not match is refused with a 422; `warn`:
    /// it is published, and the answer and the message list the mismatches.
    #[serde(default)]
    #[schema(pattern = "^(enforce|warn)?$")]
    schema_mode: String,
}

#[utoipa::path(post, path = "/event-types", tag = "event types", request_body = NewEventType,
    responses((status = 201, body = EventTypeOut)))]
pub async fn create_event_type(
    _: Authenticated,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewEventType>,
) -> Result<(StatusCode, Json<EventTypeOut>), ApiError> {
    let example = body.example.map(|example| example.to_string());
    let schema = body.schema.map(|schema| schema.to_string());
    let created = domain_catalog::create(
        &state.hub.db,
        domain_catalog::NewType {
            name: &body.name,
            description: &body.description,
            example: example.as_deref(),
            schema: schema.as_deref(),
            schema_mode: &body.schema_mode,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// The catalog.
#[utoipa::path(get, path = "/event-types", tag = "event types",
    responses((status = 200, body = List<EventTypeOut>)))]
pub async fn list_event_types(
    _: Authenticated,
    State(state): State<AppState>,
) -> Answer<List<EventTypeOut>> {
    let types = catalog::list(&state.hub.db)
        .await
        .map_err(ApiError::from_db)?;
    Ok(Json(List {
        data: types.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchEventType {
    description: Option<String>,
    deprecated: Option<bool>,
    /// A new example payload; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Value>)]
    example: Option<Option<Value>>,
    /// A new JSON Schema; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Value>)]
    schema: Option<Option<Value>>,
    /// `enforce` or `warn`; blank is `enforce`.
    #[schema(pattern = "^(enforce|warn)?$")]
    schema_mode: Option<String>,
}

/// A field that may be left out (`None`) or set to `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Value>>, D::Error> {
    Option::<Value>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToValidate {
    /// Any JSON, as it would be published.
    payload: Value,
}

#[derive(Serialize, ToSchema)]
pub struct Validation {
    /// Whether the payload matches (always, for a type without a schema).
    valid: bool,
    /// Whether the type has a schema to check against.
    has_schema: bool,
    /// Where and why it does not match; the first 20.
    errors: Vec<Detail>,
}

/// Checks a payload against the type's schema without publishing it.
#[utoipa::path(post, path = "/event-types/{name}/validate", tag = "event types",
    params(("name" = String, Path, description = "The event type's name")),
    request_body = ToValidate, responses((status = 200, body = Validation)))]
pub async fn validate_payload(
    _: Authenticated,
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<ToValidate>,
) -> Answer<Validation> {
    let (has_schema, errors) =
        domain_catalog::validate(&state.hub.db, &name, &body.payload).await?;
    Ok(Json(Validation {
        valid: errors.is_empty(),
        has_schema,
        errors,
    }))
}

#[utoipa::path(patch, path = "/event-types/{name}", tag = "event types",
    params(("name" = String, Path, description = "The event type's name")),
    request_body = PatchEventType, responses((status = 200, body = EventTypeOut)))]
pub async fn patch_event_type(
    _: Authenticated,
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<PatchEventType>,
) -> Answer<EventTypeOut> {
    // A removed example or schema is a blank one to the use case.
    let text =
        |value: Option<Option<Value>>| value.map(|v| v.map(|v| v.to_string()).unwrap_or_default());
    let (example, schema) = (text(body.example), text(body.schema));
    let change = domain_catalog::Change {
        description: body.description.as_deref(),
        deprecated: body.deprecated,
        example: example.as_deref(),
        schema: schema.as_deref(),
        schema_mode: body.schema_mode.as_deref(),
    };
    let updated = domain_catalog::update(&state.hub.db, &name, change).await?;
    Ok(Json(updated.into()))
}

#[derive(Serialize, ToSchema)]
pub struct EventTypeOut {
    name: String,
    description: String,
    deprecated: bool,
    /// An example payload, as the JSON it is.
    example: Option<Value>,
    /// The JSON Schema its payloads must match, if any.
    #[schema(value_type = Option<Value>)]
    schema: Option<Value>,
    /// `enforce` or `warn`: what a payload that does not match the schema meets.
    schema_mode: String,
    created_at: Option<String>,
}

impl From<EventType> for EventTypeOut {
    fn from(t: EventType) -> Self {
        Self {
            created_at: rfc3339(t.created_at),
            example: t.example.and_then(|text| serde_json::from_str(&text).ok()),
            schema: t.schema.and_then(|text| serde_json::from_str(&text).ok()),
            schema_mode: t.schema_mode,
            name: t.name,
            description: t.description,
            deprecated: t.deprecated,
        }
    }
}

// ---- subscriptions ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionBody {
    url: String,
    /// Names or patterns such as `invoice.*`; `*` is every type.
    event_types: Vec<String>,
    /// A condition on the payload, such as `data.amount > 100`; only messages that match are
    /// delivered. Absent, null or blank: every payload.
    payload_filter: Option<String>,
    /// Generated when left out.
    secret: Option<String>,
    /// Sent with every delivery.
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    properties: Map<String, Value>,
    #[serde(default)]
    description: String,
    /// `standard` (the default) or `aspnet`.
    #[serde(default)]
    mode: String,
    /// Send the ASP.NET echo challenge before saving.
    #[serde(default)]
    verify_echo: bool,
    /// The consumer it belongs to: it then receives only messages addressed to them.
    consumer: Option<String>,
    /// With no consumer: also receive messages addressed to any consumer.
    #[serde(default)]
    all_consumers: bool,
}

impl From<SubscriptionBody> for SubscriptionInput {
    fn from(body: SubscriptionBody) -> Self {
        Self {
            url: body.url,
            description: body.description,
            event_types: body.event_types,
            payload_filter: body.payload_filter.unwrap_or_default(),
            headers: body.headers.into_iter().collect(),
            properties: body.properties,
            mode: body.mode,
            secret: body.secret,
            verify_echo: body.verify_echo,
            consumer: body.consumer,
            all_consumers: body.all_consumers,
        }
    }
}

/// Creates a subscription; the answer carries its secret, this once.
#[utoipa::path(post, path = "/subscriptions", tag = "subscriptions", request_body = SubscriptionBody,
    responses((status = 201, body = SubscriptionOut)))]
pub async fn create_subscription(
    _: Authenticated,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SubscriptionBody>,
) -> Result<(StatusCode, Json<SubscriptionOut>), ApiError> {
    let created = domain::create(&state.hub.db, &state.hub.outbound, body.into()).await?;
    // The one answer that carries the secret: the subscriber needs it to verify.
    Ok((
        StatusCode::CREATED,
        Json(SubscriptionOut::with_secret(created)?),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListSubscriptions {
    /// A consumer's id: only their subscriptions.
    consumer: Option<String>,
}

#[utoipa::path(get, path = "/subscriptions", tag = "subscriptions", params(ListSubscriptions),
    responses((status = 200, body = List<SubscriptionOut>)))]
pub async fn list_subscriptions(
    _: Authenticated,
    State(state): State<AppState>,
    query: Rejection<Query<ListSubscriptions>>,
) -> Answer<List<SubscriptionOut>> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let db = &state.hub.db;
    let found = match query.consumer.as_deref().filter(|c| !c.is_empty()) {
        Some(consumer) => subscriptions::of_consumer(db, consumer).await,
        None => subscriptions::list(db).await,
    };
    let data = found
        .map_err(ApiError::from_db)?
        .into_iter()
        .map(SubscriptionOut::try_from)
        .collect::<Result<_, _>>()?;
    Ok(Json(List { data }))
}

#[utoipa::path(get, path = "/subscriptions/{id}", tag = "subscriptions", params(("id" = String, Path, description = "The subscription's id")),
    responses((status = 200, body = SubscriptionOut)))]
pub async fn get_subscription(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<SubscriptionOut> {
    Ok(Json(find_subscription(&state, &id).await?.try_into()?))
}

/// Edits replace the URL, filters, headers, properties, description and mode; a `state` of
/// `active` or `paused` resumes or pauses.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchSubscription {
    url: Option<String>,
    event_types: Option<Vec<String>>,
    /// Blank removes it.
    payload_filter: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    properties: Option<Map<String, Value>>,
    description: Option<String>,
    mode: Option<String>,
    /// `active` or `paused`.
    #[schema(pattern = "^(active|paused)$")]
    state: Option<String>,
    /// A consumer's id; blank for none.
    consumer: Option<String>,
    all_consumers: Option<bool>,
}

#[utoipa::path(patch, path = "/subscriptions/{id}", tag = "subscriptions", params(("id" = String, Path, description = "The subscription's id")),
    request_body = PatchSubscription, responses((status = 200, body = SubscriptionOut)))]
pub async fn patch_subscription(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchSubscription>,
) -> Answer<SubscriptionOut> {
    let current = find_subscription(&state, &id).await?;
    let mut updated = current.clone();
    if body.url.is_some()
        || body.event_types.is_some()
        || body.payload_filter.is_some()
        || body.headers.is_some()
        || body.properties.is_some()
        || body.description.is_some()
        || body.mode.is_some()
        || body.consumer.is_some()
        || body.all_consumers.is_some()
    {
        let input = SubscriptionInput {
            url: body.url.unwrap_or(current.url.clone()),
            description: body.description.unwrap_or(current.description.clone()),
            event_types: body.event_types.unwrap_or(current.event_types.0.clone()),
            payload_filter: body
                .payload_filter
                .or(current.payload_filter.clone())
                .unwrap_or_default(),
            headers: body
                .headers
                .unwrap_or(current.headers.0.clone())
                .into_iter()
                .collect(),
            properties: body.properties.unwrap_or(current.properties.0.clone()),
            mode: body.mode.unwrap_or_else(|| states::word(current.mode)),
            secret: None,
            verify_echo: false,
            consumer: body.consumer.or(current.consumer_id.clone()),
            all_consumers: body.all_consumers.unwrap_or(current.all_consumers),
        };
        updated = domain::update(&state.hub.db, &state.hub.outbound, &id, input).await?;
    }
    if let Some(new_state) = body.state {
        updated = domain::set_state(&state.hub, &id, &new_state).await?;
    }
    Ok(Json(updated.try_into()?))
}

/// Deletes the subscription with its deliveries.
#[utoipa::path(delete, path = "/subscriptions/{id}", tag = "subscriptions", params(("id" = String, Path, description = "The subscription's id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_subscription(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    domain::delete(&state.hub.db, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    secret: Option<String>,
}

/// The new secret signs from now on; the old one too until the overlap ends.
#[utoipa::path(post, path = "/subscriptions/{id}/rotate-secret", tag = "subscriptions", params(("id" = String, Path, description = "The subscription's id")),
    request_body = RotateSecret, responses((status = 200, body = SubscriptionOut)))]
pub async fn rotate_subscription_secret(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RotateSecret>,
) -> Answer<SubscriptionOut> {
    let rotated = domain::rotate_secret(&state.hub, &id, body.secret).await?;
    Ok(Json(SubscriptionOut::with_secret(rotated)?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeliverFailed {
    /// RFC 3339; failed deliveries created at or after it are queued again.
    since: String,
}

/// Queues again the subscription's failed deliveries created since a time.
#[utoipa::path(post, path = "/subscriptions/{id}/redeliver-failed", tag = "subscriptions", params(("id" = String, Path, description = "The subscription's id")),
    request_body = RedeliverFailed, responses((status = 202, body = Queued)))]
pub async fn redeliver_failed(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RedeliverFailed>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let since = parse_instant(body.since.trim()).map_err(|e| invalid(format!("since: {e}")))?;
    let queued = redelivery::redeliver_failed(&state.hub, &id, since).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { queued })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TryFilter {
    /// A payload filter, as a subscription would carry it.
    filter: String,
    /// A sample payload: any JSON.
    payload: Value,
}

#[derive(Serialize, ToSchema)]
pub struct FilterOutcome {
    /// Whether a message with this payload would be delivered to a subscription with this
    /// filter (its event types allowing).
    matches: bool,
}

/// Checks a payload filter and tries it on a sample payload; saves nothing. A filter with a
/// mistake is a 422 saying at which character and what was expected there.
#[utoipa::path(post, path = "/payload-filters/try", tag = "subscriptions",
    request_body = TryFilter, responses((status = 200, body = FilterOutcome)))]
pub async fn try_payload_filter(
    _: Authenticated,
    ApiJson(body): ApiJson<TryFilter>,
) -> Answer<FilterOutcome> {
    let matches = domain::try_payload_filter(&body.filter, &body.payload)?;
    Ok(Json(FilterOutcome { matches }))
}

async fn find_subscription(state: &AppState, id: &str) -> Result<Subscription, ApiError> {
    subscriptions::find(&state.hub.db, id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such subscription"))
}

#[derive(Serialize, ToSchema)]
pub struct SubscriptionOut {
    id: String,
    /// Credentials in the URL and the headers come back as `[redacted]`.
    url: String,
    description: String,
    event_types: Vec<String>,
    payload_filter: Option<String>,
    headers: BTreeMap<String, String>,
    properties: Map<String, Value>,
    mode: SigningMode,
    state: SubscriptionState,
    disabled_reason: Option<String>,
    disabled_at: Option<String>,
    previous_secret_until: Option<String>,
    /// The consumer it belongs to, if any.
    consumer: Option<String>,
    all_consumers: bool,
    created_at: Option<String>,
    updated_at: Option<String>,
    /// Only in the answers to creating it and rotating its secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl SubscriptionOut {
    fn with_secret(s: Subscription) -> Result<Self, ApiError> {
        let secret = s.secret.clone();
        Ok(Self {
            secret: Some(secret),
            ..Self::try_from(s)?
        })
    }
}

impl TryFrom<Subscription> for SubscriptionOut {
    type Error = ApiError;

    fn try_from(s: Subscription) -> Result<Self, ApiError> {
        Ok(Self {
            url: credentials::redact_url(&s.url),
            event_types: s.event_types.0,
            payload_filter: s.payload_filter,
            headers: s
                .headers
                .0
                .into_iter()
                .map(credentials::redact_header)
                .collect(),
            properties: s.properties.0,
            disabled_at: s.disabled_at.and_then(rfc3339),
            previous_secret_until: s.previous_secret_until.and_then(rfc3339),
            created_at: rfc3339(s.created_at),
            updated_at: rfc3339(s.updated_at),
            id: s.id.into(),
            description: s.description,
            mode: s.mode,
            state: s.state,
            disabled_reason: s.disabled_reason,
            consumer: s.consumer_id,
            all_consumers: s.all_consumers,
            secret: None,
        })
    }
}

// ---- messages ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// A type of the catalog.
    #[schema(pattern = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$", max_length = 128)]
    event_type: String,
    payload: Value,
    /// A consumer's id: the message goes only to their subscriptions (and to those of no
    /// consumer that take every consumer's). Left out: to the subscriptions of no consumer.
    consumer: Option<String>,
}

/// `POST /messages`: answered 202 once the message and its deliveries are committed. The same
/// `Idempotency-Key` again answers the first message's id and sends nothing more.
#[utoipa::path(post, path = "/messages", tag = "messages", request_body = NewMessage,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "The same key again answers the first message and sends nothing")),
    responses((status = 202, body = MessageOut)))]
pub async fn publish(
    _: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewMessage>,
) -> Result<(StatusCode, Json<MessageOut>), ApiError> {
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
    let publication = domain::publish(
        &hub.db,
        &hub.deliveries,
        &body.event_type,
        &body.payload,
        key,
        body.consumer.as_deref(),
    )
    .await?;
    let schema_errors = publication.schema_errors;
    let answer = match publication.published {
        Published::New {
            message_id,
            deliveries,
        } => MessageOut {
            id: message_id.into(),
            deliveries: Some(deliveries),
            duplicate: false,
            schema_errors,
        },
        Published::Existing { message_id } => MessageOut {
            id: message_id.into(),
            deliveries: None,
            duplicate: true,
            schema_errors,
        },
    };
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

#[derive(Serialize, ToSchema)]
pub struct MessageOut {
    id: String,
    /// How many deliveries it queued; left out for a duplicate, which queued none.
    #[serde(skip_serializing_if = "Option::is_none")]
    deliveries: Option<u64>,
    duplicate: bool,
    /// Where the payload does not match its type's schema, when that schema only warns (an
    /// enforced one refuses the message); left out when it matches.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    schema_errors: Vec<Detail>,
}

// ---- deliveries ----

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveries {
    /// A subscription's id.
    subscription: Option<String>,
    /// A consumer's id: the deliveries to their subscriptions.
    consumer: Option<String>,
    /// A message's id.
    message: Option<String>,
    /// `pending`, `succeeded` or `failed`; empty is any.
    #[param(pattern = "^(pending|succeeded|failed|)$")]
    status: Option<String>,
    event_type: Option<String>,
    /// A time (RFC 3339, or a date): created at or after.
    from: Option<String>,
    /// A time (RFC 3339, or a date): created before.
    to: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<i64>,
    /// 50 when left out.
    #[param(minimum = 1, maximum = 250)]
    limit: Option<u64>,
}

/// The deliveries, newest first, a page at a time; `attempts` is their count.
#[utoipa::path(get, path = "/deliveries", tag = "deliveries", params(ListDeliveries),
    responses((status = 200, body = Page<DeliveryOut>)))]
pub async fn list_deliveries(
    _: Authenticated,
    State(state): State<AppState>,
    query: Rejection<Query<ListDeliveries>>,
) -> Answer<Page<DeliveryOut>> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = page_limit(query.limit)?;
    let filter = history::delivery_filter(DeliveryParams {
        subscription: query.subscription,
        consumer: query.consumer,
        message: query.message,
        status: query.status,
        event_type: query.event_type,
        from: query.from,
        to: query.to,
        before: query.cursor,
        after: None,
        limit,
    })
    .map_err(|e| ApiError::bad_request(format!("{}: {}", e.field, e.message)))?;
    let page = deliveries::list(&state.hub.db, filter)
        .await
        .map_err(ApiError::from_db)?;
    Ok(Json(Page::of(page, limit, |d| d.id, DeliveryOut::from)))
}

/// The filters of a bulk redelivery: those of the list but the status (only failed ones are
/// sent again) and the paging.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeliverMatching {
    subscription: Option<String>,
    consumer: Option<String>,
    message: Option<String>,
    event_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `POST /api/v1/deliveries/redeliver`: queues again every failed delivery the filters find,
/// but disabled subscriptions'; 202 `{"queued": n}`.
#[utoipa::path(post, path = "/deliveries/redeliver", tag = "deliveries",
    request_body = RedeliverMatching, responses((status = 202, body = Queued)))]
pub async fn redeliver_matching(
    _: Authenticated,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RedeliverMatching>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let filter = history::delivery_filter(DeliveryParams {
        subscription: body.subscription,
        consumer: body.consumer,
        message: body.message,
        event_type: body.event_type,
        from: body.from,
        to: body.to,
        ..Default::default()
    })
    .map_err(|e| invalid(format!("{}: {}", e.field, e.message)))?;
    let queued = redelivery::redeliver_matching(&state.hub, filter).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { queued })))
}

/// One delivery with every attempt, oldest first.
#[utoipa::path(get, path = "/deliveries/{id}", tag = "deliveries", params(("id" = i64, Path, description = "The delivery's id")),
    responses((status = 200, body = DeliveryOut<Vec<AttemptOut>>)))]
pub async fn get_delivery(
    _: Authenticated,
    State(state): State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Answer<DeliveryOut<Vec<AttemptOut>>> {
    let Path(id) = id.map_err(|_| ApiError::bad_request("a delivery id is a whole number"))?;
    let delivery = deliveries::find(&state.hub.db, id)
        .await
        .map_err(ApiError::from_db)?
        .ok_or_else(|| ApiError::not_found("no such delivery"))?;
    let attempts = deliveries::attempts(&state.hub.db, id)
        .await
        .map_err(ApiError::from_db)?;
    let attempts = attempts
        .into_iter()
        .map(AttemptOut::try_from)
        .collect::<Result<_, _>>()?;
    Ok(Json(DeliveryOut::new(delivery, attempts)))
}

/// Queues the delivery again, whatever became of it.
#[utoipa::path(post, path = "/deliveries/{id}/redeliver", tag = "deliveries", params(("id" = i64, Path, description = "The delivery's id")),
    responses((status = 202, description = "Queued")))]
pub async fn redeliver(
    _: Authenticated,
    State(state): State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::bad_request("a delivery id is a whole number"))?;
    redelivery::redeliver(&state.hub, id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// A delivery; `attempts` is their count in lists and the attempts themselves, oldest first,
/// when it is read alone.
#[derive(Serialize, ToSchema)]
pub struct DeliveryOut<A = i32> {
    id: i64,
    message_id: String,
    subscription_id: String,
    event_type: String,
    status: DeliveryStatus,
    #[schema(inline)]
    attempts: A,
    /// While pending: when the next attempt is due.
    next_attempt_at: Option<String>,
    last_status: Option<i32>,
    last_error: Option<String>,
    created_at: Option<String>,
}

impl<A> DeliveryOut<A> {
    fn new(d: Delivery, attempts: A) -> Self {
        Self {
            next_attempt_at: (d.status == DeliveryStatus::Pending)
                .then_some(d.next_attempt_at)
                .and_then(rfc3339),
            created_at: rfc3339(d.created_at),
            id: d.id,
            message_id: d.message_id.into(),
            subscription_id: d.subscription_id.into(),
            event_type: d.event_type,
            status: d.status,
            attempts,
            last_status: d.last_status,
            last_error: d.last_error,
        }
    }
}

impl From<Delivery> for DeliveryOut {
    fn from(d: Delivery) -> Self {
        let attempts = d.attempts;
        Self::new(d, attempts)
    }
}

#[derive(Serialize, ToSchema)]
pub struct AttemptOut {
    started_at: Option<String>,
    duration_ms: i64,
    /// `[name, value]` pairs.
    #[schema(value_type = Vec<Vec<String>>)]
    request_headers: HeaderPairs,
    response_status: Option<i32>,
    #[schema(value_type = Option<Vec<Vec<String>>>)]
    response_headers: Option<HeaderPairs>,
    /// As text; bytes that are not UTF-8 are replaced.
    response_body: Option<String>,
    error: Option<String>,
}

impl TryFrom<Attempt> for AttemptOut {
    type Error = ApiError;

    fn try_from(a: Attempt) -> Result<Self, ApiError> {
        Ok(Self {
            started_at: rfc3339(a.started_at),
            duration_ms: a.duration_ms,
            request_headers: a.request_headers.0,
            response_status: a.response_status,
            response_headers: a.response_headers.map(|h| h.0),
            response_body: a
                .response_body
                .as_deref()
                .map(|body| String::from_utf8_lossy(body).into_owned()),
            error: a.error,
        })
    }
}

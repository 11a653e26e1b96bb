//! Subscriptions as people and scripts ask for them: checked (URL and its addresses, filters
//! against the catalog, headers, properties, mode), given a secret, stored; and the catalog and
//! publishing rules that go with them.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::credentials;
use super::filter::{self, EventPattern, EventType};
use super::payload_filter::PayloadFilter;
use super::schemas::{self, Mode};
use super::signing::SigningSecret;
use super::worker::DeliveryWorker;
use crate::Hub;
use crate::error::{Detail, Error, invalid};
use crate::ids::{MessageId, SubscriptionId};
use crate::outbound::{Outbound, validate_url};
use crate::storage::columns::JsonText;
use crate::storage::messages::{self, NewMessage, Published, Recipients, Select, Wants};
use crate::storage::states::{self, SigningMode, SubscriptionState};
use crate::storage::subscriptions::{self, NewSubscription, Subscription};
use crate::storage::{Db, catalog, consumers, now_millis};

const MAX_DESCRIPTION_CHARS: usize = 500;
const MAX_HEADERS: usize = 20;
const MAX_PROPERTIES: usize = 50;
const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// Headers the hub sets itself, or that describe the connection: a subscription cannot set them.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "connection",
    "transfer-encoding",
    "te",
    "upgrade",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "ms-signature",
];

/// A subscription as asked for.
#[derive(Debug, Default)]
pub struct SubscriptionInput {
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    /// A condition on the payload; blank for none.
    pub payload_filter: String,
    pub headers: Vec<(String, String)>,
    pub properties: Map<String, Value>,
    pub mode: String,
    /// Given by the caller, or generated.
    pub secret: Option<String>,
    /// Check that `GET url?echo=x` answers `x` before saving.
    pub verify_echo: bool,
    /// The consumer it belongs to (an id); blank or `None` for none.
    pub consumer: Option<String>,
    /// With no consumer: also receive messages addressed to any consumer.
    pub all_consumers: bool,
}

/// The checked, storable form of an input.
struct Checked {
    url: String,
    description: String,
    event_types: Vec<String>,
    payload_filter: Option<String>,
    headers: BTreeMap<String, String>,
    properties: Map<String, Value>,
    mode: SigningMode,
    consumer_id: Option<String>,
    all_consumers: bool,
}

async fn check(db: &Db, outbound: &Outbound, input: &SubscriptionInput) -> Result<Checked, Error> {
    let url = input.url.trim().to_owned();
    validate_url(&url).map_err(|e| invalid("url", e.to_string()))?;
    if input.description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(invalid("description", "at most 500 characters"));
    }
    let patterns = checked_filters(db, &input.event_types).await?;
    let payload_filter = checked_payload_filter(&input.payload_filter)?;
    if input.headers.len() > MAX_HEADERS {
        return Err(invalid("headers", format!("at most {MAX_HEADERS} headers")));
    }
    let mut headers = BTreeMap::new();
    for (name, value) in &input.headers {
        let name = name.trim().to_ascii_lowercase();
        if http::HeaderName::try_from(name.as_str()).is_err()
            || http::HeaderValue::try_from(value.trim()).is_err()
        {
            return Err(invalid(
                "headers",
                format!("`{name}: {value}` is not a valid header"),
            ));
        }
        if RESERVED_HEADERS.contains(&name.as_str()) {
            return Err(invalid(
                "headers",
                format!("`{name}` is set by the hub itself"),
            ));
        }
        headers.insert(name, value.trim().to_owned());
    }
    if input.properties.len() > MAX_PROPERTIES {
        return Err(invalid(
            "properties",
            format!("at most {MAX_PROPERTIES} properties"),
        ));
    }
    let consumer_id = checked_consumer(db, input.consumer.as_deref()).await?;
    if consumer_id.is_some() && input.all_consumers {
        return Err(invalid(
            "consumer",
            "a consumer's subscription receives only the messages addressed to that consumer, \
             so it cannot take every consumer's",
        ));
    }
    let mode = match input.mode.trim() {
        "" => SigningMode::Standard,
        mode => states::parse(mode).ok_or_else(|| invalid("mode", "standard or aspnet"))?,
    };
    // Last, as it may wait on DNS: every address the name resolves to must be allowed.
    outbound
        .check_destination(&url)
        .await
        .map_err(|e| invalid("url", e.to_string()))?;
    if input.verify_echo {
        verify_echo(outbound, &url).await?;
    }
    Ok(Checked {
        url,
        description: input.description.trim().to_owned(),
        event_types: patterns,
        payload_filter,
        headers,
        properties: input.properties.clone(),
        mode,
        consumer_id,
        all_consumers: input.all_consumers,
    })
}

/// A consumer named by id must exist; blank is none.
async fn checked_consumer(db: &Db, id: Option<&str>) -> Result<Option<String>, Error> {
    let Some(id) = id.map(str::trim).filter(|id| !id.is_empty()) else {
        return Ok(None);
    };
    match consumers::find(db, id).await? {
        Some(found) => Ok(Some(found.id)),
        None => Err(invalid(
            "consumer",
            format!("there is no consumer `{id}`; create it first"),
        )),
    }
}

/// Each filter must be a valid name or pattern, and select at least one type in the catalog, so
/// a typo is caught now rather than by a subscriber that never receives anything.
async fn checked_filters(db: &Db, filters: &[String]) -> Result<Vec<String>, Error> {
    let filters: Vec<String> = filters
        .iter()
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    if filters.is_empty() {
        return Err(invalid(
            "event_types",
            "choose at least one event type, or * for all",
        ));
    }
    let catalog = catalog::list(db).await?;
    for pattern in &filters {
        EventPattern::parse(pattern.clone())
            .map_err(|e| invalid("event_types", format!("`{pattern}`: {e}")))?;
        if pattern != "*" && !catalog.iter().any(|t| filter::matches(pattern, &t.name)) {
            return Err(invalid(
                "event_types",
                format!("`{pattern}` matches no event type in the catalog; add the type first"),
            ));
        }
    }
    Ok(filters)
}

/// ASP.NET WebHooks' check that the receiver is really ours: `GET url?echo=x` answers `x`.
async fn verify_echo(outbound: &Outbound, url: &str) -> Result<(), Error> {
    let challenge = crate::ids::random_id("", 24);
    let separator = if url.contains('?') { '&' } else { '?' };
    let result = outbound
        .get(&format!("{url}{separator}echo={challenge}"))
        .await;
    match (result.status, result.error) {
        (Some(200..=299), _) if result.body.trim_ascii() == challenge.as_bytes() => Ok(()),
        (Some(status), _) => Err(invalid(
            "url",
            format!(
                "the echo check failed: GET ?echo= answered HTTP {status} without the challenge"
            ),
        )),
        (None, Some(error)) => Err(invalid("url", format!("the echo check failed: {error}"))),
        (None, None) => Err(invalid("url", "the echo check got no answer")),
    }
}

pub async fn create(
    db: &Db,
    outbound: &Outbound,
    mut input: SubscriptionInput,
) -> Result<Subscription, Error> {
    // A `[redacted]` copied from another subscription has nothing to stand for here.
    keep_redacted_credentials(&mut input, None)?;
    let secret = match &input.secret {
        Some(secret) => {
            SigningSecret::parse(secret).map_err(|e| invalid("secret", e.to_string()))?
        }
        None => SigningSecret::generate(),
    };
    let checked = check(db, outbound, &input).await?;
    let created = subscriptions::create(
        db,
        NewSubscription {
            id: SubscriptionId::generate(),
            url: checked.url,
            description: checked.description,
            event_types: checked.event_types,
            payload_filter: checked.payload_filter,
            secret: secret.expose().to_owned(),
            headers: checked.headers,
            properties: checked.properties,
            mode: checked.mode,
            consumer_id: checked.consumer_id,
            all_consumers: checked.all_consumers,
        },
    )
    .await?;
    tracing::info!(subscription = %created.id, "subscription created");
    Ok(created)
}

/// Replaces what a form or PATCH edits; the secret and state stay, and so does every
/// credential sent back as `[redacted]`.
pub async fn update(
    db: &Db,
    outbound: &Outbound,
    id: &str,
    mut input: SubscriptionInput,
) -> Result<Subscription, Error> {
    let current = subscriptions::find(db, id)
        .await?
        .ok_or(Error::NotFound("subscription"))?;
    keep_redacted_credentials(&mut input, Some(&current))?;
    let checked = check(db, outbound, &input).await?;
    let updated = subscriptions::modify(db, id.to_owned(), move |s| {
        s.url = sea_orm::Set(checked.url);
        s.description = sea_orm::Set(checked.description);
        s.event_types = sea_orm::Set(JsonText(checked.event_types));
        s.payload_filter = sea_orm::Set(checked.payload_filter);
        s.headers = sea_orm::Set(JsonText(checked.headers));
        s.properties = sea_orm::Set(JsonText(checked.properties));
        s.mode = sea_orm::Set(checked.mode);
        s.consumer_id = sea_orm::Set(checked.consumer_id);
        s.all_consumers = sea_orm::Set(checked.all_consumers);
    })
    .await?
    .ok_or(Error::NotFound("subscription"))?;
    tracing::info!(subscription = %id, "subscription updated");
    Ok(updated)
}

/// Puts the stored value back wherever the input says `[redacted]`.
fn keep_redacted_credentials(
    input: &mut SubscriptionInput,
    stored: Option<&Subscription>,
) -> Result<(), Error> {
    let stored_headers = stored.map(|s| s.headers.0.clone()).unwrap_or_default();
    input.url = credentials::restore_url(&input.url, stored.map(|s| s.url.as_str()))?;
    input.headers =
        credentials::restore_headers(std::mem::take(&mut input.headers), &stored_headers)?;
    Ok(())
}

/// Deletes the subscription with its deliveries and their attempts.
pub async fn delete(db: &Db, id: &str) -> Result<(), Error> {
    if !subscriptions::delete(db, id.to_owned()).await? {
        return Err(Error::NotFound("subscription"));
    }
    tracing::info!(subscription = %id, "subscription deleted");
    Ok(())
}

/// Pauses (`paused`) or resumes / re-enables (`active`) a subscription; a resumed one's
/// deliveries go out at once.
pub async fn set_state(hub: &Hub, id: &str, state: &str) -> Result<Subscription, Error> {
    let new_state = match states::parse(state) {
        Some(state @ (SubscriptionState::Active | SubscriptionState::Paused)) => state,
        _ => return Err(invalid("state", "active or paused")),
    };
    let changed = subscriptions::modify(&hub.db, id.to_owned(), move |s| {
        s.state = sea_orm::Set(new_state);
        s.disabled_reason = sea_orm::Set(None);
        s.disabled_at = sea_orm::Set(None);
        s.failing_since = sea_orm::Set(None);
    })
    .await?
    .ok_or(Error::NotFound("subscription"))?;
    hub.deliveries.wake();
    tracing::info!(subscription = %id, %state, "subscription state changed");
    Ok(changed)
}

/// A new secret signs from now on; the old one signs too until `secret_overlap` has passed, so
/// receivers can switch without refusing a delivery.
pub async fn rotate_secret(
    hub: &Hub,
    id: &str,
    secret: Option<String>,
) -> Result<Subscription, Error> {
    let secret = match secret {
        Some(secret) => {
            SigningSecret::parse(&secret).map_err(|e| invalid("secret", e.to_string()))?
        }
        None => SigningSecret::generate(),
    };
    let until = now_millis() + hub.config.secret_overlap.as_millis() as i64;
    let rotated = subscriptions::modify(&hub.db, id.to_owned(), move |s| {
        s.previous_secret = sea_orm::Set(Some(s.secret.as_ref().clone()));
        s.previous_secret_until = sea_orm::Set(Some(until));
        s.secret = sea_orm::Set(secret.expose().to_owned());
    })
    .await?
    .ok_or(Error::NotFound("subscription"))?;
    tracing::info!(subscription = %id, "subscription secret rotated");
    Ok(rotated)
}

/// A payload filter as written, trimmed; blank is none.
fn checked_payload_filter(text: &str) -> Result<Option<String>, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    parsed_payload_filter(text)?;
    Ok(Some(text.to_owned()))
}

fn parsed_payload_filter(text: &str) -> Result<PayloadFilter, Error> {
    PayloadFilter::parse(text.trim()).map_err(|e| invalid("payload_filter", e.to_string()))
}

/// What a payload filter makes of a sample payload, for the "try it" box and its API route.
pub fn try_payload_filter(filter: &str, sample: &Value) -> Result<bool, Error> {
    Ok(parsed_payload_filter(filter)?.matches(sample))
}

/// Whether a subscription's event types select `event_type`.
pub fn selects(filters: &[String], event_type: &str) -> bool {
    filters
        .iter()
        .any(|pattern| filter::matches(pattern, event_type))
}

/// Who wants a message of `event_type` with `payload`, of the subscriptions it is addressed to
/// (see [`Recipients`]): those whose event types select the type and whose payload filter, if
/// any, matches the payload. (A stored filter is checked when saved; one that no longer parses
/// lets the message through rather than lose it.)
pub fn wanting(event_type: &str, payload: Value) -> Select {
    let event_type = event_type.to_owned();
    Arc::new(move |wants: Wants<'_>| {
        selects(wants.event_types, &event_type)
            && wants.payload_filter.is_none_or(|text| {
                PayloadFilter::cached(text).map_or(true, |filter| filter.matches(&payload))
            })
    })
}

/// A message published: new or the first of its idempotency key, and where its payload does
/// not match its type's schema when that schema only warns.
#[derive(Debug)]
pub struct Publication {
    pub published: Published,
    pub schema_errors: Vec<Detail>,
}

/// Publishes a message of a catalog type, addressed to a consumer or to nobody, to every
/// subscription that wants it: the message and its deliveries are committed before this
/// returns, and `worker` is woken to send them. A payload that does not match its type's
/// enforced schema is refused, saying where and why. (It takes the worker rather than the hub
/// as the `publish` handler calls it too.)
pub async fn publish(
    db: &Db,
    worker: &DeliveryWorker,
    event_type: &str,
    payload: &Value,
    idempotency_key: Option<String>,
    consumer: Option<&str>,
) -> Result<Publication, Error> {
    let event_type = EventType::parse(event_type.trim().to_owned())
        .map_err(|e| invalid("event_type", e.to_string()))?;
    let Some(found) = catalog::find(db, event_type.as_str()).await? else {
        return Err(invalid(
            "event_type",
            format!("`{event_type}` is not in the catalog; add it first"),
        ));
    };
    let schema_errors = match &found.schema {
        Some(schema) => schemas::mismatches(schema, payload)?,
        None => Vec::new(),
    };
    if !schema_errors.is_empty() && Mode::parse(&found.schema_mode)? == Mode::Enforce {
        return Err(Error::Mismatched {
            field: "payload",
            message: format!(
                "the payload does not match the schema of `{event_type}`: {}",
                schemas::listed(&schema_errors)
            ),
            details: schema_errors,
        });
    }
    let consumer_id = checked_consumer(db, consumer).await?;
    let to = Recipients::Matching(wanting(event_type.as_str(), payload.clone()));
    let payload = serde_json::to_string(payload).map_err(|e| invalid("payload", e.to_string()))?;
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(invalid("payload", "at most 256 KiB"));
    }
    if idempotency_key
        .as_ref()
        .is_some_and(|k| k.is_empty() || k.len() > 200)
    {
        return Err(invalid("idempotency_key", "1 to 200 characters"));
    }
    let published = messages::publish(
        db,
        NewMessage {
            id: MessageId::generate(),
            event_type: event_type.as_str().to_owned(),
            payload,
            idempotency_key,
            schema_errors: (!schema_errors.is_empty())
                .then(|| serde_json::to_string(&schema_errors))
                .transpose()
                .map_err(|e| Error::Internal(e.into()))?,
            consumer_id,
        },
        to,
    )
    .await?;
    if matches!(published, Published::New { .. }) {
        worker.metrics().published(1);
    }
    worker.wake();
    Ok(Publication {
        published,
        schema_errors,
    })
}

/// A `hookhub.test` message to one subscription only, whatever its filters and state allow
/// (a paused or disabled one gets it queued or failed like any other).
pub(super) async fn send_test(db: &Db, subscription: &Subscription) -> Result<String, Error> {
    let payload = serde_json::json!({
        "message": "A test event from hookhub.",
        "subscription": subscription.id,
    });
    let published = messages::publish(
        db,
        NewMessage {
            id: MessageId::generate(),
            event_type: "hookhub.test".to_owned(),
            payload: payload.to_string(),
            idempotency_key: None,
            schema_errors: None,
            consumer_id: subscription.consumer_id.clone(),
        },
        Recipients::Only(subscription.id.clone()),
    )
    .await?;
    match published {
        Published::New { message_id, .. } | Published::Existing { message_id } => {
            Ok(message_id.into())
        }
    }
}

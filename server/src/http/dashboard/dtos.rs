//! What the dashboard shows, from what is stored, and what its forms mean, as use-case input.

use app::dto::{
    ApiKeyDto, ConsumerDto, DeliverySummaryDto, EventSummaryDto, EventTypeDto, HealthDto,
    NoticeDto, PagingDto, SourceRefusalsDto, SubscriptionDto, SubscriptionFiguresDto,
    SubscriptionFormDto, UserDto, WindowHealthDto,
};
use app::error::AppError;

use crate::auth;
use crate::figures::{Figures, Ranked};
use crate::sending::credentials;
use crate::sending::subscriptions::SubscriptionInput;
use crate::storage::api_keys::ApiKey;
use crate::storage::catalog::EventType;
use crate::storage::consumers::Consumer;
use crate::storage::deliveries::Delivery;
use crate::storage::events::Event;
use crate::storage::paging;
use crate::storage::states::{self, DeliveryStatus};
use crate::storage::subscriptions::Subscription;
use crate::storage::users::User;

pub(crate) fn user_dto(user: User) -> UserDto {
    UserDto {
        id: user.id,
        username: user.username,
        is_admin: user.is_admin,
        created_at: user.created_at,
        session_stamp: auth::session_stamp(&user.password_hash),
    }
}

pub(super) fn health_dto(figures: Figures, now: i64) -> HealthDto {
    let ranked = |ranked: Vec<Ranked>| -> Vec<SubscriptionFiguresDto> {
        ranked
            .into_iter()
            .map(|r| SubscriptionFiguresDto {
                id: r.subscription.id.to_string(),
                url: credentials::redact_url(&r.subscription.url),
                attempts: r.attempts,
                failed: r.failed,
                average_ms: r.average_ms,
            })
            .collect()
    };
    let windows = figures
        .windows
        .into_iter()
        .zip(["24 hours", "7 days"])
        .map(|(w, label)| WindowHealthDto {
            label: label.to_owned(),
            start: w.window.start,
            bucket_ms: w.window.bucket_ms,
            received: w.received,
            refused: w.refused,
            succeeded: w.succeeded,
            failed: w.failed,
            slowest: ranked(w.slowest),
            failing: ranked(w.failing),
            refusing: w
                .refusing
                .into_iter()
                .map(|(r, name)| SourceRefusalsDto {
                    id: r.source_id,
                    name,
                    refused: r.refused,
                    top_reason: r.top_reason.replace('_', " "),
                    top_count: r.top_count,
                })
                .collect(),
        })
        .collect();
    HealthDto {
        now,
        windows,
        pending: figures.backlog.map(|(pending, _)| pending),
        oldest_pending_at: figures.backlog.and_then(|(_, oldest)| oldest),
        notices: figures
            .notices
            .into_iter()
            .map(|(notice, url)| NoticeDto {
                at: notice.created_at,
                subscription_id: notice.subscription_id.into(),
                subscription_url: credentials::redact_url(&url),
                stage: notice.stage,
                message: notice.message,
            })
            .collect(),
    }
}

pub(super) fn key_dto(key: ApiKey) -> ApiKeyDto {
    ApiKeyDto {
        id: key.id,
        name: key.name,
        prefix: key.prefix,
        created_at: key.created_at,
        last_used_at: key.last_used_at,
        revoked_at: key.revoked_at,
    }
}

pub(super) fn event_summary(event: &Event, source_name: String) -> EventSummaryDto {
    EventSummaryDto {
        id: event.id,
        source_id: event.source_id.to_string(),
        source_name,
        received_at: event.received_at,
        event_type: event.event_type.clone(),
        delivery_id: event.delivery_id.clone(),
        size: event.body.len() as u64,
        handling: states::word(event.handling),
    }
}

/// A body for people to read: pretty-printed when it is JSON, as sent when it is other text.
pub(super) fn readable_body(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    Some(
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|json| serde_json::to_string_pretty(&json).ok())
            .unwrap_or_else(|| text.to_owned()),
    )
}

/// A form-encoded body's fields, in the order they came (GitHub's form content type, Slack's
/// slash commands); `None` for any other body.
pub(super) fn form_fields(
    content_type: Option<&str>,
    body: &[u8],
) -> Option<Vec<(String, String)>> {
    let essence = content_type?.split(';').next()?.trim();
    essence
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        .then(|| {
            form_urlencoded::parse(body)
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect()
        })
}

/// Where a page of `shown` rows is in a list of `total` rows, `newer` of them before it, and the
/// cursors on (the ids of its first and last rows, `ends`).
pub(super) fn paging_dto(
    ends: Option<(i64, i64)>,
    shown: usize,
    (total, newer): (u64, u64),
) -> PagingDto {
    let capped = total >= paging::COUNT_CAP;
    let shown = shown as u64;
    let older = capped || newer + shown < total;
    PagingDto {
        total,
        capped_at: capped.then_some(paging::COUNT_CAP),
        start: if shown == 0 { 0 } else { newer + 1 },
        newer_after: ends.filter(|_| newer > 0).map(|(first, _)| first),
        older_before: ends.filter(|_| older).map(|(_, last)| last),
    }
}

pub(super) fn event_type_dto(t: EventType) -> EventTypeDto {
    EventTypeDto {
        name: t.name,
        description: t.description,
        deprecated: t.deprecated,
        created_at: t.created_at,
        example: t.example,
        schema: t.schema,
        schema_mode: t.schema_mode,
    }
}

/// Stored properties as name and value pairs, a value that is not a string as its JSON.
pub(super) fn property_pairs(
    properties: serde_json::Map<String, serde_json::Value>,
) -> Vec<(String, String)> {
    properties
        .into_iter()
        .map(|(k, v)| {
            let v = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            (k, v)
        })
        .collect()
}

/// A subscription as lists and forms show it: its credentials redacted.
pub(super) fn subscription_dto(s: Subscription) -> SubscriptionDto {
    SubscriptionDto {
        event_types: s.event_types.0,
        payload_filter: s.payload_filter,
        headers: s
            .headers
            .0
            .into_iter()
            .map(credentials::redact_header)
            .collect(),
        properties: property_pairs(s.properties.0),
        url: credentials::redact_url(&s.url),
        id: s.id.into(),
        description: s.description,
        mode: states::word(s.mode),
        state: states::word(s.state),
        disabled_reason: s.disabled_reason,
        disabled_at: s.disabled_at,
        created_at: s.created_at,
        consumer: s.consumer_id,
        all_consumers: s.all_consumers,
    }
}

pub(super) fn consumer_dto(c: Consumer, subscriptions: u64) -> ConsumerDto {
    ConsumerDto {
        metadata: if c.metadata.0.is_empty() {
            String::new()
        } else {
            serde_json::to_string_pretty(&c.metadata.0).unwrap_or_default()
        },
        id: c.id,
        name: c.name,
        subscriptions,
        created_at: c.created_at,
    }
}

/// A delivery as lists show it; `attempts` counts all of them, redeliveries included.
pub(super) fn delivery_summary(
    d: Delivery,
    subscription_url: String,
    attempts: u64,
) -> DeliverySummaryDto {
    DeliverySummaryDto {
        attempts,
        attempts_since_redelivery: d.attempts,
        next_attempt_at: (d.status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
        id: d.id,
        message_id: d.message_id.into(),
        event_type: d.event_type,
        subscription_id: d.subscription_id.into(),
        subscription_url,
        status: states::word(d.status),
        last_status: d.last_status,
        last_error: d.last_error,
        created_at: d.created_at,
    }
}

/// The form's text fields as a subscription input: event types one per line (or
/// comma-separated), headers and properties as `Name: value` lines.
pub(super) fn subscription_input(form: SubscriptionFormDto) -> Result<SubscriptionInput, AppError> {
    let lines = |field: &'static str, text: &str| -> Result<Vec<(String, String)>, AppError> {
        text.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| {
                line.split_once(':')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .ok_or_else(|| {
                        AppError::invalid(field, format!("`{line}` is not `Name: value`."))
                    })
            })
            .collect()
    };
    Ok(SubscriptionInput {
        url: form.url,
        description: form.description,
        event_types: event_type_list(&form.event_types),
        payload_filter: form.payload_filter,
        headers: lines("headers", &form.headers)?,
        properties: lines("properties", &form.properties)?
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect(),
        mode: form.mode,
        secret: None,
        verify_echo: checked(form.verify_echo.as_deref()),
        consumer: Some(form.consumer),
        all_consumers: checked(form.all_consumers.as_deref()),
    })
}

/// Whether a checkbox was ticked.
fn checked(value: Option<&str>) -> bool {
    value.is_some_and(|v| v == "on" || v == "true")
}

/// A list of event types as a form sends it: one per line, or comma-separated.
pub(super) fn event_type_list(text: &str) -> Vec<String> {
    text.split(['\n', ',']).map(str::to_owned).collect()
}

//! The REST API's base: its routes and API-key authentication. Every failure answers in the
//! one shape of [`ApiError`].

pub(super) mod events;
mod handlers;
mod sending;
mod sources;

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::{StatusCode, header, request::Parts};
use axum::routing::{delete, get, patch, post};
use serde::Serialize;

use crate::AppState;
use crate::auth::hash_token;
use crate::http::error::ApiError;
use crate::storage::api_keys::{self, ApiKey};

/// How many things were queued again.
#[derive(Serialize)]
pub struct Queued {
    pub queued: u64,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/whoami", get(whoami))
        .route("/sources", get(sources::list).post(sources::create))
        .route(
            "/sources/{id}",
            get(sources::get)
                .patch(sources::patch)
                .delete(sources::delete),
        )
        .route("/sources/{id}/rotate-secret", post(sources::rotate_secret))
        .route(
            "/sources/{id}/previous-secret",
            delete(sources::drop_previous_secret),
        )
        .route(
            "/sources/{id}/handlers",
            get(handlers::list_for_source).post(handlers::add_to_source),
        )
        .route(
            "/sources/{id}/handlers/{handler_id}",
            patch(handlers::change_in_source).delete(handlers::remove_from_source),
        )
        .route(
            "/handlers",
            get(handlers::list_global).post(handlers::add_global),
        )
        .route(
            "/handlers/{id}",
            patch(handlers::change_global).delete(handlers::remove_global),
        )
        .route("/events", get(events::list))
        .route("/events/{id}", get(events::get))
        .route("/events/{id}/body", get(events::body))
        .route("/events/{id}/retry-handlers", post(events::retry_handlers))
        .route(
            "/sources/{id}/retry-handlers",
            post(events::retry_source_handlers),
        )
        .route(
            "/event-types",
            get(sending::list_event_types).post(sending::create_event_type),
        )
        .route("/event-types/{name}", patch(sending::patch_event_type))
        .route(
            "/subscriptions",
            get(sending::list_subscriptions).post(sending::create_subscription),
        )
        .route(
            "/subscriptions/{id}",
            get(sending::get_subscription)
                .patch(sending::patch_subscription)
                .delete(sending::delete_subscription),
        )
        .route(
            "/subscriptions/{id}/rotate-secret",
            post(sending::rotate_subscription_secret),
        )
        .route(
            "/subscriptions/{id}/redeliver-failed",
            post(sending::redeliver_failed),
        )
        .route("/messages", post(sending::publish))
        .route("/deliveries", get(sending::list_deliveries))
        .route("/deliveries/redeliver", post(sending::redeliver_matching))
        .route("/deliveries/{id}", get(sending::get_delivery))
        .route("/deliveries/{id}/redeliver", post(sending::redeliver))
        .fallback(|| async { ApiError::not_found("no such API route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
}

/// A whole list, as `{"data": [...]}`.
#[derive(Serialize)]
pub struct List<T> {
    pub data: Vec<T>,
}

/// One page of a list read newest first. Pass `next_cursor` back as `cursor` for the page
/// after; it is `null` on the last page.
#[derive(Serialize)]
pub struct Page<T, C> {
    pub data: Vec<T>,
    pub next_cursor: Option<C>,
}

impl<T, C> Page<T, C> {
    /// A page as full as asked for may have more after it, from its last row on.
    pub fn of<R>(
        rows: Vec<R>,
        limit: u64,
        cursor: impl Fn(&R) -> C,
        out: impl FnMut(R) -> T,
    ) -> Self {
        let next_cursor = (rows.len() as u64 == limit)
            .then(|| rows.last().map(cursor))
            .flatten();
        Self {
            data: rows.into_iter().map(out).collect(),
            next_cursor,
        }
    }
}

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 250;

/// A list's `limit`: 50 when left out, at most 250.
pub fn page_limit(limit: Option<u64>) -> Result<u64, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    Ok(limit)
}

/// Times in API answers: RFC 3339 in UTC.
pub fn rfc3339(millis: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// The API key a request authenticated with (`Authorization: Bearer <key>`).
pub struct Authenticated(pub ApiKey);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("send an API key as `Authorization: Bearer <key>`")
        })?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <key>`")
            })?;
        let key = api_keys::find_active(&state.hub.db, &hash_token(token))
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked API key"))?;
        if let Err(err) = api_keys::touch(&state.hub.db, &key).await {
            tracing::warn!(error = %err, "could not record API key use");
        }
        Ok(Self(key))
    }
}

#[derive(Serialize)]
struct WhoAmI {
    api_key: KeyOut,
}

#[derive(Serialize)]
struct KeyOut {
    id: i64,
    name: String,
    prefix: String,
}

async fn whoami(Authenticated(key): Authenticated, State(_): State<AppState>) -> Json<WhoAmI> {
    Json(WhoAmI {
        api_key: KeyOut {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
        },
    })
}

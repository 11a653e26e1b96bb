//! `/api/v1/events`: the received events, newest first, with cursor paging.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Authenticated, Page, Queued, page_limit, rfc3339};
use crate::AppState;
use crate::http::error::ApiError;
use crate::receiving::history::{self, EventParams};
use crate::receiving::runs;
use crate::storage::columns::HeaderPairs;
use crate::storage::events::{self, Event};
use crate::storage::handlers::{self, HandlerRun};
use crate::storage::states::{Handling, RunStatus};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// A source's id.
    source: Option<String>,
    event_type: Option<String>,
    /// `none`, `pending`, `ok` or `failed`; empty is any.
    #[param(pattern = "^(none|pending|ok|failed|)$")]
    handling: Option<String>,
    /// A time (RFC 3339, or a date): received at or after.
    from: Option<String>,
    /// A time (RFC 3339, or a date): received before.
    to: Option<String>,
    /// Words to find in the headers and body.
    q: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<i64>,
    /// 50 when left out.
    #[param(minimum = 1, maximum = 250)]
    limit: Option<u64>,
}

/// The events received, newest first, a page at a time.
#[utoipa::path(get, path = "/events", tag = "events", params(ListQuery),
    responses((status = 200, body = Page<EventOut>)))]
pub async fn list(
    _: Authenticated,
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page<EventOut>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = page_limit(query.limit)?;
    let filter = history::filter(EventParams {
        source: query.source,
        event_type: query.event_type,
        handling: query.handling,
        from: query.from,
        to: query.to,
        q: query.q,
        before: query.cursor,
        after: None,
        limit,
    })
    .map_err(|e| ApiError::bad_request(format!("{}: {}", e.field, e.message)))?;
    let page = events::list(&state.hub.db, filter)
        .await
        .map_err(ApiError::from_db)?;
    Ok(Json(Page::of(
        page,
        limit,
        |e| e.id,
        |e| EventOut::from(&e),
    )))
}

/// Runs the event's failed handler runs again: 202 `{"queued": n}`.
#[utoipa::path(post, path = "/events/{id}/retry-handlers", tag = "events", params(("id" = i64, Path, description = "The event's id")),
    responses((status = 202, body = Queued)))]
pub async fn retry_handlers(
    _: Authenticated,
    State(state): State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let Path(id) = id.map_err(|_| ApiError::bad_request("an event id is a whole number"))?;
    let queued = runs::retry_event(&state.hub, id).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { queued })))
}

/// Runs the failed handler runs of every event of a source again: 202 `{"queued": n}`.
#[utoipa::path(post, path = "/sources/{id}/retry-handlers", tag = "events",
    params(("id" = String, Path, description = "The source's id")),
    responses((status = 202, body = Queued)))]
pub async fn retry_source_handlers(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let queued = runs::retry_source(&state.hub, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { queued })))
}

/// One event, with its headers, its body and its handler runs.
#[utoipa::path(get, path = "/events/{id}", tag = "events", params(("id" = i64, Path, description = "The event's id")),
    responses((status = 200, body = EventDetailOut)))]
pub async fn get(
    _: Authenticated,
    State(state): State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<Json<EventDetailOut>, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::bad_request("an event id is a whole number"))?;
    let event = events::find(&state.hub.db, id)
        .await
        .map_err(ApiError::from_db)?
        .ok_or_else(|| ApiError::not_found("no such event"))?;
    let runs = handlers::runs_for_event(&state.hub.db, id)
        .await
        .map_err(ApiError::from_db)?;
    Ok(Json(EventDetailOut {
        summary: EventOut::from(&event),
        method: event.method,
        remote_addr: event.remote_addr,
        headers: event.headers.0,
        body: std::str::from_utf8(&event.body).ok().map(str::to_owned),
        body_base64: STANDARD.encode(&event.body),
        handler_runs: runs.into_iter().map(RunOut::from).collect(),
    }))
}

/// The exact bytes received, as a download.
#[utoipa::path(get, path = "/events/{id}/body", tag = "events", params(("id" = i64, Path, description = "The event's id")),
    responses((status = 200, description = "The body as received",
        content_type = "application/octet-stream", body = Vec<u8>)))]
pub async fn body(
    _: Authenticated,
    state: State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    raw_body(state, id).await
}

/// `GET /api/v1/events/{id}/body`, and the dashboard's download link: the exact bytes received.
/// Always served as a download, never with the sender's content type, so a body that is HTML
/// cannot run as a page of this hub.
pub async fn raw_body(
    State(state): State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::bad_request("an event id is a whole number"))?;
    let event = events::find(&state.hub.db, id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such event"))?;
    let extension = match event.content_type.as_deref() {
        Some(t) if t.contains("json") => "json",
        Some(t) if t.starts_with("text/") || t.contains("x-www-form-urlencoded") => "txt",
        _ => "bin",
    };
    let disposition = format!("attachment; filename=\"event-{id}.{extension}\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        event.body,
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct EventOut {
    id: i64,
    source_id: String,
    received_at: Option<String>,
    event_type: Option<String>,
    delivery_id: Option<String>,
    content_type: Option<String>,
    /// The body's size in bytes.
    size: usize,
    /// How its signature was checked.
    verification: String,
    handling: Handling,
}

impl From<&Event> for EventOut {
    fn from(event: &Event) -> Self {
        Self {
            id: event.id,
            source_id: event.source_id.to_string(),
            received_at: rfc3339(event.received_at),
            event_type: event.event_type.clone(),
            delivery_id: event.delivery_id.clone(),
            content_type: event.content_type.clone(),
            size: event.body.len(),
            verification: event.verification.clone(),
            handling: event.handling,
        }
    }
}

/// One event read alone: the summary, and everything that arrived with it.
#[derive(Serialize, ToSchema)]
pub struct EventDetailOut {
    #[serde(flatten)]
    summary: EventOut,
    method: String,
    remote_addr: Option<String>,
    /// `[name, value]` pairs, in the order received.
    #[schema(value_type = Vec<Vec<String>>)]
    headers: HeaderPairs,
    /// The body as text, when it is UTF-8.
    body: Option<String>,
    /// The exact bytes.
    body_base64: String,
    handler_runs: Vec<RunOut>,
}

#[derive(Serialize, ToSchema)]
pub struct RunOut {
    handler_id: String,
    kind: String,
    status: RunStatus,
    attempts: i32,
    outcome: Option<String>,
    next_attempt_at: Option<String>,
    updated_at: Option<String>,
}

impl From<HandlerRun> for RunOut {
    fn from(run: HandlerRun) -> Self {
        Self {
            next_attempt_at: (run.status == RunStatus::Pending)
                .then_some(run.next_at)
                .and_then(rfc3339),
            updated_at: rfc3339(run.updated_at),
            handler_id: run.handler_id.into(),
            kind: run.handler_kind,
            status: run.status,
            attempts: run.attempts,
            outcome: run.outcome,
        }
    }
}

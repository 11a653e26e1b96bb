//! `/api/v1/events`: the received events, newest first, with cursor paging.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Authenticated, rfc3339};
use crate::AppState;
use crate::http::error::ApiError;
use crate::receiving::history::{self, EventParams};
use crate::storage::events::{self, Event};
use crate::storage::handlers;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 250;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    source: Option<String>,
    event_type: Option<String>,
    handling: Option<String>,
    from: Option<String>,
    to: Option<String>,
    q: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<i64>,
    limit: Option<u64>,
}

pub async fn list(
    _: Authenticated,
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let filter = history::filter(EventParams {
        source: query.source,
        event_type: query.event_type,
        handling: query.handling,
        from: query.from,
        to: query.to,
        q: query.q,
        before: query.cursor,
        limit,
    })
    .map_err(|e| ApiError::bad_request(format!("{}: {}", e.field, e.message)))?;
    let page = events::list(&state.hub.db, filter)
        .await
        .map_err(ApiError::internal)?;
    let next_cursor = (page.len() as u64 == limit)
        .then(|| page.last().map(|e| e.id))
        .flatten();
    let data: Vec<Value> = page.iter().map(summary).collect();
    Ok(Json(json!({ "data": data, "next_cursor": next_cursor })))
}

pub async fn get(
    _: Authenticated,
    State(state): State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::bad_request("an event id is a whole number"))?;
    let event = events::find(&state.hub.db, id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such event"))?;
    let mut json = summary(&event);
    json["method"] = Value::String(event.method.clone());
    json["remote_addr"] = json!(event.remote_addr);
    json["headers"] = serde_json::from_str(&event.headers).unwrap_or(Value::Null);
    json["body"] = json!(std::str::from_utf8(&event.body).ok());
    json["body_base64"] = Value::String(STANDARD.encode(&event.body));
    let runs = handlers::runs_for_event(&state.hub.db, id)
        .await
        .map_err(ApiError::internal)?;
    json["handler_runs"] = runs
        .iter()
        .map(|run| {
            json!({
                "handler_id": run.handler_id,
                "kind": run.handler_kind,
                "status": run.status,
                "attempts": run.attempts,
                "outcome": run.outcome,
                "next_attempt_at": (run.status == handlers::PENDING).then(|| rfc3339(run.next_at)),
                "updated_at": rfc3339(run.updated_at),
            })
        })
        .collect();
    Ok(Json(json))
}

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

fn summary(event: &Event) -> Value {
    json!({
        "id": event.id,
        "source_id": event.source_id,
        "received_at": rfc3339(event.received_at),
        "event_type": event.event_type,
        "delivery_id": event.delivery_id,
        "content_type": event.content_type,
        "size": event.body.len(),
        "verification": event.verification,
        "handling": event.handling,
    })
}

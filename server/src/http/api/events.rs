//! `/api/v1/events`: the received events, newest first, with cursor paging.

use axum::Json;
use axum::extract::{Path, Query, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, Authenticated, rfc3339};
use crate::AppState;
use crate::storage::events::{self, Event, EventFilter};

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 250;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    source: Option<String>,
    event_type: Option<String>,
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
    let page = events::list(
        &state.db,
        EventFilter {
            source_id: query.source,
            event_type: query.event_type,
            before: query.cursor,
            limit,
        },
    )
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
    let event = events::find(&state.db, id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such event"))?;
    let mut json = summary(&event);
    json["method"] = Value::String(event.method.clone());
    json["remote_addr"] = json!(event.remote_addr);
    json["headers"] = serde_json::from_str(&event.headers).unwrap_or(Value::Null);
    json["body"] = json!(std::str::from_utf8(&event.body).ok());
    json["body_base64"] = Value::String(STANDARD.encode(&event.body));
    Ok(Json(json))
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
    })
}

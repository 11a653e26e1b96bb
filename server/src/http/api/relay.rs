//! `GET /api/v1/sources/{id}/stream`: a source's events as server-sent events, for
//! `hookhub listen` (or any SSE client) to replay to a local URL.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use utoipa::IntoParams;

use super::Authenticated;
use crate::AppState;
use crate::http::error::ApiError;
use crate::receiving::history::parse_instant;
use crate::receiving::relay::{self, RelayedEvent, Start};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Start with the events received at or after this time (RFC 3339) rather than with the
    /// next one; a `Last-Event-ID` header takes precedence.
    since: Option<String>,
}

/// Streams the source's verified events as server-sent events (`event: webhook`, `id`, and
/// the event as JSON in `data`): from the next one stored, from `since`, or after the
/// `Last-Event-ID` a resumed stream sends, so a client that reconnects misses nothing.
/// Comments keep the connection alive every 15 s; the stream ends when the hub stops.
#[utoipa::path(get, path = "/sources/{id}/stream", tag = "sources",
    params(("id" = String, Path, description = "The source's id"), StreamQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event")),
    responses((status = 200, content_type = "text/event-stream",
        description = "`event: webhook` events whose `data` is a RelayedEvent", body = RelayedEvent)))]
pub async fn stream(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let start = match (headers.get("last-event-id"), query.since) {
        (Some(last), _) => Start::After(
            last.to_str()
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| ApiError::bad_request("Last-Event-ID is an event id"))?,
        ),
        (None, Some(since)) => Start::Since(
            parse_instant(since.trim())
                .map_err(|e| ApiError::bad_request(format!("since: {e}")))?,
        ),
        (None, None) => Start::Now,
    };
    let hub = &state.hub;
    let events = relay::follow(&hub.db, &id, start, state.stopping.child_token()).await?;
    let source = id.clone();
    let events = events.map(move |event| {
        Ok(match event {
            Ok(event) => {
                let id = event.id.to_string();
                SseEvent::default()
                    .event("webhook")
                    .id(id)
                    .json_data(RelayedEvent::from(event))
                    .unwrap_or_else(|_| {
                        SseEvent::default().comment("an event could not be encoded")
                    })
            }
            Err(err) => {
                tracing::error!(source = %source, error = %err, "the relay stream failed");
                SseEvent::default()
                    .event("error")
                    .data("the hub could not read its events; reconnect to resume")
            }
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

//! `/api/v1/sources/{id}/handlers` and `/api/v1/handlers` (the global chain): the ordered steps
//! run on each verified event, added, changed and removed with the same rules as in the
//! dashboard.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{Authenticated, List, rfc3339};
use crate::AppState;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::receiving::handlers::HandlerRequest;
use crate::storage::handlers::{self, HandlerChange, HandlerRow};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHandler {
    /// `forward`, `publish` or `respond`.
    #[schema(pattern = "^(forward|publish|respond)$")]
    kind: String,
    /// After the others when left out.
    position: Option<i32>,
    /// Every event when empty.
    #[serde(default)]
    event_types: Vec<String>,
    /// The kind's settings, such as `{"url": ...}` for `forward`.
    #[serde(default)]
    settings: Map<String, Value>,
}

/// What a `PATCH` may change; what it leaves out stays as it is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeHandler {
    position: Option<i32>,
    event_types: Option<Vec<String>>,
    enabled: Option<bool>,
}

impl From<ChangeHandler> for HandlerChange {
    fn from(body: ChangeHandler) -> Self {
        Self {
            position: body.position,
            event_types: body.event_types,
            enabled: body.enabled,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HandlerOut {
    id: String,
    /// `null` for a global handler.
    source_id: Option<String>,
    position: i32,
    kind: String,
    event_types: Vec<String>,
    settings: Value,
    /// What it does, in one line.
    summary: String,
    /// A disabled handler runs for no event.
    enabled: bool,
    created_at: Option<String>,
}

/// The global chain, run on every source's events after the source's own.
#[utoipa::path(get, path = "/handlers", tag = "handlers", responses((status = 200, body = List<HandlerOut>)))]
pub async fn list_global(
    _: Authenticated,
    State(state): State<AppState>,
) -> Result<Json<List<HandlerOut>>, ApiError> {
    list(&state, None).await
}

/// A source's own chain, in order.
#[utoipa::path(get, path = "/sources/{id}/handlers", tag = "handlers", params(("id" = String, Path, description = "The source's id")),
    responses((status = 200, body = List<HandlerOut>)))]
pub async fn list_for_source(
    _: Authenticated,
    State(state): State<AppState>,
    Path(source_id): Path<String>,
) -> Result<Json<List<HandlerOut>>, ApiError> {
    super::sources::find(&state, &source_id).await?;
    list(&state, Some(&source_id)).await
}

#[utoipa::path(post, path = "/handlers", tag = "handlers", request_body = CreateHandler,
    responses((status = 201, body = HandlerOut)))]
pub async fn add_global(
    _: Authenticated,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateHandler>,
) -> Result<(StatusCode, Json<HandlerOut>), ApiError> {
    add(&state, None, body).await
}

#[utoipa::path(post, path = "/sources/{id}/handlers", tag = "handlers", params(("id" = String, Path, description = "The source's id")),
    request_body = CreateHandler, responses((status = 201, body = HandlerOut)))]
pub async fn add_to_source(
    _: Authenticated,
    State(state): State<AppState>,
    Path(source_id): Path<String>,
    ApiJson(body): ApiJson<CreateHandler>,
) -> Result<(StatusCode, Json<HandlerOut>), ApiError> {
    add(&state, Some(source_id), body).await
}

#[utoipa::path(patch, path = "/handlers/{id}", tag = "handlers", params(("id" = String, Path, description = "The handler's id")),
    request_body = ChangeHandler, responses((status = 200, body = HandlerOut)))]
pub async fn change_global(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChangeHandler>,
) -> Result<Json<HandlerOut>, ApiError> {
    let hub = &state.hub;
    let row = hub.handlers.change(&hub.db, None, &id, body.into()).await?;
    Ok(Json(handler_out(&state, row)?))
}

#[utoipa::path(patch, path = "/sources/{id}/handlers/{handler_id}", tag = "handlers",
    params(("id" = String, Path, description = "The source's id"), ("handler_id" = String, Path, description = "The handler's id")), request_body = ChangeHandler, responses((status = 200, body = HandlerOut)))]
pub async fn change_in_source(
    _: Authenticated,
    State(state): State<AppState>,
    Path((source_id, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ChangeHandler>,
) -> Result<Json<HandlerOut>, ApiError> {
    let hub = &state.hub;
    let row = hub
        .handlers
        .change(&hub.db, Some(&source_id), &id, body.into())
        .await?;
    Ok(Json(handler_out(&state, row)?))
}

#[utoipa::path(delete, path = "/handlers/{id}", tag = "handlers", params(("id" = String, Path, description = "The handler's id")),
    responses((status = 204, description = "Removed")))]
pub async fn remove_global(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let hub = &state.hub;
    hub.handlers.remove(&hub.db, None, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/sources/{id}/handlers/{handler_id}", tag = "handlers",
    params(("id" = String, Path, description = "The source's id"), ("handler_id" = String, Path, description = "The handler's id")), responses((status = 204, description = "Removed")))]
pub async fn remove_from_source(
    _: Authenticated,
    State(state): State<AppState>,
    Path((source_id, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let hub = &state.hub;
    hub.handlers.remove(&hub.db, Some(&source_id), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list(
    state: &AppState,
    source_id: Option<&str>,
) -> Result<Json<List<HandlerOut>>, ApiError> {
    let rows = handlers::list(&state.hub.db, source_id)
        .await
        .map_err(ApiError::from_db)?;
    let data = rows
        .into_iter()
        .map(|row| handler_out(state, row))
        .collect::<Result<_, _>>()?;
    Ok(Json(List { data }))
}

async fn add(
    state: &AppState,
    source_id: Option<String>,
    body: CreateHandler,
) -> Result<(StatusCode, Json<HandlerOut>), ApiError> {
    let request = HandlerRequest {
        source_id,
        kind: body.kind,
        position: body.position,
        event_types: body.event_types,
        config: Value::Object(body.settings),
    };
    let row = state.hub.handlers.add(&state.hub.db, request).await?;
    Ok((StatusCode::CREATED, Json(handler_out(state, row)?)))
}

fn handler_out(state: &AppState, row: HandlerRow) -> Result<HandlerOut, ApiError> {
    Ok(HandlerOut {
        event_types: row.event_types.0.clone(),
        settings: row.config.0.clone(),
        summary: state.hub.handlers.describe(&row),
        created_at: rfc3339(row.created_at),
        id: row.id.into(),
        source_id: row.source_id.map(Into::into),
        position: row.position,
        enabled: row.enabled,
        kind: row.kind,
    })
}

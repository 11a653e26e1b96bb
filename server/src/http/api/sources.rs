//! `/api/v1/sources`: create, list, read, change and delete receiver endpoints, and rotate their
//! secrets.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Authenticated, rfc3339};
use crate::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, request_host};
use crate::receiving::sources::{self as domain, SourceRequest, SourceUpdate, endpoint_url};
use crate::storage::sources::{self, Source};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSource {
    name: String,
    provider: String,
    secret: Option<String>,
    #[serde(default)]
    settings: Map<String, Value>,
}

pub async fn create(
    _: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateSource>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request = SourceRequest {
        name: body.name,
        provider: body.provider,
        secret: body.secret,
        settings: body.settings,
    };
    let source = domain::create(&state.hub.db, request).await?;
    let mut json = source_json(&state, &headers, &source);
    // The one answer that carries the secret: the caller needs it to configure the provider.
    json["secret"] = Value::String(source.secret.clone());
    Ok((StatusCode::CREATED, Json(json)))
}

pub async fn list(
    _: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let sources = sources::list(&state.hub.db)
        .await
        .map_err(ApiError::internal)?;
    let data: Vec<Value> = sources
        .iter()
        .map(|s| source_json(&state, &headers, s))
        .collect();
    Ok(Json(json!({ "data": data })))
}

pub async fn get(
    _: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let source = find(&state, &id).await?;
    Ok(Json(source_json(&state, &headers, &source)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchSource {
    name: Option<String>,
    enabled: Option<bool>,
    /// Replaces the provider's settings whole.
    settings: Option<Map<String, Value>>,
}

pub async fn patch(
    _: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchSource>,
) -> Result<Json<Value>, ApiError> {
    let update = SourceUpdate {
        name: body.name,
        enabled: body.enabled,
        settings: body.settings,
    };
    let source = domain::update(&state.hub.db, &id, update).await?;
    Ok(Json(source_json(&state, &headers, &source)))
}

pub async fn delete(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    domain::delete(&state.hub, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// Generated when left out.
    secret: Option<String>,
}

/// Starts a rotation: answers the new secret; the old one stays accepted until
/// `DELETE /sources/{id}/previous-secret`.
pub async fn rotate_secret(
    _: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RotateSecret>,
) -> Result<Json<Value>, ApiError> {
    let source = domain::rotate_secret(&state.hub.db, &id, body.secret).await?;
    let mut json = source_json(&state, &headers, &source);
    json["secret"] = Value::String(source.secret.clone());
    Ok(Json(json))
}

pub async fn drop_previous_secret(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    domain::drop_previous_secret(&state.hub.db, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn find(state: &AppState, id: &str) -> Result<Source, ApiError> {
    sources::find(&state.hub.db, id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(no_such_source)
}

fn no_such_source() -> ApiError {
    ApiError::not_found("no such source")
}

fn source_json(state: &AppState, headers: &HeaderMap, source: &Source) -> Value {
    let mut settings: Value = serde_json::from_str(&source.settings).unwrap_or(Value::Null);
    if let Some(map) = settings.as_object_mut() {
        map.remove("provider");
    }
    json!({
        "id": source.id,
        "name": source.name,
        "provider": source.provider,
        "settings": settings,
        "enabled": source.enabled,
        "rotating": source.previous_secret.is_some(),
        "url": endpoint_url(state.hub.config.public_url.as_deref(), request_host(headers), &source.id),
        "created_at": rfc3339(source.created_at),
        "updated_at": rfc3339(source.updated_at),
    })
}

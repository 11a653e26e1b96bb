//! `/api/v1/sources`: create, list and read receiver endpoints.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{ApiError, ApiJson, Authenticated, rfc3339};
use crate::AppState;
use crate::http::hooks::request_host;
use crate::receiving::sources::{self as domain, SourceError, SourceRequest, endpoint_url};
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
    let source = domain::create(&state.db, request)
        .await
        .map_err(|err| match err {
            SourceError::Invalid { field, message } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("{field}: {message}"),
            ),
            SourceError::Db(err) => ApiError::internal(err),
        })?;
    tracing::info!(source = %source.id, provider = %source.provider, "source created");
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
    let sources = sources::list(&state.db).await.map_err(ApiError::internal)?;
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
    let source = sources::find(&state.db, &id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such source"))?;
    Ok(Json(source_json(&state, &headers, &source)))
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
        "url": endpoint_url(state.config.public_url.as_deref(), request_host(headers), &source.id),
        "created_at": rfc3339(source.created_at),
        "updated_at": rfc3339(source.updated_at),
    })
}

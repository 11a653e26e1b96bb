//! `/api/v1/sources`: create, list, read, change and delete receiver endpoints, and rotate their
//! secrets.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{Authenticated, List, rfc3339};
use crate::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, request_host};
use crate::receiving::sources::{self as domain, SourceRequest, SourceUpdate, endpoint_url};
use crate::storage::sources::{self, Source};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSource {
    /// 1 to 100 characters once trimmed.
    name: String,
    /// `github`, `stripe`, `slack`, `standard`, `shopify`, `dropbox`, `trello`, `hmac`, ...
    provider: String,
    /// Generated when left out.
    secret: Option<String>,
    /// The provider's settings, such as pusher's `key`.
    #[serde(default)]
    settings: Map<String, Value>,
}

/// Creates a source; the answer carries its secret, this once.
#[utoipa::path(post, path = "/sources", tag = "sources", request_body = CreateSource,
    responses((status = 201, body = SourceOut)))]
pub async fn create(
    _: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateSource>,
) -> Result<(StatusCode, Json<SourceOut>), ApiError> {
    let request = SourceRequest {
        name: body.name,
        provider: body.provider,
        secret: body.secret,
        settings: body.settings,
    };
    let source = domain::create(&state.hub.db, request).await?;
    // The one answer that carries the secret: the caller needs it to configure the provider.
    let secret = source.secret.clone();
    let out = SourceOut::new(&state, &headers, source)?.with_secret(secret);
    Ok((StatusCode::CREATED, Json(out)))
}

/// Every source.
#[utoipa::path(get, path = "/sources", tag = "sources", responses((status = 200, body = List<SourceOut>)))]
pub async fn list(
    _: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<List<SourceOut>>, ApiError> {
    let sources = sources::list(&state.hub.db)
        .await
        .map_err(ApiError::from_db)?;
    let data = sources
        .into_iter()
        .map(|s| SourceOut::new(&state, &headers, s))
        .collect::<Result<_, _>>()?;
    Ok(Json(List { data }))
}

#[utoipa::path(get, path = "/sources/{id}", tag = "sources", params(("id" = String, Path, description = "The source's id")),
    responses((status = 200, body = SourceOut)))]
pub async fn get(
    _: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<SourceOut>, ApiError> {
    let source = find(&state, &id).await?;
    Ok(Json(SourceOut::new(&state, &headers, source)?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchSource {
    name: Option<String>,
    enabled: Option<bool>,
    /// Replaces the provider's settings whole.
    settings: Option<Map<String, Value>>,
}

/// Changes what the body names; what it leaves out stays.
#[utoipa::path(patch, path = "/sources/{id}", tag = "sources", params(("id" = String, Path, description = "The source's id")), request_body = PatchSource,
    responses((status = 200, body = SourceOut)))]
pub async fn patch(
    _: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchSource>,
) -> Result<Json<SourceOut>, ApiError> {
    let update = SourceUpdate {
        name: body.name,
        enabled: body.enabled,
        settings: body.settings,
    };
    let source = domain::update(&state.hub.db, &id, update).await?;
    Ok(Json(SourceOut::new(&state, &headers, source)?))
}

/// Deletes the source and every event it received.
#[utoipa::path(delete, path = "/sources/{id}", tag = "sources", params(("id" = String, Path, description = "The source's id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    domain::delete(&state.hub, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// Generated when left out.
    secret: Option<String>,
}

/// Starts a rotation: answers the new secret; the old one stays accepted until
/// `DELETE /sources/{id}/previous-secret`.
#[utoipa::path(post, path = "/sources/{id}/rotate-secret", tag = "sources", params(("id" = String, Path, description = "The source's id")),
    request_body = RotateSecret, responses((status = 200, body = SourceOut)))]
pub async fn rotate_secret(
    _: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RotateSecret>,
) -> Result<Json<SourceOut>, ApiError> {
    let source = domain::rotate_secret(&state.hub.db, &id, body.secret).await?;
    let secret = source.secret.clone();
    Ok(Json(
        SourceOut::new(&state, &headers, source)?.with_secret(secret),
    ))
}

/// Ends a rotation: only the new secret is accepted from now on.
#[utoipa::path(delete, path = "/sources/{id}/previous-secret", tag = "sources", params(("id" = String, Path, description = "The source's id")),
    responses((status = 204, description = "Only the new secret is accepted")))]
pub async fn drop_previous_secret(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    domain::drop_previous_secret(&state.hub.db, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn find(state: &AppState, id: &str) -> Result<Source, ApiError> {
    sources::find(&state.hub.db, id)
        .await
        .map_err(ApiError::from_db)?
        .ok_or_else(no_such_source)
}

fn no_such_source() -> ApiError {
    ApiError::not_found("no such source")
}

#[derive(Serialize, ToSchema)]
pub struct SourceOut {
    id: String,
    name: String,
    provider: String,
    /// The provider's settings, such as pusher's `key`.
    settings: Value,
    enabled: bool,
    /// True while the previous secret is still accepted.
    rotating: bool,
    /// Where the provider sends its webhooks.
    url: String,
    created_at: Option<String>,
    updated_at: Option<String>,
    /// Only in the answers to creating the source and rotating its secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl SourceOut {
    fn new(state: &AppState, headers: &HeaderMap, source: Source) -> Result<Self, ApiError> {
        let mut settings: Value =
            serde_json::from_str(&source.settings).map_err(ApiError::internal)?;
        if let Some(map) = settings.as_object_mut() {
            map.remove("provider");
        }
        let public_url = state.hub.config.public_url.as_deref();
        Ok(Self {
            url: endpoint_url(public_url, request_host(headers), &source.id),
            settings,
            rotating: source.previous_secret.is_some(),
            created_at: rfc3339(source.created_at),
            updated_at: rfc3339(source.updated_at),
            id: source.id.into(),
            name: source.name,
            provider: source.provider,
            enabled: source.enabled,
            secret: None,
        })
    }

    fn with_secret(self, secret: String) -> Self {
        Self {
            secret: Some(secret),
            ..self
        }
    }
}

//! `/api/v1/consumers`: who messages are addressed to, and the links that sign one in to their
//! portal.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{Authenticated, List, rfc3339};
use crate::AppState;
use crate::config::base_url;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, request_host};
use crate::sending::consumers::{self as domain, ConsumerInput};
use crate::storage::consumers::{self, Consumer};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConsumer {
    /// Chosen by you, such as your customer's id: letters, digits, `.`, `_`, `-`.
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    id: String,
    /// Shown in the dashboard and the portal; the id when left out.
    #[serde(default)]
    name: String,
    #[serde(default)]
    metadata: Map<String, Value>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsumerOut {
    id: String,
    name: String,
    metadata: Map<String, Value>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl From<Consumer> for ConsumerOut {
    fn from(c: Consumer) -> Self {
        Self {
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            id: c.id,
            name: c.name,
            metadata: c.metadata.0,
        }
    }
}

#[utoipa::path(post, path = "/consumers", tag = "consumers", request_body = NewConsumer,
    responses((status = 201, body = ConsumerOut)))]
pub async fn create(
    _: Authenticated,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewConsumer>,
) -> Result<(StatusCode, Json<ConsumerOut>), ApiError> {
    let input = ConsumerInput {
        id: body.id,
        name: body.name,
        metadata: body.metadata,
    };
    let created = domain::create(&state.hub.db, input).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Every consumer, by id.
#[utoipa::path(get, path = "/consumers", tag = "consumers",
    responses((status = 200, body = List<ConsumerOut>)))]
pub async fn list(
    _: Authenticated,
    State(state): State<AppState>,
) -> Result<Json<List<ConsumerOut>>, ApiError> {
    let all = consumers::list(&state.hub.db)
        .await
        .map_err(ApiError::from_db)?;
    Ok(Json(List {
        data: all.into_iter().map(ConsumerOut::from).collect(),
    }))
}

#[utoipa::path(get, path = "/consumers/{id}", tag = "consumers", params(("id" = String, Path, description = "The consumer's id")),
    responses((status = 200, body = ConsumerOut)))]
pub async fn get(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ConsumerOut>, ApiError> {
    Ok(Json(domain::find(&state.hub.db, &id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchConsumer {
    name: Option<String>,
    /// Replaces the metadata.
    metadata: Option<Map<String, Value>>,
}

#[utoipa::path(patch, path = "/consumers/{id}", tag = "consumers", params(("id" = String, Path, description = "The consumer's id")),
    request_body = PatchConsumer, responses((status = 200, body = ConsumerOut)))]
pub async fn patch(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchConsumer>,
) -> Result<Json<ConsumerOut>, ApiError> {
    let db = &state.hub.db;
    let current = domain::find(db, &id).await?;
    let name = body.name.unwrap_or(current.name);
    let metadata = body.metadata.unwrap_or(current.metadata.0);
    Ok(Json(domain::update(db, &id, &name, metadata).await?.into()))
}

/// Deletes the consumer with its subscriptions and their deliveries.
#[utoipa::path(delete, path = "/consumers/{id}", tag = "consumers", params(("id" = String, Path, description = "The consumer's id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    domain::delete(&state.hub.db, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct PortalLinkOut {
    /// Signs the consumer in to their portal, once.
    url: String,
    /// After this it no longer signs in (15 minutes); the session it starts lasts 4 hours.
    expires_at: Option<String>,
}

/// A link that signs the consumer in to their portal: usable once, within 15 minutes. Give it
/// to them (or open it in an iframe in your product); rotating their portal key revokes it.
#[utoipa::path(post, path = "/consumers/{id}/portal-link", tag = "consumers", params(("id" = String, Path, description = "The consumer's id")),
    responses((status = 201, body = PortalLinkOut)))]
pub async fn portal_link(
    _: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<PortalLinkOut>), ApiError> {
    let base = base_url(
        state.hub.config.public_url.as_deref(),
        request_host(&headers),
    );
    let link = domain::portal_link(&state.hub.db, &id, &base).await?;
    Ok((
        StatusCode::CREATED,
        Json(PortalLinkOut {
            url: link.url,
            expires_at: rfc3339(link.expires_at),
        }),
    ))
}

/// Ends every portal link and session of the consumer.
#[utoipa::path(post, path = "/consumers/{id}/rotate-portal-key", tag = "consumers", params(("id" = String, Path, description = "The consumer's id")),
    responses((status = 204, description = "Every link and portal session of theirs ended")))]
pub async fn rotate_portal_key(
    _: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    domain::rotate_portal_key(&state.hub.db, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

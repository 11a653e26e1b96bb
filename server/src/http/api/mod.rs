//! The REST API's base: API-key authentication and one JSON error shape,
//! `{"error": {"code": "...", "message": "..."}}`, for every failure under `/api/v1`.

pub(super) mod events;
mod sending;
mod sources;

use axum::Json;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use serde_json::json;

use crate::AppState;
use crate::auth::hash_token;
use crate::storage::api_keys::{self, ApiKey};

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
        .route("/events", get(events::list))
        .route("/events/{id}", get(events::get))
        .route("/events/{id}/body", get(events::body))
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

/// How long a client is asked to wait after a 503.
const RETRY_AFTER_SECS: u32 = 30;

/// An error as the REST API reports it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }

    /// A storage failure (disk full, I/O error) is 503 with `Retry-After`, so the client tries
    /// again later and nothing is lost; any other database error is [`ApiError::internal`].
    pub fn from_db(err: sea_orm::DbErr) -> Self {
        if crate::storage::is_storage_failure(&err) {
            tracing::error!(error = %err, "API request failed: the database cannot take writes");
            Self::unavailable()
        } else {
            Self::internal(err)
        }
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "the hub cannot store anything right now; nothing was stored, try again later",
        )
    }

    /// Logs the cause; the client learns only that it was our fault.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "API request failed");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "something went wrong; the details are in the server log".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, RETRY_AFTER_SECS.into());
        }
        response
    }
}

/// A JSON body whose rejections (bad syntax, wrong fields, wrong content type) answer in the
/// API's error shape.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::new(
                rejection.status(),
                "invalid_request",
                rejection.body_text(),
            )),
        }
    }
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
        let key = api_keys::find_active(&state.db, &hash_token(token))
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked API key"))?;
        if let Err(err) = api_keys::touch(&state.db, &key).await {
            tracing::warn!(error = %err, "could not record API key use");
        }
        Ok(Self(key))
    }
}

async fn whoami(
    Authenticated(key): Authenticated,
    State(_): State<AppState>,
) -> Json<serde_json::Value> {
    Json(json!({"api_key": {"id": key.id, "name": key.name, "prefix": key.prefix}}))
}

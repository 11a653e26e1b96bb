//! The REST API's one error shape, `{"error": {"code": "...", "message": "..."}}`, shared by
//! every route under `/api/v1` and by `/hooks` where it answers in JSON.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::Detail;

/// How long a client is asked to wait after a 503.
const RETRY_AFTER_SECS: u32 = 30;

/// An error as the REST API reports it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Vec<Detail>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
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
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong; the details are in the server log",
        )
    }
}

/// Every error answer of the REST API.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `invalid_request`, `invalid`, `unauthorized`, `not_found`,
    /// `conflict`, `forbidden`, `throttled`, `storage_unavailable`, `internal`, ...
    code: &'static str,
    /// For people: what was wrong and, where it can, how to put it right.
    message: String,
    /// Where and why, one by one, when the value was wrong in several places (a payload
    /// against its event type's schema).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    details: Vec<Detail>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                details: self.details,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
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

impl From<crate::error::Error> for ApiError {
    fn from(err: crate::error::Error) -> Self {
        use crate::error::Error;
        match err {
            Error::Invalid { field, message } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("{field}: {message}"),
            ),
            Error::Mismatched {
                field,
                message,
                details,
            } => Self {
                details,
                ..Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    format!("{field}: {message}"),
                )
            },
            Error::NotFound(what) => Self::not_found(format!("no such {what}")),
            Error::Conflict { field, message } => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("{field}: {message}"),
            ),
            Error::Forbidden(message) => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            Error::Throttled { retry_after_secs } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                format!("too many attempts; try again in {retry_after_secs} s"),
            ),
            Error::Db(err) => Self::from_db(err),
            Error::Internal(err) => Self::internal(err),
        }
    }
}

//! Server-function errors answered with the HTTP status they mean.
//!
//! A server function's error travels as its JSON-encoded [`AppError`], and leptos answers every
//! one with 500. A wrong password, a throttled login, a refused action or a field to fix is the
//! caller's to change, not the hub failing: this answers each with its own status (see
//! [`AppError::status`]), so clients, proxies and the request log (which reports 5xx as errors)
//! can tell them apart. Form posts without JavaScript are redirects and stay so.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use app::error::AppError;

/// An encoded [`AppError`] is a few hundred bytes; anything longer is not one.
const MAX_ERROR_BYTES: usize = 64 * 1024;

pub async fn server_fn_status(req: Request, next: Next) -> Response {
    if !super::guard::is_server_fn(req.uri().path()) {
        return next.run(req).await;
    }
    let response = next.run(req).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BYTES).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(error.status()).unwrap_or(parts.status);
        if let AppError::Throttled { retry_after_secs } = error {
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

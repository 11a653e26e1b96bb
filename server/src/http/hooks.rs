//! `/hooks/{source}`: where providers deliver. Thin: gathers the request as received and maps
//! the receive flow's answer to HTTP.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::ApiError;
use super::extract::request_host;
use crate::AppState;
use crate::receiving::handlers::Reply;
use crate::receiving::ingest::{self, Answer};
use crate::receiving::sources::endpoint_url;

pub async fn receive(
    State(state): State<AppState>,
    Path(source_id): Path<String>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ingest::count_too_large(&state.hub, &source_id).await;
            }
            return rejection.into_response();
        }
    };
    let callback_url = endpoint_url(
        state.hub.config.public_url.as_deref(),
        request_host(&headers),
        &source_id,
    );
    let request = ingest::Request {
        source_id,
        method,
        query: uri.query().map(str::to_owned),
        headers,
        body,
        remote_addr: Some(remote.ip().to_string()),
        callback_url,
    };
    match ingest::receive(&state.hub, request).await {
        Answer::Stored {
            reply: Some(reply), ..
        }
        | Answer::Handshake(reply) => reply_response(reply),
        Answer::Stored {
            event_id,
            duplicate,
            reply: None,
        } => Json(json!({"event_id": event_id, "duplicate": duplicate})).into_response(),
        Answer::Refused(refusal) => ApiError::new(
            StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::UNAUTHORIZED),
            "verification_failed",
            refusal.to_string(),
        )
        .into_response(),
        Answer::UnknownSource => ApiError::not_found("no such source").into_response(),
        Answer::Disabled => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "source_disabled",
            "this source is disabled; deliveries are refused until it is enabled again",
        )
        .into_response(),
        Answer::MethodNotAllowed => {
            let mut response = ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "deliver webhooks with POST",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            response
        }
        Answer::Unavailable => ApiError::unavailable().into_response(),
        Answer::Failed => ApiError::internal("the receive flow failed").into_response(),
    }
}

fn reply_response(reply: Reply) -> Response {
    let Reply {
        status,
        content_type,
        body,
    } = reply;
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    // An echoed challenge or a handler's reply is served from the hub's own origin, with
    // chosen text: a browser must neither sniff it into HTML nor run anything in it.
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    response
}

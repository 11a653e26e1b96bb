//! `GET /metrics`: the hub's figures for Prometheus, to a scraper with `metrics_token` or from
//! an address in `metrics_allow` (the client's, as `trusted_proxies` make it out). With neither
//! set it is refused: an operator opts in.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::AppState;

const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let config = &state.hub.config;
    if config.metrics_token.is_none() && config.metrics_allow.is_empty() {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "metrics_off",
            "set metrics_token or metrics_allow to let a scraper read /metrics",
        )
        .into_response();
    }
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let by_token = match (&config.metrics_token, offered) {
        (Some(token), Some(offered)) => token.matches(offered.trim()),
        _ => false,
    };
    if !by_token && !config.metrics_allow.contains(client.ip()) {
        let mut response = ApiError::unauthorized(
            "send the metrics_token as a bearer token, or scrape from an address in metrics_allow",
        )
        .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"hookhub metrics\""),
        );
        return response;
    }
    let text = state.hub.metrics.render(&state.hub.db).await;
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        text,
    )
        .into_response()
}

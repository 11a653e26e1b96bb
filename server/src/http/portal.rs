//! The consumer portal's gate, and its sign-in and sign-out.
//!
//! A portal link (`/portal/sign-in?token=…`) is used once: it starts a portal session whose
//! token is the `hookhub_portal` cookie, scoped to `/portal`. Every other `/portal` page and
//! server function passes only with a live session, and the gate hands the consumer it speaks
//! for to them as [`PortalConsumer`]; the dashboard's session counts for nothing here, and the
//! portal's for nothing in the dashboard. When the portal may be framed by another site, that
//! cookie must be `SameSite=None` (a framed page's cookies are third-party), which browsers
//! accept only with `Secure`, so over HTTPS.

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::cookie::{Cookie, SameSite};

use crate::AppState;
use crate::sending::consumers;
use app::session::PortalConsumer;

pub const PORTAL_COOKIE: &str = "hookhub_portal";
const SIGNED_OUT: &str = "/portal/signed-out";

/// Whether a path is the portal's: its pages and its server functions.
pub fn is_portal_path(path: &str) -> bool {
    path == "/portal" || path.starts_with("/portal/")
}

/// Paths of the portal that need no session: signing in and being told the session ended.
fn is_open(path: &str) -> bool {
    matches!(path, "/portal/sign-in" | "/portal/sign-out" | SIGNED_OUT)
}

pub async fn gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !is_portal_path(path) || is_open(path) {
        return next.run(req).await;
    }
    let consumer = match session_token(req.headers()) {
        Some(token) => consumers::session(&state.hub.db, &token).await,
        None => Ok(None),
    };
    match consumer {
        Ok(Some(consumer)) => {
            req.extensions_mut().insert(PortalConsumer(consumer.id));
            next.run(req).await
        }
        Ok(None) if super::guard::is_server_fn(path) => super::guard::unauthorized(),
        Ok(None) => Redirect::to(SIGNED_OUT).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot look up a portal session");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == PORTAL_COOKIE)
        .map(|cookie| cookie.value().to_owned())
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    token: String,
}

/// Uses a portal link: a session cookie and on to the portal, or to the page that says the
/// link no longer works (unknown, used, expired or revoked alike).
pub async fn sign_in(
    State(state): State<AppState>,
    query: Result<Query<SignIn>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let token = query.map(|Query(q)| q.token).unwrap_or_default();
    let session = match consumers::sign_in(&state.hub.db, token.trim()).await {
        Ok(Some(session)) => session,
        Ok(None) => return Redirect::to(&format!("{SIGNED_OUT}?link=1")).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "portal sign-in failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let config = &state.hub.config;
    let framed = config.portal.frame_origin.is_some() && config.secure_cookies;
    let cookie = Cookie::build((PORTAL_COOKIE, session.token))
        .path("/portal")
        .http_only(true)
        .secure(config.secure_cookies)
        .same_site(if framed {
            SameSite::None
        } else {
            SameSite::Lax
        })
        .max_age(time::Duration::milliseconds(
            session.expires_at - crate::storage::now_millis(),
        ))
        .build();
    with_cookie(Redirect::to("/portal"), &cookie)
}

/// Ends the portal session and forgets its cookie.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers)
        && let Err(err) = consumers::sign_out(&state.hub.db, &token).await
    {
        tracing::error!(error = %err, "portal sign-out failed");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let cookie = Cookie::build((PORTAL_COOKIE, ""))
        .path("/portal")
        .http_only(true)
        .max_age(time::Duration::ZERO)
        .build();
    with_cookie(Redirect::to(SIGNED_OUT), &cookie)
}

fn with_cookie(redirect: Redirect, cookie: &Cookie<'_>) -> Response {
    let mut response = redirect.into_response();
    match HeaderValue::from_str(&cookie.to_string()) {
        Ok(value) => {
            response.headers_mut().append(header::SET_COOKIE, value);
            response
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

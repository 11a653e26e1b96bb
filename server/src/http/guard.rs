//! Two gates in front of the dashboard.
//!
//! `refuse_cross_site`: a state-changing request (anything but GET, HEAD, OPTIONS) outside the
//! provider and REST endpoints must come from this hub's own origin, as its `Origin` (or, when
//! absent, `Referer`) header says. Browsers always send them on such requests and a cross-site
//! page cannot forge them, so this stops cross-site form posts without per-form tokens; the
//! SameSite=Lax session cookie is a second line. First-run setup, which needs no session, is
//! also refused unless the `Host` is an IP address, `localhost` or the public URL's host: a
//! DNS-rebinding page (its own name pointed at this machine) would otherwise pass as same-origin
//! and could create the admin before the owner does.
//!
//! `require_login`: every page and server function needs a signed-in session, except the login
//! and first-run setup pages and the two server functions behind them, and the consumer
//! portal's, which its own gate guards (`portal.rs`).

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::proxy::Client;
use crate::AppState;
use crate::storage::users;
use app::session::{AuthSession, Lifetime};

/// Paths that bring their own authentication, or none: providers, the REST API, probes.
fn is_machine_path(path: &str) -> bool {
    path.starts_with("/hooks/")
        || path.starts_with("/api/v1/")
        || path == "/api/v1"
        || path == "/healthz"
        || path == "/metrics"
}

fn is_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg" || path == "/favicon.ico"
}

pub(super) fn is_server_fn(path: &str) -> bool {
    server_fn::axum::server_fn_paths().any(|(p, _)| p == path)
}

pub async fn refuse_cross_site(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || is_machine_path(req.uri().path()) {
        return next.run(req).await;
    }
    let public_url = state.hub.config.public_url.as_deref();
    let https = req
        .extensions()
        .get::<Client>()
        .is_some_and(|client| client.https);
    let checked = same_origin(req.headers(), https, public_url).and_then(|()| {
        let setup = <app::api::SetUp as server_fn::ServerFn>::PATH;
        if req.uri().path() == setup && !names_this_machine(req.headers(), public_url) {
            return Err(
                "first-run setup is accepted only at an IP address, localhost or \
                 the host of public_url",
            );
        }
        Ok(())
    });
    match checked {
        Ok(()) => next.run(req).await,
        Err(reason) => {
            tracing::warn!(path = %req.uri().path(), reason, "cross-site request refused");
            (
                StatusCode::FORBIDDEN,
                format!("Cross-site request refused: {reason}."),
            )
                .into_response()
        }
    }
}

/// Whether the request's `Origin` (or `Referer`) is this hub: scheme, host and port. The hub
/// itself speaks plain HTTP, so that is `http://` and the `Host` it was sent to, or `https://`
/// when a trusted proxy says the client came over HTTPS; or the configured public URL's origin.
/// `https://host` at a plain-HTTP hub is another origin (a page there could be anyone's, e.g. a
/// TLS endpoint on another port mapped to the same name).
fn same_origin(
    headers: &HeaderMap,
    https: bool,
    public_url: Option<&str>,
) -> Result<(), &'static str> {
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .ok_or("no Origin or Referer header")?
        .to_str()
        .map_err(|_| "unreadable Origin header")?;
    let claimed: Uri = claimed.parse().map_err(|_| "malformed Origin header")?;
    let claimed = origin_of(&claimed).ok_or("Origin has no scheme or host")?;
    let direct = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            let scheme = if https { "https" } else { "http" };
            format!("{scheme}://{h}").parse::<Uri>().ok()
        })
        .and_then(|u| origin_of(&u));
    let public = public_url
        .and_then(|u| u.parse::<Uri>().ok())
        .and_then(|u| origin_of(&u));
    if direct.as_ref() == Some(&claimed) || public.as_ref() == Some(&claimed) {
        Ok(())
    } else {
        Err("Origin is another site")
    }
}

/// A URL's origin as browsers compare it: scheme, lower-case host, and port (the scheme's
/// default when none is written).
fn origin_of(uri: &Uri) -> Option<(String, String, u16)> {
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    let port = match (authority.port_u16(), scheme.as_str()) {
        (Some(port), _) => port,
        (None, "http") => 80,
        (None, "https") => 443,
        (None, _) => return None,
    };
    Some((scheme, authority.host().to_ascii_lowercase(), port))
}

/// Whether the request's `Host` is one a DNS-rebinding page cannot claim: an IP address,
/// `localhost`, or the host of the configured public URL.
fn names_this_machine(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<axum::http::uri::Authority>().ok())
    else {
        return false;
    };
    let host = host.host();
    let public_host = public_url
        .and_then(|u| u.parse::<Uri>().ok())
        .and_then(|u| u.host().map(str::to_owned));
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok()
        || host.eq_ignore_ascii_case("localhost")
        || public_host.is_some_and(|p| p.eq_ignore_ascii_case(host))
}

pub async fn require_login(
    State(state): State<AppState>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    // The portal has its own gate and session (`portal.rs`).
    if is_machine_path(path)
        || is_asset(path)
        || super::portal::is_portal_path(path)
        || app::api::public_paths().contains(&path)
    {
        return next.run(req).await;
    }
    let needs_setup = match needs_setup(&state).await {
        Ok(needs_setup) => needs_setup,
        Err(err) => {
            tracing::error!(error = %err, "cannot count users");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let signed_in = is_signed_in(&state, AuthSession(session)).await;
    match path {
        "/setup" if needs_setup => next.run(req).await,
        "/setup" => Redirect::to("/login").into_response(),
        _ if needs_setup => Redirect::to("/setup").into_response(),
        "/login" if signed_in => Redirect::to("/").into_response(),
        "/login" => next.run(req).await,
        _ if signed_in => next.run(req).await,
        _ if is_server_fn(path) => unauthorized(),
        _ => {
            let next_path = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let target = format!("/login?next={}", encode_query_value(next_path));
            Redirect::to(&target).into_response()
        }
    }
}

/// Whether the session is signed in as a user who still exists and whose password has not
/// changed since (a new password ends the user's other sessions), within its lifetime; a use
/// keeps it alive.
async fn is_signed_in(state: &AppState, session: AuthSession) -> bool {
    let Ok(Some(id)) = session.user_id().await else {
        return false;
    };
    let lifetime = Lifetime {
        idle: state.hub.config.session_ttl,
        max: state.hub.config.session_max,
    };
    match users::find(&state.hub.db, id).await {
        Ok(Some(user)) => {
            session
                .is_current_for(&super::dashboard::user_dto(user))
                .await
                .unwrap_or(false)
                && session.keep_alive(lifetime).await.unwrap_or(false)
        }
        Ok(None) => false,
        Err(err) => {
            tracing::error!(error = %err, "cannot look up the session's user");
            false
        }
    }
}

/// Whether first-run setup is still open; asks the database only until the first user exists.
async fn needs_setup(state: &AppState) -> Result<bool, sea_orm::DbErr> {
    if state.set_up.load(Ordering::Relaxed) {
        return Ok(false);
    }
    let none = users::count(&state.hub.db).await? == 0;
    if !none {
        state.set_up.store(true, Ordering::Relaxed);
    }
    Ok(none)
}

/// A server function's own error encoding, so the browser shows "Please log in".
pub(super) fn unauthorized() -> Response {
    let body = serde_json::to_string(&app::error::AppError::Unauthorized).unwrap_or_default();
    Response::builder()
        .status(StatusCode::UNAUTHORIZED)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::UNAUTHORIZED.into_response())
}

fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn same_origin_accepts_own_host_or_public_url_only() {
        let own = headers(&[
            (header::HOST, "127.0.0.1:3000"),
            (header::ORIGIN, "http://127.0.0.1:3000"),
        ]);
        assert!(same_origin(&own, false, None).is_ok());
        let evil = headers(&[
            (header::HOST, "127.0.0.1:3000"),
            (header::ORIGIN, "https://evil.example"),
        ]);
        assert!(same_origin(&evil, false, None).is_err());
        let proxied = headers(&[
            (header::HOST, "internal:3000"),
            (header::ORIGIN, "https://hooks.example.com"),
        ]);
        assert!(same_origin(&proxied, false, Some("https://hooks.example.com")).is_ok());
        let referer = headers(&[
            (header::HOST, "h:1"),
            (header::REFERER, "http://h:1/settings"),
        ]);
        assert!(same_origin(&referer, false, None).is_ok());
        let default_port = headers(&[(header::HOST, "h"), (header::ORIGIN, "http://H")]);
        assert!(same_origin(&default_port, false, None).is_ok());
        assert!(same_origin(&headers(&[(header::HOST, "h:1")]), false, None).is_err());
        let null = headers(&[(header::HOST, "h:1"), (header::ORIGIN, "null")]);
        assert!(same_origin(&null, false, None).is_err());
    }

    #[test]
    fn same_origin_compares_scheme_and_port_too() {
        let https_at_http_hub = headers(&[
            (header::HOST, "127.0.0.1:3000"),
            (header::ORIGIN, "https://127.0.0.1:3000"),
        ]);
        assert!(same_origin(&https_at_http_hub, false, None).is_err());
        // Unless a trusted proxy says the client came over HTTPS (http/proxy.rs).
        let behind_tls_proxy = headers(&[
            (header::HOST, "hooks.example.com"),
            (header::ORIGIN, "https://hooks.example.com"),
        ]);
        assert!(same_origin(&behind_tls_proxy, true, None).is_ok());
        assert!(same_origin(&behind_tls_proxy, false, None).is_err());
        let other_port = headers(&[
            (header::HOST, "127.0.0.1:3000"),
            (header::ORIGIN, "http://127.0.0.1:3001"),
        ]);
        assert!(same_origin(&other_port, false, None).is_err());
        let http_at_https_public = headers(&[
            (header::HOST, "internal:3000"),
            (header::ORIGIN, "http://hooks.example.com"),
        ]);
        let public = Some("https://hooks.example.com");
        assert!(same_origin(&http_at_https_public, false, public).is_err());
        let explicit_port = headers(&[
            (header::HOST, "internal:3000"),
            (header::ORIGIN, "https://hooks.example.com"),
        ]);
        assert!(same_origin(&explicit_port, false, Some("https://hooks.example.com:443")).is_ok());
    }

    #[test]
    fn only_addresses_localhost_and_the_public_host_name_this_machine() {
        let host = |h: &str| headers(&[(header::HOST, h)]);
        for ok in [
            "127.0.0.1:3000",
            "[::1]:3000",
            "10.1.2.3",
            "localhost:3000",
            "LOCALHOST",
        ] {
            assert!(names_this_machine(&host(ok), None), "{ok}");
        }
        for rebound in [
            "evil.example:3000",
            "hooks.example.com",
            "localhost.evil.example",
        ] {
            assert!(!names_this_machine(&host(rebound), None), "{rebound}");
        }
        let public = Some("https://hooks.example.com");
        assert!(names_this_machine(&host("hooks.example.com"), public));
        assert!(!names_this_machine(&HeaderMap::new(), public));
    }

    #[test]
    fn next_parameter_is_encoded() {
        assert_eq!(
            encode_query_value("/settings?a=1&b"),
            "/settings%3Fa%3D1%26b"
        );
    }
}

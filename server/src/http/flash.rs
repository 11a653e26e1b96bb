//! Carries a server function's answer across the redirect of a form posted without JavaScript
//! (see `app/src/flash.rs`): kept in the session when the form is answered, handed to the next
//! page the browser asks for, and removed from the session then.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_sessions::Session;

use app::flash::Flash;

const KEY: &str = "flash";
/// Answers worth carrying are small (a new key, a count, a source); a longer one is not kept.
const MAX_OUTPUT_BYTES: usize = 64 * 1024;

pub async fn carry(session: Session, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let plain_navigation = accepts_html(req.headers());
    if !plain_navigation {
        return next.run(req).await;
    }
    if req.method() == Method::POST && super::guard::is_server_fn(&path) {
        let response = next.run(req).await;
        return keep(&session, path, response).await;
    }
    if req.method() == Method::GET
        && let Ok(Some(flash)) = session.get::<Flash>(KEY).await
    {
        // Only a session that holds one is touched: removing marks it changed, a write.
        if let Err(err) = session.remove::<Flash>(KEY).await {
            tracing::warn!(error = %err, "could not remove a flash from its session");
        }
        req.extensions_mut().insert(flash);
    }
    next.run(req).await
}

/// A browser's own form post or navigation, rather than a call from the hydrated page.
fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Keeps a successful answer to a plain form post, which leptos answers with a redirect back
/// (a failure's redirect carries the error in its URL instead).
async fn keep(session: &Session, path: String, response: Response) -> Response {
    let failed = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|location| location.contains("__err="));
    if response.status() != StatusCode::FOUND || failed {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_OUTPUT_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let output = String::from_utf8_lossy(&bytes).into_owned();
    if let Err(err) = session.insert(KEY, Flash { path, output }).await {
        tracing::warn!(error = %err, "could not keep an answer for the page after the redirect");
    }
    Response::from_parts(parts, Body::empty())
}

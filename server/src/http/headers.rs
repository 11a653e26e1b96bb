//! Security headers. A dashboard page shows secrets and stored text from strangers, so its
//! Content-Security-Policy lets only the hub's own files run, plus leptos' inline hydration
//! scripts, which carry this response's nonce; it is never cached. Every response is marked
//! nosniff, unframeable and referrer-free, so a JSON body or a stored raw body cannot be
//! read as a page either.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, LAST_MODIFIED, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::middleware::Next;
use axum::response::Response;
use leptos::nonce::use_nonce;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

/// Everything but pages: nothing in such a response may load, run or be framed.
const OTHER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
                            form-action 'none'";
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// What the consumer portal's pages allow beyond the dashboard's: the operator's site to frame
/// them, and the operator's logo.
#[derive(Clone, Debug)]
pub(super) struct PagePolicy {
    /// `frame-ancestors` of a portal page.
    portal_frame: String,
    /// `img-src` of a portal page.
    portal_images: String,
}

impl PagePolicy {
    pub(super) fn new(portal: &crate::config::PortalSettings) -> Self {
        let logo = portal
            .logo_url
            .as_deref()
            .and_then(crate::config::origin_of);
        Self {
            portal_frame: portal
                .frame_origin
                .clone()
                .unwrap_or_else(|| "'none'".to_owned()),
            portal_images: match logo {
                Some(origin) => format!("'self' {origin}"),
                None => "'self'".to_owned(),
            },
        }
    }
}

/// The policy of a page whose inline scripts carry `nonce`. The wasm is fetched and compiled
/// (`connect-src`, `'wasm-unsafe-eval'`); styles come from the hub's own files only, images
/// from `images`, forms post back to the hub, and only `frame` may frame it.
fn page_policy(nonce: &str, images: &str, frame: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src {images}; connect-src 'self'; \
         frame-ancestors {frame}; base-uri 'none'; form-action 'self'; object-src 'none'"
    )
}

/// Sets the page headers from inside a leptos render, where the nonce leptos_axum made for
/// this response is in context. Outside a page render (static files, server functions) there
/// is no nonce and nothing is set here. A portal page takes the portal's frame and images.
pub(super) fn for_page(policy: &PagePolicy) {
    let (Some(nonce), Some(response)) = (use_nonce(), use_context::<ResponseOptions>()) else {
        return;
    };
    let portal = use_context::<axum::http::request::Parts>()
        .is_some_and(|parts| super::portal::is_portal_path(parts.uri.path()));
    let policy = if portal {
        page_policy(&nonce, &policy.portal_images, &policy.portal_frame)
    } else {
        page_policy(&nonce, "'self'", "'none'")
    };
    // A nonce is URL-safe base64, always a valid header value.
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        response.insert_header(CONTENT_SECURITY_POLICY, policy);
        response.insert_header(CACHE_CONTROL, NO_STORE);
    }
}

/// The headers every response gets; a page's own policy, set by [`for_page`], is kept.
pub(super) async fn on_every_response(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // `same-origin`, not `no-referrer`: a form posted without JavaScript is sent back to its
    // page by its Referer, which other sites never see.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers
        .entry(CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(OTHER_POLICY));
    // Static files (served with Last-Modified) may be cached; what the hub generates may hold
    // secrets and is not.
    if !headers.contains_key(CACHE_CONTROL) && !headers.contains_key(LAST_MODIFIED) {
        headers.insert(CACHE_CONTROL, NO_STORE);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_names_the_nonce_and_forbids_framing_and_plugins() {
        let policy = page_policy("abc", "'self'", "'none'");
        assert!(policy.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        for directive in [
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ] {
            assert!(policy.contains(directive), "{directive}");
        }
        assert!(!policy.contains("unsafe-inline"));
    }
}

//! The HTTP surface: the dashboard (leptos pages and server functions), the REST API under
//! `/api/v1`, `/healthz`, and the middleware that guards them.

pub(crate) mod api;
mod assets;
pub(crate) mod connections;
mod dashboard;
mod deadline;
mod error;
mod extract;
mod flash;
mod guard;
mod headers;
pub(crate) mod hooks;
mod portal;
pub mod proxy;
mod scrape;
mod statuses;

use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use leptos::config::LeptosOptions;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::storage::Integrity;
use crate::storage::sessions::SessionDbStore;
use crate::{AppState, Config};
use app::backend::{BackendRef, PortalRef};
use app::flash::{Flash, FlashSlot};
use app::{App, shell};
use dashboard::HubBackend;

pub const SESSION_COOKIE: &str = "hookhub_session";
/// The largest body a page or server function takes (axum's default, as a 413 rather than a
/// server function's failure to read it).
const DASHBOARD_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The dashboard's routes, worked out once per process.
///
/// leptos walks the app to list them and, while it does, stops every resource in the process
/// from loading (a global flag). A page rendering meanwhile, in another hub in the same process,
/// would wait for ever; so the walk happens once, before the first hub serves.
pub fn dashboard_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The name cargo-leptos gives the dashboard's script, stylesheet and wasm (the workspace's
/// `[[workspace.metadata.leptos]] name`).
const SITE_NAME: &str = "hookhub";
/// Where in the site they are.
const SITE_PKG_DIR: &str = "pkg";

pub use assets::Assets;

/// Built from hookhub's own settings, so the binary needs none of cargo-leptos's variables.
fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(SITE_NAME)
        .site_root(config.site_dir.to_string_lossy())
        .site_pkg_dir(SITE_PKG_DIR)
        .site_addr(config.listen)
        .build()
}

pub fn router(state: AppState) -> anyhow::Result<Router> {
    let options = leptos_options(&state.hub.config);
    let routes = dashboard_routes();
    let hub_backend = Arc::new(HubBackend(state.clone()));
    let backend = BackendRef(hub_backend.clone());
    let portal = PortalRef(hub_backend);
    let policy = headers::PagePolicy::new(&state.hub.config.portal);

    let sessions = SessionManagerLayer::new(SessionDbStore::new(state.hub.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.hub.config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::try_from(
            state.hub.config.session_ttl,
        )?));

    let body_timeout = state.hub.config.body_timeout;
    let trusted_proxies = Arc::new(state.hub.config.trusted_proxies.clone());
    let assets = state.assets.clone();
    let page_context = move || {
        provide_context(backend.clone());
        provide_context(portal.clone());
        provide_context(assets.urls());
        provide_context(FlashSlot::new(
            use_context::<Parts>().and_then(|parts| parts.extensions.get::<Flash>().cloned()),
        ));
        headers::for_page(&policy);
    };
    let pages = Router::new()
        .leptos_routes_with_context(&options, routes, page_context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            page_context,
            shell,
        ))
        .layer(RequestBodyLimitLayer::new(DASHBOARD_BODY_LIMIT))
        .with_state(options);

    // Providers, the REST API and probes bring their own authentication (or need none): the
    // dashboard's session, login, portal and cross-site layers do not run for them, which
    // keeps the receive path and publishing lean.
    let machine = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(scrape::metrics))
        .route(
            "/hooks/{source}",
            any(hooks::receive).layer(DefaultBodyLimit::max(state.hub.config.max_body_bytes)),
        )
        .nest("/api/v1", api::router())
        .with_state(state.clone());

    Ok(Router::new()
        .route(
            "/pkg/{file}",
            get(assets::serve).with_state(state.assets.clone()),
        )
        .route(
            "/favicon.svg",
            get(assets::icon).with_state(state.assets.clone()),
        )
        .route("/portal/sign-in", get(portal::sign_in))
        .route("/portal/sign-out", axum::routing::post(portal::sign_out))
        // The page gate below asks for a session, as for every dashboard page.
        .route("/events/{id}/raw", get(api::events::raw_body))
        .with_state(state.clone())
        .merge(pages)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::require_login,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            portal::gate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            guard::refuse_cross_site,
        ))
        .layer(axum::middleware::from_fn(flash::carry))
        .layer(sessions)
        .layer(axum::middleware::from_fn(statuses::server_fn_status))
        .merge(machine)
        .layer(axum::middleware::from_fn(headers::on_every_response))
        // A body trickled in slowly is cut off rather than holding its connection for ever.
        .layer(axum::middleware::from_fn_with_state(
            body_timeout,
            deadline::body_deadline,
        ))
        // First: everything after it sees the client, not the proxy in front of hookhub.
        .layer(axum::middleware::from_fn_with_state(
            trusted_proxies,
            proxy::believe_proxies,
        ))
        .layer(
            // Spans carry the method and path only: query strings may hold secrets.
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        ))
}

/// 200 while the hub can take webhooks: the database answers and writes commit. 503 (with
/// `Retry-After`) while writes fail, so a load balancer or monitor sees a full or failing disk.
/// It says nothing more about the cause: it answers without a session; the log has the details.
async fn healthz(State(state): State<AppState>) -> Response {
    let ping = state.hub.db.ping().await;
    let engine = state.hub.db.location().engine();
    let integrity = match state.hub.db.integrity() {
        Integrity::Checking => "checking",
        Integrity::Ok => "ok",
        Integrity::Failed(_) => "failed",
    };
    match (ping, state.hub.db.write_failure()) {
        (Ok(()), None) => Json(json!({
            "status": if integrity == "failed" { "degraded" } else { "ok" },
            "integrity": integrity,
            "engine": engine,
            "node": &*state.hub.config.node_id,
        }))
        .into_response(),
        (ping, failure) => {
            if let Err(err) = ping {
                tracing::error!(error = %err, "health check failed");
            }
            let since = failure.and_then(|f| api::rfc3339(f.since));
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "reason": "database",
                    "writes_failing_since": since,
                    "integrity": integrity,
                    "engine": engine,
                    "node": &*state.hub.config.node_id,
                })),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            response
        }
    }
}

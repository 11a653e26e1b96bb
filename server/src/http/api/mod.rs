//! The REST API's base: its routes and API-key authentication. Every failure answers in the
//! one shape of [`ApiError`].

mod consumers;
pub(super) mod events;
mod handlers;
mod relay;
mod sending;
mod sources;

use std::sync::OnceLock;

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::{StatusCode, header, request::Parts};
use axum::routing::get;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{self, OpenApi as Description, Ref, RefOr};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::hash_token;
use crate::http::error::{ApiError, ErrorBody};
use crate::receiving::providers::Provider;
use crate::storage::api_keys::{self, ApiKey};

/// How many things were queued again.
#[derive(Serialize, ToSchema)]
pub struct Queued {
    pub queued: u64,
}

/// The routes under `/api/v1`, and `GET /api/v1/openapi.json`: their description, generated from
/// the same handlers, so the two cannot drift.
pub fn router() -> Router<AppState> {
    let (router, _) = routes().split_for_parts();
    router
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], description()) }),
        )
        .fallback(|| async { ApiError::not_found("no such API route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
}

/// The OpenAPI 3.1 description of the REST API, as JSON.
pub fn description() -> &'static str {
    static DESCRIPTION: OnceLock<String> = OnceLock::new();
    DESCRIPTION.get_or_init(|| {
        let (_, mut description) = routes().split_for_parts();
        Conventions.modify(&mut description);
        description
            .to_pretty_json()
            .expect("the API description serialises")
    })
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(whoami))
        .routes(routes!(sources::list, sources::create))
        .routes(routes!(sources::get, sources::patch, sources::delete))
        .routes(routes!(sources::rotate_secret))
        .routes(routes!(sources::drop_previous_secret))
        .routes(routes!(relay::stream))
        .routes(routes!(handlers::list_for_source, handlers::add_to_source))
        .routes(routes!(
            handlers::change_in_source,
            handlers::remove_from_source
        ))
        .routes(routes!(handlers::list_global, handlers::add_global))
        .routes(routes!(handlers::change_global, handlers::remove_global))
        .routes(routes!(events::list))
        .routes(routes!(events::get))
        .routes(routes!(events::body))
        .routes(routes!(events::retry_handlers))
        .routes(routes!(events::retry_source_handlers))
        .routes(routes!(
            sending::list_event_types,
            sending::create_event_type
        ))
        .routes(routes!(sending::patch_event_type))
        .routes(routes!(sending::validate_payload))
        .routes(routes!(
            sending::list_subscriptions,
            sending::create_subscription
        ))
        .routes(routes!(
            sending::get_subscription,
            sending::patch_subscription,
            sending::delete_subscription
        ))
        .routes(routes!(sending::rotate_subscription_secret))
        .routes(routes!(sending::redeliver_failed))
        .routes(routes!(sending::try_payload_filter))
        .routes(routes!(consumers::list, consumers::create))
        .routes(routes!(consumers::get, consumers::patch, consumers::delete))
        .routes(routes!(consumers::portal_link))
        .routes(routes!(consumers::rotate_portal_key))
        .routes(routes!(sending::publish))
        .routes(routes!(sending::list_deliveries))
        .routes(routes!(sending::redeliver_matching))
        .routes(routes!(sending::get_delivery))
        .routes(routes!(sending::redeliver))
}

/// What the handlers' own attributes do not say: the API's name, base and authentication.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "hookhub",
        description = "Receive, store and send webhooks. Every route takes an API key, made \
                       in the dashboard under Settings, as `Authorization: Bearer <key>`. \
                       Every error answers `{\"error\": {\"code\", \"message\"}}`."
    ),
    servers((url = "/api/v1")),
    security(("api_key" = [])),
    components(schemas(ErrorBody)),
    tags(
        (name = "api keys", description = "The key a request is made with"),
        (name = "sources", description = "Receiver endpoints, one per provider account"),
        (name = "handlers", description = "The ordered steps run on each verified event"),
        (name = "events", description = "The webhooks received, as received"),
        (name = "event types", description = "The catalog of what can be published"),
        (name = "consumers", description = "Who messages are addressed to, and their portal"),
        (name = "subscriptions", description = "Who receives published messages"),
        (name = "messages", description = "Publishing"),
        (name = "deliveries", description = "Each message to each subscription, with its attempts"),
    )
)]
struct ApiDoc;

/// The answers every route shares, added to each operation from what it takes, so no handler
/// lists them by hand: 401 and the server's own failures everywhere, 400 where there is
/// something to get wrong, 404 where a path names a thing, and a JSON body's rejections.
struct Conventions;

const ERRORS: [(&str, &str); 9] = [
    (
        "400",
        "The request is malformed: a bad parameter or JSON that does not parse",
    ),
    ("401", "No API key, or one that is unknown or revoked"),
    ("404", "No such thing"),
    ("409", "It conflicts with something that exists"),
    ("413", "The body is too large"),
    ("415", "The body is not `application/json`"),
    (
        "422",
        "The body is well-formed but a value is not acceptable; the message says which",
    ),
    ("500", "The hub failed; the details are in its log"),
    (
        "503",
        "The hub cannot store anything right now (`Retry-After` says when to try again)",
    ),
];

impl Modify for Conventions {
    fn modify(&self, api: &mut Description) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `Authorization: Bearer <key>`"))
                    .build(),
            ),
        );
        for (status, description) in ERRORS {
            let response = openapi::ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    openapi::ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build();
            components
                .responses
                .insert(status.to_owned(), response.into());
        }
        if let Some(RefOr::T(openapi::Schema::Object(source))) =
            components.schemas.get_mut("CreateSource")
            && let Some(RefOr::T(openapi::Schema::Object(provider))) =
                source.properties.get_mut("provider")
        {
            provider.enum_values = Some(Provider::NAMES.iter().map(|&n| n.into()).collect());
        }
        for item in api.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let parameters = operation.parameters.as_deref().unwrap_or_default();
                let in_path = parameters
                    .iter()
                    .any(|p| p.parameter_in == openapi::path::ParameterIn::Path);
                let has_body = operation.request_body.is_some();
                let mut statuses = vec!["401", "500", "503"];
                if has_body || !parameters.is_empty() {
                    statuses.push("400");
                }
                if in_path {
                    statuses.push("404");
                }
                if has_body {
                    statuses.extend(["409", "413", "415", "422"]);
                }
                for status in statuses {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(status)));
                }
            }
        }
    }
}

/// A whole list, as `{"data": [...]}`.
#[derive(Serialize, ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
}

/// One page of a list read newest first. Pass `next_cursor` back as `cursor` for the page
/// after; it is `null` on the last page.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<i64>,
}

impl<T> Page<T> {
    /// A page as full as asked for may have more after it, from its last row on.
    pub fn of<R>(
        rows: Vec<R>,
        limit: u64,
        cursor: impl Fn(&R) -> i64,
        out: impl FnMut(R) -> T,
    ) -> Self {
        let next_cursor = (rows.len() as u64 == limit)
            .then(|| rows.last().map(cursor))
            .flatten();
        Self {
            data: rows.into_iter().map(out).collect(),
            next_cursor,
        }
    }
}

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 250;

/// A list's `limit`: 50 when left out, at most 250.
pub fn page_limit(limit: Option<u64>) -> Result<u64, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    Ok(limit)
}

pub use crate::storage::rfc3339;

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
        let key = api_keys::find_active(&state.hub.db, &hash_token(token))
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked API key"))?;
        if let Err(err) = api_keys::touch(&state.hub.db, &key).await {
            tracing::warn!(error = %err, "could not record API key use");
        }
        Ok(Self(key))
    }
}

#[derive(Serialize, ToSchema)]
struct WhoAmI {
    api_key: KeyOut,
}

/// The key a request authenticated with; never the key itself.
#[derive(Serialize, ToSchema)]
struct KeyOut {
    id: i64,
    name: String,
    prefix: String,
}

/// The API key this request authenticated with: a way to check a key works.
#[utoipa::path(get, path = "/whoami", tag = "api keys", responses((status = 200, body = WhoAmI)))]
async fn whoami(Authenticated(key): Authenticated, State(_): State<AppState>) -> Json<WhoAmI> {
    Json(WhoAmI {
        api_key: KeyOut {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
        },
    })
}

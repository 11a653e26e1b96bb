//! The dashboard's port, implemented over the use cases: form text becomes their inputs, their
//! results the DTOs and errors the browser sees (the conversions are in `dtos` and `errors`).

mod dtos;
mod errors;
mod portal;

use app::backend::Backend;
use app::dto::{
    ApiKeyDto, AttemptDto, ConsumerDto, ConsumerFormDto, DeliveryCountsDto, DeliveryDetailDto,
    DeliveryPageDto, DeliveryQuery, DeliverySummaryDto, EventDetailDto, EventPageDto, EventQuery,
    EventTypeDto, EventTypeFormDto, GettingStartedDto, HandlerChangeDto, HandlerDto, HandlerRunDto,
    HealthDto, HubDto, NewApiKeyDto, NewHandlerDto, OverviewDto, PortalLinkDto, PublishedDto,
    RefusedDto, SourceDetailDto, SourceDto, SourceTestDto, SubscriptionDetailDto, SubscriptionDto,
    SubscriptionFormDto, SubscriptionSecretsDto, TrySourceDto, UserDto,
};
use app::error::AppError;

pub(crate) use self::dtos::user_dto;
use self::dtos::{
    consumer_dto, delivery_summary, event_summary, event_type_dto, form_fields, health_dto,
    key_dto, paging_dto, readable_body, subscription_dto, subscription_input,
};
use self::errors::{internal, no_such_delivery, no_such_source, no_such_subscription, sentence};
use crate::AppState;
use crate::auth::accounts;
use crate::error::Error;
use crate::figures;
use crate::ids::{SourceId, SubscriptionId};
use crate::receiving::handlers::HandlerRequest;
use crate::receiving::history::{self, DeliveryParams, EventParams};
use crate::receiving::providers::{self, Provider};
use crate::receiving::runs;
use crate::receiving::sources::{self as receiving, SourceRequest, SourceUpdate, endpoint_url};
use crate::sending::catalog as sending_catalog;
use crate::sending::consumers as sending_consumers;
use crate::sending::credentials;
use crate::sending::deliveries as redelivery;
use crate::sending::notices;
use crate::sending::schemas;
use crate::sending::subscriptions as sending;
use crate::sending::worker;
use crate::storage::{
    api_keys, catalog, consumers,
    deliveries::{self, Delivery, DeliveryFilter},
    events,
    handlers::{self, HandlerChange, HandlerRow, RunHealth},
    hubs,
    messages::{self, Published},
    now_millis,
    sources::{self, Source},
    states::{self, RunStatus},
    subscriptions, users,
};

/// Events per page in the dashboard.
const EVENTS_PAGE: u64 = 50;
/// Refused requests shown on a source's page.
const REFUSED_SHOWN: usize = 20;

pub struct HubBackend(pub AppState);

impl HubBackend {
    async fn source(&self, id: &str) -> Result<Source, AppError> {
        sources::find(&self.0.hub.db, id)
            .await
            .map_err(internal)?
            .ok_or_else(no_such_source)
    }

    /// Handlers as the dashboard shows them, each with how its runs have been doing (on the
    /// events of `source` only, when given).
    async fn handler_dtos(
        &self,
        rows: Vec<HandlerRow>,
        source: Option<&str>,
    ) -> Result<Vec<HandlerDto>, AppError> {
        let db = &self.0.hub.db;
        let ids = rows.iter().map(|r| r.id.clone()).collect();
        let mut health = handlers::health(db, ids, source).await.map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let health = health.remove(&row.id).unwrap_or_default();
                self.handler_dto(row, health)
            })
            .collect())
    }

    fn handler_dto(&self, row: HandlerRow, health: RunHealth) -> HandlerDto {
        HandlerDto {
            failed_runs: health.failed,
            last_failure: health.last_failure,
            enabled: row.enabled,
            summary: self.0.hub.handlers.describe(&row),
            event_types: row.event_types.0,
            id: row.id.into(),
            source_id: row.source_id.map(Into::into),
            position: row.position,
            kind: row.kind,
        }
    }

    /// Deliveries as lists show them, each with its count of attempts and its subscription's
    /// URL as `url` gives it.
    async fn summaries(
        &self,
        page: Vec<Delivery>,
        url: impl Fn(&Delivery) -> String,
    ) -> Result<Vec<DeliverySummaryDto>, AppError> {
        let ids = page.iter().map(|d| d.id).collect();
        let counts = deliveries::attempt_counts(&self.0.hub.db, ids)
            .await
            .map_err(internal)?;
        Ok(page
            .into_iter()
            .map(|d| {
                let url = url(&d);
                let attempts = counts.get(&d.id).copied().unwrap_or(0);
                delivery_summary(d, url, attempts)
            })
            .collect())
    }

    /// How far this hub is set up, and a signed request to try its newest source with.
    async fn getting_started(&self, host: Option<&str>) -> Result<GettingStartedDto, Error> {
        let db = &self.0.hub.db;
        let sources = sources::list(db).await?;
        let try_source = sources
            .iter()
            .max_by_key(|s| s.created_at)
            .and_then(|source| {
                let endpoint =
                    endpoint_url(self.0.hub.config.public_url.as_deref(), host, &source.id);
                let provider: Provider = serde_json::from_str(&source.settings).ok()?;
                let sample =
                    providers::sample(&provider, &source.secret, &endpoint, now_millis() / 1000)?;
                Some(TrySourceDto {
                    name: source.name.clone(),
                    url: match sample.query {
                        Some(query) => format!("{endpoint}?{query}"),
                        None => endpoint,
                    },
                    headers: sample.headers,
                    body: sample.body,
                })
            });
        Ok(GettingStartedDto {
            sources: sources.len() as u64,
            events: events::count(db, &Default::default(), None).await?.0,
            // Not hookhub's own types, which every catalog has.
            event_types: catalog::list(db)
                .await?
                .iter()
                .filter(|t| {
                    !notices::EVENT_TYPES
                        .iter()
                        .any(|(name, _, _)| *name == t.name)
                })
                .count() as u64,
            subscriptions: subscriptions::list(db).await?.len() as u64,
            messages: messages::count(db).await?,
            try_source,
        })
    }

    fn source_dto(&self, host: Option<&str>, source: Source) -> SourceDto {
        SourceDto {
            url: endpoint_url(self.0.hub.config.public_url.as_deref(), host, &source.id),
            id: source.id.into(),
            name: source.name,
            provider: source.provider,
            enabled: source.enabled,
            created_at: source.created_at,
        }
    }
}

#[async_trait::async_trait]
impl Backend for HubBackend {
    async fn needs_setup(&self) -> Result<bool, AppError> {
        Ok(users::count(&self.0.hub.db).await.map_err(internal)? == 0)
    }

    async fn set_up_admin(&self, username: String, password: String) -> Result<UserDto, AppError> {
        let user = accounts::create_user(&self.0.hub.db, &username, password, true, true).await?;
        Ok(user_dto(user))
    }

    async fn authenticate(
        &self,
        username: String,
        password: String,
        client: Option<String>,
    ) -> Result<UserDto, AppError> {
        let user = accounts::log_in(
            &self.0.hub.db,
            &self.0.throttle,
            &username,
            password,
            client.as_deref(),
        )
        .await?;
        Ok(user_dto(user))
    }

    async fn find_user(&self, id: i64) -> Result<Option<UserDto>, AppError> {
        Ok(users::find(&self.0.hub.db, id)
            .await
            .map_err(internal)?
            .map(user_dto))
    }

    async fn change_password(
        &self,
        user_id: i64,
        current: String,
        new: String,
    ) -> Result<UserDto, AppError> {
        match accounts::change_password(&self.0.hub.db, user_id, current, new).await {
            Ok(user) => Ok(user_dto(user)),
            // Removed meanwhile: signed out.
            Err(Error::NotFound(_)) => Err(AppError::Unauthorized),
            Err(err) => Err(err.into()),
        }
    }

    async fn list_users(&self) -> Result<Vec<UserDto>, AppError> {
        Ok(users::list(&self.0.hub.db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(user_dto)
            .collect())
    }

    async fn add_user(
        &self,
        username: String,
        password: String,
        is_admin: bool,
    ) -> Result<UserDto, AppError> {
        let user =
            accounts::create_user(&self.0.hub.db, &username, password, is_admin, false).await?;
        Ok(user_dto(user))
    }

    async fn remove_user(&self, acting_user_id: i64, id: i64) -> Result<(), AppError> {
        Ok(accounts::remove_user(&self.0.hub.db, acting_user_id, id).await?)
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyDto>, AppError> {
        Ok(api_keys::list(&self.0.hub.db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(key_dto)
            .collect())
    }

    fn api_description(&self) -> &'static str {
        crate::http::api::description()
    }

    async fn create_api_key(&self, name: String) -> Result<NewApiKeyDto, AppError> {
        let (key, token) = accounts::create_api_key(&self.0.hub.db, &name).await?;
        Ok(NewApiKeyDto {
            key: key_dto(key),
            token,
        })
    }

    async fn revoke_api_key(&self, id: i64) -> Result<(), AppError> {
        Ok(accounts::revoke_api_key(&self.0.hub.db, id).await?)
    }

    async fn overview(&self, host: Option<String>) -> Result<OverviewDto, AppError> {
        let db = &self.0.hub.db;
        let getting_started = self
            .getting_started(host.as_deref())
            .await
            .map_err(internal)?;
        Ok(OverviewDto {
            getting_started,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: self.0.started_at,
            users: users::count(db).await.map_err(internal)?,
            active_api_keys: api_keys::count_active(db).await.map_err(internal)?,
            database_engine: db.location().engine().to_owned(),
            database_path: db.location().to_string(),
            database_bytes: db.size_bytes().await,
            hubs: hubs::alive(db)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|hub| HubDto {
                    node_id: hub.node_id,
                    version: hub.version,
                    started_at: hub.started_at,
                    last_seen: hub.last_seen,
                })
                .collect(),
            node_id: self.0.hub.config.node_id.to_string(),
        })
    }

    async fn health(
        &self,
        source: Option<String>,
        subscription: Option<String>,
    ) -> Result<HealthDto, AppError> {
        let db = &self.0.hub.db;
        let scope = match (&source, &subscription) {
            (Some(source), _) => {
                sources::find(db, source)
                    .await
                    .map_err(internal)?
                    .ok_or_else(no_such_source)?;
                figures::Scope::Source(source)
            }
            (None, Some(subscription)) => {
                subscriptions::find(db, subscription)
                    .await
                    .map_err(internal)?
                    .ok_or_else(no_such_subscription)?;
                figures::Scope::Subscription(subscription)
            }
            (None, None) => figures::Scope::Hub,
        };
        let now = now_millis();
        let figures = figures::figures(db, scope, now).await.map_err(internal)?;
        Ok(health_dto(figures, now))
    }

    async fn list_sources(&self, host: Option<String>) -> Result<Vec<SourceDto>, AppError> {
        Ok(sources::list(&self.0.hub.db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|s| self.source_dto(host.as_deref(), s))
            .collect())
    }

    async fn create_source(
        &self,
        host: Option<String>,
        name: String,
        provider: String,
        secret: Option<String>,
        pusher_key: Option<String>,
    ) -> Result<SourceDto, AppError> {
        let mut settings = serde_json::Map::new();
        if let Some(key) = pusher_key {
            settings.insert("key".into(), serde_json::Value::String(key));
        }
        let request = SourceRequest {
            name,
            provider,
            secret,
            settings,
        };
        match receiving::create(&self.0.hub.db, request).await {
            Ok(source) => Ok(self.source_dto(host.as_deref(), source)),
            Err(Error::Invalid { field, message }) => {
                let field = if field == "settings" {
                    "pusher_key"
                } else {
                    field
                };
                Err(AppError::invalid(field, sentence(&message)))
            }
            Err(err) => Err(err.into()),
        }
    }

    async fn source_detail(
        &self,
        host: Option<String>,
        id: String,
    ) -> Result<SourceDetailDto, AppError> {
        let db = &self.0.hub.db;
        let source = sources::find(db, &id)
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::NotFound("There is no such source.".into()))?;
        let refused = events::list_refused(db, &id)
            .await
            .map_err(internal)?
            .into_iter()
            .take(REFUSED_SHOWN)
            .map(|r| RefusedDto {
                received_at: r.received_at,
                reason: r.reason,
                remote_addr: r.remote_addr,
            })
            .collect();
        // The chain as it runs: the source's own handlers and the global ones, by position.
        let chain = handlers::chain(db, &id).await.map_err(internal)?;
        let handlers = self.handler_dtos(chain, Some(&id)).await?;
        let provider: Option<Provider> = serde_json::from_str(&source.settings).ok();
        Ok(SourceDetailDto {
            secret: Some(source.secret.clone()),
            has_previous_secret: source.previous_secret.is_some(),
            pusher_key: match &provider {
                Some(Provider::Pusher { key }) => Some(key.clone()),
                _ => None,
            },
            callback_url: match provider {
                Some(Provider::Trello { callback_url }) => callback_url,
                _ => None,
            },
            source: self.source_dto(host.as_deref(), source),
            handlers,
            refused,
        })
    }

    async fn update_source(
        &self,
        id: String,
        name: String,
        pusher_key: Option<String>,
        callback_url: Option<String>,
    ) -> Result<(), AppError> {
        let source = self.source(&id).await?;
        let mut settings = serde_json::Map::new();
        match source.provider.as_str() {
            "pusher" => {
                let key = pusher_key
                    .ok_or_else(|| AppError::invalid("pusher_key", "Pusher needs its app key."))?;
                settings.insert("key".into(), key.into());
            }
            "trello" => {
                if let Some(url) = callback_url {
                    if !url.starts_with("https://") && !url.starts_with("http://") {
                        return Err(AppError::invalid(
                            "callback_url",
                            "The callback URL starts with https:// or http://.",
                        ));
                    }
                    settings.insert("callback_url".into(), url.into());
                }
            }
            _ => {}
        }
        let update = SourceUpdate {
            name: Some(name),
            settings: matches!(source.provider.as_str(), "pusher" | "trello").then_some(settings),
            ..Default::default()
        };
        receiving::update(&self.0.hub.db, &id, update).await?;
        Ok(())
    }

    async fn set_source_enabled(&self, id: String, enabled: bool) -> Result<(), AppError> {
        let update = SourceUpdate {
            enabled: Some(enabled),
            ..Default::default()
        };
        receiving::update(&self.0.hub.db, &id, update).await?;
        Ok(())
    }

    async fn test_source(
        &self,
        host: Option<String>,
        id: String,
    ) -> Result<SourceTestDto, AppError> {
        let hub = &self.0.hub;
        let endpoint = endpoint_url(hub.config.public_url.as_deref(), host.as_deref(), &id);
        let tested = receiving::test(hub, &id, endpoint).await?;
        Ok(SourceTestDto {
            accepted: tested.accepted,
            outcome: tested.outcome,
            event_id: tested.event_id,
        })
    }

    async fn rotate_source_secret(
        &self,
        id: String,
        secret: Option<String>,
    ) -> Result<(), AppError> {
        receiving::rotate_secret(&self.0.hub.db, &id, secret).await?;
        Ok(())
    }

    async fn drop_previous_secret(&self, id: String) -> Result<(), AppError> {
        Ok(receiving::drop_previous_secret(&self.0.hub.db, &id).await?)
    }

    async fn delete_source(&self, id: String) -> Result<(), AppError> {
        Ok(receiving::delete(&self.0.hub, &id).await?)
    }

    async fn list_handlers(&self, source_id: Option<String>) -> Result<Vec<HandlerDto>, AppError> {
        let rows = handlers::list(&self.0.hub.db, source_id.as_deref())
            .await
            .map_err(internal)?;
        self.handler_dtos(rows, None).await
    }

    async fn add_handler(&self, new: NewHandlerDto) -> Result<HandlerDto, AppError> {
        let config = match new.kind.as_str() {
            "respond" => {
                let status: u16 = new.status.trim().parse().map_err(|_| {
                    AppError::invalid("status", "An HTTP status such as 200 or 410.")
                })?;
                let mut config = serde_json::json!({ "status": status, "body": new.body });
                if !new.content_type.trim().is_empty() {
                    config["content_type"] = new.content_type.trim().into();
                }
                config
            }
            "publish" => serde_json::json!({ "event_type": new.publish_as.trim() }),
            _ => serde_json::json!({ "url": new.url.trim() }),
        };
        let position = position_field(&new.position)?;
        let request = HandlerRequest {
            source_id: Some(new.source_id).filter(|s| !s.is_empty()),
            kind: new.kind,
            position,
            event_types: new.event_types.split(',').map(str::to_owned).collect(),
            config,
        };
        let row = self.0.hub.handlers.add(&self.0.hub.db, request).await?;
        Ok(self.handler_dto(row, RunHealth::default()))
    }

    async fn change_handler(&self, change: HandlerChangeDto) -> Result<HandlerDto, AppError> {
        let hub = &self.0.hub;
        let source_id = Some(change.source_id).filter(|s| !s.is_empty());
        let enabled = match change.enabled.as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(AppError::invalid("enabled", "Enabled or disabled.")),
        };
        let row = hub
            .handlers
            .change(
                &hub.db,
                source_id.as_deref(),
                &change.id,
                HandlerChange {
                    position: change
                        .position
                        .as_deref()
                        .map(position_field)
                        .transpose()?
                        .flatten(),
                    event_types: change
                        .event_types
                        .map(|text| text.split(',').map(str::to_owned).collect()),
                    enabled,
                },
            )
            .await?;
        Ok(self.handler_dto(row, RunHealth::default()))
    }

    async fn remove_handler(&self, source_id: Option<String>, id: String) -> Result<(), AppError> {
        let hub = &self.0.hub;
        Ok(hub
            .handlers
            .remove(&hub.db, source_id.as_deref(), &id)
            .await?)
    }

    async fn list_events(&self, query: EventQuery) -> Result<EventPageDto, AppError> {
        let db = &self.0.hub.db;
        let names: std::collections::HashMap<SourceId, String> = sources::list(db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        let filter = history::filter(EventParams {
            source: query.source,
            event_type: query.event_type,
            handling: query.handling,
            from: query.from,
            to: query.to,
            q: query.q,
            before: query.before,
            after: query.after,
            limit: EVENTS_PAGE,
        })
        .map_err(|e| AppError::invalid(e.field, sentence(&e.message)))?;
        let page = events::list(db, filter.clone()).await.map_err(internal)?;
        let ends = page.first().zip(page.last()).map(|(f, l)| (f.id, l.id));
        let counts = events::count(db, &filter, ends.map(|(first, _)| first))
            .await
            .map_err(internal)?;
        let paging = paging_dto(ends, page.len(), counts);
        let events = page
            .iter()
            .map(|e| event_summary(e, names.get(&e.source_id).cloned().unwrap_or_default()))
            .collect();
        Ok(EventPageDto { events, paging })
    }

    async fn event_detail(&self, id: i64) -> Result<EventDetailDto, AppError> {
        let db = &self.0.hub.db;
        let event = events::find(db, id)
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::NotFound("There is no such event.".into()))?;
        let source_name = sources::find(db, &event.source_id)
            .await
            .map_err(internal)?
            .map(|s| s.name)
            .unwrap_or_default();
        Ok(EventDetailDto {
            summary: event_summary(&event, source_name),
            method: event.method.clone(),
            remote_addr: event.remote_addr.clone(),
            content_type: event.content_type.clone(),
            verification: event.verification.clone(),
            headers: event.headers.0.clone(),
            body_text: readable_body(&event.body),
            raw_text: std::str::from_utf8(&event.body).ok().map(str::to_owned),
            form_fields: form_fields(event.content_type.as_deref(), &event.body),
            runs: handlers::runs_for_event(db, id)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|run| HandlerRunDto {
                    at: if run.status == RunStatus::Pending {
                        run.next_at
                    } else {
                        run.updated_at
                    },
                    handler_id: run.handler_id.into(),
                    kind: run.handler_kind,
                    status: states::word(run.status),
                    attempts: run.attempts,
                    outcome: run.outcome,
                })
                .collect(),
        })
    }

    async fn retry_failed_runs(
        &self,
        event_id: Option<i64>,
        source_id: Option<String>,
    ) -> Result<u64, AppError> {
        let hub = &self.0.hub;
        Ok(match (event_id, source_id) {
            (Some(event), _) => runs::retry_event(hub, event).await?,
            (None, Some(source)) => runs::retry_source(hub, &source).await?,
            (None, None) => return Err(AppError::Request("Say which event or source.".into())),
        })
    }

    async fn list_event_types(&self) -> Result<Vec<EventTypeDto>, AppError> {
        Ok(catalog::list(&self.0.hub.db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(event_type_dto)
            .collect())
    }

    async fn create_event_type(&self, form: EventTypeFormDto) -> Result<EventTypeDto, AppError> {
        let new = sending_catalog::NewType {
            name: &form.name,
            description: &form.description,
            example: Some(&form.example),
            schema: Some(&form.schema),
            schema_mode: &form.schema_mode,
        };
        let created = sending_catalog::create(&self.0.hub.db, new).await?;
        Ok(event_type_dto(created))
    }

    async fn set_event_type_schema(
        &self,
        name: String,
        schema: String,
        schema_mode: String,
    ) -> Result<(), AppError> {
        let change = sending_catalog::Change {
            schema: Some(&schema),
            schema_mode: Some(&schema_mode),
            ..Default::default()
        };
        sending_catalog::update(&self.0.hub.db, &name, change).await?;
        Ok(())
    }

    async fn set_event_type_deprecated(
        &self,
        name: String,
        deprecated: bool,
    ) -> Result<(), AppError> {
        let change = sending_catalog::Change {
            deprecated: Some(deprecated),
            ..Default::default()
        };
        sending_catalog::update(&self.0.hub.db, &name, change).await?;
        Ok(())
    }

    async fn publish(
        &self,
        event_type: String,
        payload: String,
        consumer: String,
    ) -> Result<PublishedDto, AppError> {
        let payload: serde_json::Value = serde_json::from_str(&payload)
            .map_err(|e| AppError::invalid("payload", format!("The payload is not JSON: {e}.")))?;
        let hub = &self.0.hub;
        let consumer = Some(consumer.trim()).filter(|c| !c.is_empty());
        let publication = sending::publish(
            &hub.db,
            &hub.deliveries,
            &event_type,
            &payload,
            None,
            consumer,
        )
        .await?;
        let Published::New {
            message_id,
            deliveries,
        } = publication.published
        else {
            // Only an idempotency key finds an earlier message, and the dashboard sends none.
            return Err(internal(anyhow::anyhow!(
                "publishing without a key found a message"
            )));
        };
        Ok(PublishedDto {
            message_id: message_id.into(),
            event_type: event_type.trim().to_owned(),
            deliveries,
            schema_errors: publication
                .schema_errors
                .iter()
                .map(schemas::line)
                .collect(),
        })
    }

    async fn list_consumers(&self) -> Result<Vec<ConsumerDto>, AppError> {
        let db = &self.0.hub.db;
        let all = consumers::list(db).await.map_err(internal)?;
        let owned = subscriptions::count_by_consumer(db)
            .await
            .map_err(internal)?;
        Ok(all
            .into_iter()
            .map(|c| {
                let subscriptions = owned.get(&c.id).copied().unwrap_or(0);
                consumer_dto(c, subscriptions)
            })
            .collect())
    }

    async fn create_consumer(&self, form: ConsumerFormDto) -> Result<ConsumerDto, AppError> {
        let metadata = match form.metadata.trim() {
            "" => serde_json::Map::new(),
            text => serde_json::from_str(text).map_err(|e| {
                AppError::invalid(
                    "metadata",
                    format!("A JSON object, such as {{\"plan\": \"pro\"}}: {e}."),
                )
            })?,
        };
        let input = sending_consumers::ConsumerInput {
            id: form.id,
            name: form.name,
            metadata,
        };
        let created = sending_consumers::create(&self.0.hub.db, input).await?;
        Ok(consumer_dto(created, 0))
    }

    async fn delete_consumer(&self, id: String) -> Result<(), AppError> {
        Ok(sending_consumers::delete(&self.0.hub.db, &id).await?)
    }

    async fn portal_link(
        &self,
        host: Option<String>,
        id: String,
    ) -> Result<PortalLinkDto, AppError> {
        let base =
            crate::config::base_url(self.0.hub.config.public_url.as_deref(), host.as_deref());
        let link = sending_consumers::portal_link(&self.0.hub.db, &id, &base).await?;
        Ok(PortalLinkDto {
            consumer: id,
            url: link.url,
            expires_at: link.expires_at,
        })
    }

    async fn rotate_portal_key(&self, id: String) -> Result<(), AppError> {
        Ok(sending_consumers::rotate_portal_key(&self.0.hub.db, &id).await?)
    }

    async fn list_subscriptions(&self) -> Result<Vec<SubscriptionDto>, AppError> {
        Ok(subscriptions::list(&self.0.hub.db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(subscription_dto)
            .collect())
    }

    async fn create_subscription(
        &self,
        form: SubscriptionFormDto,
    ) -> Result<SubscriptionDto, AppError> {
        let input = subscription_input(form)?;
        let created = sending::create(&self.0.hub.db, &self.0.hub.outbound, input).await?;
        Ok(subscription_dto(created))
    }

    async fn update_subscription(
        &self,
        id: String,
        form: SubscriptionFormDto,
    ) -> Result<(), AppError> {
        let input = subscription_input(form)?;
        sending::update(&self.0.hub.db, &self.0.hub.outbound, &id, input).await?;
        Ok(())
    }

    async fn subscription_detail(&self, id: String) -> Result<SubscriptionDetailDto, AppError> {
        let db = &self.0.hub.db;
        let subscription = subscriptions::find(db, &id)
            .await
            .map_err(internal)?
            .ok_or_else(no_such_subscription)?;
        let [pending, succeeded, failed] = deliveries::counts(db, &id).await.map_err(internal)?;
        let recent = deliveries::list(
            db,
            DeliveryFilter {
                subscription_id: Some(id),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .map_err(internal)?;
        let url = credentials::redact_url(&subscription.url);
        Ok(SubscriptionDetailDto {
            secrets: Some(SubscriptionSecretsDto {
                signing_secret: subscription.secret.clone(),
                url: subscription.url.clone(),
                headers: subscription.headers.0.clone().into_iter().collect(),
            }),
            previous_secret_until: subscription
                .previous_secret_until
                .filter(|until| *until > now_millis()),
            counts: DeliveryCountsDto {
                pending,
                succeeded,
                failed,
            },
            recent: self.summaries(recent, |_| url.clone()).await?,
            subscription: subscription_dto(subscription),
        })
    }

    async fn try_payload_filter(&self, filter: String, sample: String) -> Result<bool, AppError> {
        let sample: serde_json::Value = serde_json::from_str(&sample)
            .map_err(|e| AppError::invalid("sample", format!("The sample is not JSON: {e}.")))?;
        Ok(sending::try_payload_filter(&filter, &sample)?)
    }

    async fn set_subscription_state(&self, id: String, state: String) -> Result<(), AppError> {
        sending::set_state(&self.0.hub, &id, &state).await?;
        Ok(())
    }

    async fn delete_subscription(&self, id: String) -> Result<(), AppError> {
        Ok(sending::delete(&self.0.hub.db, &id).await?)
    }

    async fn rotate_subscription_secret(&self, id: String) -> Result<(), AppError> {
        sending::rotate_secret(&self.0.hub, &id, None).await?;
        Ok(())
    }

    async fn send_test_event(&self, id: String) -> Result<i64, AppError> {
        Ok(redelivery::send_test(&self.0.hub, &id).await?)
    }

    async fn redeliver_failed(&self, id: String, since: String) -> Result<u64, AppError> {
        let since = history::parse_instant(since.trim())
            .map_err(|e| AppError::invalid("since", sentence(&e)))?;
        Ok(redelivery::redeliver_failed(&self.0.hub, &id, since).await?)
    }

    async fn reenable_and_redeliver(&self, id: String) -> Result<u64, AppError> {
        Ok(redelivery::reenable_and_redeliver(&self.0.hub, &id).await?)
    }

    async fn list_deliveries(&self, query: DeliveryQuery) -> Result<DeliveryPageDto, AppError> {
        let db = &self.0.hub.db;
        let urls: std::collections::HashMap<SubscriptionId, String> = subscriptions::list(db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|s| (s.id, credentials::redact_url(&s.url)))
            .collect();
        let filter = delivery_filter(query)?;
        let page = deliveries::list(db, filter.clone())
            .await
            .map_err(internal)?;
        let ends = page.first().zip(page.last()).map(|(f, l)| (f.id, l.id));
        let counts = deliveries::count(db, &filter, ends.map(|(first, _)| first))
            .await
            .map_err(internal)?;
        let paging = paging_dto(ends, page.len(), counts);
        let redeliverable = deliveries::count_redeliverable(db, &filter)
            .await
            .map_err(internal)?;
        let deliveries = self
            .summaries(page, |d| {
                urls.get(&d.subscription_id).cloned().unwrap_or_default()
            })
            .await?;
        Ok(DeliveryPageDto {
            deliveries,
            paging,
            redeliverable,
        })
    }

    async fn redeliver_matching(&self, query: DeliveryQuery) -> Result<u64, AppError> {
        let filter = delivery_filter(query)?;
        Ok(redelivery::redeliver_matching(&self.0.hub, filter).await?)
    }

    async fn delivery_detail(&self, id: i64) -> Result<DeliveryDetailDto, AppError> {
        let db = &self.0.hub.db;
        let delivery = deliveries::find(db, id)
            .await
            .map_err(internal)?
            .ok_or_else(no_such_delivery)?;
        let message = messages::find_message(db, &delivery.message_id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Internal)?;
        let subscription = subscriptions::find(db, &delivery.subscription_id)
            .await
            .map_err(internal)?;
        let request_url = subscription
            .as_ref()
            .map(|s| credentials::redact_url(&s.url))
            .unwrap_or_default();
        let subscription_state = subscription
            .map(|s| states::word(s.state))
            .unwrap_or_default();
        let attempts = deliveries::attempts(db, id).await.map_err(internal)?;
        let standard_body = String::from_utf8_lossy(&worker::standard_body(&message)).into_owned();
        let attempts: Vec<AttemptDto> = attempts
            .into_iter()
            .zip(1..)
            .map(|(a, number)| {
                // A body not stored is the message's Standard Webhooks body (see the worker).
                let standard = a
                    .request_headers
                    .0
                    .iter()
                    .any(|(name, _)| name == "webhook-id");
                let request_body = match a.request_body {
                    Some(body) => Some(String::from_utf8_lossy(&body).into_owned()),
                    None => standard.then(|| standard_body.clone()),
                };
                AttemptDto {
                    number,
                    started_at: a.started_at,
                    duration_ms: a.duration_ms,
                    request_headers: a.request_headers.0,
                    request_body,
                    response_status: a.response_status,
                    response_headers: a.response_headers.map(|h| h.0).unwrap_or_default(),
                    response_body: a
                        .response_body
                        .map(|b| String::from_utf8_lossy(&b).into_owned()),
                    error: a.error,
                }
            })
            .collect();
        let total = attempts.len() as u64;
        Ok(DeliveryDetailDto {
            summary: delivery_summary(delivery, request_url.clone(), total),
            request_url,
            subscription_state,
            schema_errors: schema_error_lines(message.schema_errors.as_deref()),
            payload: readable_body(message.payload.as_bytes()).unwrap_or(message.payload),
            attempts,
        })
    }

    async fn redeliver(&self, id: i64) -> Result<(), AppError> {
        Ok(redelivery::redeliver(&self.0.hub, id).await?)
    }
}

/// A message's stored schema mismatches (warn mode) as `path: why` lines.
fn schema_error_lines(stored: Option<&str>) -> Vec<String> {
    let found: Vec<crate::error::Detail> = stored
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default();
    found.iter().map(schemas::line).collect()
}

/// A handler's position as typed: blank for "after the others" (or "as it is").
fn position_field(text: &str) -> Result<Option<i32>, AppError> {
    match text.trim() {
        "" => Ok(None),
        text => text
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid("position", "A whole number; lower numbers run first.")),
    }
}

/// The deliveries console's filters, checked as the REST API checks them.
fn delivery_filter(query: DeliveryQuery) -> Result<DeliveryFilter, AppError> {
    history::delivery_filter(DeliveryParams {
        subscription: query.subscription,
        consumer: query.consumer,
        message: query.message,
        status: query.status,
        event_type: query.event_type,
        from: query.from,
        to: query.to,
        before: query.before,
        after: query.after,
        limit: DELIVERIES_PAGE,
    })
    .map_err(|e| AppError::invalid(e.field, sentence(&e.message)))
}

/// Deliveries per page in the dashboard.
const DELIVERIES_PAGE: u64 = 50;

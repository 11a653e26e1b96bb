//! Data that crosses the wire between the server functions and the pages.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDto {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Changes whenever the password does. A session keeps the one it signed in with, so a
    /// new password ends every other session. Never sent to the browser.
    #[serde(skip)]
    pub session_stamp: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyDto {
    pub id: i64,
    pub name: String,
    /// The first characters of the key, enough to recognise it.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A key as created: the only time its full text is ever shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKeyDto {
    pub key: ApiKeyDto,
    pub token: String,
}

impl std::fmt::Debug for NewApiKeyDto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKeyDto")
            .field("key", &self.key)
            .field("token", &"[redacted]")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewDto {
    pub version: String,
    pub started_at: i64,
    pub users: u64,
    pub active_api_keys: u64,
    /// `sqlite` or `postgres`.
    pub database_engine: String,
    /// The SQLite file, or the PostgreSQL URL without its password.
    pub database_path: String,
    pub database_bytes: u64,
    /// The hubs seen alive lately on this database, this one among them.
    pub hubs: Vec<HubDto>,
    /// This hub's node id.
    pub node_id: String,
    pub getting_started: GettingStartedDto,
}

impl OverviewDto {
    /// The overview as a member may see it: a sample request can carry a source's secret.
    pub fn without_secrets(self) -> Self {
        Self {
            getting_started: GettingStartedDto {
                try_source: None,
                ..self.getting_started
            },
            ..self
        }
    }
}

/// How far a new hub is set up, step by step: counts of what there is (up to 10,000).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GettingStartedDto {
    pub sources: u64,
    pub events: u64,
    pub event_types: u64,
    pub subscriptions: u64,
    pub messages: u64,
    /// A request signed as the newest source's provider signs, to try it with; for admins.
    pub try_source: Option<TrySourceDto>,
}

/// A signed test request for one source: POST `body` with `headers` to `url`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrySourceDto {
    pub name: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl std::fmt::Debug for TrySourceDto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrySourceDto")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubDto {
    pub node_id: String,
    pub version: String,
    pub started_at: i64,
    pub last_seen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceDto {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub enabled: bool,
    /// The endpoint URL to paste into the provider's settings.
    pub url: String,
    pub created_at: i64,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceDetailDto {
    pub source: SourceDto,
    /// Shown only when the person asks for it; `None` for a member, as only admins see secrets.
    pub secret: Option<String>,
    /// True while a rotation is under way: the previous secret is still accepted.
    pub has_previous_secret: bool,
    /// Pusher's app key, for a Pusher source.
    pub pusher_key: Option<String>,
    /// The callback URL Trello signs, when set by hand.
    pub callback_url: Option<String>,
    pub handlers: Vec<HandlerDto>,
    pub refused: Vec<RefusedDto>,
}

impl SourceDetailDto {
    /// The detail as a member may see it.
    pub fn without_secrets(self) -> Self {
        Self {
            secret: None,
            ..self
        }
    }
}

impl std::fmt::Debug for SourceDetailDto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceDetailDto")
            .field("source", &self.source)
            .field("secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedDto {
    pub received_at: i64,
    pub reason: String,
    pub remote_addr: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummaryDto {
    pub id: i64,
    pub source_id: String,
    pub source_name: String,
    pub received_at: i64,
    pub event_type: Option<String>,
    pub delivery_id: Option<String>,
    pub size: u64,
    pub handling: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPageDto {
    pub events: Vec<EventSummaryDto>,
    pub paging: PagingDto,
}

/// Where a page of a newest-first list is: "51–100 of 734", and the ways on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagingDto {
    /// The rows the filters match, counted up to `capped_at`.
    pub total: u64,
    /// The count stopped here: there are at least this many ("10,000+").
    pub capped_at: Option<u64>,
    /// The position of the page's first row, from 1.
    pub start: u64,
    /// Pass as `after` for the page before this one (newer rows), while there are any.
    pub newer_after: Option<i64>,
    /// Pass as `before` for the page after this one (older rows), while there are any.
    pub older_before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetailDto {
    pub summary: EventSummaryDto,
    pub method: String,
    pub remote_addr: Option<String>,
    pub content_type: Option<String>,
    pub verification: String,
    pub headers: Vec<(String, String)>,
    /// The body as text, pretty-printed when it is JSON (its keys in the order they came);
    /// `None` when it is not UTF-8.
    pub body_text: Option<String>,
    /// The exact bytes as text, when they are UTF-8.
    pub raw_text: Option<String>,
    /// A form-encoded body's fields, in order.
    pub form_fields: Option<Vec<(String, String)>>,
    pub runs: Vec<HandlerRunDto>,
}

/// One handler's run on an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerRunDto {
    pub handler_id: String,
    pub kind: String,
    /// `pending`, `ok` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub outcome: Option<String>,
    /// When it ended, or when it is tried next while pending.
    pub at: i64,
}

/// A handler as the dashboard shows and configures it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerDto {
    pub id: String,
    /// `None` for a global handler.
    pub source_id: Option<String>,
    pub position: i32,
    pub kind: String,
    pub event_types: Vec<String>,
    /// A one-line description of its settings.
    pub summary: String,
    /// Its runs that gave up, and what the newest of them said.
    pub failed_runs: u64,
    pub last_failure: Option<String>,
    /// A disabled handler runs for no event.
    pub enabled: bool,
}

/// A change to a saved handler as its form sends it; blank fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerChangeDto {
    /// Empty for a global handler.
    pub source_id: String,
    pub id: String,
    #[serde(default)]
    pub position: Option<String>,
    /// Comma-separated patterns; blank for every event (when sent).
    #[serde(default)]
    pub event_types: Option<String>,
    /// `true` or `false`.
    #[serde(default)]
    pub enabled: Option<String>,
}

/// The settings of a new handler as the form sends them; which apply depends on `kind`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewHandlerDto {
    /// Empty for a global handler.
    pub source_id: String,
    pub kind: String,
    pub position: String,
    /// Comma-separated event-type patterns; empty for every event.
    pub event_types: String,
    pub status: String,
    pub content_type: String,
    pub body: String,
    pub url: String,
    /// For `publish`: the outgoing event type.
    #[serde(default)]
    pub publish_as: String,
}

/// Filters for the events page, as they travel in its query string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventQuery {
    pub source: Option<String>,
    pub event_type: Option<String>,
    /// What the handlers made of it: `none`, `pending`, `ok` or `failed`.
    pub handling: Option<String>,
    /// Received at or after (UTC, `2026-11-23T17:30`).
    pub from: Option<String>,
    /// Received before.
    pub to: Option<String>,
    /// Words to find in bodies.
    pub q: Option<String>,
    pub before: Option<i64>,
    pub after: Option<i64>,
}

impl EventQuery {
    /// The filters by their names in the query string (the page's position left out).
    pub fn filters(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("source", &self.source),
            ("event_type", &self.event_type),
            ("handling", &self.handling),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
        ]
    }
}

/// An event type in the outgoing catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTypeDto {
    pub name: String,
    pub description: String,
    pub deprecated: bool,
    pub created_at: i64,
    /// An example payload, JSON text as it was written.
    pub example: Option<String>,
    /// The JSON Schema its payloads must match, as it was written.
    pub schema: Option<String>,
    /// `enforce` (refused when it does not match) or `warn` (published, flagged).
    pub schema_mode: String,
}

/// A new event type as its form sends it; blank example and schema for none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTypeFormDto {
    pub name: String,
    pub description: String,
    pub example: String,
    pub schema: String,
    /// `enforce` or `warn`.
    pub schema_mode: String,
}

/// A subscription as lists and pages show it; the secret only on request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionDto {
    pub id: String,
    pub url: String,
    pub description: String,
    /// Names or patterns (`*`, `invoice.*`).
    pub event_types: Vec<String>,
    /// A condition on the payload (`data.amount > 100`), or none.
    pub payload_filter: Option<String>,
    /// Extra headers sent with every delivery.
    pub headers: Vec<(String, String)>,
    /// Extra properties (the ASP.NET mode sends them in its body).
    pub properties: Vec<(String, String)>,
    /// `standard` (Standard Webhooks) or `aspnet`.
    pub mode: String,
    /// `active`, `paused` or `disabled`.
    pub state: String,
    /// Why it was disabled, when it was.
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    /// The consumer it belongs to: it receives only the messages addressed to them.
    pub consumer: Option<String>,
    /// With no consumer: it also receives the messages addressed to any consumer.
    pub all_consumers: bool,
}

/// Deliveries of one subscription by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryCountsDto {
    pub pending: u64,
    pub succeeded: u64,
    pub failed: u64,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionDetailDto {
    /// Its URL and headers with credentials shown as `[redacted]`.
    pub subscription: SubscriptionDto,
    /// What is shown on request; `None` for a member, as only admins see secrets.
    pub secrets: Option<SubscriptionSecretsDto>,
    /// While a rotation's overlap lasts, the old secret still signs too, until this time.
    pub previous_secret_until: Option<i64>,
    pub counts: DeliveryCountsDto,
    /// The newest deliveries.
    pub recent: Vec<DeliverySummaryDto>,
}

impl SubscriptionDetailDto {
    /// The detail as a member may see it.
    pub fn without_secrets(self) -> Self {
        Self {
            secrets: None,
            ..self
        }
    }
}

impl std::fmt::Debug for SubscriptionDetailDto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionDetailDto")
            .field("subscription", &self.subscription)
            .field("secrets", &self.secrets.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// A subscription's secrets: its signing secret, and its URL and extra headers with the
/// subscriber's credentials in clear.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionSecretsDto {
    /// The current signing secret (`whsec_…`).
    pub signing_secret: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// A new or edited subscription as its form sends it. Lists are one item per line
/// (`event_types`) or `Name: value` lines (`headers`, `properties`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionFormDto {
    pub url: String,
    pub description: String,
    pub event_types: String,
    /// Blank for none.
    #[serde(default)]
    pub payload_filter: String,
    pub headers: String,
    pub properties: String,
    /// `standard` or `aspnet`.
    pub mode: String,
    /// `on` to check the URL answers `GET ?echo=x` with `x` before saving (ASP.NET style).
    pub verify_echo: Option<String>,
    /// A consumer's id; blank for none.
    #[serde(default)]
    pub consumer: String,
    /// `on`: with no consumer, also receive the messages addressed to any consumer.
    #[serde(default)]
    pub all_consumers: Option<String>,
}

/// A subscription as a consumer adds or edits it in their portal: the rest (its consumer,
/// headers, properties, mode) is not theirs to set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSubscriptionFormDto {
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// One name or pattern per line, or comma-separated.
    pub event_types: String,
    #[serde(default)]
    pub payload_filter: String,
}

/// A consumer: who messages are addressed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerDto {
    pub id: String,
    pub name: String,
    /// As pretty-printed JSON.
    pub metadata: String,
    pub subscriptions: u64,
    pub created_at: i64,
}

/// A new consumer as its form sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerFormDto {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// A JSON object, or blank.
    #[serde(default)]
    pub metadata: String,
}

/// A link that signs a consumer in to their portal, once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalLinkDto {
    pub consumer: String,
    pub url: String,
    pub expires_at: i64,
}

impl std::fmt::Debug for PortalLinkDto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalLinkDto")
            .field("consumer", &self.consumer)
            .field("url", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// The portal's frame: whose product it is and who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalDto {
    /// The operator's name, from the hub's settings.
    pub operator_name: String,
    /// Their logo's URL, if set.
    pub logo_url: Option<String>,
    pub consumer_id: String,
    pub consumer_name: String,
}

/// A message published from the dashboard, and how far it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedDto {
    pub message_id: String,
    pub event_type: String,
    /// The subscriptions it was queued for: every one whose event types match it.
    pub deliveries: u64,
    /// Where the payload does not match its type's schema, when the schema only warns:
    /// `path: why` each.
    pub schema_errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverySummaryDto {
    pub id: i64,
    pub message_id: String,
    pub event_type: String,
    pub subscription_id: String,
    pub subscription_url: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Every attempt it has had, redeliveries included.
    pub attempts: u64,
    /// Those since it was last queued again by hand (the retry schedule counts these).
    pub attempts_since_redelivery: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryPageDto {
    pub deliveries: Vec<DeliverySummaryDto>,
    pub paging: PagingDto,
    /// The failed deliveries the filters find that could be sent again (their subscription is
    /// not disabled), counted up to 10,000.
    pub redeliverable: u64,
}

/// Filters for the deliveries console, as they travel in its query string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryQuery {
    pub subscription: Option<String>,
    /// The deliveries to one consumer's subscriptions.
    pub consumer: Option<String>,
    /// One message's deliveries, to every subscription it went to.
    pub message: Option<String>,
    pub status: Option<String>,
    pub event_type: Option<String>,
    /// Created at or after (UTC, `2026-11-23T17:30`).
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<i64>,
    pub after: Option<i64>,
}

impl DeliveryQuery {
    /// The filters by their names in the query string (the page's position left out).
    pub fn filters(&self) -> [(&'static str, &Option<String>); 7] {
        [
            ("subscription", &self.subscription),
            ("consumer", &self.consumer),
            ("message", &self.message),
            ("status", &self.status),
            ("event_type", &self.event_type),
            ("from", &self.from),
            ("to", &self.to),
        ]
    }
}

/// One HTTP try of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptDto {
    pub number: i32,
    pub started_at: i64,
    pub duration_ms: i64,
    /// Request headers as sent, the subscriber's credentials redacted.
    pub request_headers: Vec<(String, String)>,
    /// The exact body sent, as text; `None` where it was not recorded.
    pub request_body: Option<String>,
    pub response_status: Option<i32>,
    pub response_headers: Vec<(String, String)>,
    /// The start of the response body, as text.
    pub response_body: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryDetailDto {
    pub summary: DeliverySummaryDto,
    /// Where it is sent, the subscriber's credentials redacted.
    pub request_url: String,
    /// `active`, `paused` or `disabled`: a paused subscription's deliveries wait.
    pub subscription_state: String,
    /// The message's payload, pretty-printed.
    pub payload: String,
    /// Where the payload does not match its type's schema, when that schema only warned:
    /// `path: why` each.
    pub schema_errors: Vec<String>,
    pub attempts: Vec<AttemptDto>,
}

/// How things are going over the last 24 hours and 7 days: the hub's on the overview, one
/// source's or subscription's on its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthDto {
    /// When the figures were read (milliseconds since the epoch).
    pub now: i64,
    /// The last 24 hours by the hour, then the last 7 days by six hours.
    pub windows: Vec<WindowHealthDto>,
    /// Deliveries not yet made (none for a source).
    pub pending: Option<u64>,
    /// When the oldest of them was created.
    pub oldest_pending_at: Option<i64>,
    /// The newest notices of the last 7 days about failing subscriptions (none for a source).
    pub notices: Vec<NoticeDto>,
}

/// What became of a test request sent to a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceTestDto {
    pub accepted: bool,
    pub outcome: String,
    pub event_id: Option<i64>,
}

/// A subscription failing for a quarter, a half, three quarters of the time before it is
/// disabled, or disabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeDto {
    pub at: i64,
    pub subscription_id: String,
    /// The subscriber's credentials redacted; empty once the subscription is gone.
    pub subscription_url: String,
    /// `quarter`, `half`, `three_quarters` or `disabled`.
    pub stage: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowHealthDto {
    /// "24 hours" or "7 days".
    pub label: String,
    /// When the first bucket starts, and each bucket's length, in milliseconds.
    pub start: i64,
    pub bucket_ms: i64,
    /// Per bucket: webhooks stored, requests refused, attempts succeeded and failed. Empty
    /// where they do not apply (nothing is received by a subscription, nor sent by a source).
    pub received: Vec<u64>,
    pub refused: Vec<u64>,
    pub succeeded: Vec<u64>,
    pub failed: Vec<u64>,
    /// The overview's only.
    pub slowest: Vec<SubscriptionFiguresDto>,
    pub failing: Vec<SubscriptionFiguresDto>,
    pub refusing: Vec<SourceRefusalsDto>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionFiguresDto {
    pub id: String,
    /// The subscriber's credentials redacted.
    pub url: String,
    pub attempts: u64,
    pub failed: u64,
    pub average_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRefusalsDto {
    pub id: String,
    pub name: String,
    pub refused: u64,
    /// The reason given most, and how often.
    pub top_reason: String,
    pub top_count: u64,
}

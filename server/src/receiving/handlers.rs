//! Handlers: the ordered steps run on each verified event of a source, global ones included.
//!
//! While the provider waits, each handler in ascending order *decides*: pass, queue a run, or
//! answer the request itself (which ends the chain). The queued runs are committed with the
//! event and happen afterwards, from the stored event, at least once (see [`super::worker`]).
//! Code adds handler kinds by implementing [`HandlerKind`] and [`Handler`] and registering them
//! in [`HandlerKinds`]; the dashboard configures the built-in ones.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, invalid};
use crate::outbound::{Outbound, validate_url};
use crate::sending::subscriptions::publish;
use crate::sending::worker::DeliveryWorker;
use crate::storage::Db;
use crate::storage::deliveries::Published;
use crate::storage::events::Event;
use crate::storage::handlers::{self, HandlerRow, NewHandler, PlannedRun};
use crate::storage::sources;
use sea_orm::DbErr;

/// A received, verified request, as handlers see it before it is answered.
pub struct Received<'a> {
    pub source_id: &'a str,
    pub event_type: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// An HTTP answer a handler gives the sender in place of the default one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: HeaderValue,
    pub body: Vec<u8>,
}

/// What one handler decides while the sender waits.
pub enum Step {
    /// Nothing to do for this event.
    Pass,
    /// Run [`Handler::run`] after the answer.
    Queue,
    /// Answer the sender with this and stop the chain: later handlers do nothing.
    Answer(Reply),
}

pub trait Handler: Send + Sync {
    /// Decides quickly, without I/O: the sender is waiting.
    fn decide(&self, _event: &Received<'_>) -> Step {
        Step::Queue
    }

    /// Runs from the stored event after the answer. `Ok` carries a short outcome to show on the
    /// event; `Err` a reason, and the run is tried again later. May run more than once.
    fn run<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<String, String>>;
}

/// A kind of handler: its name in the database and how to build one from its settings.
pub trait HandlerKind: Send + Sync {
    fn name(&self) -> &'static str;

    /// Checks the settings and builds the handler; `Err` says which setting is wrong and why.
    fn build(&self, config: &Value) -> Result<Arc<dyn Handler>, SettingError>;

    /// Checks that need I/O, once, when a handler is saved (not each time a chain is built):
    /// for example that a URL's host resolves only to addresses outgoing requests may reach.
    /// `config` has passed [`HandlerKind::build`].
    fn check_on_save<'a>(&'a self, _config: &'a Value) -> BoxFuture<'a, Result<(), SettingError>> {
        Box::pin(async { Ok(()) })
    }

    /// One line on what a handler with these settings does, for the dashboard.
    fn describe(&self, config: &Value) -> String {
        config.to_string()
    }
}

/// A setting (a key of the handler's JSON settings, and the dashboard field of the same name)
/// and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct SettingError {
    pub setting: &'static str,
    pub message: String,
}

impl SettingError {
    pub fn new(setting: &'static str, message: impl Into<String>) -> Self {
        Self {
            setting,
            message: message.into(),
        }
    }

    /// For settings that do not parse at all: serde names the field in its message.
    pub fn unreadable(err: serde_json::Error) -> Self {
        Self::new("settings", err.to_string())
    }
}

/// A handler to add, as a person or script asked for it.
#[derive(Debug)]
pub struct HandlerRequest {
    /// `None` for a global handler.
    pub source_id: Option<String>,
    pub kind: String,
    /// Where it runs in the chain; after the others when `None`.
    pub position: Option<i32>,
    pub event_types: Vec<String>,
    pub config: Value,
}

const MAX_PATTERNS: usize = 50;
const MAX_PATTERN_CHARS: usize = 200;

/// One handler in a source's chain.
struct Link {
    id: String,
    kind: &'static str,
    position: i32,
    event_types: Vec<String>,
    handler: Arc<dyn Handler>,
}

/// What the chain decided for one event: the runs to queue with it, and the answer, if a
/// handler gave one.
#[derive(Debug, Default)]
pub struct Decision {
    pub runs: Vec<PlannedRun>,
    pub answer: Option<Reply>,
}

/// The registered kinds and, per source, its built chain. Chains are cached; any change to a
/// handler clears the cache.
pub struct HandlerKinds {
    kinds: HashMap<&'static str, Arc<dyn HandlerKind>>,
    chains: RwLock<HashMap<String, Arc<Vec<Link>>>>,
}

impl HandlerKinds {
    pub fn new(kinds: impl IntoIterator<Item = Arc<dyn HandlerKind>>) -> Self {
        Self {
            kinds: kinds.into_iter().map(|k| (k.name(), k)).collect(),
            chains: RwLock::default(),
        }
    }

    /// The kinds every hub has.
    pub fn builtin(
        db: Db,
        outbound: Outbound,
        deliveries: DeliveryWorker,
    ) -> Vec<Arc<dyn HandlerKind>> {
        vec![
            Arc::new(RespondKind),
            Arc::new(ForwardKind(outbound)),
            Arc::new(PublishKind { db, deliveries }),
        ]
    }

    pub fn kind_names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.kinds.keys().copied().collect();
        names.sort_unstable();
        names
    }

    /// Checks and stores a new handler; the chains pick it up for the next event.
    pub async fn add(&self, db: &Db, req: HandlerRequest) -> Result<HandlerRow, Error> {
        let kind = self
            .kinds
            .get(req.kind.as_str())
            .ok_or_else(|| invalid("kind", format!("one of {}", self.kind_names().join(", "))))?;
        let setting_error = |e: SettingError| Error::Invalid {
            field: e.setting,
            message: e.message,
        };
        kind.build(&req.config).map_err(setting_error)?;
        kind.check_on_save(&req.config)
            .await
            .map_err(setting_error)?;
        let event_types = checked_patterns(req.event_types)?;
        if let Some(source_id) = &req.source_id
            && sources::find(db, source_id).await?.is_none()
        {
            return Err(Error::NotFound("source"));
        }
        let existing = handlers::list(db, req.source_id.as_deref()).await?;
        let position = match req.position {
            Some(position) if !(0..=1_000_000).contains(&position) => {
                return Err(invalid("position", "between 0 and 1000000"));
            }
            Some(position) => position,
            None => existing.iter().map(|h| h.position + 10).max().unwrap_or(10),
        };
        let row = handlers::create(
            db,
            NewHandler {
                id: crate::ids::random_id("hdl_", 16),
                source_id: req.source_id,
                position,
                kind: kind.name().to_owned(),
                event_types,
                config: req.config.to_string(),
            },
        )
        .await?;
        self.forget_chains();
        Ok(row)
    }

    /// Removes a handler from a source's chain (or the global one); false when there was none.
    pub async fn remove(
        &self,
        db: &Db,
        source_id: Option<String>,
        id: String,
    ) -> Result<bool, DbErr> {
        let removed = handlers::delete(db, source_id, id).await?;
        self.forget_chains();
        Ok(removed)
    }

    /// What a stored handler does, in one line.
    pub fn describe(&self, row: &HandlerRow) -> String {
        let config = serde_json::from_str(&row.config).unwrap_or(Value::Null);
        match self.kinds.get(row.kind.as_str()) {
            Some(kind) => kind.describe(&config),
            None => format!("not available in this build ({})", row.kind),
        }
    }

    /// Call after any change to handlers.
    pub fn forget_chains(&self) {
        self.chains
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    async fn chain(&self, db: &Db, source_id: &str) -> Result<Arc<Vec<Link>>, DbErr> {
        let cached = self
            .chains
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(source_id)
            .cloned();
        if let Some(chain) = cached {
            return Ok(chain);
        }
        let rows = handlers::chain(db, source_id).await?;
        let chain = Arc::new(rows.iter().filter_map(|row| self.link(row)).collect());
        self.chains
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(source_id.to_owned(), Arc::clone(&chain));
        Ok(chain)
    }

    fn link(&self, row: &HandlerRow) -> Option<Link> {
        let built = self
            .kinds
            .get(row.kind.as_str())
            .ok_or_else(|| format!("kind `{}` is not registered in this build", row.kind));
        let built = built.and_then(|kind| {
            let config = serde_json::from_str(&row.config).map_err(|e| e.to_string())?;
            let handler = kind.build(&config).map_err(|e| e.to_string())?;
            Ok((kind.name(), handler))
        });
        match built {
            Ok((kind, handler)) => Some(Link {
                id: row.id.clone(),
                kind,
                position: row.position,
                event_types: serde_json::from_str(&row.event_types).unwrap_or_default(),
                handler,
            }),
            Err(reason) => {
                tracing::warn!(handler = %row.id, %reason, "skipping a handler");
                None
            }
        }
    }

    /// Walks the source's chain in order for a verified event.
    pub async fn decide(&self, db: &Db, event: &Received<'_>) -> Result<Decision, DbErr> {
        let chain = self.chain(db, event.source_id).await?;
        let mut decision = Decision::default();
        for link in chain.iter() {
            if !applies(&link.event_types, event.event_type) {
                continue;
            }
            match link.handler.decide(event) {
                Step::Pass => {}
                Step::Queue => decision.runs.push(PlannedRun {
                    handler_id: link.id.clone(),
                    handler_kind: link.kind.to_owned(),
                    position: link.position,
                }),
                Step::Answer(reply) => {
                    decision.answer = Some(reply);
                    break;
                }
            }
        }
        Ok(decision)
    }

    /// The handler a queued run belongs to, if it still exists in this source's chain.
    pub async fn handler_for(
        &self,
        db: &Db,
        source_id: &str,
        handler_id: &str,
    ) -> Result<Option<Arc<dyn Handler>>, DbErr> {
        let chain = self.chain(db, source_id).await?;
        Ok(chain
            .iter()
            .find(|link| link.id == handler_id)
            .map(|link| Arc::clone(&link.handler)))
    }
}

/// Patterns are exact names, `*`, or a prefix ending in `*` such as `invoice.*`.
fn checked_patterns(patterns: Vec<String>) -> Result<Vec<String>, Error> {
    let patterns: Vec<String> = patterns
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    if patterns.len() > MAX_PATTERNS {
        return Err(invalid(
            "event_types",
            format!("at most {MAX_PATTERNS} patterns"),
        ));
    }
    for pattern in &patterns {
        let stem = pattern.strip_suffix('*').unwrap_or(pattern);
        if pattern.chars().count() > MAX_PATTERN_CHARS
            || stem.contains('*')
            || stem.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                "event_types",
                format!(
                    "`{pattern}` is not a pattern: use a name such as push, or a prefix ending in * such as invoice.*"
                ),
            ));
        }
    }
    Ok(patterns)
}

/// An empty list means every event; an event without a type matches only `*`.
fn applies(patterns: &[String], event_type: Option<&str>) -> bool {
    patterns.is_empty()
        || patterns
            .iter()
            .any(|pattern| match (pattern.as_str(), event_type) {
                ("*", _) => true,
                (_, None) => false,
                (pattern, Some(name)) => match pattern.strip_suffix('*') {
                    Some(prefix) => name.starts_with(prefix),
                    None => pattern == name,
                },
            })
}

/// `respond`: answers the sender with a fixed status, content type and body, and ends the chain
/// (a fixed Slack reply, `410 Gone` for a retired endpoint, …).
struct RespondKind;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RespondConfig {
    status: u16,
    #[serde(default = "default_content_type")]
    content_type: String,
    #[serde(default)]
    body: String,
}

fn default_content_type() -> String {
    "text/plain; charset=utf-8".to_owned()
}

struct Respond(Reply);

impl HandlerKind for RespondKind {
    fn name(&self) -> &'static str {
        "respond"
    }

    fn build(&self, config: &Value) -> Result<Arc<dyn Handler>, SettingError> {
        let config = RespondConfig::deserialize(config).map_err(SettingError::unreadable)?;
        let status = StatusCode::from_u16(config.status)
            .ok()
            .filter(|s| (200..600).contains(&s.as_u16()))
            .ok_or_else(|| SettingError::new("status", "between 200 and 599"))?;
        let content_type = HeaderValue::from_str(config.content_type.trim())
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                SettingError::new("content_type", "a header value such as application/json")
            })?;
        if let Some(active) = active_content(&content_type) {
            return Err(SettingError::new(
                "content_type",
                format!(
                    "{active} is refused: a browser would run it as a page of this hub; \
                     use text/plain or application/json"
                ),
            ));
        }
        Ok(Arc::new(Respond(Reply {
            status,
            content_type,
            body: config.body.into_bytes(),
        })))
    }

    fn describe(&self, config: &Value) -> String {
        match RespondConfig::deserialize(config) {
            Ok(c) => format!(
                "answers {} ({}), {} bytes",
                c.status,
                c.content_type,
                c.body.len()
            ),
            Err(_) => "answers the sender".to_owned(),
        }
    }
}

/// The first media type in `content_type` that a browser renders as a document or runs as
/// script (HTML, XML and its `+xml` kin such as SVG, script, XSLT), if any. A reply is served
/// from the hub's own origin, so such a body could act as the signed-in person looking at it.
/// Browsers read a comma-separated value by its last valid type, so every part is checked.
fn active_content(content_type: &HeaderValue) -> Option<String> {
    const ACTIVE: &[&str] = &[
        "text/html",
        "text/xml",
        "text/xsl",
        "application/xml",
        "application/pdf",
        "text/javascript",
        "text/ecmascript",
        "text/jscript",
        "text/vbscript",
        "text/livescript",
        "application/javascript",
        "application/ecmascript",
        "application/x-javascript",
        "application/x-ecmascript",
        "multipart/x-mixed-replace",
    ];
    let text = String::from_utf8_lossy(content_type.as_bytes()).to_ascii_lowercase();
    text.split(',')
        .map(|part| part.split(';').next().unwrap_or_default().trim())
        .find(|essence| {
            ACTIVE.contains(essence) || essence.ends_with("+xml") || essence.ends_with("script")
        })
        .map(str::to_owned)
}

impl Handler for Respond {
    fn decide(&self, _event: &Received<'_>) -> Step {
        Step::Answer(self.0.clone())
    }

    fn run<'a>(&'a self, _event: &'a Event) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async { Ok("answered the sender".to_owned()) })
    }
}

/// `forward`: relays the event to another URL, exactly: the same body bytes and the sender's
/// headers (so the receiver can check the provider's own signature), plus `x-hookhub-event-id`
/// and `x-hookhub-source`. Any 2xx is success; anything else is tried again.
struct ForwardKind(Outbound);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForwardConfig {
    url: String,
}

struct Forward {
    outbound: Outbound,
    url: String,
}

/// Headers that describe one hop, not the message: never relayed.
const HOP_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-connection",
    "expect",
];

impl HandlerKind for ForwardKind {
    fn name(&self) -> &'static str {
        "forward"
    }

    fn build(&self, config: &Value) -> Result<Arc<dyn Handler>, SettingError> {
        let config = ForwardConfig::deserialize(config).map_err(SettingError::unreadable)?;
        let url =
            validate_url(config.url.trim()).map_err(|e| SettingError::new("url", e.to_string()))?;
        Ok(Arc::new(Forward {
            outbound: self.0.clone(),
            url: url.to_string(),
        }))
    }

    /// As for a subscription: every address the URL's host resolves to must be allowed. The
    /// check is repeated at connect time, as DNS can change.
    fn check_on_save<'a>(&'a self, config: &'a Value) -> BoxFuture<'a, Result<(), SettingError>> {
        Box::pin(async move {
            let config = ForwardConfig::deserialize(config).map_err(SettingError::unreadable)?;
            self.0
                .check_destination(config.url.trim())
                .await
                .map_err(|e| SettingError::new("url", e.to_string()))
        })
    }

    fn describe(&self, config: &Value) -> String {
        match ForwardConfig::deserialize(config) {
            Ok(c) => format!("forwards to {}", c.url),
            Err(_) => "forwards the event".to_owned(),
        }
    }
}

impl Handler for Forward {
    fn run<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let received: Vec<(String, String)> =
                serde_json::from_str(&event.headers).unwrap_or_default();
            let mut headers = HeaderMap::new();
            for (name, value) in received {
                if HOP_HEADERS.contains(&name.as_str()) {
                    continue;
                }
                if let (Ok(name), Ok(value)) = (
                    HeaderName::try_from(name.as_str()),
                    HeaderValue::try_from(value.as_str()),
                ) {
                    headers.append(name, value);
                }
            }
            headers.insert("x-hookhub-event-id", HeaderValue::from(event.id));
            if let Ok(source) = HeaderValue::try_from(event.source_id.as_str()) {
                headers.insert("x-hookhub-source", source);
            }
            let result = self
                .outbound
                .post(&self.url, headers, event.body.clone().into())
                .await;
            let took = result.duration.as_millis();
            match (result.status, result.error) {
                (Some(status), _) if (200..300).contains(&status) => {
                    Ok(format!("HTTP {status} in {took} ms"))
                }
                (Some(status), _) => Err(format!("HTTP {status} in {took} ms")),
                (None, Some(error)) => Err(error.to_string()),
                (None, None) => Err("no answer".to_owned()),
            }
        })
    }
}

/// `publish`: the hub's routing. Publishes the verified event as an outgoing message of a
/// catalog type (GitHub `push` → `github.push`): its JSON body becomes the payload (a body that
/// is not JSON travels as `{"body": text}`), and every matching subscription gets a signed
/// delivery. Runs again after a crash publish nothing twice: the message's idempotency key is
/// the event and type.
struct PublishKind {
    db: Db,
    deliveries: DeliveryWorker,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishConfig {
    event_type: String,
}

struct Publish {
    db: Db,
    deliveries: DeliveryWorker,
    event_type: String,
}

impl HandlerKind for PublishKind {
    fn name(&self) -> &'static str {
        "publish"
    }

    fn build(&self, config: &Value) -> Result<Arc<dyn Handler>, SettingError> {
        let config = PublishConfig::deserialize(config).map_err(SettingError::unreadable)?;
        let event_type = config.event_type.trim().to_owned();
        crate::sending::filter::validate_name(&event_type)
            .map_err(|e| SettingError::new("publish_as", e.to_string()))?;
        Ok(Arc::new(Publish {
            db: self.db.clone(),
            deliveries: self.deliveries.clone(),
            event_type,
        }))
    }

    fn describe(&self, config: &Value) -> String {
        match PublishConfig::deserialize(config) {
            Ok(c) => format!("publishes as {}", c.event_type),
            Err(_) => "publishes the event".to_owned(),
        }
    }
}

impl Handler for Publish {
    fn run<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let payload = serde_json::from_slice(&event.body).unwrap_or_else(
                |_| serde_json::json!({ "body": String::from_utf8_lossy(&event.body) }),
            );
            let key = format!("event-{}-{}", event.id, self.event_type);
            let published = publish(
                &self.db,
                &self.deliveries,
                &self.event_type,
                &payload,
                Some(key),
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok(match published {
                Published::New {
                    message_id,
                    deliveries,
                } => format!("published {message_id} to {deliveries} subscriptions"),
                Published::Existing { message_id } => format!("published {message_id} before"),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_type_patterns() {
        let p = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(applies(&[], None));
        assert!(applies(&p(&["*"]), None));
        assert!(applies(&p(&["push"]), Some("push")));
        assert!(!applies(&p(&["push"]), Some("pushed")));
        assert!(applies(&p(&["invoice.*"]), Some("invoice.paid")));
        assert!(!applies(&p(&["invoice.*"]), Some("charge.paid")));
        assert!(!applies(&p(&["push"]), None));
    }

    #[test]
    fn respond_settings_are_checked() {
        let setting = |config: Value| RespondKind.build(&config).err().map(|e| e.setting);
        assert_eq!(setting(json!({"status": 410})), None);
        assert_eq!(setting(json!({"status": 99})), Some("status"));
        assert_eq!(setting(json!({"status": "x"})), Some("settings"));
        assert_eq!(
            setting(json!({"status": 200, "content_type": "a\nb"})),
            Some("content_type")
        );
        assert_eq!(
            setting(json!({"status": 200, "other": 1})),
            Some("settings")
        );
    }

    #[test]
    fn respond_refuses_content_a_browser_would_run() {
        let content_type = |ct: &str| {
            RespondKind
                .build(&json!({"status": 200, "content_type": ct}))
                .err()
                .map(|e| e.setting)
        };
        for active in [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            " application/xhtml+xml",
            "image/svg+xml",
            "text/javascript",
            "application/javascript",
            "text/xml",
            "application/xml",
            "text/plain, text/html",
        ] {
            assert_eq!(content_type(active), Some("content_type"), "{active}");
        }
        for inert in [
            "text/plain",
            "application/json; charset=utf-8",
            "application/x-www-form-urlencoded",
            "image/png",
        ] {
            assert_eq!(content_type(inert), None, "{inert}");
        }
    }
}

//! Handlers: the ordered steps run on each verified event of a source, global ones included.
//!
//! While the provider waits, each handler in ascending order *decides*: pass, queue a run, or
//! answer the request itself (which ends the chain). The queued runs are committed with the
//! event and happen afterwards, from the stored event, at least once (see [`super::worker`]).
//! Code adds handler kinds by implementing [`HandlerKind`] and [`Handler`] and registering them
//! in [`HandlerKinds`]; the dashboard configures the built-in ones.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, StatusCode};
use sea_orm::DbErr;
use serde_json::Value;

use crate::error::{Error, invalid};
use crate::ids::{HandlerId, SourceId};
use crate::outbound::Outbound;
use crate::sending::filter::{self, validate_received_pattern};
use crate::sending::worker::DeliveryWorker;
use crate::storage::Db;
use crate::storage::changes::Change;
use crate::storage::events::Event;
use crate::storage::handlers::{self, HandlerChange, HandlerRow, NewHandler, PlannedRun};
use crate::storage::sources;

mod builtin;

pub use builtin::HOP_HEADERS;

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

/// A handler's place in its chain: lower runs first.
fn checked_position(position: i32) -> Result<i32, Error> {
    if (0..=1_000_000).contains(&position) {
        Ok(position)
    } else {
        Err(invalid("position", "between 0 and 1000000"))
    }
}

/// One handler in a source's chain.
struct Link {
    id: HandlerId,
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
        builtin::kinds(db, outbound, deliveries)
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
            Some(position) => checked_position(position)?,
            None => existing.iter().map(|h| h.position + 10).max().unwrap_or(10),
        };
        let row = handlers::create(
            db,
            NewHandler {
                id: HandlerId::generate(),
                source_id: req.source_id.map(SourceId::from),
                position,
                kind: kind.name().to_owned(),
                event_types,
                config: req.config,
            },
        )
        .await?;
        self.forget_chains();
        db.changes().announce(Change::Handlers);
        tracing::info!(handler = %row.id, kind = %row.kind, "handler added");
        Ok(row)
    }

    /// Moves, narrows or switches a handler of a source's chain (or of the global one for
    /// `None`); the chains pick the change up for the next event.
    pub async fn change(
        &self,
        db: &Db,
        source_id: Option<&str>,
        id: &str,
        change: HandlerChange,
    ) -> Result<HandlerRow, Error> {
        let change = HandlerChange {
            position: change.position.map(checked_position).transpose()?,
            event_types: change.event_types.map(checked_patterns).transpose()?,
            ..change
        };
        let row = handlers::update(db, source_id.map(str::to_owned), id.to_owned(), change)
            .await?
            .ok_or(Error::NotFound("handler"))?;
        self.forget_chains();
        db.changes().announce(Change::Handlers);
        tracing::info!(handler = %id, enabled = row.enabled, position = row.position, "handler changed");
        Ok(row)
    }

    /// Removes a handler from a source's chain (or the global one for `None`).
    pub async fn remove(&self, db: &Db, source_id: Option<&str>, id: &str) -> Result<(), Error> {
        let removed = handlers::delete(db, source_id.map(str::to_owned), id.to_owned()).await?;
        if !removed {
            return Err(Error::NotFound("handler"));
        }
        self.forget_chains();
        db.changes().announce(Change::Handlers);
        tracing::info!(handler = %id, "handler removed");
        Ok(())
    }

    /// What a stored handler does, in one line.
    pub fn describe(&self, row: &HandlerRow) -> String {
        match self.kinds.get(row.kind.as_str()) {
            Some(kind) => kind.describe(&row.config.0),
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
        let chain = Arc::new(
            rows.iter()
                .filter(|row| row.enabled)
                .filter_map(|row| self.link(row))
                .collect(),
        );
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
            let handler = kind.build(&row.config.0).map_err(|e| e.to_string())?;
            let event_types = row.event_types.0.clone();
            if let Some(stale) = event_types
                .iter()
                .find(|p| validate_received_pattern(p).is_err())
            {
                tracing::warn!(
                    handler = %row.id,
                    pattern = %stale,
                    "a saved pattern is no longer valid and selects only its exact name"
                );
            }
            Ok((kind.name(), handler, event_types))
        });
        match built {
            Ok((kind, handler, event_types)) => Some(Link {
                id: row.id.clone(),
                kind,
                position: row.position,
                event_types,
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
    ) -> Result<Option<(&'static str, Arc<dyn Handler>)>, DbErr> {
        let chain = self.chain(db, source_id).await?;
        Ok(chain
            .iter()
            .find(|link| link.id == handler_id)
            .map(|link| (link.kind, Arc::clone(&link.handler))))
    }
}

/// Trimmed, blanks dropped, each `*`, `prefix.*` or a name as the provider sends it: the
/// grammar and matcher of subscriptions' filters (see [`filter`]).
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
        validate_received_pattern(pattern)
            .map_err(|e| invalid("event_types", format!("`{pattern}`: {e}")))?;
    }
    Ok(patterns)
}

/// An empty list means every event; an event without a type matches only `*`.
fn applies(patterns: &[String], event_type: Option<&str>) -> bool {
    patterns.is_empty()
        || patterns.iter().any(|pattern| match event_type {
            Some(name) => filter::matches(pattern, name),
            None => pattern == "*",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_type_patterns() {
        let p = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(applies(&[], None));
        assert!(applies(&p(&["*"]), None));
        assert!(applies(&p(&["push"]), Some("push")));
        assert!(!applies(&p(&["push"]), Some("pushed")));
        assert!(applies(&p(&["invoice.*"]), Some("invoice.paid")));
        assert!(!applies(&p(&["invoice.*"]), Some("charge.paid")));
        assert!(!applies(&p(&["invoice.*"]), Some("invoice")));
        assert!(applies(&p(&["orders/create"]), Some("orders/create")));
        assert!(!applies(&p(&["push"]), None));
    }

    #[test]
    fn patterns_are_trimmed_and_checked_like_subscription_filters() {
        let p = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            checked_patterns(p(&[" push ", "", "invoice.*"])).unwrap(),
            ["push", "invoice.*"]
        );
        assert!(checked_patterns(p(&["invoice*"])).is_err());
        assert!(checked_patterns(p(&["*.paid"])).is_err());
        assert!(checked_patterns(vec!["x".to_owned(); MAX_PATTERNS + 1]).is_err());
    }
}

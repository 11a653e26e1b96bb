//! The receive flow for one request: find the source, answer a handshake, verify the signature
//! over the exact bytes, commit the event (or a refusal), and only then say what to answer.

use bytes::Bytes;
use http::{HeaderMap, Method};

use super::handlers::{Received, Reply};
use super::providers::{self, Handshake, Incoming, Provider, Secret, VerifyError};
use crate::Hub;
use crate::metrics::Receipt;
use crate::storage::events::{self, NewEvent, Stored};
use crate::storage::sources::Source;
use crate::storage::{columns, is_storage_failure, now_millis, rfc3339, sources};
use sea_orm::DbErr;

/// The part of a refused request's body kept for diagnosis.
const REFUSED_BODY_KEPT: usize = 4096;

/// One request to `/hooks/{source}` as it arrived.
pub struct Request {
    pub source_id: String,
    pub method: Method,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub remote_addr: Option<String>,
    /// This endpoint's public URL, which Trello signs.
    pub callback_url: String,
}

#[derive(Debug)]
pub enum Answer {
    /// Committed; a provider may expect a particular reply (Slack's challenge), or a handler
    /// may have chosen one.
    Stored {
        event_id: i64,
        duplicate: bool,
        reply: Option<Reply>,
    },
    Handshake(Reply),
    Refused(VerifyError),
    UnknownSource,
    Disabled,
    MethodNotAllowed,
    /// The database cannot take writes now (disk full, I/O error): nothing was stored, and the
    /// provider is asked to try again later. Logged here.
    Unavailable,
    /// Our fault (a database failure, a source whose settings do not parse); logged here.
    Failed,
}

/// Verifies, stores and answers one request, and counts what it came to.
pub async fn receive(hub: &Hub, req: Request) -> Answer {
    let mut known = Known::default();
    let answer = answer(hub, req, &mut known).await;
    let (outcome, reason) = match &answer {
        Answer::Stored {
            duplicate: false, ..
        } => ("stored", ""),
        Answer::Stored {
            duplicate: true, ..
        } => ("duplicate", ""),
        Answer::Handshake(_) => ("handshake", ""),
        Answer::Refused(refusal) => ("refused", refusal.kind()),
        Answer::UnknownSource => ("unknown_source", ""),
        Answer::Disabled => ("disabled", ""),
        Answer::MethodNotAllowed => ("method_not_allowed", ""),
        Answer::Unavailable => ("unavailable", ""),
        Answer::Failed => ("failed", ""),
    };
    known.count(hub, outcome, reason);
    answer
}

/// Counts a request refused before it was read, for a body over `max_body_bytes`.
pub async fn count_too_large(hub: &Hub, source_id: &str) {
    let mut known = Known::default();
    if let Ok(Some(source)) = sources::find(&hub.db, source_id).await {
        known.source = source.id.to_string();
        known.provider = serde_json::from_str::<Provider>(&source.settings)
            .map_or("", |provider| provider.name());
    }
    known.count(hub, "too_large", "");
}

/// The source a request named, once it is known to exist: what its figures are counted under.
#[derive(Default)]
struct Known {
    source: String,
    provider: &'static str,
}

impl Known {
    fn count(&self, hub: &Hub, outcome: &'static str, reason: &'static str) {
        hub.metrics.received(Receipt {
            source: &self.source,
            provider: self.provider,
            outcome,
            reason,
        });
    }
}

async fn answer(hub: &Hub, req: Request, known: &mut Known) -> Answer {
    let source = match sources::find(&hub.db, &req.source_id).await {
        Ok(Some(source)) => source,
        Ok(None) => return Answer::UnknownSource,
        Err(err) => return failed_db("finding the source", err),
    };
    known.source = source.id.to_string();
    let provider = serde_json::from_str::<Provider>(&source.settings);
    known.provider = provider.as_ref().map_or("", Provider::name);
    if !source.enabled {
        return Answer::Disabled;
    }
    let provider = match provider {
        Ok(provider) => provider,
        Err(err) => return failed("reading the source's settings", err),
    };
    let incoming = Incoming {
        method: &req.method,
        headers: &req.headers,
        query: req.query.as_deref(),
        body: &req.body,
        callback_url: Some(&req.callback_url),
    };
    if let Some(handshake) = providers::handshake(&provider, &incoming) {
        return Answer::Handshake(handshake.into());
    }
    if req.method != Method::POST {
        return Answer::MethodNotAllowed;
    }

    let secrets: Vec<Secret> = std::iter::once(&source.secret)
        .chain(source.previous_secret.as_ref())
        .map(|s| Secret::new(s.as_bytes().to_vec()))
        .collect();
    let received_at = now_millis();
    let verified = match providers::verify(&provider, &secrets, &incoming, received_at / 1000) {
        Ok(verified) => verified,
        Err(refusal) => {
            let refusal =
                retired_secret_signed(&source, &provider, &incoming, &refusal, received_at)
                    .unwrap_or(refusal);
            let body_prefix = req.body[..req.body.len().min(REFUSED_BODY_KEPT)].to_vec();
            let refused = events::Refused {
                source_id: source.id,
                kind: refusal.kind(),
                reason: refusal.to_string(),
                remote_addr: req.remote_addr,
                headers: columns::header_pairs(&req.headers),
                body_prefix,
                received_at,
            };
            if let Err(err) = events::record_refused(&hub.db, refused).await {
                tracing::warn!(error = %err, "could not record a refused request");
            }
            return Answer::Refused(refusal);
        }
    };

    let decision = hub
        .handlers
        .decide(
            &hub.db,
            &Received {
                source_id: &source.id,
                event_type: verified.event_type(),
                headers: &req.headers,
                body: &req.body,
            },
        )
        .await;
    let decision = match decision {
        Ok(decision) => decision,
        Err(err) => return failed("reading the source's handlers", err),
    };
    let reply = providers::post_verify_reply(&provider, &incoming, &verified)
        .map(Reply::from)
        .or(decision.answer);
    let queued = !decision.runs.is_empty();
    let stored = events::insert(
        &hub.db,
        NewEvent {
            source_id: source.id,
            received_at,
            method: req.method.to_string(),
            headers: columns::header_pairs(&req.headers),
            body: req.body.to_vec(),
            content_type: header_text(&req.headers, "content-type"),
            remote_addr: req.remote_addr,
            event_type: verified.event_type().map(str::to_owned),
            delivery_id: verified.delivery_id().map(str::to_owned),
            verification: "verified".to_owned(),
        },
        decision.runs,
    )
    .await;
    if queued {
        hub.handler_worker.wake();
    }
    if matches!(stored, Ok(Stored::New(_))) {
        hub.search_indexer.notify_one();
    }
    match stored {
        Ok(Stored::New(event_id)) => Answer::Stored {
            event_id,
            duplicate: false,
            reply,
        },
        Ok(Stored::Duplicate(event_id)) => Answer::Stored {
            event_id,
            duplicate: true,
            reply,
        },
        Err(err) => failed_db("storing an event", err),
    }
}

impl From<Handshake> for Reply {
    fn from(handshake: Handshake) -> Self {
        Self {
            status: http::StatusCode::from_u16(handshake.status).unwrap_or(http::StatusCode::OK),
            content_type: http::HeaderValue::from_static(handshake.content_type),
            body: handshake.body,
        }
    }
}

/// A signature that matches no accepted secret but the one a rotation retired is refused
/// saying so, rather than as a plain mismatch.
fn retired_secret_signed(
    source: &Source,
    provider: &Provider,
    incoming: &Incoming,
    refusal: &VerifyError,
    received_at: i64,
) -> Option<VerifyError> {
    if *refusal != VerifyError::SignatureMismatch {
        return None;
    }
    let retired = [Secret::new(
        source.retired_secret.as_ref()?.as_bytes().to_vec(),
    )];
    providers::verify(provider, &retired, incoming, received_at / 1000).ok()?;
    Some(VerifyError::RetiredSecret {
        retired_at: source.retired_at.and_then(rfc3339).unwrap_or_default(),
    })
}

fn failed_db(what: &str, err: DbErr) -> Answer {
    if is_storage_failure(&err) {
        tracing::error!(error = %err, "{what} failed: the database cannot take writes");
        return Answer::Unavailable;
    }
    failed(what, err)
}

fn failed(what: &str, err: impl std::fmt::Display) -> Answer {
    tracing::error!(error = %err, "{what} failed");
    Answer::Failed
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

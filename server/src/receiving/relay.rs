//! The development relay's hub half: a source's stored events from a starting point, oldest
//! first, then each new one as it is stored, for `hookhub listen` to replay to a local URL
//! (see [`crate::listen`]). Events are read from the database, so a relay on one hub follows
//! what every hub sharing the database received, and a stream resumed after its last event
//! (`Last-Event-ID`) misses nothing that was stored meanwhile.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::Stream;
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::storage::columns::HeaderPairs;
use crate::storage::events::{self, Event};
use crate::storage::{Db, now_millis, rfc3339, sources};

/// How often the database is asked for new events.
const POLL: Duration = Duration::from_millis(200);
/// Events read a query.
const PAGE: u64 = 100;
/// How long after it was received an event may still turn up below the newest id streamed:
/// on PostgreSQL, two hubs' transactions may commit in the other order than their ids.
const LATE_MILLIS: i64 = 10_000;

/// One event as the stream carries it (in the `data` of an SSE event named `webhook` whose
/// `id` is the event's), and as `hookhub listen` reads it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RelayedEvent {
    pub id: i64,
    pub source: String,
    /// RFC 3339.
    pub received_at: String,
    pub method: String,
    pub event_type: Option<String>,
    /// `[name, value]` pairs, in the order received.
    #[schema(value_type = Vec<Vec<String>>)]
    pub headers: HeaderPairs,
    /// The exact body.
    pub body_base64: String,
}

impl From<Event> for RelayedEvent {
    fn from(e: Event) -> Self {
        Self {
            id: e.id,
            source: e.source_id.into(),
            received_at: rfc3339(e.received_at).unwrap_or_default(),
            method: e.method,
            event_type: e.event_type,
            headers: e.headers.0,
            body_base64: STANDARD.encode(&e.body),
        }
    }
}

/// Where a stream starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// With the next event stored.
    Now,
    /// After this event (a resumed stream's `Last-Event-ID`).
    After(i64),
    /// With the first event received at or after this time, in milliseconds.
    Since(i64),
}

/// A source's events from `start` until `stop` is cancelled. Refused with `NotFound` for an
/// unknown source; a database error ends the stream with that error.
pub async fn follow(
    db: &Db,
    source_id: &str,
    start: Start,
    stop: CancellationToken,
) -> Result<impl Stream<Item = Result<Event, DbErr>> + use<>> {
    sources::find(db, source_id)
        .await?
        .ok_or(Error::NotFound("source"))?;
    let (after, since) = match start {
        Start::Now => (events::newest_id(db, source_id).await?, None),
        Start::After(id) => (id, None),
        Start::Since(at) => (0, Some(at)),
    };
    let state = Following {
        db: db.clone(),
        source_id: source_id.to_owned(),
        floor: after,
        after,
        since,
        recent: BTreeMap::new(),
        ready: VecDeque::new(),
        stop,
        failed: false,
    };
    Ok(futures::stream::unfold(state, Following::next))
}

struct Following {
    db: Db,
    source_id: String,
    /// Nothing at or below it is streamed: the client has it, or asked to start above it.
    floor: i64,
    /// The newest id streamed.
    after: i64,
    since: Option<i64>,
    /// Ids streamed lately, with when they were received, so that a late one is sent once.
    recent: BTreeMap<i64, i64>,
    ready: VecDeque<Event>,
    stop: CancellationToken,
    failed: bool,
}

impl Following {
    async fn next(mut self) -> Option<(Result<Event, DbErr>, Self)> {
        loop {
            if self.failed || self.stop.is_cancelled() {
                return None;
            }
            if let Some(event) = self.ready.pop_front() {
                return Some((Ok(event), self));
            }
            match self.read().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(err) => {
                    self.failed = true;
                    return Some((Err(err), self));
                }
            }
            tokio::select! {
                () = self.stop.cancelled() => return None,
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Reads what is new, and what committed late below it; true when there is some.
    async fn read(&mut self) -> Result<bool, DbErr> {
        let now = now_millis();
        let db = &self.db;
        let mut found =
            events::following(db, &self.source_id, self.after, None, self.since, PAGE).await?;
        if self.after > self.floor {
            let late = events::following(
                db,
                &self.source_id,
                self.floor,
                Some(self.after),
                Some(self.since.unwrap_or(0).max(now - LATE_MILLIS)),
                PAGE,
            )
            .await?;
            found.extend(
                late.into_iter()
                    .filter(|e| !self.recent.contains_key(&e.id)),
            );
        }
        self.recent
            .retain(|_, received| *received >= now - 2 * LATE_MILLIS);
        for event in &found {
            self.after = self.after.max(event.id);
            self.recent.insert(event.id, event.received_at);
        }
        let any = !found.is_empty();
        self.ready.extend(found);
        Ok(any)
    }
}

//! What hubs sharing one database tell each other: a change that something they keep in memory
//! depends on (a source, an API key, an event type, the handler chains), or new work for their workers. A hub acts on its
//! own changes at once; [`Changes::announce`] tells the others, and [`Changes::heard`] is what
//! they told this one.
//!
//! On PostgreSQL the news travels by `LISTEN`/`NOTIFY` on the channel `hookhub`: an announcer
//! task sends what was announced, a few at a time and each once, and a listener task hears the
//! others. A notice sent while a listener is cut off is lost, so whenever the listener has no
//! connection it says [`Change::Everything`] once a second (forget everything cached, look for
//! work), the polling that backs the notices up. On SQLite one hub owns the file and there is
//! nobody to tell.

use std::collections::BTreeSet;
use std::time::Duration;

use sea_orm::sqlx::PgPool;
use sea_orm::sqlx::postgres::PgListener;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::ids::random_id;

const CHANNEL: &str = "hookhub";
/// Notices sent in one statement at most.
const BATCH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// A source was edited, disabled or deleted.
    Source(String),
    /// An API key was revoked.
    ApiKeys,
    /// An event type of the catalog was changed.
    EventType(String),
    /// A handler was added or removed.
    Handlers,
    /// Deliveries were queued.
    Deliveries,
    /// Handler runs were queued.
    HandlerRuns,
    /// Anything may have changed: notices may have been missed.
    Everything,
}

impl Change {
    fn to_payload(&self, origin: &str) -> String {
        match self {
            Self::Source(id) => format!("{origin} source {id}"),
            Self::ApiKeys => format!("{origin} api-keys"),
            Self::EventType(name) => format!("{origin} event-type {name}"),
            Self::Handlers => format!("{origin} handlers"),
            Self::Deliveries => format!("{origin} deliveries"),
            Self::HandlerRuns => format!("{origin} handler-runs"),
            Self::Everything => format!("{origin} everything"),
        }
    }

    /// The change and the process that announced it; `None` for a payload of no known shape.
    fn from_payload(payload: &str) -> Option<(&str, Self)> {
        let mut words = payload.splitn(3, ' ');
        let origin = words.next()?;
        let change = match (words.next()?, words.next()) {
            ("source", Some(id)) => Self::Source(id.to_owned()),
            ("api-keys", None) => Self::ApiKeys,
            ("event-type", Some(name)) => Self::EventType(name.to_owned()),
            ("handlers", None) => Self::Handlers,
            ("deliveries", None) => Self::Deliveries,
            ("handler-runs", None) => Self::HandlerRuns,
            ("everything", None) => Self::Everything,
            _ => return None,
        };
        Some((origin, change))
    }
}

#[derive(Clone)]
pub struct Changes {
    heard: broadcast::Sender<Change>,
    /// To the announcer; `None` where there is nobody to tell.
    outgoing: Option<mpsc::UnboundedSender<Change>>,
}

impl Changes {
    /// For a database only this process uses.
    pub(super) fn alone() -> Self {
        Self {
            heard: broadcast::channel(1).0,
            outgoing: None,
        }
    }

    /// For a PostgreSQL database other hubs share: starts the announcer and the listener,
    /// which stop with `stop`. The listener hands what it hears to `apply` before anyone else.
    pub(super) fn shared(
        pool: PgPool,
        apply: impl Fn(&Change) + Send + Sync + 'static,
        stop: CancellationToken,
    ) -> Self {
        let origin = random_id("", 12);
        let (heard, _) = broadcast::channel(256);
        let (outgoing, announced) = mpsc::unbounded_channel();
        tokio::spawn(announce(
            pool.clone(),
            origin.clone(),
            announced,
            stop.clone(),
        ));
        tokio::spawn(listen(pool, origin, apply, heard.clone(), stop));
        Self {
            heard,
            outgoing: Some(outgoing),
        }
    }

    /// Tells the other hubs, after this one has acted on `change` itself.
    pub fn announce(&self, change: Change) {
        if let Some(outgoing) = &self.outgoing {
            let _ = outgoing.send(change);
        }
    }

    /// What other hubs announce from now on.
    pub fn heard(&self) -> broadcast::Receiver<Change> {
        self.heard.subscribe()
    }
}

/// Sends what is announced, each distinct change of a batch once.
async fn announce(
    pool: PgPool,
    origin: String,
    mut announced: mpsc::UnboundedReceiver<Change>,
    stop: CancellationToken,
) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let received = tokio::select! {
            received = announced.recv_many(&mut batch, BATCH) => received,
            () = stop.cancelled() => return,
        };
        if received == 0 {
            return;
        }
        let distinct: BTreeSet<Change> = batch.drain(..).collect();
        let calls: Vec<String> = (1..=distinct.len())
            .map(|n| format!("pg_notify('{CHANNEL}', ${n})"))
            .collect();
        let sql = format!("SELECT {}", calls.join(", "));
        let mut query = sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(sql));
        for change in &distinct {
            query = query.bind(change.to_payload(&origin));
        }
        if let Err(err) = query.execute(&pool).await {
            // The others find the work by polling and forget their caches on reconnecting.
            tracing::warn!(error = %err, "telling the other hubs of a change failed");
        }
    }
}

/// Hears the other hubs until `stop`, reconnecting as needed.
async fn listen(
    pool: PgPool,
    origin: String,
    apply: impl Fn(&Change),
    heard: broadcast::Sender<Change>,
    stop: CancellationToken,
) {
    let hear = |change: Change| {
        apply(&change);
        let _ = heard.send(change);
    };
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        let mut listener = tokio::select! {
            listener = listener => listener,
            () = stop.cancelled() => return,
        };
        // Whatever was said while nobody listened is lost: act as if everything changed.
        hear(Change::Everything);
        match &mut listener {
            Ok(listener) => loop {
                let notice = tokio::select! {
                    notice = listener.try_recv() => notice,
                    () = stop.cancelled() => return,
                };
                match notice {
                    Ok(Some(notice)) => match Change::from_payload(notice.payload()) {
                        Some((from, _)) if from == origin => {}
                        Some((_, change)) => hear(change),
                        None => tracing::warn!(payload = notice.payload(), "an unknown notice"),
                    },
                    // The connection was lost; the next call reconnects.
                    Ok(None) => hear(Change::Everything),
                    Err(err) => {
                        tracing::warn!(error = %err, "listening to the other hubs failed; retrying");
                        break;
                    }
                }
            },
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen to the other hubs; retrying");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_reads_back_as_it_was_sent() {
        for change in [
            Change::Source("src_a b".into()),
            Change::ApiKeys,
            Change::EventType("order.created".into()),
            Change::Handlers,
            Change::Deliveries,
            Change::HandlerRuns,
            Change::Everything,
        ] {
            let payload = change.to_payload("origin1");
            assert_eq!(Change::from_payload(&payload), Some(("origin1", change)));
        }
        assert_eq!(Change::from_payload("o source"), None);
        assert_eq!(Change::from_payload("o handlers extra"), None);
        assert_eq!(Change::from_payload("nonsense"), None);
    }
}

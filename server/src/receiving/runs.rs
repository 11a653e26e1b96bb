//! Handler runs that gave up, run again by hand: one event's, or every event's of a source
//! (once the handler or what it calls has been fixed). The worker is woken, so they start now.

use crate::Hub;
use crate::error::{Error, Result};
use crate::ids::SourceId;
use crate::storage::handlers::{self, RetryScope};
use crate::storage::{events, now_millis, sources};

/// Queues the failed runs of event `id` again; answers how many.
pub async fn retry_event(hub: &Hub, id: i64) -> Result<u64> {
    if events::find(&hub.db, id).await?.is_none() {
        return Err(Error::NotFound("event"));
    }
    retry(hub, RetryScope::Event(id)).await
}

/// Queues the failed runs of every event of source `id` again; answers how many.
pub async fn retry_source(hub: &Hub, id: &str) -> Result<u64> {
    if sources::find(&hub.db, id).await?.is_none() {
        return Err(Error::NotFound("source"));
    }
    retry(hub, RetryScope::Source(SourceId::from(id))).await
}

async fn retry(hub: &Hub, scope: RetryScope) -> Result<u64> {
    let queued = handlers::retry_failed(&hub.db, scope.clone(), now_millis()).await?;
    if queued > 0 {
        hub.handler_worker.wake();
    }
    tracing::info!(?scope, queued, "failed handler runs queued again");
    Ok(queued)
}

//! The hub: what the use cases work with, the database, the outgoing client, the handler
//! registry, the workers to wake and the settings. The dashboard, the REST API and the CLI
//! each hold one and hand it to the use cases. Cheap to clone.
//!
//! A use case takes the hub when it wakes a worker, clears a cache or reads a setting; one that
//! only reads and writes the database takes the `Db`, so benches and tools can call it without
//! a running hub.

use std::sync::Arc;

use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::receiving::handlers::{HandlerKind, HandlerKinds};
use crate::receiving::worker::HandlerWorker;
use crate::sending::worker::DeliveryWorker;
use crate::storage::Db;
use crate::storage::changes::Change;

#[derive(Clone)]
pub struct Hub {
    pub config: Arc<Config>,
    pub db: Db,
    pub outbound: Outbound,
    pub handlers: Arc<HandlerKinds>,
    pub handler_worker: HandlerWorker,
    pub deliveries: DeliveryWorker,
    /// Wakes the background indexer that makes new events searchable.
    pub search_indexer: Arc<Notify>,
    /// What `/metrics` shows.
    pub metrics: Metrics,
}

impl Hub {
    /// The built-in handler kinds and `extra` ones.
    pub fn new(config: Config, db: Db, extra: Vec<Arc<dyn HandlerKind>>) -> anyhow::Result<Self> {
        let outbound = Outbound::new(config.outbound())?;
        let metrics = Metrics::new(&db);
        let deliveries =
            DeliveryWorker::new(db.clone(), outbound.clone(), &config, metrics.clone());
        let mut kinds = HandlerKinds::builtin(db.clone(), outbound.clone(), deliveries.clone());
        kinds.extend(extra);
        let handlers = Arc::new(HandlerKinds::new(kinds));
        Ok(Self {
            handler_worker: HandlerWorker::new(
                db.clone(),
                Arc::clone(&config.node_id),
                config.lease,
                Arc::clone(&handlers),
                config.handler_retries.clone(),
                metrics.clone(),
            ),
            metrics,
            deliveries,
            search_indexer: Arc::default(),
            outbound,
            handlers,
            config: Arc::new(config),
            db,
        })
    }
}

/// Acts on what the other hubs sharing the database announce, until `shutdown`: forgets the
/// handler chains a change makes stale and wakes the workers for work queued elsewhere. (The
/// storage forgets stale sources, API keys and event types itself.)
pub async fn hear_other_hubs(hub: Arc<Hub>, shutdown: CancellationToken) {
    let mut heard = hub.db.changes().heard();
    loop {
        let change = tokio::select! {
            change = heard.recv() => change,
            () = shutdown.cancelled() => return,
        };
        let change = match change {
            Ok(change) => change,
            Err(RecvError::Lagged(_)) => Change::Everything,
            Err(RecvError::Closed) => return,
        };
        match change {
            // A source deleted takes its handlers with it.
            Change::Source(_) | Change::Handlers => hub.handlers.forget_chains(),
            Change::Deliveries => hub.deliveries.wake_here(),
            Change::HandlerRuns => hub.handler_worker.wake_here(),
            Change::ApiKeys | Change::EventType(_) => {}
            Change::Everything => {
                hub.handlers.forget_chains();
                hub.deliveries.wake_here();
                hub.handler_worker.wake_here();
            }
        }
    }
}

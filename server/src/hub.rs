//! The hub: what the use cases work with, the database, the outgoing client, the handler
//! registry, the workers to wake and the settings. The dashboard, the REST API and the CLI
//! each hold one and hand it to the use cases. Cheap to clone.
//!
//! A use case takes the hub when it wakes a worker, clears a cache or reads a setting; one that
//! only reads and writes the database takes the `Db`, so benches and tools can call it without
//! a running hub.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Config;
use crate::outbound::Outbound;
use crate::receiving::handlers::{HandlerKind, HandlerKinds};
use crate::receiving::worker::HandlerWorker;
use crate::sending::worker::DeliveryWorker;
use crate::storage::Db;

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
}

impl Hub {
    /// The built-in handler kinds and `extra` ones.
    pub fn new(config: Config, db: Db, extra: Vec<Arc<dyn HandlerKind>>) -> anyhow::Result<Self> {
        let outbound = Outbound::new(config.outbound())?;
        let deliveries = DeliveryWorker::new(db.clone(), outbound.clone(), &config);
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
            ),
            deliveries,
            search_indexer: Arc::default(),
            outbound,
            handlers,
            config: Arc::new(config),
            db,
        })
    }
}

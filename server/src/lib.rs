//! hookhub's server: configuration, startup, the use cases of receiving, sending and accounts,
//! storage, and the HTTP surface (the dashboard's [`app::backend::Backend`] port among it).

pub mod auth;
pub mod commands;
pub mod config;
pub mod error;
pub mod figures;
pub mod http;
mod hub;
pub mod ids;
pub mod listen;
pub mod metrics;
pub mod outbound;
pub mod receiving;
pub mod sending;
pub mod storage;
pub mod telemetry;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::Config;
pub use hub::Hub;
use receiving::handlers::HandlerKind;
use storage::Db;

/// Everything a request handler may need: the hub its use cases take, and what only the HTTP
/// edges keep. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    pub throttle: Arc<auth::LoginThrottle>,
    pub started_at: i64,
    /// Set once any user exists; users never drop back to none, so it is never cleared.
    pub set_up: Arc<AtomicBool>,
    /// The dashboard's compiled files, served compressed from memory.
    pub assets: http::Assets,
    /// Cancelled when the hub stops: long-lived answers (the relay's streams) end with it.
    pub stopping: CancellationToken,
}

impl AppState {
    /// The built-in handler kinds and `extra` ones.
    pub fn new(config: Config, db: Db, extra: Vec<Arc<dyn HandlerKind>>) -> anyhow::Result<Self> {
        let throttle = Arc::new(auth::LoginThrottle::new(config.login_throttle()));
        let assets = http::Assets::for_site(config.site_dir.clone());
        Ok(Self {
            assets,
            hub: Arc::new(Hub::new(config, db, extra)?),
            throttle,
            started_at: storage::now_millis(),
            set_up: Arc::new(AtomicBool::new(false)),
            stopping: CancellationToken::new(),
        })
    }
}

/// Resolves when the process is asked to stop: Ctrl-C, or SIGTERM on Unix.
pub async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        () = terminate => {}
    }
}

/// Runs hookhub on `listener` until `shutdown` is cancelled, then drains in-flight requests
/// and waits for every background task it started.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_with(config, Vec::new(), listener, shutdown).await
}

/// [`run`] with handler kinds of your own besides the built-in ones.
pub async fn run_with(
    config: Config,
    handler_kinds: Vec<Arc<dyn HandlerKind>>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let db = Db::open_with(&config.database, config.durability)
        .await
        .with_context(|| format!("opening the database {}", config.database))?;
    // Not in a migration: `copy-database` copies the catalog into a migrated, empty database.
    if let Err(err) = storage::notices::add_event_types(&db, &sending::notices::EVENT_TYPES).await {
        tracing::warn!(error = %err, "adding hookhub's own event types to the catalog failed");
    }
    let state = AppState {
        stopping: shutdown.clone(),
        ..AppState::new(config, db.clone(), handler_kinds)?
    };
    let tasks = TaskTracker::new();
    tasks.spawn({
        let (db, shutdown) = (db.clone(), shutdown.clone());
        async move { shutdown.run_until_cancelled(db.check_integrity()).await }
    });
    let node = &state.hub.config.node_id;
    tasks.spawn(storage::sessions::delete_expired_periodically(
        db.clone(),
        Arc::clone(node),
        shutdown.clone(),
    ));
    if let Some(keep) = state.hub.config.retention {
        tasks.spawn(storage::retention::prune_periodically(
            db.clone(),
            Arc::clone(node),
            keep,
            shutdown.clone(),
        ));
    }
    tasks.spawn(hub::hear_other_hubs(state.hub.clone(), shutdown.clone()));
    tasks.spawn(storage::hubs::beat_periodically(
        db.clone(),
        Arc::clone(node),
        env!("CARGO_PKG_VERSION"),
        state.started_at,
        shutdown.clone(),
    ));
    tasks.spawn({
        let (assets, shutdown) = (state.assets.clone(), shutdown.clone());
        async move { shutdown.run_until_cancelled(assets.warm()).await }
    });
    tasks.spawn(state.hub.handler_worker.clone().run(shutdown.clone()));
    tasks.spawn(state.hub.deliveries.clone().run(shutdown.clone()));
    tasks.spawn(storage::search::index_continuously(
        db.clone(),
        state.hub.search_indexer.clone(),
        shutdown.clone(),
    ));
    tasks.close();

    let limits = http::connections::Limits {
        header_timeout: state.hub.config.header_timeout,
        per_ip: state.hub.config.max_connections_per_ip,
        trusted_proxies: state.hub.config.trusted_proxies.clone(),
    };
    let router = http::router(state)?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "hookhub is listening");
    // Returns once `shutdown` is cancelled, which stops the tasks too.
    http::connections::serve(listener, router, limits, shutdown).await;
    tasks.wait().await;
    tracing::info!("hookhub stopped");
    Ok(())
}

//! hookhub's server: configuration, startup, storage, accounts, the plain HTTP surface and the
//! implementation of the dashboard's [`app::backend::Backend`] port.

pub mod auth;
mod backend;
pub mod commands;
pub mod config;
pub mod http;
mod ids;
pub mod receiving;
pub mod sending;
pub mod storage;
pub mod telemetry;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use std::time::Duration;

use anyhow::Context;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::{Service, ServiceExt};

pub use config::Config;
use receiving::handlers::{HandlerKind, HandlerKinds};
use receiving::worker::HandlerWorker;
use sending::outbound::Outbound;
use sending::worker::DeliveryWorker;
use storage::Db;

/// Everything a request handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub throttle: Arc<auth::LoginThrottle>,
    pub started_at: i64,
    /// Set once any user exists; users never drop back to none, so it is never cleared.
    pub set_up: Arc<AtomicBool>,
    pub handlers: Arc<HandlerKinds>,
    pub handler_worker: HandlerWorker,
    pub outbound: Outbound,
    pub deliveries: DeliveryWorker,
    /// Wakes the background indexer that makes new events searchable.
    pub search_indexer: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// The built-in handler kinds and `extra` ones.
    pub fn new(config: Config, db: Db, extra: Vec<Arc<dyn HandlerKind>>) -> anyhow::Result<Self> {
        let outbound = Outbound::new(config.outbound())?;
        let deliveries = DeliveryWorker::new(db.clone(), outbound.clone(), &config);
        let mut kinds = HandlerKinds::builtin(db.clone(), outbound.clone(), deliveries.clone());
        kinds.extend(extra);
        let handlers = Arc::new(HandlerKinds::new(kinds));
        Ok(Self {
            deliveries,
            search_indexer: Arc::default(),
            outbound,
            throttle: Arc::new(auth::LoginThrottle::new(config.login_throttle())),
            handler_worker: HandlerWorker::new(
                db.clone(),
                Arc::clone(&handlers),
                config.handler_retries.clone(),
            ),
            handlers,
            config: Arc::new(config),
            db,
            started_at: storage::now_millis(),
            set_up: Arc::new(AtomicBool::new(false)),
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

/// Runs hookhub on `listener` until `shutdown` is cancelled, then drains in-flight requests.
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
        .with_context(|| format!("opening the database {}", config.database.display()))?;
    let state = AppState::new(config, db.clone(), handler_kinds)?;
    tokio::spawn({
        let db = db.clone();
        async move { db.check_integrity().await }
    });
    tokio::spawn(storage::sessions::delete_expired_periodically(
        db.clone(),
        shutdown.clone(),
    ));
    if let Some(keep) = state.config.retention {
        tokio::spawn(storage::retention::prune_periodically(
            db.clone(),
            keep,
            shutdown.clone(),
        ));
    }
    tokio::spawn(state.handler_worker.clone().run(shutdown.clone()));
    tokio::spawn(state.deliveries.clone().run(shutdown.clone()));
    tokio::spawn(storage::events::index_continuously(
        db.clone(),
        state.search_indexer.clone(),
        shutdown.clone(),
    ));

    let header_timeout = state.config.header_timeout;
    let router = http::router(state)?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "hookhub is listening");
    serve(listener, router, header_timeout, shutdown).await;
    tracing::info!("hookhub stopped");
    Ok(())
}

/// How long in-flight requests may take to finish after shutdown is asked for.
const DRAIN: Duration = Duration::from_secs(30);

/// Accepts connections until `shutdown`, then lets in-flight requests finish. Unlike
/// `axum::serve`, a client gets `header_timeout` to send its request head, so slow senders
/// (slowloris) cannot hold connections open for ever.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    header_timeout: Duration,
    shutdown: CancellationToken,
) {
    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, usually: wait rather than spin.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        // Pages stream in several writes; without TCP_NODELAY, Nagle's algorithm and delayed
        // ACKs hold some of them back about 40 ms.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
        let Ok(service) = make_service.call(remote).await;
        let service = TowerToHyperService::new(
            service
                .map_request(|req: axum::http::Request<Incoming>| req.map(axum::body::Body::new)),
        );
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => tracing::warn!("requests still running after the drain period were cut off"),
    }
}

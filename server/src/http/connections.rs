//! Accepting and serving connections, so that slow or idle clients cannot hold them.
//!
//! Unlike `axum::serve`: a client gets `header_timeout` to send its request head (slowloris);
//! a connection with no request in flight for `header_timeout` is closed, HTTP/2 (h2c) too,
//! whose streams hyper would otherwise keep open for ever; HTTP/2 clients get a bounded number
//! of concurrent streams and are pinged so that dead peers are noticed; and one client address
//! holds at most `max_connections_per_ip` connections, so a single client cannot use up the
//! process' file descriptors and leave health checks and the dashboard unanswered.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::{Service, ServiceExt};

use crate::outbound::AllowList;

/// How long in-flight requests may take to finish after shutdown is asked for.
const DRAIN: Duration = Duration::from_secs(30);
/// Streams one HTTP/2 connection may have open at once (hyper's default is unbounded here).
const MAX_STREAMS: u32 = 100;

#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Duration,
    /// 0: no limit.
    pub per_ip: usize,
    /// Peers not limited: a reverse proxy carries many clients' connections.
    pub trusted_proxies: AllowList,
}

/// Open connections per client address.
#[derive(Clone, Default)]
struct PerIp(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One counted connection; uncounted when dropped.
struct Slot {
    counts: PerIp,
    ip: IpAddr,
}

impl PerIp {
    fn take(&self, ip: IpAddr, limit: usize) -> Option<Slot> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(ip).or_default();
        if limit > 0 && *count >= limit {
            return None;
        }
        *count += 1;
        Some(Slot {
            counts: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// Requests in flight on one connection, and when the last one started or ended.
struct Activity {
    born: Instant,
    in_flight: AtomicUsize,
    last_millis: AtomicU64,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            born: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_millis: AtomicU64::new(0),
        })
    }

    fn touch(&self) {
        let millis = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis.store(millis, Ordering::Relaxed);
    }

    /// Resolves once no request has been in flight for `idle`.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let last = self.born + Duration::from_millis(self.last_millis.load(Ordering::Relaxed));
            let quiet_until = last + idle;
            if self.in_flight.load(Ordering::Relaxed) == 0 && Instant::now() >= quiet_until {
                return;
            }
            tokio::time::sleep_until(quiet_until.max(Instant::now() + idle / 4).into()).await;
        }
    }
}

/// Counts a request in flight until its response head is ready (a response body still
/// streaming out keeps the connection open anyway: closing is graceful).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        activity.touch();
        Self(Arc::clone(activity))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Accepts connections until `shutdown`, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .keep_alive_interval(limits.header_timeout)
        .keep_alive_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
    let per_ip = PerIp::default();
    let connections = TaskTracker::new();
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
        let limit = if limits.trusted_proxies.contains(remote.ip()) {
            0
        } else {
            limits.per_ip
        };
        let Some(slot) = per_ip.take(remote.ip(), limit) else {
            // Closed at once: the client already holds its share.
            tracing::debug!(client = %remote.ip(), "connection refused: too many from this address");
            drop(stream);
            continue;
        };
        // Pages stream in several writes; without TCP_NODELAY, Nagle's algorithm and delayed
        // ACKs hold some of them back about 40 ms.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
        let Ok(service) = make_service.call(remote).await;
        let activity = Activity::new();
        let counted = Arc::clone(&activity);
        let service = TowerToHyperService::new(tower::service_fn(
            move |req: axum::http::Request<Incoming>| {
                let in_flight = InFlight::start(&counted);
                let service = service.clone();
                async move {
                    let response = service.oneshot(req.map(axum::body::Body::new)).await;
                    drop(in_flight);
                    response
                }
            },
        ));
        let builder = Arc::clone(&builder);
        let shutdown = shutdown.clone();
        let idle = limits.header_timeout;
        connections.spawn(async move {
            let _slot = slot;
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let mut closing = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(err) = result {
                            tracing::debug!(error = %err, "connection ended with an error");
                        }
                        break;
                    }
                    () = shutdown.cancelled(), if !closing => {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    () = activity.idle_for(idle), if !closing => {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            }
        });
    }
    drop(listener);
    connections.close();
    if tokio::time::timeout(DRAIN, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the drain period were cut off");
    }
}

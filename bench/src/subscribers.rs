//! The subscribers `send` delivers to: one axum server on a loopback port, where the path names
//! the subscriber. `/ok/{n}` answers 200 at once and records when each message id (`webhook-id`, or Svix's
//! `svix-id`) arrived;
//! `/fail` answers 500 to everything; `/hang` holds every request without answering until the
//! run ends, so the hub's outbound timeout is what ends each attempt.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The first time one healthy subscriber received one message.
pub struct Arrival {
    pub subscriber: usize,
    pub message_id: String,
    pub at: Instant,
}

#[derive(Default)]
pub struct Record {
    /// First arrivals only, in the order they came.
    pub arrivals: Vec<Arrival>,
    /// Requests for a (subscriber, message) pair that had arrived before.
    pub duplicates: u64,
    pub hang_requests: u64,
    pub fail_requests: u64,
    seen: HashSet<(usize, String)>,
}

#[derive(Clone)]
struct Shared {
    record: Arc<Mutex<Record>>,
    /// How many first arrivals [`Subscribers::wait_for`] waits for, and its wake-up.
    target: Arc<AtomicUsize>,
    reached: Arc<Notify>,
    stop: CancellationToken,
}

/// Serves `app` on a loopback port, on the runtime behind `on`, until `stop`.
pub async fn serve_on(
    on: &Handle,
    app: Router,
    stop: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    on.spawn(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(
            axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .into_future(),
        );
        anyhow::Ok(addr)
    })
    .await?
}

pub struct Subscribers {
    pub addr: SocketAddr,
    shared: Shared,
}

impl Subscribers {
    /// Serves on the runtime behind `on`, away from the hub's.
    pub async fn start(on: &Handle) -> anyhow::Result<Self> {
        let shared = Shared {
            record: Arc::default(),
            target: Arc::new(AtomicUsize::new(usize::MAX)),
            reached: Arc::default(),
            stop: CancellationToken::new(),
        };
        let app = Router::new()
            .route("/ok/{n}", post(ok))
            .route("/fail", post(fail))
            .route("/hang", post(hang))
            .with_state(shared.clone());
        let addr = serve_on(on, app, shared.stop.clone()).await?;
        Ok(Self { addr, shared })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits until `n` distinct (subscriber, message) pairs have arrived; false if `deadline`
    /// came first.
    pub async fn wait_for(&self, n: usize, deadline: Instant) -> bool {
        {
            let record = lock(&self.shared.record);
            if record.arrivals.len() >= n {
                return true;
            }
            self.shared.target.store(n, Ordering::Relaxed);
        }
        let deadline = tokio::time::Instant::from_std(deadline);
        tokio::time::timeout_at(deadline, self.shared.reached.notified())
            .await
            .is_ok()
    }

    /// Stops serving (held requests are let go) and hands over what was recorded.
    pub fn finish(self) -> Record {
        self.shared.stop.cancel();
        std::mem::take(&mut *lock(&self.shared.record))
    }
}

async fn ok(
    State(shared): State<Shared>,
    Path(subscriber): Path<usize>,
    headers: HeaderMap,
    _body: Bytes,
) -> StatusCode {
    let at = Instant::now();
    // hookhub signs as Standard Webhooks do; Svix, which `svix` measures too, with its own
    // names for the same headers.
    let id = headers.get("webhook-id").or_else(|| headers.get("svix-id"));
    let Some(id) = id.and_then(|v| v.to_str().ok()) else {
        return StatusCode::BAD_REQUEST;
    };
    let mut record = lock(&shared.record);
    if record.seen.insert((subscriber, id.to_owned())) {
        record.arrivals.push(Arrival {
            subscriber,
            message_id: id.to_owned(),
            at,
        });
        // Stored while the lock is held, so an arrival cannot slip between the waiter's count
        // and its target; a notification with nobody waiting yet is kept for the waiter.
        if record.arrivals.len() == shared.target.load(Ordering::Relaxed) {
            shared.reached.notify_one();
        }
    } else {
        record.duplicates += 1;
    }
    StatusCode::OK
}

async fn fail(State(shared): State<Shared>, _body: Bytes) -> StatusCode {
    lock(&shared.record).fail_requests += 1;
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn hang(State(shared): State<Shared>, _body: Bytes) -> StatusCode {
    lock(&shared.record).hang_requests += 1;
    shared.stop.cancelled().await;
    StatusCode::SERVICE_UNAVAILABLE
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

//! Runs queued handler runs from the database: claims due ones with a lease, runs each from the
//! stored event, and records the outcome. A failed run is tried again on the configured
//! schedule and marked failed when it is used up; a crash mid-run leaves a lease that the next
//! start releases, so every queued run happens at least once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use super::handlers::HandlerKinds;
use crate::metrics::Metrics;
use crate::storage::changes::Change;
use crate::storage::handlers::{self, Finish, HandlerRun};
use crate::storage::{Db, events, now_millis};

/// Runs in flight at once.
const CONCURRENCY: usize = 16;
/// How often to look for due retries when nothing wakes the worker.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How long the runs under way at shutdown get to finish and be recorded; one cut off runs
/// again after the next start.
const DRAIN: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct HandlerWorker {
    db: Db,
    /// The name this hub leases runs under.
    node: Arc<str>,
    /// How long a claimed run stays this hub's: longer than any handler may take, so a lease
    /// this old means its worker died.
    lease: Duration,
    kinds: Arc<HandlerKinds>,
    /// Delays before the 2nd, 3rd, … attempt; a run fails for good when they are used up.
    retries: Arc<[Duration]>,
    wake: Arc<Notify>,
    slots: Arc<Semaphore>,
    metrics: Metrics,
}

impl HandlerWorker {
    pub fn new(
        db: Db,
        node: Arc<str>,
        lease: Duration,
        kinds: Arc<HandlerKinds>,
        retries: Vec<Duration>,
        metrics: Metrics,
    ) -> Self {
        Self {
            metrics,
            db,
            node,
            lease,
            kinds,
            retries: retries.into(),
            wake: Arc::new(Notify::new()),
            slots: Arc::new(Semaphore::new(CONCURRENCY)),
        }
    }

    /// Tells this hub's worker and the other hubs' that new runs were queued.
    pub fn wake(&self) {
        self.wake_here();
        self.db.changes().announce(Change::HandlerRuns);
    }

    /// Tells this hub's worker only, of runs another hub queued.
    pub fn wake_here(&self) {
        self.wake.notify_one();
    }

    /// Claims what is due now and runs it to the end; the number of runs it finished.
    pub async fn run_once(&self) -> usize {
        let free = self.slots.available_permits();
        if free == 0 {
            return 0;
        }
        let claimed = match handlers::claim_due(
            &self.db,
            Arc::clone(&self.node),
            now_millis(),
            free as u64,
            self.lease.as_millis() as i64,
        )
        .await
        {
            Ok(claimed) => claimed,
            Err(err) => {
                tracing::error!(error = %err, "claiming handler runs failed");
                return 0;
            }
        };
        let count = claimed.len();
        let mut running = tokio::task::JoinSet::new();
        for run in claimed {
            let Ok(permit) = Arc::clone(&self.slots).acquire_owned().await else {
                break;
            };
            let worker = self.clone();
            running.spawn(async move {
                worker.execute(run).await;
                drop(permit);
            });
        }
        running.join_all().await;
        count
    }

    /// Loops until `shutdown`, after releasing the leases a previous process left behind; then
    /// lets the runs under way finish (for [`DRAIN`] at most) and records them.
    pub async fn run(self, shutdown: CancellationToken) {
        if let Err(err) = handlers::release_leases(&self.db, Arc::clone(&self.node)).await {
            tracing::error!(error = %err, "releasing handler leases failed");
        }
        loop {
            let once = self.run_once();
            tokio::pin!(once);
            let finished = tokio::select! {
                finished = &mut once => finished,
                () = shutdown.cancelled() => {
                    if tokio::time::timeout(DRAIN, once).await.is_err() {
                        tracing::warn!("handler runs still under way at shutdown will run again");
                    }
                    return;
                }
            };
            if finished == 0 {
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(IDLE_POLL) => {}
                    () = shutdown.cancelled() => return,
                }
            }
        }
    }

    async fn execute(&self, run: HandlerRun) {
        let (kind, outcome) = self.attempt(&run).await;
        let now = now_millis();
        let finish = match outcome {
            Ok(summary) => Finish::Ok(summary),
            Err(error) => match self.retries.get(run.attempts.max(1) as usize - 1) {
                Some(delay) => Finish::RetryAt {
                    at: now + delay.as_millis() as i64,
                    error,
                },
                None => Finish::Failed(error),
            },
        };
        let counted = match finish {
            Finish::Ok(_) => "succeeded",
            Finish::RetryAt { .. } => "retrying",
            Finish::Failed(_) => "failed",
        };
        self.metrics.handler_ran(kind, counted);
        if let Err(err) = handlers::finish(&self.db, run, finish, now).await {
            // The lease lapses and the run happens again.
            tracing::error!(error = %err, "recording a handler run failed");
        }
    }

    /// Runs it once; answers the handler's kind (`unknown` when it cannot be found) and how
    /// the run went.
    async fn attempt(&self, run: &HandlerRun) -> (&'static str, Result<String, String>) {
        let event = match events::find(&self.db, run.event_id).await {
            Ok(Some(event)) => event,
            Ok(None) => return ("unknown", Err("the event no longer exists".into())),
            Err(_) => return ("unknown", Err("could not read the event".into())),
        };
        let found = self
            .kinds
            .handler_for(&self.db, &event.source_id, &run.handler_id)
            .await;
        match found {
            Ok(Some((kind, handler))) => (kind, handler.run(&event).await),
            Ok(None) => ("unknown", Err("the handler was removed".into())),
            Err(_) => ("unknown", Err("could not read the handler".into())),
        }
    }
}

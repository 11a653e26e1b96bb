//! The delivery worker: claims due deliveries from the database with a lease, signs and POSTs
//! each one, records the attempt and what it means (delivered, retry at, give up, disable the
//! subscription). In flight at once: at most `delivery_concurrency` in all and
//! `subscription_concurrency` per subscription, so one slow endpoint cannot starve the others.
//! An attempt holds its slot until its record is committed; the write that records a batch of
//! attempts claims their successors too, so a busy worker's next deliveries cost no commit of
//! their own.
//! A crash leaves leases that the next start releases: every delivery happens at least once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use rand::Rng;
use serde_json::{Value, json};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::credentials;
use super::notices;
use super::retry::{self, AttemptOutcome, Decision, RetrySchedule};
use super::signing::{self, SigningSecret};
use crate::Config;
use crate::ids::{MessageId, SubscriptionId};
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::storage::changes::Change;
use crate::storage::columns::{self, HeaderPairs, JsonText};
use crate::storage::deliveries::{
    self, AttemptRecord, Claim, Delivery, NewAttempt, Outcome, Recorded,
};
use crate::storage::messages::{self, Message};
use crate::storage::states::{SigningMode, SubscriptionState};
use crate::storage::subscriptions::{self, Subscription};
use crate::storage::{Db, now_millis};

/// How often to look for due retries when nothing wakes the worker.
const IDLE_POLL: Duration = Duration::from_millis(250);
/// Claimed per database round trip at most.
const CLAIM_BATCH: usize = 256;
/// How long the attempts under way at shutdown get to finish and be recorded; one cut off is
/// made again after the next start.
const DRAIN: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct DeliveryWorker(Arc<Inner>);

struct Inner {
    metrics: Metrics,
    db: Db,
    /// The name this hub leases deliveries under.
    node: Arc<str>,
    /// How long a claimed delivery stays this hub's: longer than any attempt may take, so a
    /// lease this old means its worker died.
    lease: Duration,
    outbound: Outbound,
    schedule: RetrySchedule,
    per_subscription: usize,
    slots: Arc<Semaphore>,
    /// Deliveries in flight per subscription.
    busy: Mutex<HashMap<String, usize>>,
    wake: Notify,
    /// Attempts on their way to the database, written in batches by [`DeliveryWorker::run`].
    records: mpsc::Sender<Finished>,
    /// Deliveries claimed as attempts were recorded, for [`DeliveryWorker::run`] to start.
    handed: mpsc::UnboundedSender<Handed>,
    /// The receiving ends of both, which [`DeliveryWorker::run`] takes.
    receivers: Mutex<Option<(mpsc::Receiver<Finished>, mpsc::UnboundedReceiver<Handed>)>>,
    disable_after: Duration,
}

/// A finished attempt to record, with the slot it holds until its record is committed.
type Finished = (AttemptRecord, Slot);
/// Deliveries claimed in the write that recorded attempts, and the slots those attempts held.
type Handed = (Vec<Delivery>, Vec<OwnedSemaphorePermit>);

impl DeliveryWorker {
    pub fn new(db: Db, outbound: Outbound, config: &Config, metrics: Metrics) -> Self {
        let (records, queue) = mpsc::channel(RECORD_BATCH * 4);
        let (handed, to_start) = mpsc::unbounded_channel();
        Self(Arc::new(Inner {
            metrics,
            records,
            handed,
            receivers: Mutex::new(Some((queue, to_start))),
            disable_after: config.disable_after,
            node: Arc::clone(&config.node_id),
            lease: config.lease,
            db,
            outbound,
            schedule: RetrySchedule::new(config.delivery_retries.clone()),
            per_subscription: config.subscription_concurrency,
            slots: Arc::new(Semaphore::new(config.delivery_concurrency)),
            busy: Mutex::default(),
            wake: Notify::new(),
        }))
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Tells this hub's worker and the other hubs' that new deliveries were queued.
    pub fn wake(&self) {
        self.wake_here();
        self.0.db.changes().announce(Change::Deliveries);
    }

    /// Tells this hub's worker only: a slot came free, or another hub queued deliveries.
    pub fn wake_here(&self) {
        self.0.wake.notify_one();
    }

    /// Delivers until `shutdown`, after releasing the leases a previous process left behind;
    /// then lets the attempts under way finish (for [`DRAIN`] at most) and records them.
    pub async fn run(self, shutdown: CancellationToken) {
        let Some((queue, mut handed)) = lock(&self.0.receivers).take() else {
            tracing::error!("the delivery worker was started twice");
            return;
        };
        let recording = CancellationToken::new();
        let recorder = tokio::spawn(record_in_batches(
            self.clone(),
            queue,
            shutdown.clone(),
            recording.clone(),
        ));
        if let Err(err) = deliveries::release_leases(&self.0.db, Arc::clone(&self.0.node)).await {
            tracing::error!(error = %err, "releasing delivery leases failed");
        }
        let mut in_flight = JoinSet::new();
        loop {
            let mut started = 0;
            while let Ok((claimed, spare)) = handed.try_recv() {
                started += self.start(claimed, spare, &mut in_flight).await;
            }
            started += tokio::select! {
                started = self.dispatch(&mut in_flight) => started,
                () = shutdown.cancelled() => break,
            };
            while in_flight.try_join_next().is_some() {}
            if started == 0 {
                tokio::select! {
                    () = self.0.wake.notified() => {}
                    Some((claimed, spare)) = handed.recv() => {
                        self.start(claimed, spare, &mut in_flight).await;
                    }
                    () = tokio::time::sleep(IDLE_POLL) => {}
                    () = shutdown.cancelled() => break,
                }
            }
        }
        let drained = tokio::time::timeout(DRAIN, async {
            while in_flight.join_next().await.is_some() {}
        });
        if drained.await.is_err() {
            tracing::warn!(
                cut_off = in_flight.len(),
                "deliveries still under way at shutdown will be attempted again"
            );
        }
        in_flight.shutdown().await;
        recording.cancel();
        let _ = recorder.await;
        // What the last records claimed will not start here: back to the queue at once.
        handed.close();
        let mut unstarted = Vec::new();
        while let Ok((claimed, _)) = handed.try_recv() {
            unstarted.extend(claimed.iter().map(|d| d.id));
        }
        if !unstarted.is_empty()
            && let Err(err) = deliveries::release(&self.0.db, unstarted).await
        {
            tracing::error!(error = %err, "giving back deliveries not started failed");
        }
    }

    /// Claims as many due deliveries as there are free slots and starts each; how many.
    async fn dispatch(&self, in_flight: &mut JoinSet<()>) -> usize {
        let inner = &self.0;
        let free = inner.slots.available_permits().min(CLAIM_BATCH);
        if free == 0 {
            return 0;
        }
        let claimed = match deliveries::claim_due(&inner.db, self.claim(free), now_millis()).await {
            Ok(claimed) => claimed,
            Err(err) => {
                tracing::error!(error = %err, "claiming deliveries failed");
                return 0;
            }
        };
        self.start(claimed, Vec::new(), in_flight).await
    }

    /// A claim of up to `limit` deliveries by this hub.
    fn claim(&self, limit: usize) -> Claim {
        Claim {
            node: Arc::clone(&self.0.node),
            limit: limit as u64,
            lease_ms: self.0.lease.as_millis() as i64,
            per_subscription: self.0.per_subscription,
        }
    }

    /// Starts the claimed deliveries, each in a slot (one of `spare` first); those of a
    /// subscription paused meanwhile or at its limit go back to the queue. How many started.
    async fn start(
        &self,
        claimed: Vec<Delivery>,
        mut spare: Vec<OwnedSemaphorePermit>,
        in_flight: &mut JoinSet<()>,
    ) -> usize {
        let inner = &self.0;
        if claimed.is_empty() {
            return 0;
        }
        // What the claimed deliveries need, in two reads rather than two per delivery.
        let message_ids: Vec<MessageId> = claimed.iter().map(|d| d.message_id.clone()).collect();
        let loaded = tokio::try_join!(
            subscriptions::list(&inner.db),
            messages::find_messages(&inner.db, message_ids),
        );
        let (subscriptions, messages) = match loaded {
            Ok(loaded) => loaded,
            Err(err) => {
                tracing::error!(error = %err, "loading claimed deliveries failed; their leases will lapse");
                return 0;
            }
        };
        let subscriptions: HashMap<SubscriptionId, Arc<Subscription>> = subscriptions
            .into_iter()
            .map(|s| (s.id.clone(), Arc::new(s)))
            .collect();
        let messages: HashMap<MessageId, Arc<Message>> = messages
            .into_iter()
            .map(|m| (m.id.clone(), Arc::new(m)))
            .collect();

        let mut started = 0;
        let mut set_aside = Vec::new();
        for delivery in claimed {
            let (Some(subscription), Some(message)) = (
                subscriptions.get(&delivery.subscription_id),
                messages.get(&delivery.message_id),
            ) else {
                // Deleted meanwhile: the delivery went with it.
                continue;
            };
            if subscription.state != SubscriptionState::Active {
                set_aside.push(delivery.id);
                continue;
            }
            let Some(slot) = self.take_slot(&delivery.subscription_id, &mut spare) else {
                set_aside.push(delivery.id);
                continue;
            };
            let (worker, subscription, message) =
                (self.clone(), Arc::clone(subscription), Arc::clone(message));
            in_flight.spawn(async move {
                worker
                    .deliver(delivery, &subscription, &message, slot)
                    .await;
            });
            started += 1;
        }
        if !set_aside.is_empty()
            && let Err(err) = deliveries::release(&inner.db, set_aside).await
        {
            // Their leases lapse instead.
            tracing::error!(error = %err, "giving back deliveries set aside failed");
        }
        started
    }

    /// A global slot (one of `spare`, else a free one) and one of the subscription's, or
    /// `None` when either is used up.
    fn take_slot(
        &self,
        subscription_id: &str,
        spare: &mut Vec<OwnedSemaphorePermit>,
    ) -> Option<Slot> {
        let mut busy = lock(&self.0.busy);
        if busy.get(subscription_id).copied().unwrap_or(0) >= self.0.per_subscription {
            return None;
        }
        let permit = match spare.pop() {
            Some(permit) => permit,
            None => Arc::clone(&self.0.slots).try_acquire_owned().ok()?,
        };
        *busy.entry(subscription_id.to_owned()).or_default() += 1;
        Some(Slot {
            permit,
            _turn: Turn {
                worker: self.clone(),
                subscription_id: subscription_id.to_owned(),
            },
        })
    }

    /// Makes one attempt and queues its record, with `slot`, for [`record_in_batches`].
    async fn deliver(
        &self,
        delivery: Delivery,
        subscription: &Subscription,
        message: &Message,
        slot: Slot,
    ) {
        let attempt_number = delivery.attempts as u32 + 1;
        let started_at = now_millis();
        let (headers, body) = request(subscription, message, attempt_number, started_at);
        let recorded_headers = as_sent(
            &subscription.url,
            &self.0.outbound.config().user_agent,
            &headers,
            body.len(),
        );
        // An ASP.NET body counts its attempt and carries the properties as they are now.
        let request_body = (subscription.mode == SigningMode::AspNet).then(|| body.to_vec());
        let result = self.0.outbound.post(&subscription.url, headers, body).await;
        let now = now_millis();
        let sample: f64 = rand::rng().random();
        let outcome = match retry::decide(
            &self.0.schedule,
            attempt_number,
            AttemptOutcome::of(&result, now),
            now,
            sample,
        ) {
            Decision::Delivered => Outcome::Succeeded,
            Decision::RetryAt(at) => Outcome::RetryAt(at),
            Decision::GiveUp => Outcome::Failed,
            Decision::Disable { reason } => Outcome::Disable { reason },
        };
        self.0.metrics.attempted(
            &subscription.id,
            result.status,
            matches!(outcome, Outcome::Succeeded),
            result.duration.as_secs_f64(),
            message.created_at,
        );
        let attempt = NewAttempt {
            started_at,
            duration_ms: result.duration.as_millis() as i64,
            request_headers: recorded_headers,
            response_status: result.status.map(i32::from),
            response_headers: result
                .status
                .map(|_| columns::header_pairs(&result.headers)),
            response_body: result.status.map(|_| result.body),
            error: result.error.map(|e| e.to_string()),
            request_body,
        };
        let record = AttemptRecord {
            delivery,
            attempt,
            outcome,
        };
        // Should the recorder be gone, the lease lapses and the delivery is made again.
        let _ = self.0.records.send((record, slot)).await;
    }
}

/// Attempts recorded per write at most.
const RECORD_BATCH: usize = 256;

/// Writes attempts as they come, each write taking everything queued (up to a batch) and,
/// until `shutdown`, claiming as many deliveries as the attempts held slots, which it hands to
/// [`DeliveryWorker::run`] with those slots; then raises the notices the failures call for.
/// After `stop`, writes what is queued and returns.
async fn record_in_batches(
    worker: DeliveryWorker,
    mut queue: mpsc::Receiver<Finished>,
    shutdown: CancellationToken,
    stop: CancellationToken,
) {
    let (db, disable_after) = (&worker.0.db, worker.0.disable_after);
    let mut raised = notices::Raised::default();
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    loop {
        let received = tokio::select! {
            received = queue.recv_many(&mut batch, RECORD_BATCH) => received,
            // Closed, the queue still hands out what it holds, then nothing.
            () = stop.cancelled(), if !queue.is_closed() => {
                queue.close();
                continue;
            }
        };
        if received == 0 {
            break;
        }
        let (records, slots): (Vec<_>, Vec<Slot>) = batch.drain(..).unzip();
        let disable_before = now_millis() - disable_after.as_millis() as i64;
        let next = (!shutdown.is_cancelled()).then(|| worker.claim(slots.len()));
        match deliveries::record_attempts(db, records, disable_before, next).await {
            Ok(Recorded { failing, claimed }) => {
                // The subscriptions' turns end with the leases; the slots pass to what was
                // claimed (a slot left over is free again).
                let spare: Vec<_> = slots.into_iter().map(|slot| slot.permit).collect();
                if !claimed.is_empty() {
                    let _ = worker.0.handed.send((claimed, spare));
                }
                if !failing.is_empty() && raised.raise(db, failing, disable_after).await {
                    worker.wake();
                }
            }
            // The leases lapse and those deliveries are attempted again: at least once.
            Err(err) => {
                tracing::error!(error = %err, "recording attempts failed");
                drop(slots);
                worker.wake_here();
            }
        }
    }
}

/// A delivery's claim on the worker's capacity: one of its slots and one of its
/// subscription's, each given back when dropped.
struct Slot {
    permit: OwnedSemaphorePermit,
    _turn: Turn,
}

/// One of a subscription's slots.
struct Turn {
    worker: DeliveryWorker,
    subscription_id: String,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut busy = lock(&self.worker.0.busy);
        if let Some(count) = busy.get_mut(&self.subscription_id) {
            *count -= 1;
            if *count == 0 {
                busy.remove(&self.subscription_id);
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The signed request for one attempt: a fresh timestamp and signature each time, the same
/// `webhook-id` (the message id) always.
fn request(
    subscription: &Subscription,
    message: &Message,
    attempt: u32,
    now: i64,
) -> (HeaderMap, Bytes) {
    let payload: Value = serde_json::from_str(&message.payload).unwrap_or(Value::Null);
    let mut secrets: Vec<SigningSecret> = SigningSecret::parse(&subscription.secret)
        .into_iter()
        .collect();
    let (mut headers, body) = if subscription.mode == SigningMode::AspNet {
        let body = signing::aspnet_body(
            &message.id,
            attempt,
            &message.event_type,
            &payload,
            &subscription.properties.0,
        );
        let headers = secrets
            .first()
            .map(|secret| signing::aspnet_headers(&body, secret))
            .unwrap_or_default();
        (headers, body)
    } else {
        if let (Some(previous), Some(until)) = (
            &subscription.previous_secret,
            subscription.previous_secret_until,
        ) && until > now
        {
            secrets.extend(SigningSecret::parse(previous));
        }
        let body = standard_body(message);
        let headers =
            signing::standard_headers(&message.id, now / 1000, &body, &secrets).unwrap_or_default();
        (headers, body)
    };
    for (name, value) in &subscription.headers.0 {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            headers.insert(name, value);
        }
    }
    (headers, Bytes::from(body))
}

/// The body of a Standard Webhooks delivery of `message`: the same bytes on every attempt
/// (only the headers' timestamp and signature change), so the attempt log rebuilds it from the
/// message rather than storing it again.
pub fn standard_body(message: &Message) -> Vec<u8> {
    let payload: Value = serde_json::from_str(&message.payload).unwrap_or(Value::Null);
    json!({
        "type": message.event_type,
        "timestamp": crate::storage::rfc3339(message.created_at),
        "data": payload,
    })
    .to_string()
    .into_bytes()
}

/// The request headers as JSON pairs for the attempt log, with the ones the HTTP client adds
/// (`host`, `content-length`), and the subscriber's credentials replaced. The signature stays:
/// it proves nothing about the secret, and it is what a subscriber debugging its check needs.
fn as_sent(
    url: &str,
    user_agent: &str,
    headers: &HeaderMap,
    body_len: usize,
) -> JsonText<HeaderPairs> {
    let JsonText(shown) = columns::header_pairs_shown(headers, |name, value| {
        if credentials::is_credential(name.as_str()) && !signing::is_signature(name) {
            credentials::REDACTED.to_owned()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        }
    });
    let host = reqwest::Url::parse(url).ok().and_then(|url| {
        let host = url.host_str()?.to_owned();
        Some(match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    });
    let added = [
        host.map(|host| ("host".to_owned(), host)),
        Some(("user-agent".to_owned(), user_agent.to_owned())),
        Some(("accept".to_owned(), "*/*".to_owned())),
        Some(("content-length".to_owned(), body_len.to_string())),
    ];
    JsonText(added.into_iter().flatten().chain(shown).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_shows_the_request_as_sent_with_credentials_redacted() {
        let mut headers = HeaderMap::new();
        headers.insert("webhook-signature", HeaderValue::from_static("v1,abc"));
        headers.insert("ms-signature", HeaderValue::from_static("sha256=abc"));
        headers.insert("authorization", HeaderValue::from_static("Bearer t"));
        headers.insert("x-api-key", HeaderValue::from_static("k"));
        headers.insert("webhook-id", HeaderValue::from_static("msg_1"));
        let JsonText(logged) = as_sent(
            "https://user:pw@example.com:8443/in?token=x",
            "hookhub/1",
            &headers,
            42,
        );
        let value = |name: &str| {
            logged
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(value("webhook-signature"), Some("v1,abc"));
        assert_eq!(value("ms-signature"), Some("sha256=abc"));
        assert_eq!(value("authorization"), Some(credentials::REDACTED));
        assert_eq!(value("x-api-key"), Some(credentials::REDACTED));
        assert_eq!(value("webhook-id"), Some("msg_1"));
        assert_eq!(value("host"), Some("example.com:8443"));
        assert_eq!(value("user-agent"), Some("hookhub/1"));
        assert_eq!(value("content-length"), Some("42"));
    }
}

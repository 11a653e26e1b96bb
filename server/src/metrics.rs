//! What hookhub counts, for Prometheus: `GET /metrics` in the OpenMetrics text format.
//!
//! `prometheus-client` rather than the `metrics` facade: its registry is a value the hub owns,
//! not a process-wide recorder, so each hub (and each test's hub, many in one process) counts
//! on its own, and every figure is typed where it is recorded.
//!
//! Labels are bounded: a source or subscription id only once it exists (a request for an
//! unknown source counts under `source=""`), providers, kinds and outcomes from fixed lists;
//! never a URL, an event type or anything else a sender chooses.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use subtle::ConstantTimeEq;

use crate::storage::{Db, deliveries, now_millis};

/// The bearer token a scraper sends for `/metrics`. Shown as `[redacted]`, compared in
/// constant time.
#[derive(Clone)]
pub struct ScrapeToken(Arc<str>);

impl ScrapeToken {
    pub fn new(token: &str) -> Self {
        Self(token.into())
    }

    pub fn matches(&self, offered: &str) -> bool {
        self.0.as_bytes().ct_eq(offered.as_bytes()).into()
    }
}

impl std::fmt::Debug for ScrapeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReceivedLabels {
    source: String,
    provider: &'static str,
    /// stored, duplicate, refused, too_large, unknown_source, disabled, unavailable, failed.
    outcome: &'static str,
    /// Why it was refused (the kind of reason, not its text); empty otherwise.
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandlerLabels {
    kind: String,
    /// succeeded, retrying, failed.
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    subscription: String,
    /// succeeded, failed (this attempt; a later one may still succeed).
    outcome: &'static str,
    /// 2xx … 5xx, or none when no answer came (refused, timed out, connection failed).
    status_class: &'static str,
}

/// The hub's figures. Cheap to clone: every figure is shared.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    received: Family<ReceivedLabels, Counter>,
    handler_runs: Family<HandlerLabels, Counter>,
    published: Counter,
    attempts: Family<AttemptLabels, Counter>,
    attempt_seconds: Histogram,
    delivered_seconds: Histogram,
    // Read when scraped.
    pending: Gauge,
    oldest_pending_seconds: Gauge<f64, AtomicU64>,
    writer_queue: Gauge,
    database_bytes: Gauge,
}

/// What one webhook request came to, as counted.
pub struct Receipt<'a> {
    /// Empty when no such source exists.
    pub source: &'a str,
    pub provider: &'static str,
    pub outcome: &'static str,
    pub reason: &'static str,
}

impl Metrics {
    /// A hub's figures; the writer's commit batch sizes come from `db`.
    pub fn new(db: &Db) -> Self {
        let mut registry = Registry::with_prefix("hookhub");
        let received = Family::<ReceivedLabels, Counter>::default();
        registry.register(
            "webhooks_received",
            "Webhook requests received, by source, provider and outcome (and why refused)",
            received.clone(),
        );
        let handler_runs = Family::<HandlerLabels, Counter>::default();
        registry.register(
            "handler_runs",
            "Handler runs finished, by handler kind and outcome",
            handler_runs.clone(),
        );
        let published = Counter::default();
        registry.register(
            "messages_published",
            "Messages published for sending",
            published.clone(),
        );
        let attempts = Family::<AttemptLabels, Counter>::default();
        registry.register(
            "delivery_attempts",
            "Delivery attempts made, by subscription, outcome and the answer's status class",
            attempts.clone(),
        );
        // 5 ms to about 80 s: a subscriber's answer, up to the longest timeout.
        let attempt_seconds = Histogram::new(exponential_buckets(0.005, 2.0, 15));
        registry.register_with_unit(
            "delivery_attempt_duration",
            "How long one delivery attempt took, connecting included",
            Unit::Seconds,
            attempt_seconds.clone(),
        );
        // 10 ms to about 2 days: from publishing to the attempt that succeeded, retries included.
        let delivered_seconds = Histogram::new(exponential_buckets(0.01, 3.0, 16));
        registry.register_with_unit(
            "delivery_latency",
            "From a message's publishing to its successful delivery, per delivery",
            Unit::Seconds,
            delivered_seconds.clone(),
        );
        let pending = Gauge::default();
        registry.register(
            "deliveries_pending",
            "Deliveries not yet made (due, waiting for a retry, or held by a paused subscription)",
            pending.clone(),
        );
        let oldest_pending_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "deliveries_oldest_pending_age",
            "Age of the oldest delivery not yet made; 0 when none is pending",
            Unit::Seconds,
            oldest_pending_seconds.clone(),
        );
        let writer_queue = Gauge::default();
        registry.register(
            "writer_queue_depth",
            "Writes waiting for the database writer's next group commit",
            writer_queue.clone(),
        );
        registry.register(
            "writer_batch_size",
            "Writes committed together in one group commit",
            db.writer_batch_sizes(),
        );
        let database_bytes = Gauge::default();
        registry.register_with_unit(
            "database_size",
            "The database's size: the SQLite file and its log, or the PostgreSQL database",
            Unit::Bytes,
            database_bytes.clone(),
        );
        Self(Arc::new(Inner {
            registry,
            received,
            handler_runs,
            published,
            attempts,
            attempt_seconds,
            delivered_seconds,
            pending,
            oldest_pending_seconds,
            writer_queue,
            database_bytes,
        }))
    }

    pub fn received(&self, receipt: Receipt<'_>) {
        let labels = ReceivedLabels {
            source: receipt.source.to_owned(),
            provider: receipt.provider,
            outcome: receipt.outcome,
            reason: receipt.reason,
        };
        self.0.received.get_or_create(&labels).inc();
    }

    pub fn handler_ran(&self, kind: &str, outcome: &'static str) {
        let labels = HandlerLabels {
            kind: kind.to_owned(),
            outcome,
        };
        self.0.handler_runs.get_or_create(&labels).inc();
    }

    pub fn published(&self, messages: u64) {
        self.0.published.inc_by(messages);
    }

    /// One attempt: its answer's status (none if it got none), how long it took, and when
    /// its message was published if it succeeded (milliseconds since the epoch).
    pub fn attempted(
        &self,
        subscription: &str,
        status: Option<u16>,
        succeeded: bool,
        seconds: f64,
        published_at: i64,
    ) {
        let labels = AttemptLabels {
            subscription: subscription.to_owned(),
            outcome: if succeeded { "succeeded" } else { "failed" },
            status_class: match status {
                Some(200..=299) => "2xx",
                Some(300..=399) => "3xx",
                Some(400..=499) => "4xx",
                Some(500..=599) => "5xx",
                Some(_) => "other",
                None => "none",
            },
        };
        self.0.attempts.get_or_create(&labels).inc();
        self.0.attempt_seconds.observe(seconds);
        if succeeded {
            let latency = (now_millis() - published_at).max(0) as f64 / 1000.0;
            self.0.delivered_seconds.observe(latency);
        }
    }

    /// The figures now, in the OpenMetrics text format: the counters as they stand and the
    /// backlog, queue and size read from `db`.
    pub async fn render(&self, db: &Db) -> String {
        let inner = &self.0;
        match deliveries::backlog(db, None).await {
            Ok((pending, oldest)) => {
                inner
                    .pending
                    .set(i64::try_from(pending).unwrap_or(i64::MAX));
                let age = oldest.map_or(0.0, |at| (now_millis() - at).max(0) as f64 / 1000.0);
                inner.oldest_pending_seconds.set(age);
            }
            Err(err) => tracing::warn!(error = %err, "reading the delivery backlog failed"),
        }
        inner
            .writer_queue
            .set(i64::try_from(db.writer_queue_depth()).unwrap_or(i64::MAX));
        let size = db.size_bytes().await;
        inner
            .database_bytes
            .set(i64::try_from(size).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &inner.registry);
        text
    }
}

//! Figures over time for the overview and the source and subscription pages: webhooks received
//! and refused, and delivery attempts succeeded and failed, counted per bucket of a window (the
//! last 24 hours by the hour, the last 7 days by six hours); the subscriptions that answer
//! slowest and fail most; the sources refusing requests, with their most common reason.
//!
//! Each is one grouped query over an indexed time column, so the cost follows the window's
//! rows, not the tables'. The bucket is computed in SQL from whole numbers this module makes,
//! never from input.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use super::Db;

/// A stretch of time cut into equal buckets, ending with the one now falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Milliseconds since the epoch at which the first bucket starts.
    pub start: i64,
    pub bucket_ms: i64,
    pub buckets: usize,
}

impl Window {
    pub fn ending(now: i64, bucket_ms: i64, buckets: usize) -> Self {
        let current = now - now.rem_euclid(bucket_ms);
        Self {
            start: current - bucket_ms * (buckets as i64 - 1),
            bucket_ms,
            buckets,
        }
    }

    /// The last 24 hours, by the hour.
    pub fn day(now: i64) -> Self {
        Self::ending(now, 3_600_000, 24)
    }

    /// The last 7 days, by six hours.
    pub fn week(now: i64) -> Self {
        Self::ending(now, 6 * 3_600_000, 28)
    }

    /// `(column - start) / bucket_ms` as SQL: whole numbers of this module's only.
    fn bucket_of(&self, column: &str) -> Expr {
        Expr::cust(format!("({column} - {}) / {}", self.start, self.bucket_ms))
    }

    /// Counts per bucket from rows of `(bucket, count…)`; rows outside the window are dropped.
    fn spread<const N: usize>(&self, rows: Vec<Bucket<N>>) -> [Vec<u64>; N] {
        let mut series: [Vec<u64>; N] = std::array::from_fn(|_| vec![0; self.buckets]);
        for row in rows {
            let Ok(index) = usize::try_from(row.bucket) else {
                continue;
            };
            if index < self.buckets {
                for (values, count) in series.iter_mut().zip(row.counts) {
                    values[index] = u64::try_from(count).unwrap_or(0);
                }
            }
        }
        series
    }
}

struct Bucket<const N: usize> {
    bucket: i64,
    counts: [i64; N],
}

/// Runs `statement`, whose columns are `bucket` and then `N` counts named `c0`, `c1`, ….
async fn buckets<const N: usize>(
    db: &Db,
    statement: SelectStatement,
) -> Result<Vec<Bucket<N>>, DbErr> {
    let rows = db.read().query_all(&statement).await?;
    rows.iter()
        .map(|row| {
            let bucket = row.try_get::<i64>("", "bucket")?;
            let mut counts = [0; N];
            for (i, count) in counts.iter_mut().enumerate() {
                *count = row
                    .try_get::<Option<i64>>("", &format!("c{i}"))?
                    .unwrap_or(0);
            }
            Ok(Bucket { bucket, counts })
        })
        .collect()
}

/// Webhooks stored per bucket, of one source or all.
pub async fn received(db: &Db, window: Window, source: Option<&str>) -> Result<Vec<u64>, DbErr> {
    per_bucket(db, window, "events", source).await
}

/// Requests refused per bucket, of one source or all.
pub async fn refused(db: &Db, window: Window, source: Option<&str>) -> Result<Vec<u64>, DbErr> {
    per_bucket(db, window, "refused_requests", source).await
}

/// Rows of `table` per bucket of their `received_at`, of one source or all.
async fn per_bucket(
    db: &Db,
    window: Window,
    table: &'static str,
    source: Option<&str>,
) -> Result<Vec<u64>, DbErr> {
    let mut query = Query::select();
    query
        .expr_as(window.bucket_of("received_at"), Alias::new("bucket"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("c0"))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("received_at")).gte(window.start))
        .group_by_col(Alias::new("bucket"));
    if let Some(source) = source {
        query.and_where(Expr::col(Alias::new("source_id")).eq(source));
    }
    let [counts] = window.spread(buckets::<1>(db, query).await?);
    Ok(counts)
}

/// A 2xx answer: the attempt succeeded.
const SUCCEEDED: &str = "CASE WHEN a.response_status BETWEEN 200 AND 299 THEN 1 ELSE 0 END";
const FAILED: &str = "CASE WHEN a.response_status BETWEEN 200 AND 299 THEN 0 ELSE 1 END";

/// Delivery attempts per bucket that succeeded and that failed, to one subscription or all.
pub async fn attempts(
    db: &Db,
    window: Window,
    subscription: Option<&str>,
) -> Result<[Vec<u64>; 2], DbErr> {
    let mut query = Query::select();
    query
        .expr_as(window.bucket_of("a.started_at"), Alias::new("bucket"))
        .expr_as(Expr::cust(format!("SUM({SUCCEEDED})")), Alias::new("c0"))
        .expr_as(Expr::cust(format!("SUM({FAILED})")), Alias::new("c1"))
        .from_as(Alias::new("attempts"), Alias::new("a"))
        .and_where(Expr::col((Alias::new("a"), Alias::new("started_at"))).gte(window.start))
        .group_by_col(Alias::new("bucket"));
    if let Some(subscription) = subscription {
        query
            .join_as(
                JoinType::InnerJoin,
                Alias::new("deliveries"),
                Alias::new("d"),
                Expr::cust("d.id = a.delivery_id"),
            )
            .and_where(
                Expr::col((Alias::new("d"), Alias::new("subscription_id"))).eq(subscription),
            );
    }
    Ok(window.spread(buckets::<2>(db, query).await?))
}

/// One subscription's attempts in a window.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct SubscriptionFigures {
    pub subscription_id: String,
    pub attempts: i64,
    pub failed: i64,
    pub total_ms: i64,
}

/// Every subscription that had attempts since `since`, with their counts and time taken.
pub async fn subscriptions_since(db: &Db, since: i64) -> Result<Vec<SubscriptionFigures>, DbErr> {
    let statement = Query::select()
        .expr_as(
            Expr::cust("d.subscription_id"),
            Alias::new("subscription_id"),
        )
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("attempts"))
        .expr_as(Expr::cust(format!("SUM({FAILED})")), Alias::new("failed"))
        .expr_as(
            Expr::cust("CAST(SUM(a.duration_ms) AS BIGINT)"),
            Alias::new("total_ms"),
        )
        .from_as(Alias::new("attempts"), Alias::new("a"))
        .join_as(
            JoinType::InnerJoin,
            Alias::new("deliveries"),
            Alias::new("d"),
            Expr::cust("d.id = a.delivery_id"),
        )
        .and_where(Expr::col((Alias::new("a"), Alias::new("started_at"))).gte(since))
        .group_by_col((Alias::new("d"), Alias::new("subscription_id")))
        .to_owned();
    let backend = db.read().get_database_backend();
    SubscriptionFigures::find_by_statement(backend.build(&statement))
        .all(db.read())
        .await
}

/// One source's refusals in a window, and the reason given most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRefusals {
    pub source_id: String,
    pub refused: u64,
    /// The kind of reason (`signature_mismatch`, …), or the reason's text for refusals
    /// recorded before kinds were.
    pub top_reason: String,
    pub top_count: u64,
}

#[derive(FromQueryResult)]
struct RefusalRow {
    source_id: String,
    reason: String,
    n: i64,
}

/// Every source that refused requests since `since`, most refusals first.
pub async fn refusing_sources(db: &Db, since: i64) -> Result<Vec<SourceRefusals>, DbErr> {
    let statement = Query::select()
        .expr_as(Expr::cust("source_id"), Alias::new("source_id"))
        .expr_as(Expr::cust("COALESCE(kind, reason)"), Alias::new("reason"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from(Alias::new("refused_requests"))
        .and_where(Expr::col(Alias::new("received_at")).gte(since))
        .add_group_by([
            Expr::cust("source_id"),
            Expr::cust("COALESCE(kind, reason)"),
        ])
        .to_owned();
    let backend = db.read().get_database_backend();
    let rows = RefusalRow::find_by_statement(backend.build(&statement))
        .all(db.read())
        .await?;
    let mut by_source: HashMap<String, SourceRefusals> = HashMap::new();
    for row in rows {
        let n = u64::try_from(row.n).unwrap_or(0);
        let entry = by_source
            .entry(row.source_id.clone())
            .or_insert_with(|| SourceRefusals {
                source_id: row.source_id,
                refused: 0,
                top_reason: String::new(),
                top_count: 0,
            });
        entry.refused += n;
        if n > entry.top_count || (n == entry.top_count && row.reason < entry.top_reason) {
            entry.top_count = n;
            entry.top_reason = row.reason;
        }
    }
    let mut sources: Vec<_> = by_source.into_values().collect();
    sources.sort_by(|a, b| {
        b.refused
            .cmp(&a.refused)
            .then(a.source_id.cmp(&b.source_id))
    });
    Ok(sources)
}

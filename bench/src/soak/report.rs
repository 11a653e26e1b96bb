//! What the soak prints: a row every interval, the failures behind it, and the summary with
//! how memory and the database grew.

use std::time::Duration;

use super::{MAX_IN_FLIGHT, MIB, PAGES, Page, Totals, Window};
use crate::stats;
use crate::{SoakArgs, process};

/// The columns of the rows printed every interval, with their widths.
pub(super) const COLUMNS: [(&str, usize); 15] = [
    ("elapsed", 8),
    ("ingest/s", 9),
    ("ingest p99", 10),
    ("publish/s", 9),
    ("publish p99", 11),
    ("delivered/s", 11),
    ("pages/s", 7),
    ("page p99", 9),
    ("RSS", 10),
    ("anon", 10),
    ("heap", 10),
    ("DB", 10),
    ("pending", 7),
    ("unindexed", 9),
    ("failed", 6),
];

/// One of a row's figures: a memory size in bytes or a p99 in microseconds.
pub(super) type Figure = fn(&Row) -> Option<u64>;

/// One printed interval, kept for the summary.
pub(super) struct Row {
    pub(super) elapsed: Duration,
    pub(super) rss: Option<u64>,
    pub(super) anon: Option<u64>,
    pub(super) heap: Option<u64>,
    pub(super) ingest_p99: Option<u64>,
    pub(super) publish_p99: Option<u64>,
    pub(super) page_p99: [Option<u64>; PAGES.len()],
}

/// One row of the table: each cell right-aligned in its column, one space between.
pub(super) fn print_row(cells: [String; COLUMNS.len()]) {
    let aligned: Vec<String> = cells
        .iter()
        .zip(COLUMNS)
        .map(|(cell, (_, width))| format!("{cell:>width$}"))
        .collect();
    println!("{}", aligned.join(" "));
}

pub(super) fn print_failures(window: &Window) {
    let labels = ["ingest".to_owned(), "publish".to_owned()]
        .into_iter()
        .chain(PAGES.map(Page::label));
    let tallies = [&window.ingest, &window.publish]
        .into_iter()
        .chain(&window.pages);
    for (label, tally) in labels.zip(tallies) {
        if tally.shed > 0 {
            println!(
                "         {label}: {} not sent, {MAX_IN_FLIGHT} already in flight",
                tally.shed
            );
        }
        if let Some(failure) = &tally.first_failure {
            println!(
                "         {label}: {} failed, first: {failure}",
                tally.failed
            );
        }
    }
}

pub(super) struct Summary<'a> {
    pub(super) args: &'a SoakArgs,
    pub(super) rows: &'a [Row],
    pub(super) totals: &'a Totals,
    pub(super) arrived: u64,
    pub(super) expected: u64,
    pub(super) drained: Option<Duration>,
    pub(super) pending_at_end: Option<u64>,
    pub(super) db_at_start: u64,
    pub(super) db_at_end: u64,
    pub(super) rss_at_start: Option<u64>,
    pub(super) peak: Option<u64>,
    /// Whose memory `rss_at_start`, `peak` and the rows' figures are.
    pub(super) measured: &'a str,
    pub(super) load_at_start: Option<String>,
}

pub(super) fn summary(s: Summary) {
    let (Some(first), Some(last)) = (s.rows.first(), s.rows.last()) else {
        return;
    };
    let seconds = last.elapsed.as_secs_f64();
    let optional = |us: Option<u64>| us.map_or("-".into(), stats::micros);
    let worst = |p99: Figure| optional(s.rows.iter().filter_map(p99).max());
    println!();
    println!(
        "summary over {seconds:.0} s (load average at the start {}, at the end {}):",
        s.load_at_start.as_deref().unwrap_or("unknown"),
        process::load_average().as_deref().unwrap_or("unknown"),
    );
    let [ok, failed, shed] = s.totals.ingest;
    println!(
        "  received   {} events accepted ({:.1}/s of {}/s asked), {failed} failed, {shed} shed; \
         p99 {} in the first interval, {} in the last, {} at worst",
        stats::count(ok),
        ok as f64 / seconds,
        s.args.ingest_rate,
        optional(first.ingest_p99),
        optional(last.ingest_p99),
        worst(|r| r.ingest_p99),
    );
    let [published, failed, shed] = s.totals.publish;
    println!(
        "  published  {} messages answered 202 ({:.1}/s of {}/s asked), {failed} failed, {shed} \
         shed; p99 {} first, {} last, {} at worst",
        stats::count(published),
        published as f64 / seconds,
        s.args.publish_rate,
        optional(first.publish_p99),
        optional(last.publish_p99),
        worst(|r| r.publish_p99),
    );
    println!(
        "  delivered  {} requests arrived at the subscribers for {} (message, subscriber) pairs \
         ({}); {}",
        stats::count(s.arrived),
        stats::count(s.expected),
        match s.arrived.cmp(&s.expected) {
            std::cmp::Ordering::Less => format!("{} short", stats::count(s.expected - s.arrived)),
            std::cmp::Ordering::Equal => "all, once each".into(),
            std::cmp::Ordering::Greater =>
                format!("{} more: repeats", stats::count(s.arrived - s.expected)),
        },
        match s.drained {
            Some(took) => format!(
                "nothing pending {:.1} s after the load stopped",
                took.as_secs_f64()
            ),
            None => format!(
                "STILL {} PENDING {} s after the load stopped",
                s.pending_at_end.map_or("?".into(), stats::count),
                s.args.drain
            ),
        },
    );
    let [ok, failed, shed] = s.totals.pages;
    let pages: Vec<String> = PAGES
        .iter()
        .enumerate()
        .map(|(i, page)| {
            format!(
                "{} {} → {}",
                page.label(),
                optional(first.page_p99[i]),
                optional(last.page_p99[i])
            )
        })
        .collect();
    println!(
        "  pages      {} served, {failed} failed, {shed} shed; p99 first → last interval: {}",
        stats::count(ok),
        pages.join(", ")
    );
    if let (Some(rss_first), Some(rss_last)) = (first.rss, last.rss) {
        let growth = rss_last as f64 - rss_first as f64;
        println!(
            "  memory     VmRSS {} before the load, {} after the first interval, {} after the \
             last: {:+.1} MiB ({:+.1} %){}; peak {} ({})",
            s.rss_at_start.map_or("-".into(), stats::bytes),
            stats::bytes(rss_first),
            stats::bytes(rss_last),
            growth / MIB,
            100.0 * growth / rss_first as f64,
            trends(s.rows, |r| r.rss),
            s.peak.map_or("-".into(), stats::bytes),
            s.measured,
        );
    }
    let parts: [(&str, Figure); 2] = [("anon", |r| r.anon), ("heap", |r| r.heap)];
    for (label, bytes) in parts {
        if let (Some(at_first), Some(at_last)) = (bytes(first), bytes(last)) {
            println!(
                "{label:>17} {} after the first interval, {} after the last{}",
                stats::bytes(at_first),
                stats::bytes(at_last),
                trends(s.rows, bytes),
            );
        }
    }
    let events = s.totals.ingest[0];
    let growth = s.db_at_end.saturating_sub(s.db_at_start);
    println!(
        "  database   {} before the load, {} at the end (file + WAL): +{} for {} events and {} \
         messages, {} per 1 000 events (their messages, deliveries and attempts included)",
        stats::bytes(s.db_at_start),
        stats::bytes(s.db_at_end),
        stats::bytes(growth),
        stats::count(events),
        stats::count(published),
        stats::bytes(growth * 1000 / events.max(1)),
    );
}

/// How `bytes` moved, in MiB a minute: after the first interval (warm-up: caches, pools and
/// arenas filling), and over the second half of the run, where flat memory shows as a slope
/// near zero.
pub(super) fn trends(rows: &[Row], bytes: Figure) -> String {
    let after_warm_up = trend(rows.get(1..).unwrap_or_default(), bytes);
    let second_half = trend(&rows[rows.len() / 2..], bytes);
    match (after_warm_up, second_half) {
        (Some(all), Some(half)) => format!(
            ", trend after the first interval {all:+.2} MiB/min, over the second half \
             {half:+.2} MiB/min"
        ),
        (Some(all), None) => format!(", trend after the first interval {all:+.2} MiB/min"),
        _ => String::new(),
    }
}

/// The least-squares slope of `bytes` over time in MiB a minute; `None` with fewer than three
/// rows.
pub(super) fn trend(rows: &[Row], bytes: Figure) -> Option<f64> {
    let points: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| Some((r.elapsed.as_secs_f64() / 60.0, bytes(r)? as f64 / MIB)))
        .collect();
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let covariance: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let variance: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    (variance > 0.0).then(|| covariance / variance)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_trends_leave_out_the_warm_up_and_see_a_late_plateau() {
        // A minute a row: 40 MiB then +10 MiB warming up, +1 MiB a minute to minute 5, flat
        // from there.
        let mib = [40.0, 50.0, 51.0, 52.0, 53.0, 54.0, 54.0, 54.0, 54.0, 54.0];
        let rows: Vec<Row> = mib
            .iter()
            .enumerate()
            .map(|(minute, mib)| Row {
                elapsed: Duration::from_secs(60 * (minute as u64 + 1)),
                rss: Some((mib * MIB) as u64),
                anon: None,
                heap: None,
                ingest_p99: None,
                publish_p99: None,
                page_p99: [None; PAGES.len()],
            })
            .collect();
        let slope = trend(&rows[1..6], |r| r.rss).unwrap();
        assert!((slope - 1.0).abs() < 1e-9, "{slope}");
        assert_eq!(
            trends(&rows, |r| r.rss),
            ", trend after the first interval +0.50 MiB/min, over the second half +0.00 MiB/min"
        );
        assert_eq!(trends(&rows, |r| r.heap), "");
    }
}

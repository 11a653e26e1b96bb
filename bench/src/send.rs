//! `send`: the sending side. Messages published through `POST /api/v1/messages` fan out to
//! local subscribers that answer at once; what is measured is how fast the delivery worker
//! empties the queue and how long a message takes from being published to arriving. Two
//! scenarios in one run, each against a fresh hub and database: A with healthy subscribers
//! only, B with the same healthy subscribers plus one that never answers and one that fails
//! every request, so the cost of bad neighbours is the ratio of the healthy throughputs.
//!
//! Publishers and subscribers run on a runtime and thread of their own, so their work is not
//! queued behind the hub's tasks (on a 2-core machine they still share the cores).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::runtime::Handle;
use tokio::task::JoinSet;

use crate::hub::Hub;
use crate::process::{self, ThreadTimes};
use crate::stats::{self, percentile};
use crate::subscribers::{Record, Subscribers};
use crate::{Bad, SendArgs, temp_dir};

pub const EVENT_TYPE: &str = "order.created";
/// The delivery rate aimed at, healthy subscribers only.
const TARGET_PER_SECOND: f64 = 10_000.0;
/// The least share of it healthy subscribers keep next to bad neighbours.
const TARGET_RATIO: f64 = 0.9;
/// Seconds of the per-second series printed at most.
const SERIES_SHOWN: usize = 12;

#[derive(Clone, Copy, PartialEq)]
enum Neighbours {
    None,
    Bad,
}

/// One scenario as it happened.
struct Run {
    neighbours: Neighbours,
    publishing: Publishing,
    /// When the first message was sent.
    began: Instant,
    /// When the last expected pair arrived, or the time limit struck.
    ended: Instant,
    timed_out: bool,
    record: Record,
    cpu: Vec<(String, f64)>,
    memory: Option<process::Memory>,
}

/// Healthy throughput of a run, in deliveries per second.
struct Rates {
    overall: f64,
    /// Median of the whole seconds from the first publish to the last arrival.
    median: Option<f64>,
}

pub async fn run(args: SendArgs) -> anyhow::Result<()> {
    ensure!(args.subscribers > 0, "--subscribers must be at least 1");
    ensure!(args.messages > 0, "--messages must be at least 1");
    ensure!(args.publishers > 0, "--publishers must be at least 1");
    ensure!(args.time_limit >= 2.0, "--time-limit must be at least 2 s");
    let started = Instant::now();
    let limit = Duration::from_secs_f64(args.time_limit);

    let defaults = Hub::config(std::path::Path::new("unused.db"))?;
    println!(
        "hookhub-bench send: {} messages × {} healthy subscribers from {} publishers; \
         delivery_concurrency {}, subscription_concurrency {}, outbound timeout {} s (short, \
         for the hanging subscriber), default retry schedule; a fresh hub per scenario, time \
         limit {} s",
        stats::count(args.messages as u64),
        args.subscribers,
        args.publishers,
        args.delivery_concurrency
            .unwrap_or(defaults.delivery_concurrency),
        args.subscription_concurrency
            .unwrap_or(defaults.subscription_concurrency),
        args.timeout,
        args.time_limit,
    );

    let args = &args;
    let runs = crate::outside(|outside| async move {
        let mut runs = Vec::new();
        for (neighbours, deadline) in [
            (Neighbours::None, started + limit / 2),
            (Neighbours::Bad, started + limit),
        ] {
            let run = scenario(args, neighbours, &outside, deadline).await?;
            report(args, &run);
            runs.push(run);
        }
        Ok(runs)
    })
    .await?;

    let a = rates(&runs[0]);
    let b = rates(&runs[1]);
    println!();
    println!(
        "A deliveries/s: {:.0} from first publish to last arrival (target ≥ {:.0}: {})",
        a.overall,
        TARGET_PER_SECOND,
        if a.overall >= TARGET_PER_SECOND {
            "met"
        } else {
            "NOT MET"
        }
    );
    let ratio = b.overall / a.overall.max(f64::MIN_POSITIVE);
    let median_ratio = match (a.median, b.median) {
        (Some(a), Some(b)) if a > 0.0 => format!(", {:.0} % by medians of 1 s", 100.0 * b / a),
        _ => String::new(),
    };
    println!(
        "B / A, healthy deliveries/s: {:.0} % overall{median_ratio} (target ≥ {:.0} %: {})",
        100.0 * ratio,
        100.0 * TARGET_RATIO,
        if ratio >= TARGET_RATIO {
            "met"
        } else {
            "NOT MET"
        }
    );
    if let Some(memory) = process::memory(None) {
        println!(
            "memory at the end: VmRSS {}, peak {} (the whole bench process: both hubs' \
             leftovers, the publishers and the subscribers)",
            stats::bytes(memory.rss),
            stats::bytes(memory.peak)
        );
    }
    Ok(())
}

async fn scenario(
    args: &SendArgs,
    neighbours: Neighbours,
    outside: &Handle,
    deadline: Instant,
) -> anyhow::Result<Run> {
    let dir = temp_dir(args.dir.as_ref())?;
    let mut config = Hub::config(&dir.path().join("hub.db"))?;
    config.outbound_allow = "127.0.0.0/8".parse()?;
    config.outbound_timeout = Duration::from_secs(args.timeout);
    if let Some(n) = args.delivery_concurrency {
        config.delivery_concurrency = n;
    }
    if let Some(n) = args.subscription_concurrency {
        config.subscription_concurrency = n;
    }
    let key = server::commands::create_key(config.clone(), "bench".into()).await?;
    let hub = match &args.hub_binary {
        Some(binary) => {
            let database = config.database.to_string();
            let timeout = args.timeout.to_string();
            let all = config.delivery_concurrency.to_string();
            let each = config.subscription_concurrency.to_string();
            let settings = [
                ("HOOKHUB_OUTBOUND_ALLOW", "127.0.0.0/8"),
                ("HOOKHUB_OUTBOUND_TIMEOUT_SECS", timeout.as_str()),
                ("HOOKHUB_DELIVERY_CONCURRENCY", all.as_str()),
                ("HOOKHUB_SUBSCRIPTION_CONCURRENCY", each.as_str()),
            ];
            let log = dir.path().join("hub.log");
            Hub::spawn(binary, dir.path(), &database, &settings, &log).await?
        }
        None => Hub::start(config).await?,
    };
    let hub_ticks = || hub.pid().and_then(process::process_ticks);
    let subscribers = Subscribers::start(outside).await?;

    let api = Client::new();
    let call =
        |path: &str, body: Value| api.post(hub.url(path)).bearer_auth(&key).json(&body).send();
    let created = call("/api/v1/event-types", json!({ "name": EVENT_TYPE })).await?;
    ensure!(
        created.status() == StatusCode::CREATED,
        "creating the event type answered {}",
        created.status()
    );
    let mut paths: Vec<String> = (0..args.subscribers).map(|n| format!("/ok/{n}")).collect();
    if neighbours == Neighbours::Bad {
        paths.extend(args.bad.iter().map(|bad| bad_path(*bad).to_owned()));
    }
    for path in &paths {
        let body = json!({ "url": subscribers.url(path), "event_types": [EVENT_TYPE] });
        let created = call("/api/v1/subscriptions", body).await?;
        let status = created.status();
        ensure!(
            status == StatusCode::CREATED,
            "subscribing {path} answered {status}: {}",
            created.text().await.unwrap_or_default()
        );
    }

    let cpu_before = ThreadTimes::now();
    let hub_before = hub_ticks();
    let began = Instant::now();
    let publishing = outside
        .spawn(publish(
            hub.url("/api/v1/messages"),
            key.clone(),
            message,
            args.messages,
            args.publishers,
            deadline,
        ))
        .await
        .context("the publishers")?;
    let expected = publishing.sent.len() * args.subscribers;
    let timed_out = !subscribers.wait_for(expected, deadline).await;
    let ended = Instant::now();
    let mut cpu = ThreadTimes::now().since(&cpu_before);
    if let (Some(before), Some(after)) = (hub_before, hub_ticks()) {
        cpu.push(("hub process".into(), process::seconds(after - before)));
    }
    let memory = process::memory(hub.pid());

    // In-flight attempts to the hanging subscriber are let go by its end, not awaited.
    tokio::time::timeout(Duration::from_secs(10), hub.stop())
        .await
        .context("the hub did not stop within 10 s")??;
    let record = subscribers.finish();
    Ok(Run {
        neighbours,
        publishing,
        began,
        ended,
        timed_out,
        record,
        cpu,
        memory,
    })
}

pub struct Sent {
    pub id: String,
    pub sent: Instant,
    pub answered: Instant,
}

#[derive(Default)]
pub struct Publishing {
    /// Messages answered 202, with when each was sent and answered.
    pub sent: Vec<Sent>,
    pub failures: u64,
    pub first_failure: Option<String>,
}

/// Publishes `messages`, the `n`th with the body `message(n)`, from `publishers` concurrent
/// clients, each one request at a time, until done or `deadline`.
pub async fn publish(
    url: String,
    key: String,
    message: fn(usize) -> Value,
    messages: usize,
    publishers: usize,
    deadline: Instant,
) -> Publishing {
    let client = Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..publishers {
        let (client, url, key, next) = (client.clone(), url.clone(), key.clone(), next.clone());
        set.spawn(async move {
            let mut out = Publishing::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= messages || Instant::now() >= deadline {
                    return out;
                }
                match publish_one(&client, &url, &key, &message(n)).await {
                    Ok(sent) => out.sent.push(sent),
                    Err(failure) => {
                        out.failures += 1;
                        out.first_failure.get_or_insert(failure);
                    }
                }
            }
        });
    }
    let mut all = Publishing::default();
    while let Some(done) = set.join_next().await {
        let Ok(part) = done else {
            all.failures += 1;
            all.first_failure
                .get_or_insert("a publisher panicked".into());
            continue;
        };
        all.sent.extend(part.sent);
        all.failures += part.failures;
        if all.first_failure.is_none() {
            all.first_failure = part.first_failure;
        }
    }
    all
}

/// Publishes one message: when it was sent and answered, or why it was not accepted.
pub async fn publish_one(
    client: &Client,
    url: &str,
    key: &str,
    body: &Value,
) -> Result<Sent, String> {
    let sent = Instant::now();
    let response = client
        .post(url)
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let answer: Value = response.json().await.map_err(|e| e.to_string())?;
    let answered = Instant::now();
    match (status, answer["id"].as_str()) {
        (StatusCode::ACCEPTED, Some(id)) => Ok(Sent {
            id: id.to_owned(),
            sent,
            answered,
        }),
        (StatusCode::ACCEPTED, None) => Err(format!("202 without an id: {answer}")),
        _ => Err(format!("answered {status}: {answer}")),
    }
}

/// The body of `POST /api/v1/messages` publishing order `n`.
pub fn message(n: usize) -> Value {
    json!({ "event_type": EVENT_TYPE, "payload": order(n) })
}

/// A small order, about 300 bytes of JSON.
pub fn order(n: usize) -> Value {
    json!({
        "id": format!("ord_{n:08}"),
        "customer": { "id": format!("cus_{:06}", n % 9973), "email": format!("buyer{}@example.com", n % 9973) },
        "items": [
            { "sku": "HK-TEE-M", "quantity": 1 + n % 3, "unit_amount": 2500 },
            { "sku": "HK-MUG", "quantity": 1, "unit_amount": 1200 },
        ],
        "currency": "eur",
        "total": 3700 + (n % 3) * 2500,
        "status": "created",
    })
}

fn bad_path(bad: Bad) -> &'static str {
    match bad {
        Bad::Hang => "/hang",
        Bad::Fail => "/fail",
    }
}

fn rates(run: &Run) -> Rates {
    let arrivals = &run.record.arrivals;
    let Some(last) = arrivals.iter().map(|a| a.at).max() else {
        return Rates {
            overall: 0.0,
            median: None,
        };
    };
    let span = last.saturating_duration_since(run.began);
    let overall = arrivals.len() as f64 / span.as_secs_f64().max(1e-3);
    let whole = per_second(run);
    let median = (!whole.is_empty()).then(|| {
        let values: Vec<f64> = whole.iter().map(|n| *n as f64).collect();
        stats::median_f64(&values)
    });
    Rates { overall, median }
}

/// Arrivals in each whole second from the first publish, the last partial second left out.
fn per_second(run: &Run) -> Vec<u64> {
    let arrivals = &run.record.arrivals;
    let Some(last) = arrivals.iter().map(|a| a.at).max() else {
        return Vec::new();
    };
    let whole = last.saturating_duration_since(run.began).as_secs() as usize;
    let mut seconds = vec![0; whole];
    for arrival in arrivals {
        let second = arrival.at.saturating_duration_since(run.began).as_secs() as usize;
        if let Some(slot) = seconds.get_mut(second) {
            *slot += 1;
        }
    }
    seconds
}

fn report(args: &SendArgs, run: &Run) {
    let healthy = args.subscribers;
    println!();
    match run.neighbours {
        Neighbours::None => println!("A: {healthy} healthy subscribers"),
        Neighbours::Bad => {
            let bad: Vec<String> = args
                .bad
                .iter()
                .map(|bad| match bad {
                    Bad::Hang => format!(
                        "one that hangs (until the hub's {} s timeout)",
                        args.timeout
                    ),
                    Bad::Fail => "one that answers 500".to_owned(),
                })
                .collect();
            println!("B: {healthy} healthy subscribers + {}", bad.join(" + "));
        }
    }

    let publishing = &run.publishing;
    let mut answer_us: Vec<u64> = publishing
        .sent
        .iter()
        .map(|s| s.answered.duration_since(s.sent).as_micros() as u64)
        .collect();
    let last_answer = publishing.sent.iter().map(|s| s.answered).max();
    let publish_span = last_answer.map_or(Duration::ZERO, |t| t.duration_since(run.began));
    println!(
        "  published      {} in {:.2} s: {:.0}/s; 202 answer p50 {}, p99 {}; {} failed",
        stats::count(publishing.sent.len() as u64),
        publish_span.as_secs_f64(),
        publishing.sent.len() as f64 / publish_span.as_secs_f64().max(1e-3),
        stats::micros(percentile(&mut answer_us, 50.0)),
        stats::micros(percentile(&mut answer_us, 99.0)),
        publishing.failures,
    );
    if let Some(failure) = &publishing.first_failure {
        println!("    first failure: {failure}");
    }

    let sent_at: HashMap<&str, Instant> = publishing
        .sent
        .iter()
        .map(|s| (s.id.as_str(), s.sent))
        .collect();
    let mut latency_us = Vec::with_capacity(run.record.arrivals.len());
    let mut unknown = 0;
    for arrival in &run.record.arrivals {
        match sent_at.get(arrival.message_id.as_str()) {
            Some(sent) => {
                latency_us.push(arrival.at.saturating_duration_since(*sent).as_micros() as u64)
            }
            None => unknown += 1,
        }
    }
    let expected = publishing.sent.len() * healthy;
    let arrived = latency_us.len();
    let rates = rates(run);
    let span = run
        .record
        .arrivals
        .iter()
        .map(|a| a.at)
        .max()
        .map_or(Duration::ZERO, |t| t.duration_since(run.began));
    println!(
        "  delivered      {}/{} (message, healthy subscriber) pairs, {} duplicates, {} missing{}{}",
        stats::count(arrived as u64),
        stats::count(expected as u64),
        run.record.duplicates,
        expected.saturating_sub(arrived),
        if unknown > 0 {
            format!(", {unknown} of messages whose publishing failed")
        } else {
            String::new()
        },
        if run.timed_out {
            "  <-- STOPPED AT THE TIME LIMIT"
        } else {
            ""
        },
    );
    println!(
        "  deliveries/s   {:.0} from first publish to last arrival ({:.2} s); {} median of {} \
         whole seconds",
        rates.overall,
        span.as_secs_f64(),
        rates
            .median
            .map_or("no".to_owned(), |m| format!("{m:.0}/s")),
        per_second(run).len(),
    );
    let series = per_second(run);
    if !series.is_empty() {
        let shown: Vec<String> = series
            .iter()
            .take(SERIES_SHOWN)
            .map(|n| stats::count(*n))
            .collect();
        println!(
            "  per second     {}{}",
            shown.join(", "),
            if series.len() > SERIES_SHOWN {
                ", …"
            } else {
                ""
            }
        );
    }
    println!(
        "  publish → delivered  p50 {}, p99 {}, max {} (from sending the POST to the arrival)",
        stats::micros(percentile(&mut latency_us, 50.0)),
        stats::micros(percentile(&mut latency_us, 99.0)),
        stats::micros(percentile(&mut latency_us, 100.0)),
    );
    if arrived < expected {
        let mut per_subscriber = vec![0u64; healthy];
        for arrival in &run.record.arrivals {
            if let Some(n) = per_subscriber.get_mut(arrival.subscriber) {
                *n += 1;
            }
        }
        println!(
            "  per subscriber {per_subscriber:?} of {} each",
            publishing.sent.len()
        );
    }
    if run.neighbours == Neighbours::Bad {
        println!(
            "  bad neighbours /hang received {} requests, /fail {} (each answered 500)",
            stats::count(run.record.hang_requests),
            stats::count(run.record.fail_requests),
        );
    }
    println!("  cpu            {}", cpu_line(run));
    if let Some(memory) = &run.memory {
        println!(
            "  memory         VmRSS {}, peak {} ({})",
            stats::bytes(memory.rss),
            stats::bytes(memory.peak),
            if args.hub_binary.is_some() {
                "the hub's process"
            } else {
                "bench process: hub + publishers + subscribers"
            }
        );
    }
}

/// CPU seconds by thread kind over the run, against the wall time the cores offered.
fn cpu_line(run: &Run) -> String {
    let wall = run.ended.duration_since(run.began).as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut groups: BTreeMap<&str, (f64, usize, f64)> = BTreeMap::new();
    for (name, seconds) in &run.cpu {
        let kind = match name.as_str() {
            "tokio-rt-worker" => "hub runtime",
            "sqlx-sqlite-wor" => "SQLite connections",
            "bench-outside" => "publishers + subscribers",
            "hub process" => "hub process",
            _ => "other",
        };
        let group = groups.entry(kind).or_default();
        group.0 += seconds;
        group.1 += 1;
        group.2 = group.2.max(*seconds);
    }
    let total: f64 = groups.values().map(|g| g.0).sum();
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
    let parts: Vec<String> = groups
        .iter()
        .map(|(kind, (seconds, threads, busiest))| {
            if *threads > 1 {
                format!(
                    "{kind} {seconds:.2} s ({threads} threads, busiest {busiest:.2} s = {:.0} % \
                     of the wall time)",
                    100.0 * busiest / wall.max(1e-3)
                )
            } else {
                format!("{kind} {seconds:.2} s")
            }
        })
        .collect();
    format!(
        "{total:.2} s of {:.2} s available ({cores} cores × {wall:.2} s): {}",
        cores as f64 * wall,
        parts.join("; ")
    )
}

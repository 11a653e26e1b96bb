//! Several hubs on one database: ingest and delivery with 1, 2 and 3 `hookhub` processes on one
//! PostgreSQL database, and one on a SQLite file for comparison. On a 2-core machine absolute
//! throughput cannot grow with the hubs, so what it reports is the cost of a unit of work: the
//! hub processes' CPU time per accepted webhook and per delivery, the PostgreSQL server's, and
//! the database's commits per second.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::storage::{Location, testing};
use tokio::runtime::Handle;

use crate::hub::Hub;
use crate::load::{Outcome, Plan};
use crate::send::{self, EVENT_TYPE, publish};
use crate::subscribers::Subscribers;
use crate::{ClusterArgs, ingest, outside, process, stats, temp_dir};

struct Row {
    engine: &'static str,
    hubs: usize,
    /// Accepted webhooks per second (the median second, all hubs together).
    ingest_rate: f64,
    ingest: Costs,
    /// Deliveries per second from the first publish to the last arrival.
    delivery_rate: f64,
    send: Costs,
    duplicates: u64,
}

/// What a phase cost per unit of work.
struct Costs {
    /// Hub CPU milliseconds per unit, all hubs together.
    hub_ms: f64,
    /// PostgreSQL server CPU milliseconds per unit, where its processes are on this machine.
    database_ms: Option<f64>,
    /// Transactions the database committed per second.
    commits: Option<f64>,
}

pub async fn run(args: ClusterArgs) -> anyhow::Result<()> {
    let server = crate::postgres_server(args.postgres_url.clone())?;
    ensure!(
        args.hub_binary.exists(),
        "{} is missing: build it with `cargo build --release -p server`",
        args.hub_binary.display()
    );
    println!(
        "cluster: {} connections, {} s per ingest run, {} messages × {} subscribers; load average {}",
        args.connections,
        args.duration,
        args.messages,
        args.subscribers,
        process::load_average().unwrap_or_default()
    );
    outside(|outside| async move {
        let dir = temp_dir(None)?;
        let mut rows = Vec::new();
        let file = Location::Sqlite(dir.path().join("hub.db"));
        rows.push(measure(&args, &outside, "SQLite", file, 1).await?);
        for hubs in 1..=args.hubs {
            let database = Location::Postgres(testing::new_postgres_database(&server).await);
            rows.push(measure(&args, &outside, "PostgreSQL", database, hubs).await?);
        }
        report(&rows);
        Ok(())
    })
    .await
}

async fn measure(
    args: &ClusterArgs,
    outside: &Handle,
    engine: &'static str,
    database: Location,
    count: usize,
) -> anyhow::Result<Row> {
    let dir = temp_dir(None)?;
    let mut config = server::Config::load(None, Vec::new())?;
    config.database = database.clone();
    let key = server::commands::create_key(config, "bench".into()).await?;
    let setting = match &database {
        Location::Sqlite(path) => path.to_string_lossy().into_owned(),
        Location::Postgres(url) => url.clone(),
    };
    let mut hubs = Vec::new();
    for n in 0..count {
        let node = format!("bench-{n}");
        let settings = [
            ("HOOKHUB_NODE_ID", node.as_str()),
            ("HOOKHUB_OUTBOUND_ALLOW", "127.0.0.0/8"),
        ];
        let log = dir.path().join(format!("{node}.log"));
        hubs.push(Hub::spawn(&args.hub_binary, dir.path(), &setting, &settings, &log).await?);
    }
    let pids: Vec<u32> = hubs.iter().filter_map(Hub::pid).collect();
    let api = Client::new();
    let post = |path: &str, body: Value| {
        api.post(hubs[0].url(path))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let source: Value = post(
        "/api/v1/sources",
        json!({"name": "bench", "provider": "github", "secret": ingest::SECRET}),
    )
    .await?
    .json()
    .await?;
    let url = source["url"].as_str().context("a source URL")?;
    let path = url[url.find("/hooks/").context("a /hooks/ URL")?..].to_owned();

    // Ingest: the connections spread evenly over the hubs.
    let meter = Meter::start(&database, &pids).await;
    let per_hub = args.connections.div_ceil(count).max(1);
    let runs = hubs.iter().enumerate().map(|(n, hub)| {
        let plan = Plan {
            connections: per_hub,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs_f64(args.duration),
            round: n,
        };
        ingest::measure(hub.addr, path.clone(), plan)
    });
    let mut outcome = Outcome::default();
    for run in futures::future::join_all(runs).await {
        outcome.merge(run?);
    }
    ensure!(
        outcome.non_2xx + outcome.errors == 0,
        "{engine} × {count}: {} refused, {} failed ({:?})",
        outcome.non_2xx,
        outcome.errors,
        outcome.first_failure
    );
    let ingest = meter.stop(outcome.acked.len() as u64).await;
    let ingest_rate = ingest::median_rate(&outcome);

    // Sending: messages published through every hub, fanned out to the subscribers.
    let subscribers = Subscribers::start(outside).await?;
    let created = post("/api/v1/event-types", json!({ "name": EVENT_TYPE })).await?;
    ensure!(
        created.status() == StatusCode::CREATED,
        "{}",
        created.status()
    );
    for n in 0..args.subscribers {
        let url = subscribers.url(&format!("/ok/{n}"));
        let created = post(
            "/api/v1/subscriptions",
            json!({ "url": url, "event_types": [EVENT_TYPE] }),
        )
        .await?;
        ensure!(
            created.status() == StatusCode::CREATED,
            "{}",
            created.status()
        );
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    let meter = Meter::start(&database, &pids).await;
    let began = Instant::now();
    let share = args.messages.div_ceil(count);
    let publishing = hubs.iter().map(|hub| {
        outside.spawn(publish(
            hub.url("/api/v1/messages"),
            key.clone(),
            send::message,
            share,
            4,
            deadline,
        ))
    });
    let mut sent = 0;
    for published in futures::future::join_all(publishing).await {
        let published = published?;
        ensure!(
            published.failures == 0,
            "publishing failed: {:?}",
            published.first_failure
        );
        sent += published.sent.len();
    }
    let expected = sent * args.subscribers;
    ensure!(
        subscribers.wait_for(expected, deadline).await,
        "{engine} × {count}: not every delivery arrived"
    );
    let took = began.elapsed().as_secs_f64();
    let send = meter.stop(expected as u64).await;
    let record = subscribers.finish();
    for hub in hubs {
        hub.stop().await?;
    }
    Ok(Row {
        engine,
        hubs: count,
        ingest_rate,
        ingest,
        delivery_rate: expected as f64 / took,
        send,
        duplicates: record.duplicates,
    })
}

/// CPU time and commits from a start to a stop.
struct Meter {
    database: Location,
    pids: Vec<u32>,
    hub_ticks: u64,
    server_ticks: u64,
    commits: Option<i64>,
    began: Instant,
}

impl Meter {
    async fn start(database: &Location, pids: &[u32]) -> Self {
        Self {
            database: database.clone(),
            pids: pids.to_vec(),
            hub_ticks: hub_ticks(pids),
            server_ticks: process::ticks_named("postgres"),
            commits: commits(database).await,
            began: Instant::now(),
        }
    }

    /// What `units` of work cost since the start.
    async fn stop(self, units: u64) -> Costs {
        let hub = hub_ticks(&self.pids) - self.hub_ticks;
        let server = process::ticks_named("postgres") - self.server_ticks;
        let seconds = self.began.elapsed().as_secs_f64();
        // Backends report their commits to the statistics within a second.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let commits = match (self.commits, commits(&self.database).await) {
            (Some(before), Some(after)) => Some((after - before) as f64 / seconds),
            _ => None,
        };
        let per_unit = |ticks: u64| process::seconds(ticks) * 1000.0 / units.max(1) as f64;
        Costs {
            hub_ms: per_unit(hub),
            database_ms: matches!(self.database, Location::Postgres(_)).then(|| per_unit(server)),
            commits,
        }
    }
}

fn hub_ticks(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| process::process_ticks(*pid))
        .sum()
}

/// Transactions committed in the database so far, as PostgreSQL counts them; SQLite does not.
async fn commits(database: &Location) -> Option<i64> {
    use sea_orm::ConnectionTrait;
    let Location::Postgres(url) = database else {
        return None;
    };
    let conn = sea_orm::Database::connect(url).await.ok()?;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
        ))
        .await
        .ok()??;
    let commits = row.try_get("", "xact_commit").ok();
    conn.close().await.ok();
    commits
}

fn report(rows: &[Row]) {
    let optional = |value: Option<f64>, digits: usize| match value {
        Some(value) => format!("{value:.digits$}"),
        None => "—".to_owned(),
    };
    println!();
    println!(
        "| engine | hubs | ingest/s | hub CPU ms per 1k webhooks | PostgreSQL CPU ms per 1k | commits/s | deliveries/s | hub CPU ms per 1k deliveries | PostgreSQL CPU ms per 1k | commits/s | repeated |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        println!(
            "| {} | {} | {} | {:.0} | {} | {} | {} | {:.0} | {} | {} | {} |",
            row.engine,
            row.hubs,
            stats::count(row.ingest_rate as u64),
            row.ingest.hub_ms * 1000.0,
            optional(row.ingest.database_ms.map(|ms| ms * 1000.0), 0),
            optional(row.ingest.commits, 0),
            stats::count(row.delivery_rate as u64),
            row.send.hub_ms * 1000.0,
            optional(row.send.database_ms.map(|ms| ms * 1000.0), 0),
            optional(row.send.commits, 0),
            row.duplicates,
        );
    }
}

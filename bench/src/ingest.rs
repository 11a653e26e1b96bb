//! `ingest`: the hub's receive path against the ceiling, in one run so both see the same
//! machine. Rounds alternate ceiling and hub; throughput is the median over one-second
//! intervals, latency percentiles are over every accepted request.

use std::collections::HashSet;
use std::net::SocketAddr;

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use server::receiving::sources::{self, SourceRequest};
use server::storage::Db;
use server::storage::sources::Source;

use crate::hub::Hub;
use crate::load::{self, Outcome, Plan, Target};
use crate::stats::{self, percentile};
use crate::{IngestArgs, Only, ceiling, temp_dir};

pub const SECRET: &str = "bench: It's a Secret to Everybody";

/// The `github` source the deliveries go to, signed with [`SECRET`].
pub async fn github_source(db: &Db) -> anyhow::Result<Source> {
    let request = SourceRequest {
        name: "bench".into(),
        provider: "github".into(),
        secret: Some(SECRET.into()),
        settings: Default::default(),
    };
    Ok(sources::create(db, request).await?)
}

#[derive(Clone, Copy, PartialEq)]
enum Which {
    Ceiling,
    Hub,
}

impl Which {
    fn name(self) -> &'static str {
        match self {
            Which::Ceiling => "ceiling",
            Which::Hub => "hub",
        }
    }
}

pub async fn run(args: IngestArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.connections > 0, "--connections must be at least 1");
    anyhow::ensure!(args.duration >= 1.0, "--duration must be at least 1 second");
    let dir = temp_dir(args.dir.as_ref())?;

    let hub_db = dir.path().join("hub.db");
    let db = Db::open(&hub_db).await?;
    let source = github_source(&db).await?;
    let mut config = Hub::config(&hub_db)?;
    config.durability = args.durability.into();
    let hub = Hub::start(config).await?;
    let ceiling_db = dir.path().join("ceiling.db");
    let ceiling = ceiling::start(
        &ceiling_db,
        SECRET.as_bytes(),
        ceiling::Extras {
            savepoints: args.ceiling_savepoints,
            hub_schema: args.ceiling_hub_schema,
        },
    )
    .await?;

    if args.ceiling_savepoints {
        println!("(diagnostic: the ceiling wraps each insert in a savepoint, as the hub does)");
    }
    if args.ceiling_hub_schema {
        println!("(diagnostic: the ceiling keeps the hub's later indexes and full-text index)");
    }
    println!(
        "hookhub-bench ingest: {} connections, {} B signed GitHub push deliveries, \
         {} s warm-up + {} s measured per target and round, {} round(s), hub durability {}, \
         databases in {}",
        args.connections,
        load::BODY_BYTES,
        args.warmup,
        args.duration,
        args.rounds,
        clap::ValueEnum::to_possible_value(&args.durability)
            .map_or_else(String::new, |v| v.get_name().to_owned()),
        dir.path().display()
    );
    let mut results = [
        (Which::Ceiling, Outcome::default()),
        (Which::Hub, Outcome::default()),
    ];
    for round in 0..args.rounds {
        // Ceiling, hub, then hub, ceiling: alternating evens out drift in the machine's load.
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for index in order {
            let (which, total) = &mut results[index];
            let skipped = match args.only {
                Some(Only::Hub) => *which != Which::Hub,
                Some(Only::Ceiling) => *which != Which::Ceiling,
                None => false,
            };
            if skipped {
                continue;
            }
            let (addr, path) = match which {
                Which::Ceiling => (ceiling.addr, format!("/hooks/{}", ceiling::SOURCE_ID)),
                Which::Hub => (hub.addr, format!("/hooks/{}", source.id)),
            };
            let outcome = measure(
                addr,
                path,
                Plan {
                    connections: args.connections,
                    warmup: args.warmup(),
                    duration: args.duration(),
                    round,
                },
            )
            .await?;
            println!(
                "  round {} {:<8} {:>8.0} accepted/s (median of 1 s), {} non-2xx, {} errors",
                round + 1,
                which.name(),
                median_rate(&outcome),
                outcome.non_2xx,
                outcome.errors
            );
            if let Some(failure) = &outcome.first_failure {
                println!("    first failure: {failure}");
            }
            total
                .accepted_per_second
                .extend(outcome.accepted_per_second);
            total.non_2xx += outcome.non_2xx;
            total.errors += outcome.errors;
            total.latencies_us.extend(outcome.latencies_us);
            total.acked.extend(outcome.acked);
        }
    }

    println!();
    println!(
        "{:<8} {:>12} {:>10} {:>9} {:>7} {:>9} {:>9}",
        "target", "accepted/s", "mean/s", "non-2xx", "errors", "p50", "p99"
    );
    for (which, outcome) in &mut results {
        let seconds = outcome.accepted_per_second.len().max(1) as f64;
        println!(
            "{:<8} {:>12.0} {:>10.0} {:>9} {:>7} {:>9} {:>9}",
            which.name(),
            median_rate(outcome),
            outcome.accepted() as f64 / seconds,
            outcome.non_2xx,
            outcome.errors,
            stats::micros(percentile(&mut outcome.latencies_us, 50.0)),
            stats::micros(percentile(&mut outcome.latencies_us, 99.0)),
        );
    }
    let ceiling_rate = median_rate(&results[0].1);
    let hub_rate = median_rate(&results[1].1);
    if ceiling_rate > 0.0 && hub_rate > 0.0 {
        println!(
            "hub / ceiling: {:.0} % (medians of accepted/s; target ≥ 60 %)",
            100.0 * hub_rate / ceiling_rate
        );
    }

    let hub_stored = hub_delivery_ids(&db).await?;
    report_durability("hub", &results[1].1.acked, &hub_stored);
    let ceiling_stored = ceiling::stored_delivery_ids(&ceiling_db).await?;
    report_durability("ceiling", &results[0].1.acked, &ceiling_stored);

    hub.stop().await?;
    ceiling.stop().await?;
    Ok(())
}

pub async fn measure(addr: SocketAddr, path: String, plan: Plan) -> anyhow::Result<Outcome> {
    let target = Target {
        addr,
        path,
        secret: SECRET.as_bytes().to_vec(),
    };
    // The generator blocks its own thread; keep the servers' workers free.
    tokio::task::spawn_blocking(move || load::run(target, plan)).await?
}

pub fn median_rate(outcome: &Outcome) -> f64 {
    let per_second: Vec<f64> = outcome
        .accepted_per_second
        .iter()
        .map(|n| *n as f64)
        .collect();
    stats::median_f64(&per_second)
}

async fn hub_delivery_ids(db: &Db) -> anyhow::Result<Vec<String>> {
    let rows = db
        .read()
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT delivery_id FROM events WHERE delivery_id IS NOT NULL",
        ))
        .await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get::<String>("", "delivery_id"))
        .collect::<Result<_, _>>()?)
}

fn report_durability(name: &str, acked: &[String], stored: &[String]) {
    let stored_set: HashSet<&str> = stored.iter().map(String::as_str).collect();
    let present = acked
        .iter()
        .filter(|id| stored_set.contains(id.as_str()))
        .count();
    println!(
        "durable ({name}): {}/{} acknowledged deliveries found; {} events stored{}",
        present,
        acked.len(),
        stored.len(),
        if present == acked.len() {
            ""
        } else {
            "  <-- LOST ACKNOWLEDGED EVENTS"
        }
    );
}

//! `hookhub-bench`: measurements of a real hookhub started in-process on loopback.
//!
//! - `ingest`: signed webhooks over HTTP against the hub and, in the same run, against a bare
//!   ceiling server (HMAC + one group-commit SQLite writer), so their ratio is measured under the
//!   same machine noise.
//! - `wrk-ingest`: the same deliveries and `POST /api/v1/messages` from `wrk` to the release
//!   binary and to the ceiling, each in a process of its own: the headline ingest figure.
//! - `browse`: the events page and search with many stored events.
//! - `send`: published messages fanned out to local subscribers, without and with bad
//!   neighbours (one that hangs, one that fails), in the same run.
//! - `rules`: what a payload filter and a JSON Schema cost a publish, in-process.
//! - `svix`: the same publish and delivery load against hookhub and a locally built Svix
//!   server, alternated.
//! - `soak`: ingest, publishing and dashboard browsing at once, at fixed modest rates for a set
//!   time, to see whether throughput, latency, memory and the database stay steady.
//!
//! Figures are printed for people; nothing timed is asserted.

mod browse;
mod ceiling;
mod cluster;
mod corpus;
mod external;
mod hub;
mod ingest;
mod load;
mod process;
mod rules;
mod send;
mod soak;
mod stats;
mod subscribers;
mod svix;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::runtime::Handle;

/// The allocator the `hookhub` binary uses, so the hub measured here allocates as it ships.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "hookhub-bench",
    about = "Benchmarks for hookhub (loopback only)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Signed 1 KiB GitHub deliveries: the hub against a bare ceiling server.
    Ingest(IngestArgs),
    /// Signed 1 KiB GitHub deliveries from `wrk`, to the release binary and to the ceiling,
    /// each in a process of its own: the headline ingest figure.
    WrkIngest(WrkIngestArgs),
    /// The ceiling alone, serving until SIGTERM (what `wrk-ingest` runs in a process of its
    /// own).
    #[command(hide = true)]
    ServeCeiling(ServeCeilingArgs),
    /// The events page and search with 10k, 100k and 1M stored events.
    Browse(BrowseArgs),
    /// Messages published to local subscribers: deliveries/s and publish-to-delivered
    /// latency, with healthy subscribers only and next to a hanging and a failing one.
    Send(SendArgs),
    /// Mixed ingest, delivery and dashboard browsing at fixed rates for a set time (default
    /// 10 minutes): throughput, p99 latencies, memory and database size over time.
    Soak(SoakArgs),
    /// What a subscription's payload filter and an event type's JSON Schema cost a publish:
    /// parse and evaluate, and check, on a 1 KiB payload, in-process.
    Rules(RulesArgs),
    /// Ingest and delivery with 1, 2 and 3 hub processes on one PostgreSQL database, and one
    /// on SQLite: throughput, CPU time per unit of work and the database's commits per second.
    Cluster(ClusterArgs),
    /// The same publish and delivery load against hookhub and against a locally built
    /// svix-server with its PostgreSQL and Redis, alternated: the ratios.
    Svix(SvixArgs),
}

#[derive(clap::Args)]
pub struct SvixArgs {
    /// The built `svix-server` binary (README, Performance, says how to build it).
    #[arg(long)]
    pub svix_binary: PathBuf,
    /// The built `hookhub` binary.
    #[arg(long, default_value = "target/release/hookhub")]
    pub hub_binary: PathBuf,
    /// A PostgreSQL server to make Svix's databases on (default: HOOKHUB_TEST_POSTGRES_URL).
    #[arg(long)]
    pub postgres_url: Option<String>,
    /// Where Svix keeps its queue and cache.
    #[arg(long, value_enum, default_value_t = SvixQueue::Redis)]
    pub svix_queue: SvixQueue,
    /// Keep `synchronous_commit` on for Svix's database (by default it is off, as durable as
    /// hookhub's default).
    #[arg(long)]
    pub svix_synchronous_commit: bool,
    /// The `redis-server` binary Svix's Redis runs as.
    #[arg(long, default_value = "redis-server")]
    pub redis_server: PathBuf,
    /// Rounds; odd rounds measure hookhub first, even ones Svix first.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Messages published in the burst.
    #[arg(long, default_value_t = 2000)]
    pub messages: usize,
    /// Endpoints (subscriptions) each message goes to.
    #[arg(long, default_value_t = 10)]
    pub subscribers: usize,
    /// Concurrent publishers in the burst (each sends one message at a time).
    #[arg(long, default_value_t = 64)]
    pub publishers: usize,
    /// Messages published per second after the burst.
    #[arg(long, default_value_t = 30.0)]
    pub steady_rate: f64,
    /// Seconds of the steady rate.
    #[arg(long, default_value_t = 10.0)]
    pub steady_seconds: f64,
    /// Seconds the burst may take, from the first publish to the last arrival.
    #[arg(long, default_value_t = 120.0)]
    pub time_limit: f64,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum SvixQueue {
    /// Redis, a server of its own, as Svix is deployed.
    Redis,
    /// In svix-server's process.
    Memory,
}

#[derive(clap::Args)]
pub struct RulesArgs {
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Calls per round (a tenth of them for the schema).
    #[arg(long, default_value_t = 200_000)]
    pub iterations: usize,
}

#[derive(clap::Args)]
pub struct ClusterArgs {
    /// The built `hookhub` binary the hubs run as.
    #[arg(long, default_value = "target/release/hookhub")]
    pub hub_binary: PathBuf,
    /// A PostgreSQL server to make the databases on (default: HOOKHUB_TEST_POSTGRES_URL).
    #[arg(long)]
    pub postgres_url: Option<String>,
    /// Hubs on PostgreSQL, from 1 up to this many.
    #[arg(long, default_value_t = 3)]
    pub hubs: usize,
    /// Concurrent webhook connections, spread evenly over the hubs.
    #[arg(long, default_value_t = 48)]
    pub connections: usize,
    /// Measured seconds of ingest per run.
    #[arg(long, default_value_t = 8.0)]
    pub duration: f64,
    /// Messages published per run, spread over the hubs.
    #[arg(long, default_value_t = 1500)]
    pub messages: usize,
    /// Subscribers each message goes to.
    #[arg(long, default_value_t = 4)]
    pub subscribers: usize,
}

#[derive(clap::Args)]
pub struct IngestArgs {
    /// Concurrent HTTP connections (each sends one request at a time).
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Measured seconds per target and round.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Unmeasured seconds before each measurement.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Rounds; odd rounds measure the ceiling first, even ones the hub first, so a drift in the
    /// machine's load touches both alike.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Diagnostic: make the ceiling wrap each insert in its own savepoint, as the hub's writer
    /// does, to see what that costs.
    #[arg(long)]
    pub ceiling_savepoints: bool,
    /// Diagnostic: give the ceiling hookhub's later events indexes and its full-text index
    /// (kept by a trigger), to see what they cost.
    #[arg(long)]
    pub ceiling_hub_schema: bool,
    /// Measure only one target (for profiling one server); the ratio needs both.
    #[arg(long, value_enum)]
    pub only: Option<Only>,
    /// The hub's `durability` setting (the ceiling always commits as `normal` does).
    #[arg(long, value_enum, default_value_t = Durability::Normal)]
    pub durability: Durability,
    /// Directory for the temporary databases (default: the system temp directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct WrkIngestArgs {
    /// The built `hookhub` binary (build it with `cargo build --release -p server`).
    #[arg(long, default_value = "target/release/hookhub")]
    pub hub_binary: PathBuf,
    /// Concurrent HTTP connections.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// wrk's threads: each takes a core while the servers run, so one leaves them the most.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Measured seconds per target and round (whole seconds: wrk's unit).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Unmeasured seconds before each measurement.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Rounds; odd rounds measure the ceiling first, even ones the hub first.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Directory for the temporary databases (default: the system temp directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ServeCeilingArgs {
    #[arg(long)]
    pub listen: std::net::SocketAddr,
    /// A SQLite file the ceiling makes (it must not exist yet).
    #[arg(long)]
    pub database: PathBuf,
    /// The GitHub source's secret.
    #[arg(long)]
    pub secret: String,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum Durability {
    Normal,
    Full,
}

impl From<Durability> for server::storage::Durability {
    fn from(durability: Durability) -> Self {
        match durability {
            Durability::Normal => Self::Normal,
            Durability::Full => Self::Full,
        }
    }
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum Only {
    Hub,
    Ceiling,
}

impl IngestArgs {
    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration)
    }
    fn warmup(&self) -> Duration {
        Duration::from_secs_f64(self.warmup)
    }
}

#[derive(clap::Args)]
pub struct BrowseArgs {
    /// Stored-event counts to measure at, ascending.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    pub steps: Vec<u64>,
    /// Stop after the step that reaches this many events.
    #[arg(long)]
    pub max: Option<u64>,
    /// Timed requests per query and step (fewer when `--budget` runs out first).
    #[arg(long, default_value_t = 100)]
    pub samples: usize,
    /// Seconds one query may take in total at one step before sampling stops (at least 5
    /// samples are always taken).
    #[arg(long, default_value_t = 20.0)]
    pub budget: f64,
    /// Concurrent insert tasks while populating (the writer commits what they queue together).
    #[arg(long, default_value_t = 256)]
    pub insert_tasks: usize,
    /// Directory for the temporary database (default: the system temp directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct SendArgs {
    /// Healthy subscribers, each subscribed to every message.
    #[arg(long, default_value_t = 10)]
    pub subscribers: usize,
    /// Messages published per scenario.
    #[arg(long, default_value_t = 2000)]
    pub messages: usize,
    /// Concurrent publishers (each sends one `POST /api/v1/messages` at a time).
    #[arg(long, default_value_t = 16)]
    pub publishers: usize,
    /// The hub's `outbound_timeout_secs`: how long the hanging subscriber holds each attempt.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout: u64,
    /// Seconds the whole run may take: scenario A stops at half of it, B at the end, and what
    /// has not arrived by then is reported missing.
    #[arg(long, default_value_t = 120.0)]
    pub time_limit: f64,
    /// Diagnostic: which bad neighbours scenario B adds (`hang`, `fail`, or both).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "hang,fail")]
    pub bad: Vec<Bad>,
    /// Diagnostic: the hub's `delivery_concurrency` instead of its default.
    #[arg(long)]
    pub delivery_concurrency: Option<usize>,
    /// Run each scenario's hub as this built `hookhub` binary, in a process of its own
    /// (default: in this process).
    #[arg(long)]
    pub hub_binary: Option<PathBuf>,
    /// Diagnostic: the hub's `subscription_concurrency` instead of its default.
    #[arg(long)]
    pub subscription_concurrency: Option<usize>,
    /// Directory for the temporary databases (default: the system temp directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct SoakArgs {
    /// Seconds of load.
    #[arg(long, default_value_t = 600.0)]
    pub duration: f64,
    /// Seconds between printed rows.
    #[arg(long, default_value_t = 30.0)]
    pub interval: f64,
    /// Signed GitHub deliveries sent to the source per second.
    #[arg(long, default_value_t = 200.0)]
    pub ingest_rate: f64,
    /// Messages published per second (each goes to every subscriber).
    #[arg(long, default_value_t = 50.0)]
    pub publish_rate: f64,
    /// Dashboard pages requested per second, one at a time, by one logged-in person.
    #[arg(long, default_value_t = 4.0)]
    pub browse_rate: f64,
    /// Local subscribers that answer 200 at once, each subscribed to every message.
    #[arg(long, default_value_t = 5)]
    pub subscribers: usize,
    /// Seconds to wait, after the load stops, for pending deliveries to reach the subscribers.
    #[arg(long, default_value_t = 30.0)]
    pub drain: f64,
    /// Directory for the temporary database (default: the system temp directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Run the hub as this built `hookhub` binary, in a process of its own, so the memory
    /// figures are the hub's alone (default: in this process).
    #[arg(long)]
    pub hub_binary: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum Bad {
    /// Never answers: each attempt lasts until the hub's outbound timeout.
    Hang,
    /// Answers 500 to everything.
    Fail,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The servers run on this runtime; the ingest load generator gets its own thread and
    // runtime so that its work is not queued behind the servers' tasks.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Ingest(args) => ingest::run(args).await,
            Command::WrkIngest(args) => external::run(args).await,
            Command::ServeCeiling(args) => external::serve_ceiling(args).await,
            Command::Browse(args) => browse::run(args).await,
            Command::Send(args) => send::run(args).await,
            Command::Soak(args) => soak::run(args).await,
            Command::Cluster(args) => cluster::run(args).await,
            Command::Rules(args) => rules::run(args).await,
            Command::Svix(args) => svix::run(args).await,
        }
    })
}

/// Runs `work` with a second runtime, on one thread of its own, for a load generator and
/// subscribers, so that their work is not queued behind the hub's. The runtime is shut down
/// however `work` ends: dropped inside another runtime, it would wait for its tasks, which
/// tokio does not allow there.
pub async fn outside<T, F>(work: impl FnOnce(Handle) -> F) -> anyhow::Result<T>
where
    F: Future<Output = anyhow::Result<T>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-outside")
        .enable_all()
        .build()?;
    let result = work(runtime.handle().clone()).await;
    runtime.shutdown_background();
    result
}

/// The PostgreSQL server to make databases on: `given`, or else `HOOKHUB_TEST_POSTGRES_URL`.
pub fn postgres_server(given: Option<String>) -> anyhow::Result<String> {
    match given {
        Some(url) => Ok(url),
        None => std::env::var(server::storage::testing::SERVER_VAR).context(
            "give --postgres-url (or HOOKHUB_TEST_POSTGRES_URL); `bash .ci/postgres start DIR` starts a throwaway server and prints its URL",
        ),
    }
}

/// A temporary directory under `dir` when given, made if need be, else under the system's.
pub fn temp_dir(dir: Option<&PathBuf>) -> anyhow::Result<tempfile::TempDir> {
    let builder = &mut tempfile::Builder::new();
    builder.prefix("hookhub-bench-");
    Ok(match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            builder.tempdir_in(dir)?
        }
        None => builder.tempdir()?,
    })
}

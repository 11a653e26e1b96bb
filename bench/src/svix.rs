//! `svix`: the same publish and delivery load against hookhub and against Svix's open-source
//! server, each as a stack of its own on this machine, in alternated rounds. Whoever runs it
//! builds `svix-server` first (README, Performance); nothing of Svix's is in this repository.
//!
//! - **Burst:** `--messages` published by `--publishers` concurrent clients, each message to
//!   `--subscribers` endpoints (hookhub: subscriptions) at a local subscriber that answers 200
//!   at once: accepted/s, deliveries/s from the first publish to the last arrival, and
//!   publish-to-delivered p50/p99.
//! - **Steady:** `--steady-rate` messages a second for `--steady-seconds`, each published on its
//!   own schedule: publish-to-delivered p50/p99 when nothing is behind.
//! - **Memory:** the proportional set size of the whole stack after the burst: hookhub's one
//!   process (SQLite is inside it), against svix-server with its Redis and every process of its
//!   PostgreSQL server (the server's, so other databases' work on it counts too).
//!
//! hookhub runs on SQLite, as one machine runs it, with its default durability (`normal`);
//! Svix on PostgreSQL with Redis as its queue and cache, as its documentation deploys it
//! (`--svix-queue memory` keeps both in its process instead), and its database's commits as
//! durable as hookhub's: `synchronous_commit` off, so a crash loses nothing and a power cut
//! may lose the last commits (`--svix-synchronous-commit` keeps it on). Give it a PostgreSQL
//! server that keeps its own durability settings (`bash .ci/postgres start DIR durable`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use reqwest::Client;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use server::storage::testing;
use tokio::process::{Child, Command};
use tokio::runtime::Handle;
use tokio::task::JoinSet;

use crate::hub::Hub;
use crate::process;
use crate::send::{self, EVENT_TYPE, Publishing, Sent};
use crate::stats::{self, median_f64, percentile};
use crate::subscribers::Subscribers;
use crate::{SvixArgs, SvixQueue, temp_dir};

#[derive(Clone, Copy, PartialEq)]
enum Server {
    Hookhub,
    Svix,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Self::Hookhub => "hookhub",
            Self::Svix => "Svix",
        }
    }
}

/// What one run of one server measured.
struct Figures {
    accepted_per_second: f64,
    publish_p99_us: u64,
    deliveries_per_second: f64,
    burst_p50_us: u64,
    burst_p99_us: u64,
    steady_p50_us: u64,
    steady_p99_us: u64,
    missing: usize,
    duplicates: u64,
    /// Proportional set size of the stack after the burst.
    pss: u64,
    /// CPU time of the stack per delivery in the burst.
    cpu_us_per_delivery: f64,
}

pub async fn run(args: SvixArgs) -> anyhow::Result<()> {
    ensure!(
        args.hub_binary.exists(),
        "{} is missing: build it with `cargo build --release -p server`",
        args.hub_binary.display()
    );
    ensure!(
        args.svix_binary.exists(),
        "{} is missing: build svix-server as README's Performance section says",
        args.svix_binary.display()
    );
    ensure!(args.rounds > 0 && args.messages > 0 && args.subscribers > 0);
    ensure!(args.steady_rate > 0.0 && args.steady_seconds > 0.0);
    let postgres = crate::postgres_server(args.postgres_url.clone())?;
    println!(
        "svix: {} messages × {} subscribers from {} publishers (burst), then {} messages/s for \
         {} s (steady); Svix's queue and cache: {}; {} rounds, alternated; load average {}",
        stats::count(args.messages as u64),
        args.subscribers,
        args.publishers,
        args.steady_rate,
        args.steady_seconds,
        match args.svix_queue {
            SvixQueue::Redis => "Redis",
            SvixQueue::Memory => "in its process",
        },
        args.rounds,
        process::load_average().unwrap_or_default()
    );
    let args = &args;
    let postgres = &postgres;
    let rounds = crate::outside(|outside| async move {
        let mut rounds: Vec<HashMap<&'static str, Figures>> = Vec::new();
        for round in 0..args.rounds {
            let order = if round % 2 == 0 {
                [Server::Hookhub, Server::Svix]
            } else {
                [Server::Svix, Server::Hookhub]
            };
            let mut figures = HashMap::new();
            for server in order {
                let measured = measure(args, postgres, server, &outside)
                    .await
                    .with_context(|| format!("round {}, {}", round + 1, server.name()))?;
                print_run(round, server, &measured);
                figures.insert(server.name(), measured);
            }
            rounds.push(figures);
        }
        Ok(rounds)
    })
    .await?;
    summarize(&rounds);
    Ok(())
}

/// A server with what it needs, set up with the event type and the endpoints.
struct Stack {
    /// Where messages are published, with the token that may.
    publish_url: String,
    token: String,
    message: fn(usize) -> Value,
    /// The processes started for it; kept until the run ends, killed when dropped.
    children: Vec<Child>,
    hub: Option<Hub>,
    /// The postmaster of the PostgreSQL server of the stack, whose processes count too.
    postgres: Option<u32>,
    _dir: tempfile::TempDir,
}

impl Stack {
    fn pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self.children.iter().filter_map(Child::id).collect();
        pids.extend(self.hub.as_ref().and_then(Hub::pid));
        if let Some(postmaster) = self.postgres {
            pids.extend(process::with_children(postmaster));
        }
        pids
    }

    fn pss(&self) -> u64 {
        self.pids().into_iter().filter_map(process::pss).sum()
    }

    fn ticks(&self) -> HashMap<u32, u64> {
        let pids = self.pids().into_iter();
        pids.filter_map(|pid| Some((pid, process::process_ticks(pid)?)))
            .collect()
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(hub) = self.hub.take() {
            hub.stop().await?;
        }
        for child in &mut self.children {
            child.start_kill().ok();
            child.wait().await.ok();
        }
        Ok(())
    }
}

async fn measure(
    args: &SvixArgs,
    postgres: &str,
    server: Server,
    outside: &Handle,
) -> anyhow::Result<Figures> {
    let subscribers = Subscribers::start(outside).await?;
    let urls: Vec<String> = (0..args.subscribers)
        .map(|n| subscribers.url(&format!("/ok/{n}")))
        .collect();
    let stack = match server {
        Server::Hookhub => hookhub(args, &urls).await?,
        Server::Svix => svix(args, postgres, &urls).await?,
    };

    // The burst.
    let deadline = Instant::now() + Duration::from_secs_f64(args.time_limit);
    let ticks_before = stack.ticks();
    let began = Instant::now();
    let burst = outside
        .spawn(send::publish(
            stack.publish_url.clone(),
            stack.token.clone(),
            stack.message,
            args.messages,
            args.publishers,
            deadline,
        ))
        .await
        .context("the publishers")?;
    ensure!(
        burst.failures == 0,
        "{} of the burst's messages were refused: {}",
        burst.failures,
        burst.first_failure.unwrap_or_default()
    );
    let burst_expected = burst.sent.len() * args.subscribers;
    subscribers.wait_for(burst_expected, deadline).await;
    let ticks_after = stack.ticks();
    let pss = stack.pss();
    let cpu_ticks: u64 = ticks_after
        .iter()
        .map(|(pid, after)| after.saturating_sub(ticks_before.get(pid).copied().unwrap_or(0)))
        .sum();

    // The steady rate.
    let steady = outside
        .spawn(publish_steadily(
            stack.publish_url.clone(),
            stack.token.clone(),
            stack.message,
            args.messages,
            args.steady_rate,
            Duration::from_secs_f64(args.steady_seconds),
        ))
        .await
        .context("the steady publishers")?;
    ensure!(
        steady.failures == 0,
        "{} of the steady messages were refused: {}",
        steady.failures,
        steady.first_failure.unwrap_or_default()
    );
    let expected = burst_expected + steady.sent.len() * args.subscribers;
    let deadline = Instant::now() + Duration::from_secs(30);
    subscribers.wait_for(expected, deadline).await;
    stack.stop().await?;
    let record = subscribers.finish();

    let arrivals = |sent: &[Sent]| {
        let at: HashMap<&str, Instant> = sent.iter().map(|s| (s.id.as_str(), s.sent)).collect();
        let mut latencies = Vec::new();
        let mut last = None;
        for arrival in &record.arrivals {
            if let Some(sent) = at.get(arrival.message_id.as_str()) {
                latencies.push(arrival.at.saturating_duration_since(*sent).as_micros() as u64);
                last = last.max(Some(arrival.at));
            }
        }
        (latencies, last)
    };
    let (mut burst_latencies, last) = arrivals(&burst.sent);
    let (mut steady_latencies, _) = arrivals(&steady.sent);
    let delivered = burst_latencies.len();
    let span = last.map_or(0.0, |t| t.duration_since(began).as_secs_f64());
    let published_span = burst
        .sent
        .iter()
        .map(|s| s.answered)
        .max()
        .map_or(0.0, |t| t.duration_since(began).as_secs_f64());
    let mut answers: Vec<u64> = burst
        .sent
        .iter()
        .map(|s| s.answered.duration_since(s.sent).as_micros() as u64)
        .collect();
    Ok(Figures {
        accepted_per_second: burst.sent.len() as f64 / published_span.max(1e-3),
        publish_p99_us: percentile(&mut answers, 99.0),
        deliveries_per_second: delivered as f64 / span.max(1e-3),
        burst_p50_us: percentile(&mut burst_latencies, 50.0),
        burst_p99_us: percentile(&mut burst_latencies, 99.0),
        steady_p50_us: percentile(&mut steady_latencies, 50.0),
        steady_p99_us: percentile(&mut steady_latencies, 99.0),
        missing: expected.saturating_sub(delivered + steady_latencies.len()),
        duplicates: record.duplicates,
        pss,
        cpu_us_per_delivery: 1e6 * process::seconds(cpu_ticks) / delivered.max(1) as f64,
    })
}

/// Publishes at `rate` messages a second for `duration`, each on its own schedule whatever
/// the others' answers, numbered on from `first`.
async fn publish_steadily(
    url: String,
    token: String,
    message: fn(usize) -> Value,
    first: usize,
    rate: f64,
    duration: Duration,
) -> Publishing {
    let client = Client::new();
    let count = (rate * duration.as_secs_f64()).round() as usize;
    let start = tokio::time::Instant::now();
    let mut set = JoinSet::new();
    for n in 0..count {
        tokio::time::sleep_until(start + Duration::from_secs_f64(n as f64 / rate)).await;
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        set.spawn(
            async move { send::publish_one(&client, &url, &token, &message(first + n)).await },
        );
    }
    let mut all = Publishing::default();
    while let Some(done) = set.join_next().await {
        match done.map_err(|e| e.to_string()).and_then(|sent| sent) {
            Ok(sent) => all.sent.push(sent),
            Err(failure) => {
                all.failures += 1;
                all.first_failure.get_or_insert(failure);
            }
        }
    }
    all
}

async fn hookhub(args: &SvixArgs, subscribers: &[String]) -> anyhow::Result<Stack> {
    let dir = temp_dir(None)?;
    let database = dir.path().join("hub.db");
    let key = server::commands::create_key(Hub::config(&database)?, "bench".into()).await?;
    let settings = [("HOOKHUB_OUTBOUND_ALLOW", "127.0.0.0/8")];
    let log = dir.path().join("hub.log");
    let setting = database.to_string_lossy();
    let hub = Hub::spawn(&args.hub_binary, dir.path(), &setting, &settings, &log).await?;
    let api = Client::new();
    let post = |path: &str, body: Value| api.post(hub.url(path)).bearer_auth(&key).json(&body);
    created(post("/api/v1/event-types", json!({ "name": EVENT_TYPE }))).await?;
    for url in subscribers {
        let body = json!({ "url": url, "event_types": [EVENT_TYPE] });
        created(post("/api/v1/subscriptions", body)).await?;
    }
    Ok(Stack {
        publish_url: hub.url("/api/v1/messages"),
        token: key,
        message: send::message,
        children: Vec::new(),
        hub: Some(hub),
        postgres: None,
        _dir: dir,
    })
}

/// The application every Svix message is published to.
const SVIX_APP: &str = "bench";

fn svix_message(n: usize) -> Value {
    json!({ "eventType": EVENT_TYPE, "payload": send::order(n) })
}

async fn svix(args: &SvixArgs, postgres: &str, subscribers: &[String]) -> anyhow::Result<Stack> {
    let dir = temp_dir(None)?;
    let mut children = Vec::new();
    let database = testing::new_postgres_database(postgres).await;
    let conn = sea_orm::Database::connect(&database).await?;
    if !args.svix_synchronous_commit {
        // As hookhub's default durability (`normal`): a crash loses nothing, a power cut may
        // lose the last commits.
        let name = database.rsplit('/').next().unwrap_or_default();
        let setting = format!("ALTER DATABASE {name} SET synchronous_commit = off");
        conn.execute_unprepared(&setting).await?;
    }
    let postmaster = postmaster(&conn).await?;
    conn.close().await?;
    let listen = free_port()?;
    let secret = server::ids::random_id("", 32);
    let mut env = vec![
        ("SVIX_DB_DSN", database),
        ("SVIX_JWT_SECRET", secret),
        ("SVIX_LISTEN_ADDRESS", listen.to_string()),
        ("SVIX_WHITELIST_SUBNETS", "[127.0.0.0/8]".to_owned()),
        // Svix logs every delivery at `info`, below which its own setting cannot go.
        ("RUST_LOG", "warn".to_owned()),
    ];
    match args.svix_queue {
        SvixQueue::Redis => {
            let port = free_port()?.port();
            let redis = Command::new(&args.redis_server)
                .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("starting {}", args.redis_server.display()))?;
            children.push(redis);
            wait_for_port(port).await?;
            let dsn = format!("redis://127.0.0.1:{port}");
            env.extend([
                ("SVIX_REDIS_DSN", dsn),
                ("SVIX_QUEUE_TYPE", "redis".to_owned()),
                ("SVIX_CACHE_TYPE", "redis".to_owned()),
            ]);
        }
        SvixQueue::Memory => env.extend([
            ("SVIX_QUEUE_TYPE", "memory".to_owned()),
            ("SVIX_CACHE_TYPE", "memory".to_owned()),
        ]),
    }
    let svix = |arguments: &[&str]| {
        let mut command = Command::new(&args.svix_binary);
        command
            .args(arguments)
            .current_dir(dir.path())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    };
    let migrated = svix(&["migrate"]).output().await?;
    ensure!(
        migrated.status.success(),
        "svix-server migrate: {}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let generated = svix(&["jwt", "generate"]).output().await?;
    let printed = String::from_utf8_lossy(&generated.stdout);
    let token = printed
        .split_whitespace()
        .last()
        .filter(|_| generated.status.success())
        .with_context(|| format!("svix-server jwt generate printed {printed:?}"))?
        .to_owned();
    let log = std::fs::File::create(dir.path().join("svix.log"))?;
    let server = svix(&[])
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting svix-server")?;
    children.push(server);

    let base = format!("http://{listen}/api/v1");
    let api = Client::new();
    let mut healthy = false;
    for _ in 0..400 {
        if let Ok(answer) = api.get(format!("{base}/health/")).send().await
            && answer.status().is_success()
        {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    ensure!(healthy, "svix-server did not become healthy on {listen}");
    let post = |path: &str, body: Value| {
        api.post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
    };
    let description = "A new order";
    let event_type = json!({ "name": EVENT_TYPE, "description": description });
    created(post("/event-type/", event_type)).await?;
    created(post("/app/", json!({ "name": SVIX_APP, "uid": SVIX_APP }))).await?;
    for url in subscribers {
        let secret = format!("whsec_{}", server::ids::random_id("", 32));
        let endpoint = json!({ "url": url, "eventTypes": [EVENT_TYPE], "secret": secret });
        created(post(&format!("/app/{SVIX_APP}/endpoint/"), endpoint)).await?;
    }
    Ok(Stack {
        publish_url: format!("{base}/app/{SVIX_APP}/msg/"),
        token,
        message: svix_message,
        children,
        hub: None,
        postgres: Some(postmaster),
        _dir: dir,
    })
}

/// The process id of the PostgreSQL server `conn` is connected to: the first line of
/// `postmaster.pid` in its data directory (the server is on this machine).
async fn postmaster(conn: &sea_orm::DatabaseConnection) -> anyhow::Result<u32> {
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT current_setting('data_directory') AS dir",
        ))
        .await?
        .context("no data directory")?;
    let dir: String = row.try_get("", "dir")?;
    let pid_file = Path::new(&dir).join("postmaster.pid");
    let text = std::fs::read_to_string(&pid_file)
        .with_context(|| format!("reading {}", pid_file.display()))?;
    let first = text.lines().next().unwrap_or_default();
    first
        .trim()
        .parse()
        .with_context(|| format!("{} begins {first:?}", pid_file.display()))
}

/// Sends a setup request, which must answer 201 (or 200, which Svix answers for some).
async fn created(request: reqwest::RequestBuilder) -> anyhow::Result<()> {
    let answer = request.send().await?;
    let status = answer.status();
    if !status.is_success() {
        bail!("{status}: {}", answer.text().await.unwrap_or_default());
    }
    Ok(())
}

/// A loopback address the system has just handed out and taken back: free in practice.
fn free_port() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

async fn wait_for_port(port: u16) -> anyhow::Result<()> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    bail!("nothing listens on 127.0.0.1:{port}")
}

fn print_run(round: usize, server: Server, f: &Figures) {
    println!(
        "round {} {:<8} accepted {:>6.0}/s (p99 {}); delivered {:>6.0}/s, publish → delivered \
         p50 {} p99 {}; steady p50 {} p99 {}; {} missing, {} duplicates; PSS {}; CPU {:.0} µs \
         per delivery",
        round + 1,
        server.name(),
        f.accepted_per_second,
        stats::micros(f.publish_p99_us),
        f.deliveries_per_second,
        stats::micros(f.burst_p50_us),
        stats::micros(f.burst_p99_us),
        stats::micros(f.steady_p50_us),
        stats::micros(f.steady_p99_us),
        f.missing,
        f.duplicates,
        stats::bytes(f.pss),
        f.cpu_us_per_delivery,
    );
}

/// Medians of the rounds, and hookhub against Svix.
fn summarize(rounds: &[HashMap<&'static str, Figures>]) {
    let median = |server: Server, figure: fn(&Figures) -> f64| {
        let values: Vec<f64> = rounds.iter().map(|r| figure(&r[server.name()])).collect();
        median_f64(&values)
    };
    type Row = (&'static str, fn(&Figures) -> f64, Shown, Better);
    let rows: [Row; 9] = [
        (
            "publish, accepted/s",
            |f| f.accepted_per_second,
            Shown::Rate,
            Better::Higher,
        ),
        (
            "publish answer p99",
            |f| f.publish_p99_us as f64,
            Shown::Micros,
            Better::Lower,
        ),
        (
            "deliveries/s (burst)",
            |f| f.deliveries_per_second,
            Shown::Rate,
            Better::Higher,
        ),
        (
            "publish → delivered p50 (burst)",
            |f| f.burst_p50_us as f64,
            Shown::Micros,
            Better::Lower,
        ),
        (
            "publish → delivered p99 (burst)",
            |f| f.burst_p99_us as f64,
            Shown::Micros,
            Better::Lower,
        ),
        (
            "publish → delivered p50 (steady)",
            |f| f.steady_p50_us as f64,
            Shown::Micros,
            Better::Lower,
        ),
        (
            "publish → delivered p99 (steady)",
            |f| f.steady_p99_us as f64,
            Shown::Micros,
            Better::Lower,
        ),
        (
            "memory, PSS of the stack",
            |f| f.pss as f64,
            Shown::Bytes,
            Better::Lower,
        ),
        (
            "CPU per delivery (burst)",
            |f| f.cpu_us_per_delivery,
            Shown::Micros,
            Better::Lower,
        ),
    ];
    println!();
    println!(
        "{:<34} {:>12} {:>12}   hookhub / Svix (medians of {} rounds)",
        "",
        "hookhub",
        "Svix",
        rounds.len()
    );
    for (name, figure, shown, better) in rows {
        let ours = median(Server::Hookhub, figure);
        let theirs = median(Server::Svix, figure);
        let ahead = match better {
            Better::Higher => ours > theirs,
            Better::Lower => ours < theirs,
        };
        println!(
            "{name:<34} {:>12} {:>12}   {:.2}{}",
            shown.format(ours),
            shown.format(theirs),
            ours / theirs.max(f64::MIN_POSITIVE),
            if ahead { "" } else { "  <-- Svix ahead" }
        );
    }
}

#[derive(Clone, Copy)]
enum Shown {
    Rate,
    Micros,
    Bytes,
}

impl Shown {
    fn format(self, value: f64) -> String {
        match self {
            Self::Rate => format!("{value:.0}/s"),
            Self::Micros => stats::micros(value as u64),
            Self::Bytes => stats::bytes(value as u64),
        }
    }
}

#[derive(Clone, Copy)]
enum Better {
    Higher,
    Lower,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svix_messages_carry_the_same_order_as_hookhub_messages() {
        let ours = send::message(7);
        let theirs = svix_message(7);
        assert_eq!(ours["payload"], theirs["payload"]);
        assert_eq!(theirs["eventType"], EVENT_TYPE);
        assert_eq!(ours["event_type"], EVENT_TYPE);
    }
}

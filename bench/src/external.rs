//! `wrk-ingest`: the receive path and publishing measured from outside, as an operator's load
//! would reach them. The release `hookhub` binary and the ceiling (`serve-ceiling`, this binary
//! again) each run in a process of their own, and `wrk`, a compiled load generator, sends them
//! signed 1 KiB GitHub deliveries with a unique delivery id each, and the hub 1 KiB messages to
//! publish. Rounds alternate the order; what was answered 2xx is counted in the databases
//! afterwards.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::sqlx::{self, ConnectOptions, Row};
use server::storage::Db;
use tokio::process::{Child, Command};

use crate::hub::Hub;
use crate::ingest::{self, SECRET};
use crate::stats::{count, median_f64};
use crate::{ServeCeilingArgs, WrkIngestArgs, ceiling, corpus, load, process, send, temp_dir};

/// Distinct signed bodies the script cycles through (only the delivery id is unique).
const BODIES: u64 = 64;

pub async fn serve_ceiling(args: ServeCeilingArgs) -> anyhow::Result<()> {
    let running = ceiling::start_on(
        args.listen,
        &args.database,
        args.secret.as_bytes(),
        ceiling::Extras::default(),
    )
    .await?;
    println!("listening on {}", running.addr);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    running.stop().await
}

/// A server's process and where it listens.
#[derive(Clone, Copy)]
struct Process {
    addr: SocketAddr,
    pid: u32,
}

/// One load on one server: where it goes, what it sends, where the acknowledged rows must be,
/// and what wrk saw.
struct Target {
    name: &'static str,
    process: Process,
    path: String,
    script: PathBuf,
    /// Its database, and the table whose rows are what it acknowledged.
    database: PathBuf,
    table: &'static str,
    rounds: Vec<Round>,
    /// 2xx answers over every run, warm-ups included: what must be in the database.
    acknowledged: u64,
    /// CPU ticks of the target's process while it was loaded, warm-ups included.
    ticks: u64,
}

impl Target {
    fn new(
        (name, process): (&'static str, Process),
        (path, script): (String, &Path),
        (database, table): (&Path, &'static str),
    ) -> Self {
        Self {
            name,
            process,
            path,
            script: script.to_path_buf(),
            database: database.to_path_buf(),
            table,
            rounds: Vec::new(),
            acknowledged: 0,
            ticks: 0,
        }
    }
}

struct Round {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
    errors: u64,
}

pub async fn run(args: WrkIngestArgs) -> anyhow::Result<()> {
    ensure!(
        args.hub_binary.exists(),
        "{} is missing: cargo build --release -p server",
        args.hub_binary.display()
    );
    let wrk = which("wrk").context("wrk is not installed (Debian: apt-get install wrk)")?;
    let dir = temp_dir(args.dir.as_ref())?;
    let github = dir.path().join("github.lua");
    std::fs::write(&github, github_script())?;

    let hub_db = dir.path().join("hub.db");
    let source = ingest::github_source(&Db::open(&hub_db).await?).await?;
    let key = server::commands::create_key(Hub::config(&hub_db)?, "bench".into()).await?;
    let publish = dir.path().join("publish.lua");
    std::fs::write(&publish, publish_script(&key))?;
    let hub = Hub::spawn(
        &args.hub_binary,
        dir.path(),
        &hub_db.to_string_lossy(),
        &[],
        &dir.path().join("hub.log"),
    )
    .await?;
    let ceiling_db = dir.path().join("ceiling.db");
    let (ceiling_process, ceiling_addr) = spawn_ceiling(&ceiling_db, dir.path()).await?;
    let ceiling_pid = ceiling_process.id().context("the ceiling exited at once")?;

    let created = reqwest::Client::new()
        .post(hub.url("/api/v1/event-types"))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "name": send::EVENT_TYPE }))
        .send()
        .await?;
    ensure!(
        created.status().is_success(),
        "creating the event type answered {}",
        created.status()
    );
    let ceiling = Process {
        addr: ceiling_addr,
        pid: ceiling_pid,
    };
    let hub_process = Process {
        addr: hub.addr,
        pid: hub.pid().context("the hub's process id")?,
    };
    let mut targets = [
        Target::new(
            ("ceiling", ceiling),
            (format!("/hooks/{}", ceiling::SOURCE_ID), &github),
            (&ceiling_db, "events"),
        ),
        Target::new(
            ("hub", hub_process),
            (format!("/hooks/{}", source.id), &github),
            (&hub_db, "events"),
        ),
        Target::new(
            ("publish", hub_process),
            ("/api/v1/messages".into(), &publish),
            (&hub_db, "messages"),
        ),
    ];
    println!(
        "hookhub-bench wrk-ingest: wrk {} thread(s), {} connections, {} B signed GitHub push \
         deliveries with a unique delivery id each, {} s warm-up + {} s measured per target and \
         round, {} round(s); hub {} and ceiling in processes of their own; load average {}",
        args.threads,
        args.connections,
        load::BODY_BYTES,
        args.warmup,
        args.duration,
        args.rounds,
        args.hub_binary.display(),
        process::load_average().unwrap_or_default(),
    );
    for round in 0..args.rounds {
        let order = if round % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
        for i in order {
            let target = &mut targets[i];
            let before = process::process_ticks(target.process.pid).unwrap_or(0);
            let label = format!("r{round}");
            if args.warmup > 0.0 {
                let warm = wrk_run(&wrk, &args, target, args.warmup, &format!("{label}w")).await?;
                target.acknowledged += warm.acknowledged;
            }
            let measured = wrk_run(&wrk, &args, target, args.duration, &label).await?;
            target.acknowledged += measured.acknowledged;
            target.ticks += process::process_ticks(target.process.pid).unwrap_or(0) - before;
            println!(
                "round {} {:<8} {:>8}/s  p50 {:>6.2} ms  p99 {:>6.2} ms  non-2xx {}  errors {}",
                round + 1,
                target.name,
                count(measured.round.per_second as u64),
                measured.round.p50_ms,
                measured.round.p99_ms,
                measured.round.non_2xx,
                measured.round.errors,
            );
            target.rounds.push(measured.round);
        }
    }
    let memory = process::memory(hub.pid());
    hub.stop().await?;
    stop(ceiling_process).await?;

    println!();
    println!(
        "{:<8} {:>12} {:>10} {:>10} {:>8} {:>7} {:>14} {:>12}",
        "target", "accepted/s", "p50 ms", "p99 ms", "non-2xx", "errors", "CPU ms/1000", "durable"
    );
    let mut medians = [0.0; 3];
    for (i, target) in targets.iter().enumerate() {
        let stored = stored_rows(&target.database, target.table).await?;
        let rounds = &target.rounds;
        let column = |f: fn(&Round) -> f64| median_f64(&rounds.iter().map(f).collect::<Vec<_>>());
        medians[i] = column(|r| r.per_second);
        let cpu_ms =
            process::seconds(target.ticks) * 1000.0 / (target.acknowledged.max(1) as f64 / 1000.0);
        println!(
            "{:<8} {:>12} {:>10.2} {:>10.2} {:>8} {:>7} {:>14.0} {:>12}",
            target.name,
            count(medians[i] as u64),
            column(|r| r.p50_ms),
            column(|r| r.p99_ms),
            rounds.iter().map(|r| r.non_2xx).sum::<u64>(),
            rounds.iter().map(|r| r.errors).sum::<u64>(),
            cpu_ms,
            durable(stored, target.acknowledged),
        );
    }
    println!(
        "\nhub / ceiling: {:.0} %, publish / hub: {:.0} % (medians of {} rounds; the targets \
         are at least 75 % each)",
        100.0 * medians[1] / medians[0],
        100.0 * medians[2] / medians[1],
        args.rounds
    );
    if let Some(memory) = memory {
        println!(
            "hub memory at the end: RSS {}, peak {}",
            crate::stats::bytes(memory.rss),
            crate::stats::bytes(memory.peak)
        );
    }
    Ok(())
}

/// "N/N": every delivery id answered 2xx is unique, so at least that many rows must be stored
/// (requests wrk cut off when its time was up may have been stored unanswered).
fn durable(stored: u64, acknowledged: u64) -> String {
    if stored >= acknowledged {
        format!("{acknowledged}/{acknowledged}")
    } else {
        format!("LOST {}", acknowledged - stored)
    }
}

async fn stored_rows(database: &Path, table: &str) -> anyhow::Result<u64> {
    let mut conn = SqliteConnectOptions::new()
        .filename(database)
        .read_only(true)
        .connect()
        .await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(&mut conn)
        .await?;
    Ok(u64::try_from(row.try_get::<i64, _>(0)?)?)
}

struct Run {
    round: Round,
    acknowledged: u64,
}

async fn wrk_run(
    wrk: &Path,
    args: &WrkIngestArgs,
    target: &Target,
    seconds: f64,
    label: &str,
) -> anyhow::Result<Run> {
    let url = format!("http://{}{}", target.process.addr, target.path);
    let output = Command::new(wrk)
        .arg(format!("--threads={}", args.threads))
        .arg(format!("--connections={}", args.connections))
        .arg(format!("--duration={}s", seconds.ceil() as u64))
        .arg("--timeout=10s")
        .arg("--latency")
        .arg(format!("--script={}", target.script.display()))
        .arg(&url)
        .arg("--")
        .arg(format!("{}-{label}", target.name))
        .output()
        .await
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "wrk failed: {}{}",
        text,
        String::from_utf8_lossy(&output.stderr)
    );
    parse_wrk(&text).with_context(|| format!("reading wrk's report:\n{text}"))
}

/// The figures of wrk's report (`--latency`): requests, rate, percentiles, failures.
fn parse_wrk(text: &str) -> anyhow::Result<Run> {
    let mut requests = None;
    let mut per_second = None;
    let (mut p50, mut p99) = (None, None);
    let (mut non_2xx, mut errors) = (0, 0);
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            per_second = Some(rest.trim().parse::<f64>()?);
        } else if let Some(rest) = line.strip_prefix("50%") {
            p50 = Some(millis(rest.trim())?);
        } else if let Some(rest) = line.strip_prefix("99%") {
            p99 = Some(millis(rest.trim())?);
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            non_2xx = rest.trim().parse()?;
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            errors = rest
                .split(',')
                .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum();
        } else if line.contains(" requests in ") {
            requests = line.split_whitespace().next().map(str::parse::<u64>);
        }
    }
    let requests = requests.context("no request count")??;
    Ok(Run {
        round: Round {
            per_second: per_second.context("no Requests/sec")?,
            p50_ms: p50.context("no 50% line")?,
            p99_ms: p99.context("no 99% line")?,
            non_2xx,
            errors,
        },
        acknowledged: requests.saturating_sub(non_2xx),
    })
}

/// wrk's durations: `812.00us`, `1.23ms`, `2.01s`.
fn millis(text: &str) -> anyhow::Result<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        bail!("not a duration: {text}")
    };
    Ok(number.parse::<f64>()? * factor)
}

/// The wrk script: `BODIES` signed bodies, and a delivery id made of the run's label, the
/// thread and a counter, so no two requests of the whole bench share one.
fn github_script() -> String {
    let mut script = String::from("local bodies = {\n");
    for i in 0..BODIES {
        let body = corpus::github_push(i, load::BODY_BYTES);
        let signature = corpus::github_signature(SECRET.as_bytes(), &body);
        let body = String::from_utf8(body).expect("the corpus writes JSON");
        let _ = writeln!(script, "  {{ [==[{body}]==], \"{signature}\" }},");
    }
    script.push_str(
        r#"}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end
local prefix = ""
local n = 0
function init(args)
  prefix = args[1] .. "-" .. thread_no .. "-"
end
function request()
  n = n + 1
  local signed = bodies[(n % #bodies) + 1]
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "GitHub-Hookshot/bench",
    ["X-GitHub-Event"] = "push",
    ["X-GitHub-Delivery"] = prefix .. n,
    ["X-Hub-Signature-256"] = signed[2],
  }, signed[1])
end
"#,
    );
    script
}

/// The wrk script for `POST /api/v1/messages`: a 1 KiB order, published with an API key.
fn publish_script(key: &str) -> String {
    let mut payload = send::order(0);
    let filler = load::BODY_BYTES.saturating_sub(payload.to_string().len() + 60);
    payload["note"] = "x".repeat(filler).into();
    let body = serde_json::json!({ "event_type": send::EVENT_TYPE, "payload": payload });
    format!(
        r#"local body = [==[{body}]==]
function request()
  return wrk.format("POST", nil, {{
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer {key}",
  }}, body)
end
"#
    )
}

async fn spawn_ceiling(database: &Path, dir: &Path) -> anyhow::Result<(Child, SocketAddr)> {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let log = std::fs::File::create(dir.join("ceiling.log"))?;
    let child = Command::new(std::env::current_exe()?)
        .arg("serve-ceiling")
        .arg(format!("--listen={addr}"))
        .arg(format!("--database={}", database.display()))
        .arg(format!("--secret={SECRET}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("starting the ceiling")?;
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok((child, addr));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    bail!("the ceiling did not start listening on {addr}")
}

async fn stop(mut child: Child) -> anyhow::Result<()> {
    let pid = child.id().context("the ceiling exited during the run")?;
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await?;
    let status = child.wait().await?;
    ensure!(status.success(), "the ceiling exited with {status}");
    Ok(())
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_string_lossy()
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let report = "Running 10s test @ http://127.0.0.1:1/hooks/x
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  812.00us  20.00ms   90.00%
  Latency Distribution
     50%  812.00us
     75%    2.50ms
     90%    3.00ms
     99%    1.20s
  123456 requests in 10.00s, 20.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  12345.60
Transfer/sec:      2.00MB
";
        let run = parse_wrk(report).unwrap();
        assert_eq!(run.acknowledged, 123_449);
        assert_eq!(run.round.non_2xx, 7);
        assert_eq!(run.round.errors, 5);
        assert!((run.round.per_second - 12_345.6).abs() < 1e-6);
        assert!((run.round.p50_ms - 0.812).abs() < 1e-9);
        assert!((run.round.p99_ms - 1200.0).abs() < 1e-9);
    }
}

//! `soak`: mixed load at fixed, modest rates for a set time, to see whether the hub stays
//! stable rather than how fast it can go. Signed GitHub deliveries to a source, messages
//! published to local subscribers and a logged-in person browsing the dashboard, all at once
//! against one hub and one database. Every interval it prints throughput, p99 latencies, the
//! process's memory and the database's size; at the end, how memory and the database grew.
//!
//! The load is open-loop: requests start on a fixed clock whatever the answers do, so a stall
//! shows as latency and as requests in flight rather than as a quietly lower rate. In-flight
//! requests of each kind are capped, and a tick that finds the cap reached is counted as shed.
//! The load and the subscribers run on a runtime and thread of their own and keep only
//! per-interval state, so the bench's own memory stays flat and RSS growth is the hub's.

mod report;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use reqwest::header::{CONTENT_TYPE, USER_AGENT};
use reqwest::{Client, RequestBuilder, StatusCode, redirect};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{Value, json};
use server::receiving::sources::{self, SourceRequest};
use server::storage::{Db, deliveries};
use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use self::report::{COLUMNS, Row, Summary, print_failures, print_row, summary};
use crate::corpus::{self, COMMON_WORD};
use crate::hub::Hub;
use crate::stats::{self, percentile};
use crate::{SoakArgs, browse, load, process, send, subscribers, temp_dir};

const SECRET: &str = "bench: It's a Secret to Everybody";
/// Distinct pre-signed bodies the ingest load cycles through.
const BODIES: usize = 256;
/// Requests of one kind in flight at once; a tick that finds this many is shed.
const MAX_IN_FLIGHT: usize = 500;
/// Longest one request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const MIB: f64 = 1024.0 * 1024.0;
/// The subscribers' addresses, which the hub's outbound guard must let through.
const LOOPBACK: &str = "127.0.0.0/8";

/// The dashboard pages the browsing person visits, in turn.
#[derive(Clone, Copy)]
enum Page {
    Events,
    Search,
    Deliveries,
    Delivery,
}

const PAGES: [Page; 4] = [Page::Events, Page::Search, Page::Deliveries, Page::Delivery];

impl Page {
    fn label(self) -> String {
        match self {
            Page::Events => "/events".into(),
            Page::Search => format!("/events?q={COMMON_WORD}"),
            Page::Deliveries => "/deliveries".into(),
            Page::Delivery => "/deliveries/{id}".into(),
        }
    }
}

#[derive(Clone, Copy)]
enum Load {
    Ingest,
    Publish,
    Page(usize),
}

/// What one kind of request did in the current interval.
#[derive(Default)]
struct Tally {
    ok: u64,
    latencies_us: Vec<u64>,
    failed: u64,
    shed: u64,
    first_failure: Option<String>,
}

impl Tally {
    fn record(&mut self, outcome: Result<Duration, String>) {
        match outcome {
            Ok(took) => {
                self.ok += 1;
                self.latencies_us.push(took.as_micros() as u64);
            }
            Err(failure) => {
                self.failed += 1;
                self.first_failure.get_or_insert(failure);
            }
        }
    }

    fn p99(&mut self) -> Option<u64> {
        (!self.latencies_us.is_empty()).then(|| percentile(&mut self.latencies_us, 99.0))
    }

    fn lost(&self) -> u64 {
        self.failed + self.shed
    }
}

/// The current interval's tallies; the reporter takes it and leaves an empty one.
#[derive(Default)]
struct Window {
    ingest: Tally,
    publish: Tally,
    pages: [Tally; PAGES.len()],
}

impl Window {
    fn tally(&mut self, load: Load) -> &mut Tally {
        match load {
            Load::Ingest => &mut self.ingest,
            Load::Publish => &mut self.publish,
            Load::Page(i) => &mut self.pages[i],
        }
    }
}

type Shared = Arc<Mutex<Window>>;

/// Counts over the whole run.
#[derive(Default)]
struct Totals {
    ingest: [u64; 3],
    publish: [u64; 3],
    pages: [u64; 3],
}

impl Totals {
    fn add(&mut self, window: &Window) {
        let add = |sum: &mut [u64; 3], t: &Tally| {
            sum[0] += t.ok;
            sum[1] += t.failed;
            sum[2] += t.shed;
        };
        add(&mut self.ingest, &window.ingest);
        add(&mut self.publish, &window.publish);
        for page in &window.pages {
            add(&mut self.pages, page);
        }
    }
}

pub async fn run(args: SoakArgs) -> anyhow::Result<()> {
    ensure!(args.duration >= 1.0, "--duration must be at least 1 s");
    ensure!(args.interval >= 1.0, "--interval must be at least 1 s");
    ensure!(
        args.ingest_rate > 0.0 && args.publish_rate > 0.0 && args.browse_rate > 0.0,
        "rates must be positive"
    );
    ensure!(args.subscribers > 0, "--subscribers must be at least 1");
    crate::outside(|outside| soak(args, outside)).await
}

async fn soak(args: SoakArgs, outside: Handle) -> anyhow::Result<()> {
    let load_at_start = process::load_average();
    let dir = temp_dir(args.dir.as_ref())?;
    let path = dir.path().join("hub.db");
    // The bench's own handle on the database: the source is made through it, and the reporter
    // reads the pending deliveries and the search backlog through its read pool.
    let db = Db::open(&path).await?;
    let source = sources::create(
        &db,
        SourceRequest {
            name: "soak".into(),
            provider: "github".into(),
            secret: Some(SECRET.into()),
            settings: Default::default(),
        },
    )
    .await?;
    let mut config = Hub::config(&path)?;
    config.outbound_allow = LOOPBACK.parse()?;
    server::commands::create_user(
        config.clone(),
        browse::USERNAME.into(),
        browse::PASSWORD.into(),
        true,
    )
    .await?;
    let key = server::commands::create_key(config.clone(), "bench".into()).await?;
    let hub = match &args.hub_binary {
        Some(binary) => {
            let settings = [("HOOKHUB_OUTBOUND_ALLOW", LOOPBACK)];
            let database = path.to_string_lossy();
            let log = dir.path().join("hub.log");
            Hub::spawn(binary, dir.path(), &database, &settings, &log).await?
        }
        None => Hub::start(config).await?,
    };

    let stop_subscribers = CancellationToken::new();
    let (subscribers, arrived) = count_arrivals(&outside, stop_subscribers.clone()).await?;
    let api = Client::builder()
        .redirect(redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .pool_idle_timeout(browse::IDLE)
        .build()?;
    let call =
        |path: &str, body: Value| api.post(hub.url(path)).bearer_auth(&key).json(&body).send();
    let created = call("/api/v1/event-types", json!({ "name": send::EVENT_TYPE })).await?;
    ensure!(
        created.status() == StatusCode::CREATED,
        "creating the event type answered {}",
        created.status()
    );
    for n in 0..args.subscribers {
        let url = format!("http://{subscribers}/ok/{n}");
        let body = json!({ "url": url, "event_types": [send::EVENT_TYPE] });
        let created = call("/api/v1/subscriptions", body).await?;
        let status = created.status();
        ensure!(
            status == StatusCode::CREATED,
            "subscribing {url} answered {status}: {}",
            created.text().await.unwrap_or_default()
        );
    }
    let session = browse::log_in(&hub).await?;

    println!(
        "hookhub-bench soak: {} s of mixed load against one hub: {}/s signed GitHub push \
         deliveries ({} B), {}/s messages published to {} subscribers ({}/s deliveries), one \
         logged-in person browsing {}/s ({}); a row every {} s; database in {}; load average \
         {}",
        args.duration,
        args.ingest_rate,
        load::BODY_BYTES,
        args.publish_rate,
        args.subscribers,
        args.publish_rate * args.subscribers as f64,
        args.browse_rate,
        PAGES.map(Page::label).join(", "),
        args.interval,
        dir.path().display(),
        load_at_start.as_deref().unwrap_or("unknown"),
    );
    match hub.pid() {
        Some(pid) => println!("RSS is the VmRSS of the hub alone, process {pid}."),
        None => println!(
            "RSS is this process's VmRSS: the hub plus the load generator and subscribers, whose \
             own state does not grow. Heap is what the program holds allocated (jemalloc's \
             count, SQLite's included)."
        ),
    }
    println!(
        "Anon is the part of RSS that is the process's own memory (RssAnon); the rest is the \
         binary's code and other files mapped from disk. DB is the SQLite file plus its WAL."
    );
    println!();
    print_row(COLUMNS.map(|(heading, _)| heading.to_owned()));

    let window: Shared = Arc::default();
    let stop = CancellationToken::new();
    let db_at_start = db.size_bytes().await;
    let rss_at_start = process::memory(hub.pid()).map(|m| m.rss);
    let began = Instant::now();
    let mut load = Vec::new();
    {
        let client = api.clone();
        let url = hub.url(&format!("/hooks/{}", source.id));
        let bodies: Arc<[(Bytes, String)]> = (0..BODIES)
            .map(|i| {
                let body = corpus::github_push(i as u64, load::BODY_BYTES);
                let signature = corpus::github_signature(SECRET.as_bytes(), &body);
                (Bytes::from(body), signature)
            })
            .collect();
        load.push(outside.spawn(at_rate(
            args.ingest_rate,
            stop.clone(),
            window.clone(),
            Load::Ingest,
            move |n| {
                let (body, signature) = bodies[n as usize % bodies.len()].clone();
                let request = client
                    .post(&url)
                    .header(CONTENT_TYPE, "application/json")
                    .header(USER_AGENT, "GitHub-Hookshot/bench")
                    .header("x-github-event", "push")
                    .header("x-github-delivery", format!("soak-{n}"))
                    .header("x-hub-signature-256", signature)
                    .body(body);
                async move { answered(request).await.map(drop) }
            },
        )));
    }
    {
        let (client, url, key) = (api.clone(), hub.url("/api/v1/messages"), key.clone());
        load.push(outside.spawn(at_rate(
            args.publish_rate,
            stop.clone(),
            window.clone(),
            Load::Publish,
            move |n| {
                let body =
                    json!({ "event_type": send::EVENT_TYPE, "payload": send::order(n as usize) });
                let request = client.post(&url).bearer_auth(&key).json(&body);
                async move { answered(request).await.map(drop) }
            },
        )));
    }
    load.push(outside.spawn(browse_pages(
        hub.url(""),
        session,
        args.browse_rate,
        stop.clone(),
        window.clone(),
    )));

    let interval = Duration::from_secs_f64(args.interval);
    let duration = Duration::from_secs_f64(args.duration);
    let mut rows: Vec<Row> = Vec::new();
    let mut totals = Totals::default();
    let mut last = began;
    let mut last_arrived = 0;
    let mut next = began;
    // Ctrl-C or SIGTERM ends the run early, with its summary and the hub stopped.
    let asked_to_stop = server::stop_signal();
    tokio::pin!(asked_to_stop);
    let mut stopping = false;
    while next < began + duration && !stopping {
        next = (next + interval).min(began + duration);
        tokio::select! {
            () = tokio::time::sleep_until(next.into()) => {}
            () = &mut asked_to_stop => {
                println!("asked to stop: ending the run early");
                stopping = true;
            }
        }
        let now = Instant::now();
        let mut taken = std::mem::take(&mut *lock(&window));
        totals.add(&taken);
        let seconds = now.duration_since(last).as_secs_f64();
        last = now;
        let arrived_now = arrived.load(Ordering::Relaxed);
        let delivered = arrived_now - last_arrived;
        last_arrived = arrived_now;
        let memory = process::memory(hub.pid());
        let db_bytes = db.size_bytes().await;
        let (pending, unindexed) = backlog(&db).await;
        let pages_ok: u64 = taken.pages.iter().map(|t| t.ok).sum();
        let mut page_latencies: Vec<u64> = taken
            .pages
            .iter()
            .flat_map(|t| t.latencies_us.iter().copied())
            .collect();
        let lost = taken.ingest.lost()
            + taken.publish.lost()
            + taken.pages.iter().map(Tally::lost).sum::<u64>();
        let row = Row {
            elapsed: now.duration_since(began),
            rss: memory.as_ref().map(|m| m.rss),
            anon: memory.as_ref().map(|m| m.anon),
            heap: memory.and_then(|m| m.heap),
            ingest_p99: taken.ingest.p99(),
            publish_p99: taken.publish.p99(),
            page_p99: std::array::from_fn(|i| taken.pages[i].p99()),
        };
        let optional = |us: Option<u64>| us.map_or("-".into(), stats::micros);
        print_row([
            format!("{} s", row.elapsed.as_secs_f64().round()),
            format!("{:.1}", taken.ingest.ok as f64 / seconds),
            optional(row.ingest_p99),
            format!("{:.1}", taken.publish.ok as f64 / seconds),
            optional(row.publish_p99),
            format!("{:.1}", delivered as f64 / seconds),
            format!("{:.1}", pages_ok as f64 / seconds),
            optional((!page_latencies.is_empty()).then(|| percentile(&mut page_latencies, 99.0))),
            row.rss.map_or("-".into(), stats::bytes),
            row.anon.map_or("-".into(), stats::bytes),
            row.heap.map_or("-".into(), stats::bytes),
            stats::bytes(db_bytes),
            pending.map_or("-".into(), stats::count),
            unindexed.map_or("-".into(), stats::count),
            lost.to_string(),
        ]);
        print_failures(&taken);
        rows.push(row);
    }

    // Let what is in flight finish, then see whether the hub catches up with the deliveries.
    stop.cancel();
    for task in load {
        tokio::time::timeout(REQUEST_TIMEOUT + Duration::from_secs(5), task)
            .await
            .context("the load did not stop")?
            .context("the load")?;
    }
    let taken = std::mem::take(&mut *lock(&window));
    totals.add(&taken);
    print_failures(&taken);
    let stopped = Instant::now();
    let drain = Duration::from_secs_f64(args.drain);
    let expected = totals.publish[0] * args.subscribers as u64;
    let drained = loop {
        let (pending, _) = backlog(&db).await;
        if pending == Some(0) && arrived.load(Ordering::Relaxed) >= expected {
            break Some(stopped.elapsed());
        }
        if stopped.elapsed() >= drain {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (pending_at_end, _) = backlog(&db).await;
    let db_at_end = db.size_bytes().await;
    let memory_at_end = process::memory(hub.pid());
    let measured = if hub.pid().is_some() {
        "the hub's process alone"
    } else {
        "the whole process: hub, load generator, subscribers"
    };

    tokio::time::timeout(Duration::from_secs(10), hub.stop())
        .await
        .context("the hub did not stop within 10 s")??;
    stop_subscribers.cancel();

    summary(Summary {
        args: &args,
        rows: &rows,
        totals: &totals,
        arrived: arrived.load(Ordering::Relaxed),
        expected,
        drained,
        pending_at_end,
        db_at_start,
        db_at_end,
        rss_at_start,
        peak: memory_at_end.map(|m| m.peak),
        measured,
        load_at_start,
    });
    Ok(())
}

/// Starts `request(n)` `rate` times a second until `stop`, at most [`MAX_IN_FLIGHT`] at once,
/// and records how each went; then waits for those still in flight.
async fn at_rate<F, Fut>(
    rate: f64,
    stop: CancellationToken,
    window: Shared,
    load: Load,
    mut request: F,
) where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    // A late tick is made up for, so the rate holds on average.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut in_flight = JoinSet::new();
    let mut n = 0;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ticks.tick() => {}
        }
        while in_flight.try_join_next().is_some() {}
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            lock(&window).tally(load).shed += 1;
            continue;
        };
        n += 1;
        let (answer, window) = (request(n), window.clone());
        in_flight.spawn(async move {
            let sent = Instant::now();
            let outcome = timed(answer).await.map(|()| sent.elapsed());
            drop(slot);
            lock(&window).tally(load).record(outcome);
        });
    }
    while in_flight.join_next().await.is_some() {}
}

/// One person on the dashboard: the pages in turn, one request at a time, `rate` a second (or
/// slower when pages take longer). The delivery page shows the newest delivery the deliveries
/// page listed.
async fn browse_pages(
    base: String,
    session: Client,
    rate: f64,
    stop: CancellationToken,
    window: Shared,
) {
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut delivery: Option<String> = None;
    for turn in 0.. {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ticks.tick() => {}
        }
        let index = turn % PAGES.len();
        let path = match PAGES[index] {
            Page::Delivery => match &delivery {
                Some(id) => format!("/deliveries/{id}"),
                None => continue,
            },
            page => page.label(),
        };
        let sent = Instant::now();
        let outcome = timed(answered(session.get(format!("{base}{path}")))).await;
        let took = sent.elapsed();
        if let (Page::Deliveries, Ok(page)) = (PAGES[index], &outcome) {
            delivery = newest_delivery(page).or(delivery);
        }
        lock(&window)
            .tally(Load::Page(index))
            .record(outcome.map(|_| took));
    }
}

/// The first delivery a deliveries page links to: the newest.
fn newest_delivery(page: &[u8]) -> Option<String> {
    let page = std::str::from_utf8(page).ok()?;
    let (_, rest) = page.split_once("href=\"/deliveries/")?;
    let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!id.is_empty()).then_some(id)
}

/// The answer's body when it is 2xx, else what went wrong.
async fn answered(request: RequestBuilder) -> Result<Bytes, String> {
    let response = request.send().await.map_err(with_causes)?;
    let status = response.status();
    let body = response.bytes().await.map_err(with_causes)?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(format!(
            "answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ))
    }
}

/// reqwest's message with the causes it leaves out ("error sending request for url (…)" says
/// nothing of why).
fn with_causes(error: reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

async fn timed<T>(answer: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::time::timeout(REQUEST_TIMEOUT, answer)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())))
}

/// Subscribers that answer 200 at once and only count what arrives, retries included:
/// recording each arrival, as `send`'s subscribers do, would grow the bench's memory over a
/// long run and blur the hub's.
async fn count_arrivals(
    on: &Handle,
    stop: CancellationToken,
) -> anyhow::Result<(SocketAddr, Arc<AtomicU64>)> {
    let arrived = Arc::new(AtomicU64::new(0));
    let app = Router::new()
        .route("/ok/{n}", post(arrival))
        .with_state(arrived.clone());
    let addr = subscribers::serve_on(on, app, stop).await?;
    Ok((addr, arrived))
}

async fn arrival(State(arrived): State<Arc<AtomicU64>>, _body: Bytes) -> StatusCode {
    arrived.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

/// Deliveries still pending, and events not yet in the search index (`None` where this build
/// cannot say).
async fn backlog(db: &Db) -> (Option<u64>, Option<u64>) {
    let pending = deliveries::backlog(db, None)
        .await
        .ok()
        .map(|(pending, _)| pending);
    let unindexed = db
        .read()
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT (SELECT coalesce(max(id), 0) FROM events) \
               - (SELECT last_event_id FROM search_progress WHERE id = 1) AS unindexed",
        ))
        .await
        .ok()
        .flatten()
        .and_then(|row| row.try_get::<i64>("", "unindexed").ok())
        .map(|n| n.max(0) as u64);
    (pending, unindexed)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_newest_delivery_on_the_deliveries_page() {
        let page = br#"<td class="when"><a href="/deliveries/4711">now</a></td>
            <td class="when"><a href="/deliveries/4710">before</a></td>"#;
        assert_eq!(newest_delivery(page).as_deref(), Some("4711"));
        assert_eq!(newest_delivery(b"<p>No deliveries yet.</p>"), None);
    }
}

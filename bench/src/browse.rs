//! `browse`: the events page and search as the stored history grows. The database is filled
//! through the server's own insert path (`storage::events::insert`, from many tasks at once so
//! the writer commits them in groups), so whatever the hub maintains alongside events stays in
//! step. At each step the hub answers one request at a time over loopback; the time from
//! sending to the last byte received is the server's time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use reqwest::{Client, StatusCode, redirect};
use server::ids::SourceId;
use server::receiving::sources::{self, SourceRequest};
use server::storage::Db;
use server::storage::columns::JsonText;
use server::storage::events::{self, NewEvent};
use server::storage::search;
use server_fn::ServerFn;
use tokio::task::JoinSet;

use crate::corpus::{self, ABSENT_WORD, BROWSE_SOURCES, COMMON_WORD, RARE_WORD};
use crate::hub::Hub;
use crate::stats::{self, percentile};
use crate::{BrowseArgs, temp_dir};

pub const USERNAME: &str = "bench";
pub const PASSWORD: &str = "bench password, long enough";
/// Requests before timing starts at each step (first-touch of pages and caches).
const WARMUP_REQUESTS: usize = 3;
const MIN_SAMPLES: usize = 5;
/// Which of [`BROWSE_SOURCES`] each event belongs to, out of 20: mostly the first, a few the
/// last (the one the filter measurement asks for).
const SOURCE_SHARES: [usize; 4] = [10, 6, 3, 1];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Page,
    Search,
}

struct Query {
    label: &'static str,
    path: String,
    /// Dashboard pages need the session cookie; the API needs the key.
    api: bool,
    kind: Kind,
}

struct Sample {
    step: u64,
    label: &'static str,
    kind: Kind,
    p50: u64,
    p95: u64,
    n: usize,
    hits: Option<usize>,
}

pub async fn run(args: BrowseArgs) -> anyhow::Result<()> {
    let mut steps: Vec<u64> = args.steps.clone();
    steps.sort_unstable();
    steps.dedup();
    if let Some(max) = args.max {
        steps.retain(|s| *s <= max);
        if steps.is_empty() {
            steps.push(max);
        }
    }
    ensure!(
        steps.iter().all(|s| *s > 0),
        "steps must be positive counts"
    );
    let dir = temp_dir(args.dir.as_ref())?;
    let path = dir.path().join("hub.db");
    let config = Hub::config(&path)?;

    let db = Db::open(&path).await?;
    let mut source_ids = Vec::new();
    for (name, provider, _) in BROWSE_SOURCES {
        let mut settings = serde_json::Map::new();
        if *provider == "pusher" {
            settings.insert("key".into(), "bench".into());
        }
        let source = sources::create(
            &db,
            SourceRequest {
                name: (*name).into(),
                provider: (*provider).into(),
                secret: None,
                settings,
            },
        )
        .await?;
        source_ids.push(source.id);
    }
    server::commands::create_user(config.clone(), USERNAME.into(), PASSWORD.into(), true).await?;
    let key = server::commands::create_key(config.clone(), "bench".into()).await?;
    let hub = Hub::start(config).await?;
    let session = log_in(&hub).await?;
    let api = Client::builder()
        .redirect(redirect::Policy::none())
        .build()?;

    println!(
        "hookhub-bench browse: steps {}, {} sources, ~1 KiB JSON bodies, `{RARE_WORD}` in about \
         1 body in {}, database in {}",
        steps
            .iter()
            .map(|s| stats::count(*s))
            .collect::<Vec<_>>()
            .join(" → "),
        source_ids.len(),
        corpus::RARE_EVERY,
        dir.path().display()
    );

    let filtered_source = source_ids.last().expect("sources were made").clone();
    let queries = [
        Query {
            label: "events page",
            path: "/events".into(),
            api: false,
            kind: Kind::Page,
        },
        Query {
            label: "events page, one source",
            path: format!("/events?source={filtered_source}"),
            api: false,
            kind: Kind::Page,
        },
        Query {
            label: "API events list",
            path: "/api/v1/events".into(),
            api: true,
            kind: Kind::Page,
        },
        Query {
            label: "events page, q=rare word",
            path: format!("/events?q={RARE_WORD}"),
            api: false,
            kind: Kind::Search,
        },
        Query {
            label: "API q=rare word",
            path: format!("/api/v1/events?q={RARE_WORD}"),
            api: true,
            kind: Kind::Search,
        },
        Query {
            label: "API q=common word",
            path: format!("/api/v1/events?q={COMMON_WORD}"),
            api: true,
            kind: Kind::Search,
        },
    ];

    let mut stored = 0;
    let mut results: Vec<Sample> = Vec::new();
    let mut search = None;
    for step in steps {
        let began = Instant::now();
        populate(&db, &source_ids, stored, step, args.insert_tasks).await?;
        let took = began.elapsed();
        println!();
        println!(
            "{} events: added {} in {:.1} s ({:.0} inserts/s through storage::events::insert); \
             database {}",
            stats::count(step),
            stats::count(step - stored),
            took.as_secs_f64(),
            (step - stored) as f64 / took.as_secs_f64(),
            stats::bytes(db.size_bytes().await),
        );
        stored = step;
        let search = match search {
            Some(support) => support,
            None => {
                let support = search_support(&hub, &session, &api, &key).await?;
                search = Some(support);
                support
            }
        };

        println!(
            "  {:<26} {:>9} {:>9} {:>5} {:>6}",
            "query", "p50", "p95", "n", "hits"
        );
        for query in &queries {
            if query.kind == Kind::Search {
                let supported = if query.api { search.api } else { search.page };
                if !supported {
                    println!("  {:<26} q not supported by this build", query.label);
                    continue;
                }
            }
            let client = if query.api { &api } else { &session };
            let token = query.api.then_some(key.as_str());
            let (mut times, hits) =
                sample(&hub, client, token, query, args.samples, args.budget).await?;
            let p50 = percentile(&mut times, 50.0);
            let p95 = percentile(&mut times, 95.0);
            println!(
                "  {:<26} {:>9} {:>9} {:>5} {:>6}",
                query.label,
                stats::micros(p50),
                stats::micros(p95),
                times.len(),
                hits.map(|h| h.to_string()).unwrap_or_default()
            );
            results.push(Sample {
                step,
                label: query.label,
                kind: query.kind,
                p50,
                p95,
                n: times.len(),
                hits,
            });
        }
    }

    summary(&results);
    hub.stop().await?;
    Ok(())
}

/// Adds events number `from` up to `to`, from `tasks` concurrent inserters.
async fn populate(
    db: &Db,
    source_ids: &[SourceId],
    from: u64,
    to: u64,
    tasks: usize,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicU64::new(from));
    let source_ids: Arc<[SourceId]> = source_ids.into();
    // Spread over the past: one event a second, the newest about now.
    let base = server::storage::now_millis() - to as i64 * 1000;
    let mut set = JoinSet::new();
    for _ in 0..tasks.max(1) {
        let (db, next, source_ids) = (db.clone(), next.clone(), source_ids.clone());
        set.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= to {
                    return anyhow::Ok(());
                }
                let source = source_for(n);
                let event = corpus::browse_event(n, source);
                let content_type = if source == 2 {
                    "application/json; charset=utf-8"
                } else {
                    "application/json"
                };
                events::insert(
                    &db,
                    NewEvent {
                        source_id: source_ids[source].clone(),
                        received_at: base + n as i64 * 1000,
                        method: "POST".into(),
                        headers: JsonText(event.headers),
                        body: event.body,
                        content_type: Some(content_type.into()),
                        remote_addr: Some("192.0.2.10".into()),
                        event_type: Some(event.event_type.into()),
                        delivery_id: Some(event.delivery_id),
                        verification: "verified".into(),
                    },
                    Vec::new(),
                )
                .await
                .with_context(|| format!("inserting event {n}"))?;
            }
        });
    }
    while let Some(done) = set.join_next().await {
        done??;
    }
    // The hub indexes bodies for search in the background; measure search over all of them.
    while search::index_for_search(db, 5000).await? > 0 {}
    Ok(())
}

fn source_for(n: u64) -> usize {
    let mut slot = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize % 20;
    for (i, share) in SOURCE_SHARES.iter().enumerate() {
        if slot < *share {
            return i;
        }
        slot -= share;
    }
    0
}

/// How long the benches' clients keep an unused connection: under the hub's default
/// `header_timeout_secs` (10 s), after which the hub closes it. A request sent on it as it
/// closes would fail, as it would for any client that keeps connections longer.
pub const IDLE: Duration = Duration::from_secs(5);

/// Logs in through the dashboard's server function, as a browser does; the client keeps the
/// session cookie.
pub async fn log_in(hub: &Hub) -> anyhow::Result<Client> {
    let client = Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .pool_idle_timeout(IDLE)
        .build()?;
    let response = client
        .post(hub.url(app::api::LogIn::PATH))
        .header(reqwest::header::ORIGIN, hub.url(""))
        .form(&[("username", USERNAME), ("password", PASSWORD)])
        .send()
        .await?;
    let status = response.status();
    if !(status.is_success() || status.is_redirection()) {
        bail!(
            "logging in answered {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    let page = client.get(hub.url("/events")).send().await?;
    ensure!(
        page.status() == StatusCode::OK,
        "the events page answered {} after logging in",
        page.status()
    );
    Ok(client)
}

#[derive(Clone, Copy)]
struct SearchSupport {
    page: bool,
    api: bool,
}

/// Whether this build knows `q`: the API refuses unknown parameters, and the page ignores
/// them, so a word no event contains must list nothing.
async fn search_support(
    hub: &Hub,
    session: &Client,
    api: &Client,
    key: &str,
) -> anyhow::Result<SearchSupport> {
    let response = api
        .get(hub.url(&format!("/api/v1/events?q={ABSENT_WORD}")))
        .bearer_auth(key)
        .send()
        .await?;
    let api_supported = match response.status() {
        StatusCode::OK => {
            let page: serde_json::Value = response.json().await?;
            page["data"].as_array().is_some_and(|d| d.is_empty())
        }
        _ => false,
    };
    let page = session
        .get(hub.url(&format!("/events?q={ABSENT_WORD}")))
        .send()
        .await?;
    let page_supported = page.status() == StatusCode::OK && !has_rows(&page.text().await?);
    Ok(SearchSupport {
        page: page_supported,
        api: api_supported,
    })
}

fn has_rows(page: &str) -> bool {
    page.contains("href=\"/events/")
}

/// Times `query` one request at a time; returns microseconds and, when countable, the hits on
/// the first page.
async fn sample(
    hub: &Hub,
    client: &Client,
    token: Option<&str>,
    query: &Query,
    samples: usize,
    budget: f64,
) -> anyhow::Result<(Vec<u64>, Option<usize>)> {
    let url = hub.url(&query.path);
    let budget = Duration::from_secs_f64(budget);
    let mut times = Vec::with_capacity(samples);
    let mut hits = None;
    let began = Instant::now();
    for i in 0..WARMUP_REQUESTS + samples {
        if i >= WARMUP_REQUESTS + MIN_SAMPLES && began.elapsed() > budget {
            break;
        }
        let mut request = client.get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let sent = Instant::now();
        let response = request.send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        let took = sent.elapsed();
        ensure!(
            status == StatusCode::OK,
            "{} answered {status}: {}",
            query.path,
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
        if i == 0 {
            hits = count_hits(query, &body);
        }
        if i >= WARMUP_REQUESTS {
            times.push(took.as_micros() as u64);
        }
    }
    Ok((times, hits))
}

fn count_hits(query: &Query, body: &[u8]) -> Option<usize> {
    if query.api {
        let page: serde_json::Value = serde_json::from_slice(body).ok()?;
        page["data"].as_array().map(Vec::len)
    } else {
        let page = std::str::from_utf8(body).ok()?;
        Some(page.matches("href=\"/events/").count())
    }
}

fn summary(results: &[Sample]) {
    let Some(first) = results.first().map(|s| s.step) else {
        return;
    };
    let last = results.last().map(|s| s.step).unwrap_or(first);
    println!();
    println!(
        "summary: p95 at {} and at {} events (targets: pages < 50 ms, search < 200 ms)",
        stats::count(first),
        stats::count(last)
    );
    let labels = results.iter().filter(|s| s.step == first).map(|s| s.label);
    for label in labels {
        let of = |step| results.iter().find(|s| s.label == label && s.step == step);
        let (Some(a), Some(b)) = (of(first), of(last)) else {
            continue;
        };
        let target = match a.kind {
            Kind::Page => 50_000,
            Kind::Search => 200_000,
        };
        println!(
            "  {:<26} {:>9} → {:>9}  ×{:<6.1} {} (p50 {} → {}, n {}/{}{})",
            label,
            stats::micros(a.p95),
            stats::micros(b.p95),
            b.p95 as f64 / a.p95.max(1) as f64,
            if b.p95 < target {
                "within target"
            } else {
                "OVER TARGET"
            },
            stats::micros(a.p50),
            stats::micros(b.p50),
            a.n,
            b.n,
            b.hits.map(|h| format!(", hits {h}")).unwrap_or_default(),
        );
    }
}

//! How things are going, as the overview, a source's page and a subscription's page show it:
//! for the last 24 hours and the last 7 days, webhooks received and refused and delivery
//! attempts succeeded and failed over time; on the overview also the subscriptions answering
//! slowest and failing most and the sources refusing requests; and the backlog still to send.

use std::collections::HashMap;

use sea_orm::DbErr;

use crate::storage::activity::{self, SourceRefusals, Window};
use crate::storage::notices::{self, Notice};
use crate::storage::subscriptions::{self, Subscription};
use crate::storage::{Db, deliveries, sources};

/// Subscriptions and sources listed in each ranking at most.
const RANKED: usize = 5;
/// Notices listed at most.
const NOTICES: usize = 10;

/// Whose figures.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Hub,
    Source(&'a str),
    Subscription(&'a str),
}

pub struct Figures {
    /// The last 24 hours, then the last 7 days.
    pub windows: [WindowFigures; 2],
    /// Deliveries not yet made (none for a source) and when the oldest was created.
    pub backlog: Option<(u64, Option<i64>)>,
    /// The newest notices of the last 7 days, with their subscription's URL (none for a source).
    pub notices: Vec<(Notice, String)>,
}

/// Per bucket; a series that does not apply to the scope is empty.
pub struct WindowFigures {
    pub window: Window,
    pub received: Vec<u64>,
    pub refused: Vec<u64>,
    pub succeeded: Vec<u64>,
    pub failed: Vec<u64>,
    /// The hub's only: slowest on average first.
    pub slowest: Vec<Ranked>,
    /// The hub's only: most failed attempts first.
    pub failing: Vec<Ranked>,
    /// The hub's only: most refusals first, with the source's name.
    pub refusing: Vec<(SourceRefusals, String)>,
}

#[derive(Clone)]
pub struct Ranked {
    pub subscription: Subscription,
    pub attempts: u64,
    pub failed: u64,
    pub average_ms: u64,
}

pub async fn figures(db: &Db, scope: Scope<'_>, now: i64) -> Result<Figures, DbErr> {
    let day = window(db, scope, Window::day(now)).await?;
    let week = window(db, scope, Window::week(now)).await?;
    let backlog = match scope {
        Scope::Hub => Some(deliveries::backlog(db, None).await?),
        Scope::Subscription(id) => Some(deliveries::backlog(db, Some(id)).await?),
        Scope::Source(_) => None,
    };
    let notices = match scope {
        Scope::Hub => notices(db, None, week.window.start).await?,
        Scope::Subscription(id) => notices(db, Some(id), week.window.start).await?,
        Scope::Source(_) => Vec::new(),
    };
    Ok(Figures {
        windows: [day, week],
        backlog,
        notices,
    })
}

async fn notices(
    db: &Db,
    subscription: Option<&str>,
    since: i64,
) -> Result<Vec<(Notice, String)>, DbErr> {
    let notices = notices::recent(db, subscription, since, NOTICES as u64).await?;
    let mut urls: HashMap<String, String> = HashMap::new();
    for notice in &notices {
        let id = notice.subscription_id.to_string();
        if let std::collections::hash_map::Entry::Vacant(entry) = urls.entry(id) {
            let url = subscriptions::find(db, entry.key()).await?.map(|s| s.url);
            entry.insert(url.unwrap_or_default());
        }
    }
    Ok(notices
        .into_iter()
        .map(|n| {
            let url = urls
                .get(n.subscription_id.as_str())
                .cloned()
                .unwrap_or_default();
            (n, url)
        })
        .collect())
}

async fn window(db: &Db, scope: Scope<'_>, window: Window) -> Result<WindowFigures, DbErr> {
    let (source, subscription) = match scope {
        Scope::Hub => (None, None),
        Scope::Source(id) => (Some(id), None),
        Scope::Subscription(id) => (None, Some(id)),
    };
    // What does not apply stays empty: nothing is received by a subscription, nor sent by a
    // source.
    let (received, refused) = if subscription.is_some() {
        (Vec::new(), Vec::new())
    } else {
        (
            activity::received(db, window, source).await?,
            activity::refused(db, window, source).await?,
        )
    };
    let [succeeded, failed] = if source.is_some() {
        [Vec::new(), Vec::new()]
    } else {
        activity::attempts(db, window, subscription).await?
    };
    let mut figures = WindowFigures {
        window,
        received,
        refused,
        succeeded,
        failed,
        slowest: Vec::new(),
        failing: Vec::new(),
        refusing: Vec::new(),
    };
    if matches!(scope, Scope::Hub) {
        rank(db, window.start, &mut figures).await?;
    }
    Ok(figures)
}

async fn rank(db: &Db, since: i64, figures: &mut WindowFigures) -> Result<(), DbErr> {
    let counted = activity::subscriptions_since(db, since).await?;
    if !counted.is_empty() {
        let mut by_id: HashMap<String, Subscription> = subscriptions::list(db)
            .await?
            .into_iter()
            .map(|s| (s.id.to_string(), s))
            .collect();
        let mut ranked: Vec<Ranked> = counted
            .into_iter()
            .filter_map(|c| {
                let attempts = u64::try_from(c.attempts).ok().filter(|n| *n > 0)?;
                Some(Ranked {
                    subscription: by_id.remove(&c.subscription_id)?,
                    attempts,
                    failed: u64::try_from(c.failed).unwrap_or(0),
                    average_ms: u64::try_from(c.total_ms).unwrap_or(0) / attempts,
                })
            })
            .collect();
        ranked.sort_by_key(|r| std::cmp::Reverse(r.average_ms));
        figures.slowest = ranked.iter().take(RANKED).cloned().collect();
        ranked.retain(|r| r.failed > 0);
        ranked.sort_by(|a, b| b.failed.cmp(&a.failed).then(b.attempts.cmp(&a.attempts)));
        ranked.truncate(RANKED);
        figures.failing = ranked;
    }
    let refusing = activity::refusing_sources(db, since).await?;
    for refusals in refusing.into_iter().take(RANKED) {
        let name = sources::find(db, &refusals.source_id)
            .await?
            .map(|s| s.name)
            .unwrap_or_else(|| refusals.source_id.clone());
        figures.refusing.push((refusals, name));
    }
    Ok(())
}

//! How things are going, drawn on the server as SVG (so it shows without JavaScript and scales
//! to any width) and read again every 30 seconds once the page is hydrated.

use leptos::prelude::*;

use super::{ErrorPanel, ScrollRegion, Time, format_time};
use crate::api::health;
use crate::dto::{
    HealthDto, NoticeDto, SourceRefusalsDto, SubscriptionFiguresDto, WindowHealthDto,
};
use crate::error::AppError;

/// How often a hydrated page reads the figures again.
const REFRESH_SECS: u64 = 30;

/// The figures as a page loads them: the hub's, or those of the source or subscription the
/// closures name (`None` for both: the hub's). Made where the page makes its other resources,
/// outside any `Suspense`, so the browser finds the figures the server sent; read again every
/// 30 seconds once hydrated.
pub fn health_figures(
    source: impl Fn() -> Option<String> + Send + Sync + 'static,
    subscription: impl Fn() -> Option<String> + Send + Sync + 'static,
) -> Resource<Result<HealthDto, AppError>> {
    let (reads, set_reads) = signal(0u32);
    // Only in the browser: effects do not run on the server.
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || set_reads.update(|n| *n += 1),
            std::time::Duration::from_secs(REFRESH_SECS),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    });
    Resource::new(
        move || (reads.get(), source(), subscription()),
        |(_, source, subscription)| health(source, subscription),
    )
}

/// The figures [`health_figures`] loads, as a panel; the old ones stay while new ones load.
#[component]
pub fn HealthPanel(figures: Resource<Result<HealthDto, AppError>>) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match figures.await {
                    Ok(health) => view! { <Health health/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Health(health: HealthDto) -> impl IntoView {
    let HealthDto {
        now,
        windows,
        pending,
        oldest_pending_at,
        notices,
    } = health;
    let backlog = pending.map(|pending| {
        let oldest = oldest_pending_at.map(|at| view! { " · oldest " <Time millis=at/> });
        view! {
            <p class="backlog">
                <strong>{pending}</strong>
                {if pending == 1 { " delivery pending" } else { " deliveries pending" }}
                {oldest}
            </p>
        }
    });
    let tabs = windows
        .iter()
        .enumerate()
        .map(|(i, window)| {
            let id = format!("health-{i}");
            let label = format!("Last {}", window.label);
            view! {
                <input type="radio" class="tab-choice" name="health-window" id=id.clone() checked=i == 0/>
                <label for=id class="tab">{label}</label>
            }
        })
        .collect_view();
    view! {
        <section class="panel health" aria-label="Health">
            <div class="panel-head">
                <h2>"Health"</h2>
                <span class="muted">"as of " {format_time(now)}</span>
            </div>
            {backlog}
            {notices_view(notices)}
            <div class="tabs">
                {tabs}
                {windows_view(windows)}
            </div>
        </section>
    }
}

/// Subscriptions failing for a good part of the time before they are disabled, or disabled.
fn notices_view(notices: Vec<NoticeDto>) -> Option<impl IntoView> {
    (!notices.is_empty()).then(|| {
        let items = notices
            .into_iter()
            .map(|notice| {
                let (label, class) = match notice.stage.as_str() {
                    "quarter" => ("failing ¼", "badge warn"),
                    "half" => ("failing ½", "badge warn"),
                    "three_quarters" => ("failing ¾", "badge bad"),
                    _ => ("disabled", "badge bad"),
                };
                let href = format!("/subscriptions/{}", notice.subscription_id);
                let url = if notice.subscription_url.is_empty() {
                    notice.subscription_id.clone()
                } else {
                    notice.subscription_url.clone()
                };
                view! {
                    <li>
                        <span class=class>{label}</span>
                        " " <a href=href class="mono-cell">{url}</a>
                        " " <span>{notice.message}</span>
                        " " <span class="muted"><Time millis=notice.at/></span>
                    </li>
                }
            })
            .collect_view();
        view! {
            <div class="notices">
                <h3>"Notices"</h3>
                <ul class="notice-list">{items}</ul>
            </div>
        }
    })
}

fn windows_view(windows: Vec<WindowHealthDto>) -> impl IntoView {
    windows
        .into_iter()
        .map(|window| view! { <div class="tab-panel"><WindowFigures window/></div> })
        .collect_view()
}

#[component]
fn WindowFigures(window: WindowHealthDto) -> impl IntoView {
    let sum = |values: &[u64]| values.iter().sum::<u64>();
    let (received, refused) = (sum(&window.received), sum(&window.refused));
    let (succeeded, failed) = (sum(&window.succeeded), sum(&window.failed));
    let attempts = succeeded + failed;
    let rate = (attempts > 0).then(|| success_rate(succeeded, attempts));
    let (any_refused, low_rate) = (refused > 0, rate.as_ref().is_some_and(|r| r.1));
    let unit = if window.bucket_ms == 3_600_000 {
        "hour"
    } else {
        "six hours"
    };
    let when = window.label.clone();
    let (receives, sends) = (!window.received.is_empty(), !window.succeeded.is_empty());
    let received_chart = receives.then(|| {
        view! {
            <Chart
                title="Webhooks received"
                summary=format!("{received} stored and {refused} refused in the last {when}")
                start=window.start
                bucket_ms=window.bucket_ms
                unit
                series=vec![("ok", "stored", window.received), ("bad", "refused", window.refused)]
            />
        }
    });
    let when = window.label.clone();
    let attempts_chart = sends.then(|| {
        view! {
            <Chart
                title="Delivery attempts"
                summary=format!("{succeeded} succeeded and {failed} failed in the last {when}")
                start=window.start
                bucket_ms=window.bucket_ms
                unit
                series=vec![("ok", "succeeded", window.succeeded), ("bad", "failed", window.failed)]
            />
        }
    });
    let received_figures = receives.then(|| {
        view! {
            <div><dt>"Received"</dt><dd>{received}</dd></div>
            <div><dt>"Refused"</dt><dd class:bad=any_refused>{refused}</dd></div>
        }
    });
    let attempt_figures = sends.then(|| {
        view! {
            <div><dt>"Delivery attempts"</dt><dd>{attempts}</dd></div>
            <div>
                <dt>"Succeeded"</dt>
                <dd class:bad=low_rate>{rate.map(|r| r.0).unwrap_or_else(|| "—".to_owned())}</dd>
            </div>
        }
    });
    let rankings = (!window.slowest.is_empty() || !window.refusing.is_empty()).then(|| {
        view! {
            <div class="rankings">
                <Ranking title="Slowest subscriptions" rows=window.slowest figure=Figure::Average/>
                <Ranking title="Most failing subscriptions" rows=window.failing figure=Figure::Failed/>
                <Refusing rows=window.refusing/>
            </div>
        }
    });
    view! {
        <dl class="figures">{received_figures}{attempt_figures}</dl>
        <div class="charts">{received_chart}{attempts_chart}</div>
        {rankings}
    }
}

/// The share of attempts that succeeded, as people read it ("99.2 %"), and whether it is
/// below 95 %.
fn success_rate(succeeded: u64, attempts: u64) -> (String, bool) {
    let rate = succeeded as f64 * 100.0 / attempts as f64;
    let text = if succeeded == attempts {
        "100 %".to_owned()
    } else {
        // Never rounds up to 100 % while something failed.
        format!("{:.1} %", (rate * 10.0).floor() / 10.0)
    };
    (text, rate < 95.0)
}

/// Stacked bars, one per bucket; each series a class (`ok`, `bad`) and a name. The SVG
/// stretches to its box; the text around it stays HTML.
#[component]
fn Chart(
    title: &'static str,
    summary: String,
    start: i64,
    bucket_ms: i64,
    unit: &'static str,
    series: Vec<(&'static str, &'static str, Vec<u64>)>,
) -> impl IntoView {
    let buckets = series.first().map_or(0, |s| s.2.len());
    let totals: Vec<u64> = (0..buckets)
        .map(|i| series.iter().map(|s| s.2[i]).sum())
        .collect();
    let peak = totals.iter().copied().max().unwrap_or(0).max(1);
    const HEIGHT: f64 = 100.0;
    const WIDTH: f64 = 10.0;
    let bars = (0..buckets)
        .map(|i| {
            let from = start + bucket_ms * i as i64;
            let mut described =
                format!("{} – {}", format_time(from), format_time(from + bucket_ms));
            let mut top = HEIGHT;
            let rects = series
                .iter()
                .map(|(class, name, values)| {
                    let value = values[i];
                    described.push_str(&format!("\n{value} {name}"));
                    let height = value as f64 * HEIGHT / peak as f64;
                    top -= height;
                    (value > 0).then(|| {
                        view! {
                            <rect
                                class=*class
                                x=format!("{:.1}", i as f64 * WIDTH + 1.0)
                                y=format!("{top:.2}")
                                width=format!("{:.1}", WIDTH - 2.0)
                                height=format!("{height:.2}")
                            />
                        }
                    })
                })
                .collect_view();
            view! { <g><title>{described}</title>{rects}</g> }
        })
        .collect_view();
    let legend = series
        .iter()
        .map(|(class, name, _)| view! { <span class=format!("key {class}")>{*name}</span> })
        .collect_view();
    view! {
        <figure class="chart">
            <figcaption>
                <strong>{title}</strong>
                <span class="legend">{legend}</span>
                <span class="muted peak">"up to " {peak} " per " {unit}</span>
            </figcaption>
            <svg
                viewBox=format!("0 0 {} {HEIGHT}", buckets as f64 * WIDTH)
                preserveAspectRatio="none"
                role="img"
                aria-label=summary
            >
                <line class="baseline" x1="0" y1=HEIGHT x2=buckets as f64 * WIDTH y2=HEIGHT/>
                {bars}
            </svg>
            <div class="axis muted">
                <span>{format_time(start)}</span>
                <span>"now"</span>
            </div>
        </figure>
    }
}

#[derive(Clone, Copy)]
enum Figure {
    Average,
    Failed,
}

#[component]
fn Ranking(
    title: &'static str,
    rows: Vec<SubscriptionFiguresDto>,
    figure: Figure,
) -> impl IntoView {
    let heading = match figure {
        Figure::Average => "Average",
        Figure::Failed => "Failed",
    };
    let head = view! { <th>"Subscription"</th><th class="number">{heading}</th> };
    let rows = rows
        .into_iter()
        .map(|row| {
            let value = match figure {
                Figure::Average => format!("{} ms", row.average_ms),
                Figure::Failed => format!("{} of {}", row.failed, row.attempts),
            };
            view! {
                <tr>
                    <td class="url"><a href=format!("/subscriptions/{}", row.id)>{row.url}</a></td>
                    <td class="number">{value}</td>
                </tr>
            }
        })
        .collect();
    ranking(title, head, rows)
}

#[component]
fn Refusing(rows: Vec<SourceRefusalsDto>) -> impl IntoView {
    let head = view! { <th>"Source"</th><th class="number">"Refused"</th><th>"Most often"</th> };
    let rows = rows
        .into_iter()
        .map(|row| {
            view! {
                <tr>
                    <td><a href=format!("/sources/{}", row.id)>{row.name}</a></td>
                    <td class="number">{row.refused}</td>
                    <td>{row.top_reason}" ("{row.top_count}")"</td>
                </tr>
            }
        })
        .collect();
    ranking("Sources refusing requests", head, rows)
}

/// A ranking under its title: a small table, or "None." when nothing is in it.
fn ranking<H, R>(title: &'static str, head: H, rows: Vec<R>) -> impl IntoView + use<H, R>
where
    H: IntoView + 'static,
    R: IntoView + 'static,
{
    let body = if rows.is_empty() {
        view! { <p class="empty">"None."</p> }.into_any()
    } else {
        view! {
            <ScrollRegion label=title>
                <table class="table compact">
                    <thead><tr>{head}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </ScrollRegion>
        }
        .into_any()
    };
    view! { <div class="ranking"><h3>{title}</h3>{body}</div> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_success_rate_never_rounds_up_to_everything() {
        assert_eq!(success_rate(10, 10), ("100 %".to_owned(), false));
        assert_eq!(success_rate(9_999, 10_000), ("99.9 %".to_owned(), false));
        assert_eq!(success_rate(1, 3), ("33.3 %".to_owned(), true));
    }
}

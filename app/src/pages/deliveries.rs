//! The deliveries console: every message sent to a subscription, newest first, with filters,
//! and a page per delivery with its payload and each HTTP attempt. Payloads and everything a
//! subscriber answered are rendered as text only, never as HTML.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use std::sync::Arc;

use super::components::{
    ButtonError, ErrorPanel, NothingMatches, action_error, any_set, drop_blank_fields, every,
    format_gap, format_time, format_time_precise, page_link,
};
use crate::api::{Redeliver, delivery_detail, list_deliveries, list_subscriptions};
use crate::dto::{AttemptDto, DeliveryQuery, DeliverySummaryDto};

/// The status filter's choices: value and label.
const STATUSES: &[(&str, &str)] = &[
    ("", "Any"),
    ("pending", "Pending"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
];

/// The filters as a link to the page of deliveries older than `before`.
fn href_before(query: &DeliveryQuery, before: i64) -> String {
    page_link("/deliveries", &query.filters(), before)
}

#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        let q = query.read();
        let text = |name: &str| q.get(name).filter(|s| !s.trim().is_empty());
        DeliveryQuery {
            subscription: text("subscription"),
            message: text("message"),
            status: text("status"),
            event_type: text("event_type"),
            from: text("from"),
            to: text("to"),
            before: q.get("before").and_then(|b| b.parse().ok()),
        }
    };
    let deliveries = Resource::new(filters, list_deliveries);
    let subscriptions = Resource::new(|| (), |_| list_subscriptions());

    // Once hydrated, the first page refreshes itself so statuses move without a reload.
    every(std::time::Duration::from_secs(5), move || {
        if filters().before.is_none() {
            deliveries.refetch();
        }
    });

    view! {
        <Title text="Deliveries"/>
        <header class="page-head">
            <h1>"Deliveries"</h1>
            <p class="muted">"Every message sent to a subscription, with each attempt and what the subscriber answered."</p>
        </header>
        <section class="panel">
            {move || filters().message.map(|message| view! {
                <p class="filter-note">
                    "The deliveries of message "<code>{message.clone()}</code>" · "
                    <a href="/deliveries">"Show every message's"</a>
                </p>
            })}
            <Form method="GET" action="" attr:class="inline-form filters" on_form_data=Arc::new(drop_blank_fields)>
                {move || filters().message.map(|message| view! { <input type="hidden" name="message" value=message/> })}
                <div class="field">
                    <label for="subscription">"Subscription"</label>
                    <select id="subscription" name="subscription">
                        <option value="">"All subscriptions"</option>
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                let chosen = filters().subscription.unwrap_or_default();
                                subscriptions.await.unwrap_or_default().into_iter().map(|s| {
                                    let selected = s.id == chosen;
                                    view! { <option value=s.id selected=selected>{s.url}</option> }
                                }).collect_view()
                            })}
                        </Suspense>
                    </select>
                </div>
                <div class="field">
                    <label for="status">"Status"</label>
                    <select id="status" name="status">
                        {STATUSES.iter().map(|(value, label)| {
                            let selected = move || filters().status.as_deref().unwrap_or_default() == *value;
                            view! { <option value=*value selected=selected>{*label}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="event_type">"Event type"</label>
                    <input id="event_type" name="event_type" placeholder="invoice.paid" value=move || filters().event_type.unwrap_or_default()/>
                </div>
                <div class="field">
                    <label for="from">"From (UTC)"</label>
                    <input id="from" name="from" type="datetime-local" value=move || filters().from.unwrap_or_default()/>
                </div>
                <div class="field">
                    <label for="to">"Until (UTC)"</label>
                    <input id="to" name="to" type="datetime-local" value=move || filters().to.unwrap_or_default()/>
                </div>
                <button type="submit" class="button">"Filter"</button>
            </Form>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match deliveries.await {
                        Ok(page) if page.deliveries.is_empty() => view! {
                            <NothingMatches
                                filtered=any_set(&filters().filters())
                                clear="/deliveries"
                                empty="No deliveries yet. Publish a message of a type a subscription wants and it will appear here."
                            />
                        }.into_any(),
                        Ok(page) => {
                            let next = page.next_before.map(|before| href_before(&filters(), before));
                            view! {
                                <DeliveryTable deliveries=page.deliveries/>
                                {next.map(|href| view! { <p class="pager"><a class="button small" href=href>"Older deliveries →"</a></p> })}
                            }.into_any()
                        }
                        Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn DeliveryStatusBadge(status: String) -> impl IntoView {
    let class = match status.as_str() {
        "succeeded" => "badge ok",
        "failed" => "badge bad",
        "pending" => "badge warn",
        _ => "badge muted",
    };
    view! { <span class=class>{status}</span> }
}

fn last_outcome(d: &DeliverySummaryDto) -> String {
    last_outcome_text(d.last_status, d.last_error.clone())
}

/// Deliveries, newest first; each row opens the delivery. The subscription column is left out
/// on a subscription's own page.
#[component]
pub fn DeliveryTable(
    deliveries: Vec<DeliverySummaryDto>,
    #[prop(default = true)] with_subscription: bool,
) -> impl IntoView {
    view! {
        <table class="table deliveries">
            <thead>
                <tr>
                    <th>"Created"</th><th>"Event type"</th>
                    {with_subscription.then(|| view! { <th>"Subscription"</th> })}
                    <th>"Status"</th><th>"Attempts"</th><th>"Last response"</th><th>"Next attempt"</th>
                </tr>
            </thead>
            <tbody>
                {deliveries.into_iter().map(|d| {
                    let outcome = last_outcome(&d);
                    let next = d.next_attempt_at.map(format_time).unwrap_or_else(|| "—".to_owned());
                    view! {
                        <tr>
                            <td class="when"><a href=format!("/deliveries/{}", d.id)>{format_time(d.created_at)}</a></td>
                            <td><code>{d.event_type}</code></td>
                            {with_subscription.then(|| view! {
                                <td><a class="url" href=format!("/subscriptions/{}", d.subscription_id)>{d.subscription_url}</a></td>
                            })}
                            <td><DeliveryStatusBadge status=d.status/></td>
                            <td>{d.attempts}</td>
                            <td class="outcome" title=outcome.clone()>{outcome.clone()}</td>
                            <td class="when">{next}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn DeliveryPage() -> impl IntoView {
    let params = use_params_map();
    let redeliver = ServerAction::<Redeliver>::new();
    let error = action_error(redeliver);
    let detail = Resource::new(
        move || {
            let id = params
                .read()
                .get("id")
                .and_then(|id| id.parse::<i64>().ok())
                .unwrap_or(0);
            (id, redeliver.version().get())
        },
        |(id, _)| delivery_detail(id),
    );

    // While the delivery is still pending, follow it: each attempt appears as it happens.
    every(std::time::Duration::from_secs(2), move || {
        let pending =
            detail.with_untracked(|d| matches!(d, Some(Ok(d)) if d.summary.status == "pending"));
        if pending {
            detail.refetch();
        }
    });

    // Read when the detail comes back after the action, which is what re-renders this.
    let queued = move || {
        redeliver
            .value()
            .with_untracked(|v| matches!(v, Some(Ok(()))))
    };
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => {
                        let s = d.summary;
                        let id = s.id;
                        view! {
                            <Title text=format!("Delivery {id}")/>
                            <header class="page-head">
                                <p class="crumbs"><a href="/deliveries">"Deliveries"</a>" / "</p>
                                <div class="head-row">
                                    <h1><code class="title-code">{s.event_type.clone()}</code>" "<DeliveryStatusBadge status=s.status.clone()/></h1>
                                    <ActionForm action=redeliver attr:class="head-action">
                                        <input type="hidden" name="id" value=id/>
                                        <button type="submit" class="button primary">"Redeliver"</button>
                                    </ActionForm>
                                </div>
                                <p class="muted">
                                    "To "<a href=format!("/subscriptions/{}", s.subscription_id)>{s.subscription_url.clone()}</a>
                                    " · created "{format_time(s.created_at)}
                                </p>
                            </header>
                            <ButtonError error/>
                            {(queued() && s.status == "pending").then(|| view! {
                                <p class="notice" role="status">"Queued again: the next attempt starts shortly."</p>
                            })}
                            <section class="panel">
                                <dl class="facts">
                                    <dt>"Message id"</dt><dd class="mono-cell">{s.message_id}</dd>
                                    <dt>"Delivery"</dt><dd class="mono-cell">{id}</dd>
                                    <dt>"Attempts"</dt><dd>{d.attempts.len()}</dd>
                                    <dt>"Last response"</dt><dd>{last_outcome_text(s.last_status, s.last_error)}</dd>
                                    <dt>"Next attempt"</dt><dd>{s.next_attempt_at.map(format_time).unwrap_or_else(|| "—".to_owned())}</dd>
                                </dl>
                            </section>
                            <section class="panel">
                                <h2>"Payload"</h2>
                                <pre class="body">{d.payload}</pre>
                            </section>
                            <section class="panel">
                                <h2>"Attempts"</h2>
                                {if d.attempts.is_empty() {
                                    view! { <p class="empty">"Not tried yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ol class="timeline">
                                            {d.attempts.iter().enumerate().map(|(i, a)| {
                                                let gap = i.checked_sub(1).map(|p| a.started_at - d.attempts[p].started_at);
                                                view! { <Attempt attempt=a.clone() gap/> }
                                            }).collect_view()}
                                        </ol>
                                    }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                    Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What the last attempt got: the subscriber's status code, or why there was none.
fn last_outcome_text(status: Option<i32>, error: Option<String>) -> String {
    match (status, error) {
        // The worker may describe a bad status as the error itself: say it once.
        (Some(status), Some(error)) if error.starts_with(&format!("HTTP {status}")) => error,
        (Some(status), Some(error)) => format!("HTTP {status} · {error}"),
        (Some(status), None) => format!("HTTP {status}"),
        (None, Some(error)) => error,
        (None, None) => "—".to_owned(),
    }
}

/// One HTTP try: when, how long, what came back, and the exchange itself on request.
#[component]
fn Attempt(attempt: AttemptDto, gap: Option<i64>) -> impl IntoView {
    let ok = matches!(attempt.response_status, Some(200..=299));
    let outcome = match (attempt.response_status, &attempt.error) {
        (Some(status), _) => {
            let class = if ok { "badge ok" } else { "badge bad" };
            view! { <span class=class>"HTTP "{status}</span> }.into_any()
        }
        (None, _) => view! { <span class="badge bad">"no response"</span> }.into_any(),
    };
    view! {
        <li class="attempt" class:ok=ok>
            <div class="attempt-head">
                <strong>"#"{attempt.number}</strong>
                <span>{format_time_precise(attempt.started_at)}</span>
                {gap.map(|gap| view! { <span class="muted gap" title="since the attempt before">{format_gap(gap)}</span> })}
                <span class="muted">{attempt.duration_ms}" ms"</span>
                {outcome}
            </div>
            {attempt.error.map(|error| view! { <p class="attempt-error">{error}</p> })}
            <details>
                <summary>"Request headers ("{attempt.request_headers.len()}")"</summary>
                <HeaderTable headers=attempt.request_headers/>
            </details>
            <details>
                <summary>"Response headers ("{attempt.response_headers.len()}")"</summary>
                <HeaderTable headers=attempt.response_headers/>
            </details>
            <details>
                <summary>"Response body"</summary>
                {match attempt.response_body {
                    Some(body) if !body.is_empty() => view! { <pre class="body">{body}</pre> }.into_any(),
                    _ => view! { <p class="empty">"Empty."</p> }.into_any(),
                }}
            </details>
        </li>
    }
}

#[component]
fn HeaderTable(headers: Vec<(String, String)>) -> impl IntoView {
    if headers.is_empty() {
        return view! { <p class="empty">"None."</p> }.into_any();
    }
    view! {
        <table class="table headers">
            <tbody>
                {headers.into_iter().map(|(name, value)| view! {
                    <tr><th scope="row">{name}</th><td class="mono-cell">{value}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

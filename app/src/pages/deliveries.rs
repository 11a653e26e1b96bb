//! The deliveries console: every message sent to a subscription, newest first, with filters,
//! and a page per delivery with its payload and each HTTP attempt. Payloads and everything a
//! subscriber answered are rendered as text only, never as HTML.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use std::sync::Arc;

use super::components::{
    ButtonError, Confirm, CopyButton, ErrorPanel, NothingMatches, Pager, ScrollRegion, Time,
    action_error, any_set, curl_command, drop_blank_fields, every, format_gap, thousands,
};
use crate::api::{
    Redeliver, RedeliverMatching, delivery_detail, list_consumers, list_deliveries,
    list_subscriptions,
};
use crate::dto::{AttemptDto, DeliveryDetailDto, DeliveryQuery, DeliverySummaryDto};
use crate::flash::server_action;

/// The status filter's choices: value and label.
const STATUSES: &[(&str, &str)] = &[
    ("", "Any"),
    ("pending", "Pending"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
];

#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        let q = query.read();
        let text = |name: &str| q.get(name).filter(|s| !s.trim().is_empty());
        DeliveryQuery {
            subscription: text("subscription"),
            consumer: text("consumer"),
            message: text("message"),
            status: text("status"),
            event_type: text("event_type"),
            from: text("from"),
            to: text("to"),
            before: q.get("before").and_then(|b| b.parse().ok()),
            after: q.get("after").and_then(|a| a.parse().ok()),
        }
    };
    let redeliver_all = server_action::<RedeliverMatching>();
    let redeliver_all_error = action_error(redeliver_all);
    let requeued = move || redeliver_all.value().get().and_then(Result::ok);
    let deliveries = Resource::new(
        move || (filters(), redeliver_all.version().get()),
        |(query, _)| list_deliveries(query),
    );
    let subscriptions = Resource::new(|| (), |_| list_subscriptions());
    let consumers = Resource::new(|| (), |_| list_consumers());

    // Once hydrated, the first page refreshes itself so statuses move without a reload.
    every(std::time::Duration::from_secs(5), move || {
        let query = filters();
        if query.before.is_none() && query.after.is_none() {
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
                    <label for="consumer">"Consumer"</label>
                    <select id="consumer" name="consumer">
                        <option value="">"Any consumer"</option>
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                let chosen = filters().consumer.unwrap_or_default();
                                consumers.await.unwrap_or_default().into_iter().map(|c| {
                                    let selected = c.id == chosen;
                                    view! { <option value=c.id.clone() selected=selected>{format!("{} ({})", c.name, c.id)}</option> }
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
                    <input id="from" name="from" placeholder="2026-12-06 14:00" autocomplete="off" value=move || filters().from.unwrap_or_default()/>
                </div>
                <div class="field">
                    <label for="to">"Until (UTC)"</label>
                    <input id="to" name="to" placeholder="2026-12-06 18:00" autocomplete="off" value=move || filters().to.unwrap_or_default()/>
                </div>
                <button type="submit" class="button">"Filter"</button>
            </Form>
            <ButtonError error=redeliver_all_error/>
            {move || requeued().map(|n| view! {
                <p class="notice" role="status">
                    {match n { 0 => "Nothing was queued: the failed deliveries belong to disabled subscriptions.".to_owned(), 1 => "1 delivery queued again; the list follows it.".to_owned(), n => format!("{n} deliveries queued again; the list follows them.") }}
                </p>
            })}
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
                            let shown = page.deliveries.len();
                            let kept = filters().filters().map(|(name, value)| (name, value.clone())).to_vec();
                            view! {
                                <RedeliverMatchingForm action=redeliver_all count=page.redeliverable filters=kept.clone()/>
                                <DeliveryTable deliveries=page.deliveries/>
                                <Pager path="/deliveries" filters=kept paging=page.paging shown/>
                            }.into_any()
                        }
                        Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// "Redeliver the N failed": every failed delivery the filters find, after a question.
#[component]
fn RedeliverMatchingForm(
    action: ServerAction<RedeliverMatching>,
    count: u64,
    filters: Vec<(&'static str, Option<String>)>,
) -> impl IntoView {
    if count == 0 {
        return ().into_any();
    }
    let shown = thousands(count);
    let noun = if count == 1 { "delivery" } else { "deliveries" };
    let question = format!(
        "Send the {shown} failed {noun} these filters find again, each with a fresh schedule? \
         Those of disabled subscriptions stay as they are."
    );
    view! {
        <div class="bulk-action">
            <Confirm label=format!("Redeliver the {shown} failed") question>
                <ActionForm action>
                    {filters.into_iter().filter(|(name, _)| *name != "status").filter_map(|(name, value)| value.map(|value| view! {
                        <input type="hidden" name=format!("query[{name}]") value=value/>
                    })).collect_view()}
                    <button type="submit" class="button small danger">{format!("Yes, redeliver {shown}")}</button>
                </ActionForm>
            </Confirm>
        </div>
    }
    .into_any()
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
/// on a subscription's own page. `base` is where the pages it links to are (`/portal` there).
#[component]
pub fn DeliveryTable(
    deliveries: Vec<DeliverySummaryDto>,
    #[prop(default = true)] with_subscription: bool,
    #[prop(default = "")] base: &'static str,
) -> impl IntoView {
    view! {
        <ScrollRegion label="Deliveries">
            <table class="table deliveries linked">
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
                        let next = d.next_attempt_at;
                        view! {
                            <tr>
                                <td class="when"><a class="row-link" href=format!("{base}/deliveries/{}", d.id)><Time millis=d.created_at/></a></td>
                                <td><code>{d.event_type}</code></td>
                                {with_subscription.then(|| view! {
                                    <td><a class="url" href=format!("{base}/subscriptions/{}", d.subscription_id)>{d.subscription_url}</a></td>
                                })}
                                <td><DeliveryStatusBadge status=d.status/></td>
                                <td>{d.attempts}</td>
                                <td class="outcome" title=outcome.clone()>{outcome.clone()}</td>
                                <td class="when">{match next { Some(at) => view! { <Time millis=at/> }.into_any(), None => "—".into_any() }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </ScrollRegion>
    }
}

#[component]
pub fn DeliveryPage() -> impl IntoView {
    let params = use_params_map();
    let redeliver = server_action::<Redeliver>();
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
                        let s = d.summary.clone();
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
                                    " · created "<Time millis=s.created_at/>
                                </p>
                            </header>
                            <ButtonError error/>
                            {queued().then(|| view! {
                                <p class="notice" role="status">
                                    {if s.status == "pending" { "Queued again: the next attempt starts shortly." } else { "Redelivered: the newest attempt is at the end of the list below." }}
                                </p>
                            })}
                            {(s.status == "pending" && d.subscription_state == "paused").then(|| view! {
                                <p class="notice warn" role="status">"Held: the subscription is paused, so nothing is sent until it is resumed."</p>
                            })}
                            <section class="panel">
                                <dl class="facts">
                                    <dt>"Message id"</dt>
                                    <dd>
                                        <code class="mono-cell">{s.message_id.clone()}</code>
                                        " · "<a href=message_deliveries(&s.message_id)>"Every delivery of this message"</a>
                                    </dd>
                                    <dt>"Delivery"</dt><dd class="mono-cell">{id}</dd>
                                    <dt>"Attempts"</dt>
                                    <dd>
                                        {s.attempts}
                                        {(i64::from(s.attempts_since_redelivery) != s.attempts as i64).then(|| view! {
                                            <span class="muted">" · "{s.attempts_since_redelivery}" since it was last redelivered"</span>
                                        })}
                                    </dd>
                                    <dt>"Last response"</dt><dd>{last_outcome_text(s.last_status, s.last_error)}</dd>
                                    <dt>"Next attempt"</dt><dd>{match s.next_attempt_at { Some(at) => view! { <Time millis=at/> }.into_any(), None => "—".into_any() }}</dd>
                                </dl>
                            </section>
                            <PayloadAndAttempts detail=d/>
                        }.into_any()
                    }
                    Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A delivery's payload (with its schema mismatches, if any) and every attempt, oldest first.
#[component]
pub(crate) fn PayloadAndAttempts(detail: DeliveryDetailDto) -> impl IntoView {
    view! {
        <section class="panel">
            <h2>"Payload"</h2>
            {(!detail.schema_errors.is_empty()).then(|| view! {
                <p class="notice warn">"It does not match its type's schema, which only warns:"</p>
                <ul class="mismatches">
                    {detail.schema_errors.clone().into_iter().map(|line| view! { <li><code>{line}</code></li> }).collect_view()}
                </ul>
            })}
            <pre class="body">{detail.payload}</pre>
        </section>
        <section class="panel">
            <h2>"Attempts"</h2>
            {if detail.attempts.is_empty() {
                view! { <p class="empty">"Not tried yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="timeline">
                        {detail.attempts.iter().enumerate().map(|(i, a)| {
                            let gap = i.checked_sub(1).map(|p| a.started_at - detail.attempts[p].started_at);
                            view! { <Attempt attempt=a.clone() gap url=detail.request_url.clone()/> }
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
}

/// What the last attempt got: the subscriber's status code, or why there was none.
pub(crate) fn last_outcome_text(status: Option<i32>, error: Option<String>) -> String {
    match (status, error) {
        // The worker may describe a bad status as the error itself: say it once.
        (Some(status), Some(error)) if error.starts_with(&format!("HTTP {status}")) => error,
        (Some(status), Some(error)) => format!("HTTP {status} · {error}"),
        (Some(status), None) => format!("HTTP {status}"),
        (None, Some(error)) => error,
        (None, None) => "—".to_owned(),
    }
}

/// The link to every delivery of one message.
fn message_deliveries(message_id: &str) -> String {
    format!(
        "/deliveries?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("message", message_id)
            .finish()
    )
}

/// One HTTP try: when, how long, what came back, and the exchange itself in Request and
/// Response tabs (radio buttons and CSS, so they work before the wasm), with copy buttons.
#[component]
fn Attempt(attempt: AttemptDto, gap: Option<i64>, url: String) -> impl IntoView {
    let ok = matches!(attempt.response_status, Some(200..=299));
    let outcome = match attempt.response_status {
        Some(status) => {
            let class = if ok { "badge ok" } else { "badge bad" };
            view! { <span class=class>"HTTP "{status}</span> }.into_any()
        }
        None => view! { <span class="badge bad">"no response"</span> }.into_any(),
    };
    let tabs = format!("attempt-{}", attempt.number);
    let request_tab = format!("{tabs}-request");
    let response_tab = format!("{tabs}-response");
    let body = attempt.request_body.clone().unwrap_or_default();
    let curl = curl_command(&url, &attempt.request_headers, &body);
    let request_headers = header_lines(&attempt.request_headers);
    let response_headers = header_lines(&attempt.response_headers);
    let response_body = attempt.response_body.clone().unwrap_or_default();
    view! {
        <li class="attempt" class:ok=ok>
            <div class="attempt-head">
                <strong>"#"{attempt.number}</strong>
                <span class="when"><Time millis=attempt.started_at precise=true/></span>
                {gap.map(|gap| view! { <span class="muted gap" title="since the attempt before">{format_gap(gap)}</span> })}
                <span class="muted">{attempt.duration_ms}" ms"</span>
                {outcome}
            </div>
            {attempt.error.map(|error| view! { <p class="attempt-error">{error}</p> })}
            <div class="tabs">
                <input type="radio" class="tab-choice" name=tabs.clone() id=request_tab.clone() checked/>
                <label for=request_tab class="tab">"Request"</label>
                <input type="radio" class="tab-choice" name=tabs id=response_tab.clone()/>
                <label for=response_tab class="tab">"Response"</label>
                <div class="tab-panel request-panel">
                    <p class="request-line"><code>"POST "{url}</code></p>
                    <div class="toolbar">
                        <CopyButton text=curl label="Copy as curl"/>
                        <CopyButton text=request_headers label="Copy headers"/>
                        <CopyButton text=body.clone() label="Copy body"/>
                    </div>
                    <HeaderTable headers=attempt.request_headers/>
                    {match attempt.request_body {
                        Some(body) => view! { <pre class="body">{body}</pre> }.into_any(),
                        None => view! { <p class="empty">"The body of this attempt was not recorded."</p> }.into_any(),
                    }}
                </div>
                <div class="tab-panel response-panel">
                    {match attempt.response_status {
                        Some(status) => view! {
                            <div class="toolbar">
                                <CopyButton text=response_headers label="Copy headers"/>
                                <CopyButton text=response_body.clone() label="Copy body"/>
                            </div>
                            <p class="request-line"><code>"HTTP "{status}</code></p>
                            <HeaderTable headers=attempt.response_headers/>
                            {if response_body.is_empty() {
                                view! { <p class="empty">"The body was empty."</p> }.into_any()
                            } else {
                                view! { <pre class="body">{response_body}</pre> }.into_any()
                            }}
                        }.into_any(),
                        None => view! { <p class="empty">"No response: the request did not complete."</p> }.into_any(),
                    }}
                </div>
            </div>
        </li>
    }
}

/// Headers as `Name: value` lines.
fn header_lines(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join("\n")
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

//! The events browser: everything the sources received, newest first, with filters, and a page
//! per event with its headers and body. Bodies come from outside: they are only ever rendered
//! as text, never as HTML.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use std::sync::Arc;

use super::components::{
    ButtonError, CopyButton, ErrorPanel, IdCell, NothingMatches, Pager, ScrollRegion, Time,
    action_error, any_set, drop_blank_fields, every, format_bytes,
};
use crate::api::{RetryFailedRuns, event_detail, list_events, list_sources};
use crate::dto::EventQuery;
use crate::flash::server_action;

#[component]
pub fn EventsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        let q = query.read();
        let text = |name: &str| q.get(name).filter(|s| !s.trim().is_empty());
        EventQuery {
            source: text("source"),
            event_type: text("event_type"),
            handling: text("handling"),
            from: text("from"),
            to: text("to"),
            q: text("q"),
            before: q.get("before").and_then(|b| b.parse().ok()),
            after: q.get("after").and_then(|a| a.parse().ok()),
        }
    };
    let events = Resource::new(filters, list_events);
    let sources = Resource::new(|| (), |_| list_sources());

    // Once hydrated, the first page refreshes itself so new events appear without a reload.
    every(std::time::Duration::from_secs(5), move || {
        let query = filters();
        if query.before.is_none() && query.after.is_none() {
            events.refetch();
        }
    });

    view! {
        <Title text="Events"/>
        <header class="page-head">
            <h1>"Events"</h1>
            <p class="muted">"Every verified request the sources received, stored exactly as it came."</p>
        </header>
        <section class="panel">
            <Form method="GET" action="" attr:class="inline-form filters" on_form_data=Arc::new(drop_blank_fields)>
                <div class="field">
                    <label for="source">"Source"</label>
                    <select id="source" name="source">
                        <option value="">"All sources"</option>
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                let chosen = filters().source.unwrap_or_default();
                                sources.await.unwrap_or_default().into_iter().map(|s| {
                                    let selected = s.id == chosen;
                                    view! { <option value=s.id selected=selected>{s.name}</option> }
                                }).collect_view()
                            })}
                        </Suspense>
                    </select>
                </div>
                <div class="field">
                    <label for="event_type">"Event type"</label>
                    <input id="event_type" name="event_type" placeholder="push" value=move || filters().event_type.unwrap_or_default()/>
                </div>
                <div class="field">
                    <label for="handling">"Handlers"</label>
                    <select id="handling" name="handling">
                        {HANDLING.iter().map(|(value, label)| {
                            let selected = move || filters().handling.as_deref().unwrap_or_default() == *value;
                            view! { <option value=*value selected=selected>{*label}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="from">"From (UTC)"</label>
                    <input id="from" name="from" placeholder="2026-12-06 14:00" autocomplete="off" value=move || filters().from.unwrap_or_default()/>
                </div>
                <div class="field">
                    <label for="to">"Until (UTC)"</label>
                    <input id="to" name="to" placeholder="2026-12-06 18:00" autocomplete="off" value=move || filters().to.unwrap_or_default()/>
                </div>
                <div class="field grow">
                    <label for="q">"Search bodies"</label>
                    <input id="q" name="q" type="search" placeholder="octocat, cus_42, …" maxlength="200" value=move || filters().q.unwrap_or_default()/>
                </div>
                <button type="submit" class="button">"Filter"</button>
            </Form>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match events.await {
                        Ok(page) if page.events.is_empty() => view! {
                            <NothingMatches
                                filtered=any_set(&filters().filters())
                                clear="/events"
                                empty="No events yet. Point a provider at a source's URL and they will appear here."
                            />
                        }.into_any(),
                        Ok(page) => {
                            let shown = page.events.len();
                            let kept = filters().filters().map(|(name, value)| (name, value.clone())).to_vec();
                            view! {
                                <ScrollRegion label="Events">
                                    <table class="table events linked">
                                        <thead><tr><th>"Received"</th><th>"Source"</th><th>"Event type"</th><th>"Delivery id"</th><th>"Size"</th><th>"Handlers"</th></tr></thead>
                                        <tbody>
                                            {page.events.into_iter().map(|e| view! {
                                                <tr>
                                                    <td class="when"><a class="row-link" href=format!("/events/{}", e.id)><Time millis=e.received_at/></a></td>
                                                    <td>{e.source_name}</td>
                                                    <td><code>{e.event_type.unwrap_or_else(|| "—".into())}</code></td>
                                                    <td><IdCell value=e.delivery_id.unwrap_or_default() label="Copy id"/></td>
                                                    <td class="size">{format_bytes(e.size)}</td>
                                                    <td><HandlingBadge handling=e.handling/></td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </ScrollRegion>
                                <Pager path="/events" filters=kept paging=page.paging shown/>
                            }.into_any()
                        }
                        Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The handling filter's choices: value and label.
const HANDLING: &[(&str, &str)] = &[
    ("", "Any"),
    ("failed", "Failed"),
    ("pending", "Pending"),
    ("ok", "Done"),
    ("none", "No handlers"),
];

#[component]
fn HandlingBadge(handling: String) -> impl IntoView {
    let (class, label) = match handling.as_str() {
        "ok" => ("badge ok", "done"),
        "failed" => ("badge bad", "failed"),
        "pending" => ("badge warn", "pending"),
        _ => ("badge muted", "—"),
    };
    view! { <span class=class>{label}</span> }
}

/// The body as it came: formatted (JSON indented, its keys in their order; a form's fields as a
/// table) and raw (the exact text), in tabs that switch without the wasm.
#[component]
fn EventBody(
    body_text: Option<String>,
    raw_text: Option<String>,
    form_fields: Option<Vec<(String, String)>>,
) -> impl IntoView {
    let Some(raw) = raw_text else {
        return view! {
            <p class="empty">"The body is binary; download it above to see the exact bytes."</p>
        }
        .into_any();
    };
    let formatted = match form_fields {
        Some(fields) if !fields.is_empty() => view! {
            <table class="table headers form-fields">
                <thead><tr><th scope="col">"Field"</th><th scope="col">"Value"</th></tr></thead>
                <tbody>
                    {fields.into_iter().map(|(name, value)| view! {
                        <tr><th scope="row">{name}</th><td class="mono-cell">{value}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any(),
        _ => view! { <pre class="body">{body_text.unwrap_or_default()}</pre> }.into_any(),
    };
    view! {
        <div class="tabs">
            <input type="radio" class="tab-choice" name="body-view" id="body-formatted" checked/>
            <label for="body-formatted" class="tab">"Formatted"</label>
            <input type="radio" class="tab-choice" name="body-view" id="body-raw"/>
            <label for="body-raw" class="tab">"Raw"</label>
            <div class="tab-panel">{formatted}</div>
            <div class="tab-panel">
                <div class="toolbar"><CopyButton text=raw.clone() label="Copy body"/></div>
                <pre class="body raw">{raw}</pre>
            </div>
        </div>
    }
    .into_any()
}

/// Runs this event's failed handler runs again (the button while some have failed), and says
/// how many it queued.
#[component]
fn RetryRuns(event_id: i64, failed: bool, retry: ServerAction<RetryFailedRuns>) -> impl IntoView {
    let error = action_error(retry);
    let queued = move || retry.value().get().and_then(Result::ok);
    view! {
        {failed.then(|| view! {
            <ActionForm action=retry attr:class="toolbar">
                <input type="hidden" name="event_id" value=event_id/>
                <button type="submit" class="button">"Run the failed handlers again"</button>
            </ActionForm>
        })}
        <ButtonError error/>
        {move || queued().map(|n| view! {
            <p class="notice" role="status">{if n == 1 { "1 run queued again.".to_owned() } else { format!("{n} runs queued again.") }}</p>
        })}
    }
}

#[component]
pub fn EventPage() -> impl IntoView {
    let params = use_params_map();
    let retry = server_action::<RetryFailedRuns>();
    let detail = Resource::new(
        move || {
            let id = params
                .read()
                .get("id")
                .and_then(|id| id.parse::<i64>().ok())
                .unwrap_or(0);
            (id, retry.version().get())
        },
        |(id, _)| event_detail(id),
    );
    // While a handler run is pending, follow it.
    every(std::time::Duration::from_secs(2), move || {
        let pending = detail.with_untracked(
            |d| matches!(d, Some(Ok(d)) if d.runs.iter().any(|run| run.status == "pending")),
        );
        if pending {
            detail.refetch();
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => {
                        let e = d.summary;
                        let title = e.event_type.clone().unwrap_or_else(|| format!("Event {}", e.id));
                        view! {
                            <Title text=title.clone()/>
                            <header class="page-head">
                                <p class="crumbs"><a href="/events">"Events"</a>" / "</p>
                                <h1>{title}</h1>
                                <p class="muted">
                                    "From "<a href=format!("/sources/{}", e.source_id)>{e.source_name}</a>
                                    " · "<Time millis=e.received_at/>" · "{d.verification}
                                </p>
                            </header>
                            <section class="panel">
                                <dl class="facts">
                                    <dt>"Delivery id"</dt><dd class="mono-cell">{e.delivery_id.unwrap_or_else(|| "—".into())}</dd>
                                    <dt>"Request"</dt><dd>{d.method}" · "{d.content_type.unwrap_or_else(|| "no content type".into())}" · "{format_bytes(e.size)}</dd>
                                    <dt>"From address"</dt><dd>{d.remote_addr.unwrap_or_else(|| "—".into())}</dd>
                                    <dt>"Raw body"</dt><dd><a href=format!("/events/{}/raw", e.id) download="">"Download the exact bytes"</a></dd>
                                </dl>
                            </section>
                            <section class="panel" id="handlers">
                                <h2>"Handlers"</h2>
                                <RetryRuns event_id=e.id failed=d.runs.iter().any(|run| run.status == "failed") retry/>
                                {if d.runs.is_empty() {
                                    view! { <p class="empty">"No handler ran on this event."</p> }.into_any()
                                } else {
                                    view! {
                                        <ScrollRegion label="Handler runs">
                                            <table class="table runs">
                                                <thead><tr><th>"Handler"</th><th>"Status"</th><th>"Attempts"</th><th>"Outcome"</th><th>"When"</th></tr></thead>
                                                <tbody>
                                                    {d.runs.into_iter().map(|run| view! {
                                                        <tr>
                                                            <td><code>{run.kind}</code>" "<span class="muted">{run.handler_id}</span></td>
                                                            <td><HandlingBadge handling=run.status.clone()/></td>
                                                            <td>{run.attempts}</td>
                                                            <td>{run.outcome.unwrap_or_else(|| "—".into())}</td>
                                                            <td class="when">{if run.status == "pending" { "next try " } else { "" }}<Time millis=run.at/></td>
                                                        </tr>
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        </ScrollRegion>
                                    }.into_any()
                                }}
                            </section>
                            <section class="panel" id="body">
                                <h2>"Body"</h2>
                                <EventBody body_text=d.body_text raw_text=d.raw_text form_fields=d.form_fields/>
                            </section>
                            <section class="panel">
                                <details>
                                    <summary><h2 class="inline">"Headers ("{d.headers.len()}")"</h2></summary>
                                    <table class="table headers">
                                        <tbody>
                                            {d.headers.into_iter().map(|(name, value)| view! {
                                                <tr><th scope="row">{name}</th><td class="mono-cell">{value}</td></tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </details>
                            </section>
                        }.into_any()
                    }
                    Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

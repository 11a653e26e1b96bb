//! The landing page after login: what this hub is and how it is doing.

use leptos::prelude::*;
use leptos_meta::Title;

use super::components::{
    CopyButton, ErrorPanel, HealthPanel, ScrollRegion, Time, curl_command, format_bytes,
    health_figures,
};
use crate::api::overview;
use crate::dto::GettingStartedDto;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| overview());
    let health = health_figures(|| None, || None);
    view! {
        <Title text="Overview"/>
        <header class="page-head">
            <h1>"Overview"</h1>
            <p class="muted">"Receive webhooks from providers, send them to your subscribers, and keep a record of both."</p>
        </header>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(o) => {
                        let database = match o.database_engine.as_str() {
                            "postgres" => "PostgreSQL",
                            _ => "SQLite file",
                        };
                        let this_node = o.node_id.clone();
                        let started = o.getting_started;
                        let set_up = started.sources > 0 && started.events > 0 && started.event_types > 0
                            && started.subscriptions > 0 && started.messages > 0;
                        let hubs = o.hubs.into_iter().map(|hub| {
                            let this = (hub.node_id == this_node).then_some(" (this hub)");
                            view! {
                                <tr>
                                    <td><code>{hub.node_id}</code>{this}</td>
                                    <td>{hub.version}</td>
                                    <td class="when"><Time millis=hub.started_at/></td>
                                    <td class="when"><Time millis=hub.last_seen/></td>
                                </tr>
                            }
                        }).collect_view();
                        let guide = view! { <GettingStarted started/> };
                        let (guide_first, guide_last) = if set_up { (None, Some(guide)) } else { (Some(guide), None) };
                        view! {
                        {guide_first}
                        <section class="stats">
                            <div class="stat">
                                <span class="stat-label">"Users"</span>
                                <span class="stat-value">{o.users}</span>
                            </div>
                            <div class="stat">
                                <span class="stat-label">"Active API keys"</span>
                                <span class="stat-value">{o.active_api_keys}</span>
                            </div>
                            <div class="stat">
                                <span class="stat-label">"Database"</span>
                                <span class="stat-value">{format_bytes(o.database_bytes)}</span>
                            </div>
                        </section>
                        <HealthPanel figures=health/>
                        <section class="panel">
                            <h2>"This hub"</h2>
                            <dl class="facts">
                                <dt>"Version"</dt><dd>{o.version}</dd>
                                <dt>"Running since"</dt><dd><Time millis=o.started_at/></dd>
                                <dt>"Node id"</dt><dd><code>{o.node_id}</code></dd>
                                <dt>{database}</dt><dd><code>{o.database_path}</code></dd>
                                <dt>"Health check"</dt><dd><a href="/healthz"><code>"/healthz"</code></a></dd>
                            </dl>
                        </section>
                        <section class="panel">
                            <h2>"Hubs on this database"</h2>
                            <p class="muted">"Every hub says it is alive every 10 seconds; one silent for 30 seconds is left out."</p>
                            <ScrollRegion label="Hubs on this database">
                                <table class="table">
                                    <thead><tr><th>"Node id"</th><th>"Version"</th><th>"Running since"</th><th>"Last seen"</th></tr></thead>
                                    <tbody>{hubs}</tbody>
                                </table>
                            </ScrollRegion>
                        </section>
                        {guide_last}
                        }.into_any()
                    }
                    Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The steps from a new hub to webhooks flowing both ways, each ticked once done: first in a
/// hub still being set up, last once everything has happened.
#[component]
fn GettingStarted(started: GettingStartedDto) -> impl IntoView {
    let step = |done: bool| if done { "step done" } else { "step" };
    let try_it = started.try_source.map(|source| {
        let curl = curl_command(&source.url, &source.headers, &source.body);
        view! {
            <p>"Try “"{source.name}"” now: this request is signed as its provider signs, with its secret."</p>
            <div class="copy-line">
                <pre class="body curl">{curl.clone()}</pre>
                <CopyButton text=curl label="Copy the command"/>
            </div>
        }
    });
    view! {
        <section class="panel" id="getting-started">
            <h2>"Getting started"</h2>
            <h3>"Receive"</h3>
            <ol class="steps checklist">
                <li class=step(started.sources > 0)>
                    <a href="/sources#add">"Add a source"</a>" for the provider that will send webhooks (GitHub, Stripe, Slack, …)."
                </li>
                <li class=step(started.events > 0)>
                    "Send it a signed request, and see it under "<a href="/events">"Events"</a>"."
                    {try_it}
                </li>
            </ol>
            <h3>"Send"</h3>
            <ol class="steps checklist">
                <li class=step(started.event_types > 0)>
                    <a href="/event-types#add">"Name an event type"</a>" your system will publish, such as invoice.paid."
                </li>
                <li class=step(started.subscriptions > 0)>
                    <a href="/subscriptions#add">"Subscribe a URL"</a>" to it; each delivery is signed with the subscription's secret."
                </li>
                <li class=step(started.messages > 0)>
                    <a href="/event-types#publish">"Publish a message"</a>" (or "<code>"POST /api/v1/messages"</code>" with an "
                    <a href="/settings#api-keys">"API key"</a>") and follow it under "<a href="/deliveries">"Deliveries"</a>"."
                </li>
            </ol>
        </section>
    }
}

//! The landing page after login: what this hub is and how it is doing.

use leptos::prelude::*;
use leptos_meta::Title;

use super::components::{ErrorPanel, ScrollRegion, Time, format_bytes};
use crate::api::overview;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| overview());
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
                        view! {
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
                        <section class="panel">
                            <h2>"Getting started"</h2>
                            <ol class="steps">
                                <li>"Create an API key in "<a href="/settings#api-keys">"Settings"</a>" for scripts and services that talk to the REST API."</li>
                                <li>"Call "<code>"GET /api/v1/whoami"</code>" with "<code>"Authorization: Bearer <key>"</code>" to check it works."</li>
                                <li>"Add the people who should see this dashboard under "<a href="/settings#users">"Users"</a>"."</li>
                            </ol>
                        </section>
                        }.into_any()
                    }
                    Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

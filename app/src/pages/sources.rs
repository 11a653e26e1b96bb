//! Sources: the endpoints providers deliver to. A list with a form to add one, and a page per
//! source with its URL, its secret (on request) and the requests it refused.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::components::{
    CopyButton, CopyableValue, ErrorPanel, Field, FormError, action_error, format_time,
};
use crate::api::{CreateSource, list_sources, source_detail};

/// The providers a form offers: value and label.
const PROVIDERS: &[(&str, &str)] = &[
    ("github", "GitHub"),
    ("stripe", "Stripe"),
    ("slack", "Slack"),
    ("standard-webhooks", "Standard Webhooks / Svix"),
    ("shopify", "Shopify"),
    ("dropbox", "Dropbox"),
    ("trello", "Trello"),
    ("pusher", "Pusher"),
    ("zendesk", "Zendesk"),
    ("bitbucket", "Bitbucket"),
    ("aspnet", "ASP.NET WebHooks"),
    ("secret-in-url", "Secret in the URL (?code=)"),
];

pub fn provider_label(value: &str) -> String {
    PROVIDERS
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(_, label)| (*label).to_owned())
        .unwrap_or_else(|| value.to_owned())
}

#[component]
pub fn SourcesPage() -> impl IntoView {
    let create = ServerAction::<CreateSource>::new();
    let error = action_error(create);
    let sources = Resource::new(move || create.version().get(), |_| list_sources());
    let created = move || create.value().get().and_then(Result::ok);
    view! {
        <Title text="Sources"/>
        <header class="page-head">
            <h1>"Sources"</h1>
            <p class="muted">"Each source is an endpoint for one provider. Paste its URL and secret into the provider's webhook settings."</p>
        </header>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match sources.await {
                    Ok(list) if list.is_empty() => view! {
                        <section class="panel"><p class="empty">"No sources yet. Add one below."</p></section>
                    }.into_any(),
                    Ok(list) => view! {
                        <section class="panel">
                            <table class="table">
                                <thead><tr><th>"Name"</th><th>"Provider"</th><th>"Endpoint URL"</th><th>"Status"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|s| view! {
                                        <tr>
                                            <td><a href=format!("/sources/{}", s.id)>{s.name}</a></td>
                                            <td>{provider_label(&s.provider)}</td>
                                            <td><code class="url">{s.url}</code></td>
                                            <td>{if s.enabled { view! { <span class="badge ok">"enabled"</span> } } else { view! { <span class="badge muted">"disabled"</span> } }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                    Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                }
            })}
        </Suspense>
        <section class="panel" id="add">
            <h2>"Add a source"</h2>
            {move || created().map(|s| view! {
                <div class="secret-reveal" role="status">
                    <p><strong>"“"{s.name.clone()}"” is ready."</strong>" Give the provider this URL, then "<a href=format!("/sources/{}", s.id)>"open the source"</a>" for its secret."</p>
                    <CopyableValue value=s.url label="New endpoint URL"/>
                </div>
            })}
            <ActionForm action=create attr:class="stack form-narrow">
                <Field label="Name" id="name" error=error>
                    <input id="name" name="name" placeholder="GitHub — my-org" required maxlength="100"/>
                </Field>
                <Field label="Provider" id="provider" error=error>
                    <select id="provider" name="provider">
                        {PROVIDERS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                    </select>
                </Field>
                <Field label="Secret" id="secret" hint="Leave blank to have one generated." error=error>
                    <input id="secret" name="secret" autocomplete="off" maxlength="512"/>
                </Field>
                <Field label="Pusher app key" id="pusher_key" hint="Only for Pusher: the key in its X-Pusher-Key header." error=error>
                    <input id="pusher_key" name="pusher_key" autocomplete="off"/>
                </Field>
                <FormError error/>
                <div><button type="submit" class="button primary">"Add source"</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn SourcePage() -> impl IntoView {
    let params = use_params_map();
    let detail = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        source_detail,
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => {
                        let s = d.source;
                        view! {
                            <Title text=s.name.clone()/>
                            <header class="page-head">
                                <p class="crumbs"><a href="/sources">"Sources"</a>" / "</p>
                                <h1>{s.name.clone()}</h1>
                                <p class="muted">{provider_label(&s.provider)}" · added "{format_time(s.created_at)}</p>
                            </header>
                            <section class="panel">
                                <h2>"Connect the provider"</h2>
                                <dl class="facts">
                                    <dt>"Endpoint URL"</dt>
                                    <dd class="copy-line"><code class="url">{s.url.clone()}</code><CopyButton text=s.url.clone()/></dd>
                                    <dt>"Secret"</dt>
                                    <dd>
                                        <details class="reveal">
                                            <summary>"Show secret"</summary>
                                            <div class="copy-line"><code class="secret-text">{d.secret.clone()}</code><CopyButton text=d.secret/></div>
                                        </details>
                                    </dd>
                                    <dt>"Events"</dt>
                                    <dd><a href=format!("/events?source={}", s.id)>"See what this source received"</a></dd>
                                </dl>
                            </section>
                            <section class="panel">
                                <h2>"Refused requests"</h2>
                                <p class="muted">"Requests that failed verification, newest first. A wrong secret shows up here as “signature does not match”."</p>
                                {if d.refused.is_empty() {
                                    view! { <p class="empty">"None so far."</p> }.into_any()
                                } else {
                                    view! {
                                        <table class="table">
                                            <thead><tr><th>"When"</th><th>"Reason"</th><th>"From"</th></tr></thead>
                                            <tbody>
                                                {d.refused.into_iter().map(|r| view! {
                                                    <tr>
                                                        <td>{format_time(r.received_at)}</td>
                                                        <td>{r.reason}</td>
                                                        <td>{r.remote_addr.unwrap_or_default()}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                    Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

//! Sources: the endpoints providers deliver to. A list with a form to add one and the global
//! handlers, and a page per source with its URL, its secret (on request), its settings, its
//! handlers and the requests it refused.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::components::{
    ADMIN_ONLY_SECRET, CopyButton, CopyableValue, ErrorPanel, Field, FormError, action_error,
    format_time,
};
use crate::api::{
    AddHandler, CreateSource, DeleteSource, DropPreviousSecret, RemoveHandler, RotateSourceSecret,
    SetSourceEnabled, UpdateSource, list_handlers, list_sources, source_detail,
};
use crate::dto::HandlerDto;

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
        <GlobalHandlers/>
    }
}

#[component]
fn GlobalHandlers() -> impl IntoView {
    let add = ServerAction::<AddHandler>::new();
    let remove = ServerAction::<RemoveHandler>::new();
    let handlers = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| list_handlers(None),
    );
    view! {
        <section class="panel" id="global-handlers">
            <h2>"Handlers for every source"</h2>
            <p class="muted">"Global handlers run on every verified event of every source, merged with each source's own handlers by position."</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match handlers.await {
                        Ok(list) => view! { <HandlerTable list remove/> }.into_any(),
                        Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                    }
                })}
            </Suspense>
            <HandlerForm add source_id=String::new()/>
        </section>
    }
}

/// A chain of handlers in running order, each with a remove button.
#[component]
fn HandlerTable(list: Vec<HandlerDto>, remove: ServerAction<RemoveHandler>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"No handlers: events are stored and answered 200."</p> }
            .into_any();
    }
    view! {
        <table class="table handlers">
            <thead><tr><th>"Position"</th><th>"Kind"</th><th>"Events"</th><th>"What it does"</th><th></th></tr></thead>
            <tbody>
                {list.into_iter().map(|h| {
                    let events = if h.event_types.is_empty() { "all".to_owned() } else { h.event_types.join(", ") };
                    view! {
                        <tr>
                            <td>{h.position}</td>
                            <td><code>{h.kind}</code></td>
                            <td>{events}</td>
                            <td>{h.summary}</td>
                            <td>
                                <ActionForm action=remove>
                                    <input type="hidden" name="source_id" value=h.source_id.unwrap_or_default()/>
                                    <input type="hidden" name="id" value=h.id/>
                                    <button type="submit" class="button small ghost">"Remove"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Adds a handler to a source (or a global one when `source_id` is empty).
#[component]
fn HandlerForm(add: ServerAction<AddHandler>, source_id: String) -> impl IntoView {
    let error = action_error(add);
    view! {
        <details class="add-handler">
            <summary>"Add a handler"</summary>
            <ActionForm action=add attr:class="stack form-narrow">
                <input type="hidden" name="handler[source_id]" value=source_id/>
                <Field label="Kind" id="kind" error=error>
                    <select id="kind" name="handler[kind]">
                        <option value="forward">"forward: relay the event to another URL"</option>
                        <option value="respond">"respond: answer the sender and stop the chain"</option>
                        <option value="publish">"publish: send it on to subscribers as an event type"</option>
                    </select>
                </Field>
                <Field label="Position" id="position" hint="Lower numbers run first. Blank: after the others." error=error>
                    <input id="position" name="handler[position]" inputmode="numeric"/>
                </Field>
                <Field label="Event types" id="event_types" hint="Comma-separated, such as push, pull_request or invoice.*. Blank: every event." error=error>
                    <input id="event_types" name="handler[event_types]"/>
                </Field>
                <Field label="URL" id="url" hint="For forward: where to POST the exact body and the sender's headers." error=error>
                    <input id="url" name="handler[url]" type="url" placeholder="https://ci.example.com/hooks"/>
                </Field>
                <Field label="Publish as" id="publish_as" hint="For publish: the outgoing event type from the catalog, such as github.push." error=error>
                    <input id="publish_as" name="handler[publish_as]" placeholder="github.push"/>
                </Field>
                <Field label="Status" id="status" hint="For respond: the HTTP status to answer, such as 200 or 410." error=error>
                    <input id="status" name="handler[status]" inputmode="numeric" value="200"/>
                </Field>
                <Field label="Content type" id="content_type" hint="For respond." error=error>
                    <input id="content_type" name="handler[content_type]" value="application/json"/>
                </Field>
                <Field label="Body" id="body" hint="For respond: the exact body to answer with." error=error>
                    <textarea id="body" name="handler[body]" rows="3"></textarea>
                </Field>
                <FormError error/>
                <div><button type="submit" class="button primary">"Add handler"</button></div>
            </ActionForm>
        </details>
    }
}

#[component]
pub fn SourcePage() -> impl IntoView {
    let params = use_params_map();
    let update = ServerAction::<UpdateSource>::new();
    let toggle = ServerAction::<SetSourceEnabled>::new();
    let rotate = ServerAction::<RotateSourceSecret>::new();
    let drop_previous = ServerAction::<DropPreviousSecret>::new();
    let delete = ServerAction::<DeleteSource>::new();
    let add = ServerAction::<AddHandler>::new();
    let remove = ServerAction::<RemoveHandler>::new();
    let changes = move || {
        (
            update.version().get(),
            toggle.version().get(),
            rotate.version().get(),
            drop_previous.version().get(),
            add.version().get(),
            remove.version().get(),
        )
    };
    let detail = Resource::new(
        move || (params.read().get("id").unwrap_or_default(), changes()),
        |(id, _)| source_detail(id),
    );
    let update_error = action_error(update);
    let rotate_error = action_error(rotate);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => {
                        let s = d.source;
                        let is_admin = d.secret.is_some();
                        let rotation = d.has_previous_secret.then(|| {
                            let id = s.id.clone();
                            view! {
                                <div class="rotation">
                                    <p>"The previous secret is still accepted while you update the provider."</p>
                                    {is_admin.then(|| view! {
                                        <ActionForm action=drop_previous>
                                            <input type="hidden" name="id" value=id/>
                                            <button type="submit" class="button small">"Stop accepting the previous secret"</button>
                                        </ActionForm>
                                    })}
                                </div>
                            }
                        });
                        let provider_fields = match s.provider.as_str() {
                            "pusher" => Some(view! {
                                <Field label="Pusher app key" id="pusher_key" error=update_error>
                                    <input id="pusher_key" name="pusher_key" required value=d.pusher_key.unwrap_or_default()/>
                                </Field>
                            }.into_any()),
                            "trello" => Some(view! {
                                <Field label="Callback URL" id="callback_url" hint="The exact URL registered with Trello, which it signs. Blank: this endpoint's URL above." error=update_error>
                                    <input id="callback_url" name="callback_url" type="url" value=d.callback_url.unwrap_or_default()/>
                                </Field>
                            }.into_any()),
                            _ => None,
                        };
                        // Each form's children are their own closure and need their own copy.
                        let [id_update, id_rotate, id_toggle, id_delete] =
                            std::array::from_fn(|_| s.id.clone());
                        view! {
                            <Title text=s.name.clone()/>
                            <header class="page-head">
                                <p class="crumbs"><a href="/sources">"Sources"</a>" / "</p>
                                <h1>{s.name.clone()}" "{if s.enabled { view! { <span class="badge ok">"enabled"</span> } } else { view! { <span class="badge muted">"disabled"</span> } }}</h1>
                                <p class="muted">{provider_label(&s.provider)}" · added "{format_time(s.created_at)}</p>
                            </header>
                            {(!s.enabled).then_some(view! {
                                <p class="notice warn" role="status">"This source is disabled: deliveries are answered 503 and not stored, so providers retry later."</p>
                            })}
                            <section class="panel">
                                <h2>"Connect the provider"</h2>
                                <dl class="facts">
                                    <dt>"Endpoint URL"</dt>
                                    <dd class="copy-line"><code class="url">{s.url.clone()}</code><CopyButton text=s.url.clone()/></dd>
                                    <dt>"Secret"</dt>
                                    <dd>
                                        {match d.secret.clone() {
                                            Some(secret) => view! {
                                                <details class="reveal">
                                                    <summary>"Show secret"</summary>
                                                    <div class="copy-line"><code class="secret-text">{secret.clone()}</code><CopyButton text=secret/></div>
                                                </details>
                                            }.into_any(),
                                            None => view! { <span class="muted">{ADMIN_ONLY_SECRET}</span> }.into_any(),
                                        }}
                                        {rotation}
                                    </dd>
                                    <dt>"Events"</dt>
                                    <dd><a href=format!("/events?source={}", s.id)>"See what this source received"</a></dd>
                                </dl>
                            </section>
                            <section class="panel" id="handlers">
                                <h2>"Handlers"</h2>
                                <p class="muted">"Run in ascending position on each verified event, together with the global handlers. A respond handler answers the provider and stops the chain."</p>
                                <HandlerTable list=d.handlers remove/>
                                <HandlerForm add source_id=s.id.clone()/>
                            </section>
                            <section class="panel" id="settings">
                                <h2>"Settings"</h2>
                                <ActionForm action=update attr:class="stack form-narrow">
                                    <input type="hidden" name="id" value=id_update/>
                                    <Field label="Name" id="name" error=update_error>
                                        <input id="name" name="name" required maxlength="100" value=s.name.clone()/>
                                    </Field>
                                    {provider_fields}
                                    <FormError error=update_error/>
                                    <div><button type="submit" class="button primary">"Save"</button></div>
                                </ActionForm>
                                {is_admin.then(|| view! {
                                    <h3>"Rotate the secret"</h3>
                                    <p class="muted">"The new secret becomes current; the old one stays accepted until you stop it, so no delivery is refused while you update the provider."</p>
                                    <ActionForm action=rotate attr:class="stack form-narrow">
                                        <input type="hidden" name="id" value=id_rotate/>
                                        <Field label="New secret" id="secret" hint="Leave blank to have one generated." error=rotate_error>
                                            <input id="secret" name="secret" autocomplete="off" maxlength="512"/>
                                        </Field>
                                        <FormError error=rotate_error/>
                                        <div><button type="submit" class="button">"Rotate secret"</button></div>
                                    </ActionForm>
                                })}
                                <h3>{if s.enabled { "Disable" } else { "Enable" }}</h3>
                                <ActionForm action=toggle>
                                    <input type="hidden" name="id" value=id_toggle/>
                                    <input type="hidden" name="enabled" value=(!s.enabled).to_string()/>
                                    <button type="submit" class="button">{if s.enabled { "Disable this source" } else { "Enable this source" }}</button>
                                </ActionForm>
                                <h3>"Delete"</h3>
                                <details class="danger">
                                    <summary>"Delete this source…"</summary>
                                    <p>"Its endpoint stops answering and every event it received is deleted. This cannot be undone."</p>
                                    <ActionForm action=delete>
                                        <input type="hidden" name="id" value=id_delete/>
                                        <button type="submit" class="button danger">"Delete source and its events"</button>
                                    </ActionForm>
                                </details>
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

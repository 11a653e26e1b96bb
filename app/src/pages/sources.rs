//! Sources: the endpoints providers deliver to. A list with a form to add one and the global
//! handlers, and a page per source with its URL, its secret (on request), its settings, its
//! handlers and the requests it refused.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::components::{
    ADMIN_ONLY_SECRET, ButtonError, CopyButton, CopyableValue, ErrorPanel, Field, FormError,
    HealthPanel, ScrollRegion, Time, action_error, health_figures, reset_on_success,
};
use crate::api::{
    AddHandler, ChangeHandler, CreateSource, DeleteSource, DropPreviousSecret, RemoveHandler,
    RetryFailedRuns, RotateSourceSecret, SetSourceEnabled, TestSource, UpdateSource, list_handlers,
    list_sources, source_detail,
};
use crate::dto::HandlerDto;
use crate::error::AppError;
use crate::flash::server_action;

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
    let create = server_action::<CreateSource>();
    let error = action_error(create);
    let sources = Resource::new(move || create.version().get(), |_| list_sources());
    let created = move || create.value().get().and_then(Result::ok);
    let form = reset_on_success(create);
    let query = use_query_map();
    let deleted = move || query.read().get("deleted").is_some();
    view! {
        <Title text="Sources"/>
        <header class="page-head">
            <h1>"Sources"</h1>
            <p class="muted">"Each source is an endpoint for one provider. Paste its URL and secret into the provider's webhook settings."</p>
        </header>
        <Show when=deleted>
            <p class="notice" role="status">"The source was deleted, with every event it received."</p>
        </Show>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match sources.await {
                    Ok(list) if list.is_empty() => view! {
                        <section class="panel"><p class="empty">"No sources yet. Add one below."</p></section>
                    }.into_any(),
                    Ok(list) => view! {
                        <section class="panel">
                            <ScrollRegion label="Sources">
                                <table class="table sources linked">
                                    <thead><tr><th>"Name"</th><th>"Provider"</th><th>"Endpoint URL"</th><th>"Status"</th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|s| view! {
                                            <tr>
                                                <td><a class="row-link" href=format!("/sources/{}", s.id)>{s.name}</a></td>
                                                <td>{provider_label(&s.provider)}</td>
                                                <td><code class="url">{s.url}</code></td>
                                                <td>{if s.enabled { view! { <span class="badge ok">"enabled"</span> } } else { view! { <span class="badge muted">"disabled"</span> } }}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </ScrollRegion>
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
            <ActionForm action=create node_ref=form attr:class="stack form-narrow source-form">
                <Field label="Name" id="name" error=error>
                    <input id="name" name="name" placeholder="GitHub — my-org" required maxlength="100"/>
                </Field>
                <Field label="Provider" id="provider" error=error>
                    <select id="provider" name="provider">
                        {PROVIDERS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                    </select>
                </Field>
                <Field label="Secret" id="secret" hint="The signing secret the provider shows you. Leave blank to have one generated." error=error>
                    <input id="secret" name="secret" autocomplete="off" maxlength="512"/>
                </Field>
                <p class="hint" data-for-provider="standard-webhooks">"A Standard Webhooks secret is whsec_ followed by base64, as Svix shows it."</p>
                <div data-for-provider="pusher">
                    <Field label="Pusher app key" id="pusher_key" hint="The key Pusher sends in its X-Pusher-Key header." error=error>
                        <input id="pusher_key" name="pusher_key" autocomplete="off"/>
                    </Field>
                </div>
                <FormError error/>
                <div><button type="submit" class="button primary">"Add source"</button></div>
            </ActionForm>
        </section>
        <GlobalHandlers/>
    }
}

#[component]
fn GlobalHandlers() -> impl IntoView {
    let add = server_action::<AddHandler>();
    let remove = server_action::<RemoveHandler>();
    let change = server_action::<ChangeHandler>();
    let handlers = Resource::new(
        move || {
            (
                add.version().get(),
                remove.version().get(),
                change.version().get(),
            )
        },
        |_| list_handlers(None),
    );
    view! {
        <section class="panel" id="global-handlers">
            <h2>"Handlers for every source"</h2>
            <p class="muted">"Global handlers run on every verified event of every source, merged with each source's own handlers by position."</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match handlers.await {
                        Ok(list) => view! { <HandlerTable list remove change/> }.into_any(),
                        Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                    }
                })}
            </Suspense>
            <HandlerForm add source_id=String::new()/>
        </section>
    }
}

/// A chain of handlers in running order, each with a remove button. On a source's page the
/// global handlers are in it too, where they run, marked as such and removed from the sources
/// page.
#[component]
fn HandlerTable(
    list: Vec<HandlerDto>,
    remove: ServerAction<RemoveHandler>,
    change: ServerAction<ChangeHandler>,
    #[prop(optional)] of_source: bool,
) -> impl IntoView {
    let removed = move || matches!(remove.value().get(), Some(Ok(())));
    let error = action_error(remove);
    let change_error = action_error(change);
    let changed = move || change.value().get().and_then(Result::ok);
    let table = if list.is_empty() {
        view! { <p class="empty">"No handlers: events are stored and answered 200."</p> }.into_any()
    } else {
        view! {
            <ScrollRegion label="Handlers">
                <table class="table handlers">
                    <thead><tr><th>"Position"</th><th>"Kind"</th><th>"Events"</th><th>"What it does"</th><th>"Health"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|h| {
                            let events = if h.event_types.is_empty() { "all".to_owned() } else { h.event_types.join(", ") };
                            let editable = !(of_source && h.source_id.is_none());
                            let edit = editable.then(|| view! { <HandlerEdit handler=h.clone() change/> });
                            view! {
                                <tr class:disabled=!h.enabled>
                                    <td>{h.position}</td>
                                    <td>
                                        <code>{h.kind}</code>
                                        {(!editable).then(|| view! { " "<span class="badge muted">"global"</span> })}
                                        {(!h.enabled).then(|| view! { " "<span class="badge warn">"disabled"</span> })}
                                    </td>
                                    <td>{events}</td>
                                    <td>{h.summary}</td>
                                    <td><HandlerHealth failed=h.failed_runs last=h.last_failure/></td>
                                    <td class="actions">
                                        {edit}
                                        {if !editable {
                                            view! { <a href="/sources#global-handlers">"For every source"</a> }.into_any()
                                        } else {
                                            view! {
                                                <ActionForm action=remove>
                                                    <input type="hidden" name="source_id" value=h.source_id.unwrap_or_default()/>
                                                    <input type="hidden" name="id" value=h.id/>
                                                    <button type="submit" class="button small ghost">"Remove"</button>
                                                </ActionForm>
                                            }.into_any()
                                        }}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </ScrollRegion>
        }.into_any()
    };
    view! {
        {table}
        <ButtonError error/>
        <FormError error=change_error/>
        <Show when=removed>
            <p class="notice" role="status">"The handler was removed."</p>
        </Show>
        {move || changed().map(|h| view! {
            <p class="notice" role="status">
                "Saved: the "<code>{h.kind}</code>" handler at position "{h.position}
                {if h.enabled { " runs for the events it selects." } else { " is disabled and runs for no event." }}
            </p>
        })}
    }
}

/// Switches a handler on or off, and changes its position and event types in place.
#[component]
fn HandlerEdit(handler: HandlerDto, change: ServerAction<ChangeHandler>) -> impl IntoView {
    let HandlerDto {
        id,
        source_id,
        position,
        event_types,
        enabled,
        ..
    } = handler;
    let source_id = source_id.unwrap_or_default();
    let (position_id, types_id) = (format!("position-{id}"), format!("event-types-{id}"));
    let (id_toggle, source_toggle) = (id.clone(), source_id.clone());
    view! {
        <ActionForm action=change attr:class="inline-action">
            <input type="hidden" name="change[source_id]" value=source_toggle/>
            <input type="hidden" name="change[id]" value=id_toggle/>
            <input type="hidden" name="change[enabled]" value=(!enabled).to_string()/>
            <button type="submit" class="button small ghost">{if enabled { "Disable" } else { "Enable" }}</button>
        </ActionForm>
        <details class="confirm edit-handler">
            <summary class="button small ghost">"Edit"</summary>
            <div class="confirm-body">
                <ActionForm action=change attr:class="stack">
                    <input type="hidden" name="change[source_id]" value=source_id/>
                    <input type="hidden" name="change[id]" value=id/>
                    <div class="field">
                        <label for=position_id.clone()>"Position"</label>
                        <input id=position_id name="change[position]" inputmode="numeric" value=position/>
                    </div>
                    <div class="field">
                        <label for=types_id.clone()>"Event types"</label>
                        <input id=types_id name="change[event_types]" value=event_types.join(", ") placeholder="every event"/>
                    </div>
                    <div><button type="submit" class="button small primary">"Save"</button></div>
                </ActionForm>
            </div>
        </details>
    }
}

/// A handler's runs that gave up, if any, with what the newest said.
#[component]
fn HandlerHealth(failed: u64, last: Option<String>) -> impl IntoView {
    if failed == 0 {
        return view! { <span class="badge ok">"no failures"</span> }.into_any();
    }
    let count = if failed == 1 {
        "1 run failed".to_owned()
    } else {
        format!("{failed} runs failed")
    };
    view! {
        <span class="badge bad">{count}</span>
        {last.map(|last| view! { <p class="muted small">"Last: "{last}</p> })}
    }
    .into_any()
}

/// Runs again every failed handler run of a source's events.
#[component]
fn RetryFailedRunsForm(source_id: String, failed: u64) -> impl IntoView {
    let retry = server_action::<RetryFailedRuns>();
    let error = action_error(retry);
    let queued = move || retry.value().get().and_then(Result::ok);
    view! {
        {(failed > 0).then(|| view! {
            <div class="callout warn">
                <p>"Some runs of this source's handlers gave up. Fix what they call, then run them again."</p>
                <ActionForm action=retry>
                    <input type="hidden" name="source_id" value=source_id/>
                    <button type="submit" class="button">"Run the failed handlers again"</button>
                </ActionForm>
            </div>
        })}
        <ButtonError error/>
        {move || queued().map(|n| view! {
            <p class="notice" role="status">{match n { 0 => "Nothing had failed.".to_owned(), 1 => "1 run queued again.".to_owned(), n => format!("{n} runs queued again.") }}</p>
        })}
    }
}

/// The kinds the form offers: value and label.
const HANDLER_KINDS: &[(&str, &str)] = &[
    ("forward", "forward: relay the event to another URL"),
    ("respond", "respond: answer the sender and stop the chain"),
    (
        "publish",
        "publish: send it on to subscribers as an event type",
    ),
];

/// Adds a handler to a source (or a global one when `source_id` is empty). Only the chosen
/// kind's fields show (by CSS, so before the wasm too); the form opens itself on an error.
#[component]
fn HandlerForm(add: ServerAction<AddHandler>, source_id: String) -> impl IntoView {
    let error = action_error(add);
    let form = reset_on_success(add);
    let added = move || add.value().get().and_then(Result::ok);
    // After a refusal without JavaScript the page is new: the kind whose field was wrong is
    // chosen again, so that field and its message show.
    let refused_kind = move || {
        let field = error.get()?.field()?.to_owned();
        Some(match field.as_str() {
            "url" => "forward",
            "publish_as" => "publish",
            "status" | "content_type" | "body" => "respond",
            _ => return None,
        })
    };
    view! {
        {move || added().map(|h| view! {
            <p class="notice" role="status">"Added the "<code>{h.kind}</code>" handler at position "{h.position}"."</p>
        })}
        <details class="add-handler" open=move || error.get().is_some()>
            <summary>"Add a handler"</summary>
            <ActionForm action=add node_ref=form attr:class="stack form-narrow handler-form">
                <input type="hidden" name="handler[source_id]" value=source_id/>
                <Field label="Kind" id="kind" error=error>
                    <select id="kind" name="handler[kind]">
                        {HANDLER_KINDS.iter().map(|(kind, label)| view! {
                            <option value=*kind selected=move || refused_kind() == Some(*kind)>{*label}</option>
                        }).collect_view()}
                    </select>
                </Field>
                <Field label="Position" id="position" hint="Lower numbers run first. Blank: after the others." error=error>
                    <input id="position" name="handler[position]" inputmode="numeric"/>
                </Field>
                <Field label="Event types" id="event_types" hint="Comma-separated, such as push, pull_request or invoice.*. Blank: every event." error=error>
                    <input id="event_types" name="handler[event_types]"/>
                </Field>
                <div data-for-kind="forward">
                    <Field label="URL" id="url" hint="Where to POST the exact body and the sender's headers." error=error>
                        <input id="url" name="handler[url]" type="url" placeholder="https://ci.example.com/hooks"/>
                    </Field>
                </div>
                <div data-for-kind="publish">
                    <Field label="Publish as" id="publish_as" hint="The outgoing event type from the catalog, such as github.push." error=error>
                        <input id="publish_as" name="handler[publish_as]" placeholder="github.push"/>
                    </Field>
                </div>
                <div data-for-kind="respond">
                    <Field label="Status" id="status" hint="The HTTP status to answer, such as 200 or 410." error=error>
                        <input id="status" name="handler[status]" inputmode="numeric" value="200"/>
                    </Field>
                    <Field label="Content type" id="content_type" error=error>
                        <input id="content_type" name="handler[content_type]" value="application/json"/>
                    </Field>
                    <Field label="Body" id="body" hint="The exact body to answer with." error=error>
                        <textarea id="body" name="handler[body]" rows="3"></textarea>
                    </Field>
                </div>
                <FormError error/>
                <div><button type="submit" class="button primary">"Add handler"</button></div>
            </ActionForm>
        </details>
    }
}

/// Sends the source a request signed with its secret, as its provider would, and shows what
/// became of it: the quickest check that the provider and the secret are set up right.
#[component]
fn TestSourceForm(source_id: String) -> impl IntoView {
    let test = server_action::<TestSource>();
    let error = action_error(test);
    let outcome = move || {
        test.value().get().and_then(Result::ok).map(|tested| {
            let class = if tested.accepted {
                "notice"
            } else {
                "notice warn"
            };
            let link = tested
                .event_id
                .map(|id| view! { " " <a href=format!("/events/{id}")>"Open the event"</a> });
            view! { <p class=class role="status">{tested.outcome} {link}</p> }
        })
    };
    view! {
        <h3>"Test it"</h3>
        <p class="muted">"Sends this endpoint a request signed with its secret, as the provider would: checked, stored and handled like any other."</p>
        <ActionForm action=test>
            <input type="hidden" name="id" value=source_id/>
            <button type="submit" class="button">"Send a test request"</button>
        </ActionForm>
        <ButtonError error/>
        {outcome}
    }
}

#[component]
pub fn SourcePage() -> impl IntoView {
    let params = use_params_map();
    let health = health_figures(move || params.read().get("id"), || None);
    let update = server_action::<UpdateSource>();
    let toggle = server_action::<SetSourceEnabled>();
    let rotate = server_action::<RotateSourceSecret>();
    let drop_previous = server_action::<DropPreviousSecret>();
    let delete = server_action::<DeleteSource>();
    let add = server_action::<AddHandler>();
    let remove = server_action::<RemoveHandler>();
    let change = server_action::<ChangeHandler>();
    let changes = move || {
        (
            update.version().get(),
            toggle.version().get(),
            rotate.version().get(),
            drop_previous.version().get(),
            add.version().get(),
            remove.version().get(),
            change.version().get(),
        )
    };
    let detail = Resource::new(
        move || (params.read().get("id").unwrap_or_default(), changes()),
        |(id, _)| source_detail(id),
    );
    let update_error = action_error(update);
    let rotate_error = action_error(rotate);
    let toggle_error = action_error(toggle);
    let delete_error = action_error(delete);
    let rotate_form = reset_on_success(rotate);
    let succeeded =
        |action_value: Option<Result<(), AppError>>| matches!(action_value, Some(Ok(())));
    let saved = move || succeeded(update.value().get());
    let rotated = move || succeeded(rotate.value().get());
    let dropped = move || succeeded(drop_previous.value().get());
    let toggled = move || succeeded(toggle.value().get());
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
                                <p class="muted">{provider_label(&s.provider)}" · added "<Time millis=s.created_at/></p>
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
                                    <Show when=dropped>
                                        <p class="notice" role="status">"Only the current secret is accepted now."</p>
                                    </Show>
                                    </dd>
                                    <dt>"Events"</dt>
                                    <dd><a href=format!("/events?source={}", s.id)>"See what this source received"</a></dd>
                                </dl>
                                <TestSourceForm source_id=s.id.clone()/>
                            </section>
                            <HealthPanel figures=health/>
                            <section class="panel" id="handlers">
                                <h2>"Handlers"</h2>
                                <p class="muted">"Run in ascending position on each verified event; the global ones, which run for every source, are listed where they run. A respond handler answers the provider and stops the chain."</p>
                                <RetryFailedRunsForm source_id=s.id.clone() failed=d.handlers.iter().map(|h| h.failed_runs).sum()/>
                                <HandlerTable list=d.handlers remove change of_source=true/>
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
                                    <Show when=saved>
                                        <p class="notice" role="status">"Saved."</p>
                                    </Show>
                                    <div><button type="submit" class="button primary">"Save"</button></div>
                                </ActionForm>
                                {is_admin.then(|| view! {
                                    <h3>"Rotate the secret"</h3>
                                    <p class="muted">"The new secret becomes current; the old one stays accepted until you stop it, so no delivery is refused while you update the provider."</p>
                                    <ActionForm action=rotate node_ref=rotate_form attr:class="stack form-narrow">
                                        <input type="hidden" name="id" value=id_rotate/>
                                        <Field label="New secret" id="secret" hint="Leave blank to have one generated." error=rotate_error>
                                            <input id="secret" name="secret" autocomplete="off" maxlength="512"/>
                                        </Field>
                                        <FormError error=rotate_error/>
                                        <Show when=rotated>
                                            <p class="notice" role="status">"The new secret is current. The previous one is still accepted until you stop it above."</p>
                                        </Show>
                                        <div><button type="submit" class="button">"Rotate secret"</button></div>
                                    </ActionForm>
                                })}
                                <h3>{if s.enabled { "Disable" } else { "Enable" }}</h3>
                                <ActionForm action=toggle>
                                    <input type="hidden" name="id" value=id_toggle/>
                                    <input type="hidden" name="enabled" value=(!s.enabled).to_string()/>
                                    <button type="submit" class="button">{if s.enabled { "Disable this source" } else { "Enable this source" }}</button>
                                </ActionForm>
                                <ButtonError error=toggle_error/>
                                <Show when=toggled>
                                    <p class="notice" role="status">{if s.enabled { "Enabled: deliveries are stored again." } else { "Disabled: deliveries are answered 503 until you enable it." }}</p>
                                </Show>
                                <h3>"Delete"</h3>
                                <details class="danger">
                                    <summary>"Delete this source…"</summary>
                                    <p>"Its endpoint stops answering and every event it received is deleted. This cannot be undone."</p>
                                    <ActionForm action=delete>
                                        <input type="hidden" name="id" value=id_delete/>
                                        <button type="submit" class="button danger">"Delete source and its events"</button>
                                    </ActionForm>
                                    <ButtonError error=delete_error/>
                                </details>
                            </section>
                            <section class="panel">
                                <h2>"Refused requests"</h2>
                                <p class="muted">"Requests that failed verification, newest first. A wrong secret shows up here as “signature does not match”."</p>
                                {if d.refused.is_empty() {
                                    view! { <p class="empty">"None so far."</p> }.into_any()
                                } else {
                                    view! {
                                        <ScrollRegion label="Refused requests">
                                            <table class="table">
                                                <thead><tr><th>"When"</th><th>"Reason"</th><th>"From"</th></tr></thead>
                                                <tbody>
                                                    {d.refused.into_iter().map(|r| view! {
                                                        <tr>
                                                            <td class="when"><Time millis=r.received_at/></td>
                                                            <td>{r.reason}</td>
                                                            <td>{r.remote_addr.unwrap_or_default()}</td>
                                                        </tr>
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        </ScrollRegion>
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

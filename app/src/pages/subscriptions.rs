//! Subscriptions: the URLs this hub sends events to. A list with a form to add one, and a page
//! per subscription with its signing secret, its delivery counts (kept moving while redeliveries
//! run), a test button, redelivery of failures, its settings and deletion.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::components::{
    ADMIN_ONLY_SECRET, ButtonError, CopyButton, ErrorPanel, Field, FormError, HealthPanel,
    ScrollRegion, Time, action_error, every, format_time, health_figures, rcdata, reset_on_success,
};
use super::deliveries::DeliveryTable;
use crate::api::{
    CreateSubscription, DeleteSubscription, RedeliverFailed, ReenableAndRedeliver,
    RotateSubscriptionSecret, SendTestEvent, SetSubscriptionState, TryPayloadFilter,
    UpdateSubscription, list_subscriptions, subscription_detail,
};
use crate::dto::{
    DeliveryCountsDto, SubscriptionDetailDto, SubscriptionDto, SubscriptionSecretsDto,
};
use crate::error::AppError;
use crate::flash::server_action;

/// The ways a delivery can be framed and signed: value and label.
const MODES: &[(&str, &str)] = &[
    ("standard", "Standard Webhooks"),
    ("aspnet", "ASP.NET WebHooks"),
];

fn mode_label(value: &str) -> String {
    MODES
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(_, label)| (*label).to_owned())
        .unwrap_or_else(|| value.to_owned())
}

#[component]
pub(crate) fn StateBadge(state: String) -> impl IntoView {
    let class = match state.as_str() {
        "active" => "badge ok",
        "paused" => "badge warn",
        "disabled" => "badge bad",
        _ => "badge muted",
    };
    view! { <span class=class>{state}</span> }
}

/// `Name: value` lines, as the form takes them.
fn pair_lines(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let create = server_action::<CreateSubscription>();
    let error = action_error(create);
    let subscriptions = Resource::new(move || create.version().get(), |_| list_subscriptions());
    let created = move || create.value().get().and_then(Result::ok);
    let form = reset_on_success(create);
    let query = use_query_map();
    let deleted = move || query.read().get("deleted").is_some();
    view! {
        <Title text="Subscriptions"/>
        <header class="page-head">
            <h1>"Subscriptions"</h1>
            <p class="muted">"Each subscription is a URL that receives the event types it asks for, signed with its own secret."</p>
        </header>
        <Show when=deleted>
            <p class="notice" role="status">"The subscription was deleted, with its delivery history."</p>
        </Show>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match subscriptions.await {
                    Ok(list) if list.is_empty() => view! {
                        <section class="panel"><p class="empty">"No subscriptions yet. Add one below."</p></section>
                    }.into_any(),
                    Ok(list) => view! {
                        <section class="panel">
                            <ScrollRegion label="Subscriptions">
                                <table class="table subscriptions linked">
                                    <thead><tr><th>"URL"</th><th>"Event types"</th><th>"Consumer"</th><th>"State"</th><th>"Description"</th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|s| view! {
                                            <tr>
                                                <td><a class="url row-link" href=format!("/subscriptions/{}", s.id)>{s.url}</a></td>
                                                <td><EventTypeList patterns=s.event_types/></td>
                                                <td>{match s.consumer {
                                                    Some(c) => view! { <code>{c}</code> }.into_any(),
                                                    None if s.all_consumers => view! { <span class="muted">"all consumers"</span> }.into_any(),
                                                    None => "—".into_any(),
                                                }}</td>
                                                <td><StateBadge state=s.state/></td>
                                                <td>{s.description}</td>
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
            <h2>"Add a subscription"</h2>
            {move || created().map(|s| view! {
                <div class="secret-reveal" role="status">
                    <p><strong>{s.url.clone()}" is subscribed."</strong>" "<a href=format!("/subscriptions/{}", s.id)>"Open the subscription"</a>" for its signing secret."</p>
                </div>
            })}
            <ActionForm action=create node_ref=form attr:class="stack form-wide">
                <SubscriptionFields error/>
                <FormError error/>
                <div><button type="submit" class="button primary">"Add subscription"</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
fn EventTypeList(patterns: Vec<String>) -> impl IntoView {
    view! {
        <span class="type-list">
            {patterns.into_iter().map(|p| view! { <code>{p}</code> }).collect_view()}
        </span>
    }
}

/// An admin's "Show secret": the signing secret, and the URL and headers with the subscriber's
/// credentials that lists and forms show as `[redacted]`.
#[component]
fn SecretsReveal(secrets: SubscriptionSecretsDto, shown_url: String) -> impl IntoView {
    let url = (secrets.url != shown_url).then(|| {
        view! {
            <p class="muted">"URL"</p>
            <div class="copy-line"><code class="url">{secrets.url.clone()}</code><CopyButton text=secrets.url/></div>
        }
    });
    let headers = (!secrets.headers.is_empty()).then(|| {
        let text = pair_lines(&secrets.headers);
        view! {
            <p class="muted">"Extra headers"</p>
            <div class="copy-line"><pre class="credentials">{text.clone()}</pre><CopyButton text/></div>
        }
    });
    view! {
        <details class="reveal">
            <summary>"Show secret"</summary>
            <div class="copy-line"><code class="secret-text">{secrets.signing_secret.clone()}</code><CopyButton text=secrets.signing_secret/></div>
            {url}
            {headers}
        </details>
    }
}

/// Tries the filter being written on a sample payload, without saving anything. It needs the
/// wasm: without it the filter is still checked when the form is saved.
#[component]
fn TryFilter(filter: NodeRef<leptos::html::Textarea>) -> impl IntoView {
    let sample = NodeRef::<leptos::html::Textarea>::new();
    let try_it = ServerAction::<TryPayloadFilter>::new();
    let run = move |_| {
        let text = |node: NodeRef<leptos::html::Textarea>| {
            node.get_untracked().map(|t| t.value()).unwrap_or_default()
        };
        try_it.dispatch(TryPayloadFilter {
            filter: text(filter),
            sample: text(sample),
        });
    };
    let outcome = move || {
        try_it.value().get().map(|answer| match answer {
            Ok(true) => view! { <p class="notice" role="status">"Matches: a message with this payload is delivered."</p> }.into_any(),
            Ok(false) => view! { <p class="notice" role="status">"No match: a message with this payload creates no delivery here."</p> }.into_any(),
            Err(err) => {
                let message = match err.field() {
                    Some("payload_filter") => format!("The filter: {err}"),
                    _ => err.to_string(),
                };
                view! { <p class="form-error" role="alert">{message}</p> }.into_any()
            }
        })
    };
    view! {
        <details class="try-filter">
            <summary>"Try the filter on a sample payload"</summary>
            <div class="field">
                <label for="filter_sample">"Sample payload (JSON)"</label>
                <textarea id="filter_sample" rows="4" spellcheck="false" node_ref=sample placeholder="{\"data\": {\"amount\": 1500, \"currency\": \"eur\"}}"></textarea>
            </div>
            <noscript><p class="hint">"Trying needs JavaScript; the filter is checked when the form is saved."</p></noscript>
            <div><button type="button" class="button small" on:click=run>"Try"</button></div>
            {outcome}
        </details>
    }
}

/// The fields of the create and edit forms (`form[…]`, for [`crate::dto::SubscriptionFormDto`]),
/// filled from `initial` when editing.
#[component]
fn SubscriptionFields(
    error: Signal<Option<AppError>>,
    #[prop(optional)] initial: Option<SubscriptionDto>,
) -> impl IntoView {
    let editing = initial.is_some();
    let filter = NodeRef::<leptos::html::Textarea>::new();
    let (url, description, event_types, payload_filter, headers, properties, mode) = match &initial
    {
        Some(s) => (
            s.url.clone(),
            s.description.clone(),
            s.event_types.join("\n"),
            s.payload_filter.clone().unwrap_or_default(),
            pair_lines(&s.headers),
            pair_lines(&s.properties),
            s.mode.clone(),
        ),
        None => Default::default(),
    };
    let (consumer, all_consumers) = initial
        .map(|s| (s.consumer.unwrap_or_default(), s.all_consumers))
        .unwrap_or_default();
    view! {
        <Field label="URL" id="url" hint="Where to POST each event." error>
            <input id="url" name="form[url]" type="url" required placeholder="https://api.example.com/webhooks" value=url/>
        </Field>
        <Field label="Description" id="description" error>
            <input id="description" name="form[description]" maxlength="500" placeholder="Billing service" value=description/>
        </Field>
        <Field label="Event types" id="event_types" hint="One name or pattern per line: * for all, invoice.* for a prefix." error>
            <textarea id="event_types" name="form[event_types]" rows="3" required spellcheck="false" placeholder="invoice.*">{rcdata(event_types)}</textarea>
        </Field>
        <Field label="Payload filter" id="payload_filter" hint="Optional: only messages whose payload matches are delivered. Paths, ==, !=, <, >, in [...], exists(path), and, or, not; see the README." error>
            <textarea id="payload_filter" name="form[payload_filter]" rows="2" spellcheck="false" node_ref=filter placeholder="data.amount > 100 and data.currency in [\"eur\", \"usd\"]">{rcdata(payload_filter)}</textarea>
        </Field>
        <TryFilter filter/>
        <Field label="Extra headers" id="headers" hint="Sent with every delivery, one Name: value per line." error>
            <textarea id="headers" name="form[headers]" rows="2" spellcheck="false" placeholder="X-Tenant: acme">{rcdata(headers)}</textarea>
        </Field>
        <Field label="Properties" id="properties" hint="Name: value per line; ASP.NET WebHooks sends them in the body." error>
            <textarea id="properties" name="form[properties]" rows="2" spellcheck="false">{rcdata(properties)}</textarea>
        </Field>
        <Field label="Mode" id="mode" error>
            <select id="mode" name="form[mode]">
                {MODES.iter().map(|(value, label)| {
                    let selected = mode == *value;
                    view! { <option value=*value selected=selected>{*label}</option> }
                }).collect_view()}
            </select>
        </Field>
        <Field label="Consumer" id="consumer" hint="Optional: a consumer's id. Their subscription receives only the messages addressed to them." error>
            <input id="consumer" name="form[consumer]" maxlength="64" placeholder="acme" value=consumer/>
        </Field>
        <label class="checkbox">
            <input type="checkbox" name="form[all_consumers]" value="on" checked=all_consumers/>
            <span>"Without a consumer: also receive the messages addressed to any consumer"</span>
        </label>
        <label class="checkbox">
            <input type="checkbox" name="form[verify_echo]" value="on"/>
            <span>{if editing { "Verify the URL with an echo request before saving" } else { "Verify with an echo request first" }}</span>
        </label>
    }
}

#[component]
pub fn SubscriptionPage() -> impl IntoView {
    let params = use_params_map();
    let update = server_action::<UpdateSubscription>();
    let set_state = server_action::<SetSubscriptionState>();
    let rotate = server_action::<RotateSubscriptionSecret>();
    let send_test = server_action::<SendTestEvent>();
    let redeliver_failed = server_action::<RedeliverFailed>();
    let reenable = server_action::<ReenableAndRedeliver>();
    let delete = server_action::<DeleteSubscription>();
    let id = move || params.read().get("id").unwrap_or_default();
    let health = health_figures(|| None, move || Some(id()));

    // The settings part reloads after a change; the deliveries part also follows the worker.
    let detail = Resource::new(
        move || {
            (
                id(),
                update.version().get(),
                set_state.version().get(),
                rotate.version().get(),
                reenable.version().get(),
            )
        },
        |(id, ..)| subscription_detail(id),
    );
    let live = Resource::new(
        move || {
            (
                id(),
                set_state.version().get(),
                send_test.version().get(),
                redeliver_failed.version().get(),
                reenable.version().get(),
            )
        },
        |(id, ..)| subscription_detail(id),
    );

    // Once hydrated, the counts and recent deliveries refresh every 2 s so redeliveries show
    // their progress without a reload; the rest follows when the worker changes the state (a
    // `410 Gone` disables it).
    every(std::time::Duration::from_secs(2), move || {
        let state = |r: Resource<Result<SubscriptionDetailDto, AppError>>| {
            r.with_untracked(|d| match d {
                Some(Ok(d)) => Some(d.subscription.state.clone()),
                _ => None,
            })
        };
        if state(live).is_some() && state(live) != state(detail) {
            detail.refetch();
        }
        live.refetch();
    });

    let update_error = action_error(update);
    let state_error = action_error(set_state);
    let rotate_error = action_error(rotate);
    let test_error = action_error(send_test);
    let redeliver_error = action_error(redeliver_failed);
    let reenable_error = action_error(reenable);
    let delete_error = action_error(delete);
    let test_delivery = move || send_test.value().get().and_then(Result::ok);
    let redelivered = move || redeliver_failed.value().get().and_then(Result::ok);
    let reenabled = move || reenable.value().get().and_then(Result::ok);
    let state_changed = move || matches!(set_state.value().get(), Some(Ok(())));
    let rotated = move || matches!(rotate.value().get(), Some(Ok(())));

    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let d = match detail.await {
                    Ok(d) => d,
                    Err(err) => return view! { <ErrorPanel error=err/> }.into_any(),
                };
                let s = d.subscription;
                // Each form's children are their own closure and need their own copy.
                let [id_reenable, id_state, id_rotate, id_test, id_redeliver, id_update, id_delete] =
                    std::array::from_fn(|_| s.id.clone());
                let (next_state, state_button) = match s.state.as_str() {
                    "active" => ("paused", "Pause"),
                    "disabled" => ("active", "Enable without redelivering"),
                    _ => ("active", "Resume"),
                };
                let disabled = (s.state == "disabled").then(|| {
                    let reason = s.disabled_reason.clone().unwrap_or_else(|| "No reason was recorded.".to_owned());
                    let since = s.disabled_at.map(format_time);
                    view! {
                        <div class="callout warn" role="status">
                            <h2>"This subscription is disabled"</h2>
                            <p>{reason}</p>
                            {since.map(|t| view! { <p class="muted">"Disabled at "{t}". Nothing is sent to it until it is enabled again."</p> })}
                            <ActionForm action=reenable>
                                <input type="hidden" name="id" value=id_reenable/>
                                <button type="submit" class="button primary">"Re-enable and redeliver since it was disabled"</button>
                            </ActionForm>
                            <ButtonError error=reenable_error/>
                        </div>
                    }
                });
                let is_admin = d.secrets.is_some();
                let secrets = match d.secrets {
                    Some(secrets) => view! { <SecretsReveal secrets shown_url=s.url.clone()/> }.into_any(),
                    None => view! { <span class="muted">{ADMIN_ONLY_SECRET}</span> }.into_any(),
                };
                let previous = d.previous_secret_until.map(|until| view! {
                    <p class="rotation">"The previous secret also signs every delivery until "<Time millis=until/>", so the subscriber can switch over without failures."</p>
                });
                // A sensible start for "redeliver since": when it was disabled, else when it was made.
                let since_default = chrono::DateTime::from_timestamp_millis(s.disabled_at.unwrap_or(s.created_at))
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default();
                let all_deliveries = format!("/deliveries?subscription={}", s.id);
                view! {
                    <Title text=s.url.clone()/>
                    <header class="page-head">
                        <p class="crumbs"><a href="/subscriptions">"Subscriptions"</a>" / "</p>
                        <h1 class="url-title">{s.url.clone()}" "<StateBadge state=s.state.clone()/></h1>
                        <p class="muted">
                            {if s.description.is_empty() { String::new() } else { format!("{} · ", s.description) }}
                            {mode_label(&s.mode)}" · added "<Time millis=s.created_at/>
                        </p>
                    </header>
                    {disabled}
                    {move || reenabled().map(|count| view! {
                        <p class="notice" role="status">"Enabled again; "{count}" deliveries queued."</p>
                    })}
                    <section class="panel">
                        <h2>"Signing"</h2>
                        <dl class="facts">
                            <dt>"Secret"</dt>
                            <dd>
                                {secrets}
                                {previous}
                            </dd>
                            <dt>"Event types"</dt>
                            <dd><EventTypeList patterns=s.event_types.clone()/></dd>
                            <dt>"Payload filter"</dt>
                            <dd>{match s.payload_filter.clone() {
                                Some(filter) => view! { <code>{filter}</code> }.into_any(),
                                None => "None: every payload".into_any(),
                            }}</dd>
                            <dt>"Consumer"</dt>
                            <dd>{match s.consumer.clone() {
                                Some(c) => view! { <code>{c}</code>" · only messages addressed to them" }.into_any(),
                                None if s.all_consumers => "None · messages addressed to nobody and to any consumer".into_any(),
                                None => "None · messages addressed to nobody".into_any(),
                            }}</dd>
                            <dt>"Extra headers"</dt>
                            <dd>{if s.headers.is_empty() { "None".to_owned() } else { s.headers.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>().join(", ") }}</dd>
                        </dl>
                        <div class="toolbar">
                            <ActionForm action=set_state>
                                <input type="hidden" name="id" value=id_state/>
                                <input type="hidden" name="state" value=next_state/>
                                <button type="submit" class="button">{state_button}</button>
                            </ActionForm>
                            {is_admin.then(|| view! {
                                <ActionForm action=rotate>
                                    <input type="hidden" name="id" value=id_rotate/>
                                    <button type="submit" class="button">"Rotate secret"</button>
                                </ActionForm>
                            })}
                            <ActionForm action=send_test>
                                <input type="hidden" name="id" value=id_test/>
                                <button type="submit" class="button primary">"Send test event"</button>
                            </ActionForm>
                        </div>
                        <ButtonError error=state_error/>
                        <ButtonError error=rotate_error/>
                        <ButtonError error=test_error/>
                        {let state = s.state.clone(); move || state_changed().then(|| view! {
                            <p class="notice" role="status">{match state.as_str() {
                                "paused" => "Paused: deliveries wait until you resume it.",
                                _ => "Active: deliveries are sent again.",
                            }}</p>
                        })}
                        <Show when=rotated>
                            <p class="notice" role="status">"A new secret signs every delivery from now on; the previous one signs alongside it for the overlap."</p>
                        </Show>
                        {move || test_delivery().map(|delivery| view! {
                            <p class="notice" role="status">"Test event queued as "<a href=format!("/deliveries/{delivery}")>"delivery "{delivery}</a>"."</p>
                        })}
                    </section>
                    <HealthPanel figures=health/>
                    <section class="panel" id="deliveries">
                        <h2>"Deliveries"</h2>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                match live.await {
                                    Ok(d) => view! {
                                        <Counts counts=d.counts/>
                                        {if d.recent.is_empty() {
                                            view! { <p class="empty">"Nothing sent yet."</p> }.into_any()
                                        } else {
                                            view! { <DeliveryTable deliveries=d.recent with_subscription=false/> }.into_any()
                                        }}
                                    }.into_any(),
                                    Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                                }
                            })}
                        </Transition>
                        <p class="pager"><a href=all_deliveries>"All deliveries of this subscription →"</a></p>
                        <h3>"Redeliver everything that failed since"</h3>
                        <ActionForm action=redeliver_failed attr:class="inline-form">
                            <input type="hidden" name="id" value=id_redeliver/>
                            <Field label="Since (UTC)" id="since" error=redeliver_error>
                                <input id="since" name="since" required placeholder="2026-12-06 14:00" autocomplete="off" value=since_default/>
                            </Field>
                            <button type="submit" class="button">"Redeliver failures"</button>
                        </ActionForm>
                        <FormError error=redeliver_error/>
                        {move || redelivered().map(|count| view! {
                            <p class="notice" role="status">
                                {match count { 0 => "Nothing failed since then.".to_owned(), 1 => "1 delivery queued; the counts above follow it.".to_owned(), n => format!("{n} deliveries queued; the counts above follow them.") }}
                            </p>
                        })}
                    </section>
                    <section class="panel" id="settings">
                        <h2>"Settings"</h2>
                        <ActionForm action=update attr:class="stack form-wide">
                            <input type="hidden" name="id" value=id_update/>
                            <SubscriptionFields error=update_error initial=s/>
                            <FormError error=update_error/>
                            <Show when=move || matches!(update.value().get(), Some(Ok(())))>
                                <p class="notice" role="status">"Saved."</p>
                            </Show>
                            <div><button type="submit" class="button primary">"Save"</button></div>
                        </ActionForm>
                        <h3>"Delete"</h3>
                        <details class="danger">
                            <summary>"Delete this subscription…"</summary>
                            <p>"Nothing more is sent to it, and its delivery history is deleted. This cannot be undone."</p>
                            <ActionForm action=delete>
                                <input type="hidden" name="id" value=id_delete/>
                                <button type="submit" class="button danger">"Delete subscription"</button>
                            </ActionForm>
                            <ButtonError error=delete_error/>
                        </details>
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn Counts(counts: DeliveryCountsDto) -> impl IntoView {
    view! {
        <div class="stats counts">
            <div class="stat">
                <span class="stat-label">"Pending"</span>
                <span class="stat-value">{counts.pending}</span>
            </div>
            <div class="stat ok">
                <span class="stat-label">"Succeeded"</span>
                <span class="stat-value">{counts.succeeded}</span>
            </div>
            <div class="stat bad">
                <span class="stat-label">"Failed"</span>
                <span class="stat-value">{counts.failed}</span>
            </div>
        </div>
    }
}

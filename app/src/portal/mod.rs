//! The consumer portal: where one consumer of the operator's product manages their own
//! subscriptions, reads the event types they may subscribe to, and follows and redelivers
//! their deliveries. It carries the operator's name and logo, not hookhub's navigation, and
//! may be framed by the operator's product. Its server functions are in [`api`].

pub mod api;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::dto::{DeliveryQuery, SubscriptionDto};
use crate::error::AppError;
use crate::flash::server_action;
use crate::pages::components::{
    ButtonError, CopyButton, ErrorPanel, Field, FormError, Pager, ScrollRegion, Time, action_error,
    every, rcdata, reset_on_success,
};
use crate::pages::deliveries::{
    DeliveryStatusBadge, DeliveryTable, PayloadAndAttempts, last_outcome_text,
};
use crate::pages::subscriptions::StateBadge;
use api::{
    PortalCreateSubscription, PortalDeleteSubscription, PortalRedeliver,
    PortalRedeliverFailedSince, PortalRotateSecret, PortalSendTestEvent,
    PortalSetSubscriptionState, PortalUpdateSubscription, portal_deliveries, portal_delivery,
    portal_event_types, portal_frame, portal_subscription, portal_subscriptions,
};

/// The portal's frame: the operator's name and logo, who is signed in, and its three pages.
#[component]
pub fn PortalLayout() -> impl IntoView {
    let frame = Resource::new(|| (), |_| portal_frame());
    view! {
        <div class="portal">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    frame.await.ok().map(|f| view! {
                        <header class="portal-head">
                            <a class="portal-brand" href="/portal">
                                {f.logo_url.map(|src| view! { <img class="portal-logo" src=src alt=""/> })}
                                <span>{f.operator_name}</span>
                            </a>
                            <nav class="portal-nav" aria-label="Portal">
                                <A href="/portal" exact=true>"Subscriptions"</A>
                                <A href="/portal/event-types">"Event types"</A>
                                <A href="/portal/deliveries">"Deliveries"</A>
                            </nav>
                            <div class="portal-who">
                                <span class="muted">{f.consumer_name}</span>
                                <form method="post" action="/portal/sign-out">
                                    <button type="submit" class="button ghost small">"Sign out"</button>
                                </form>
                            </div>
                        </header>
                    })
                })}
            </Suspense>
            <main class="portal-content" id="content">
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match frame.await {
                            Ok(_) => view! { <Outlet/> }.into_any(),
                            Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                        }
                    })}
                </Suspense>
            </main>
        </div>
    }
}

/// Where a link that no longer works, or a session that ended, lands.
#[component]
pub fn SignedOutPage() -> impl IntoView {
    let query = use_query_map();
    let from_link = move || query.read().get("link").is_some();
    view! {
        <Title text="Signed out"/>
        <main class="center-page">
            <div class="card narrow">
                <h1>{move || if from_link() { "This link no longer works" } else { "You are signed out" }}</h1>
                <p class="muted">
                    "A portal link works once, for 15 minutes, and a session lasts a few hours. "
                    "Open the webhooks page again from the product you came from to get a new one."
                </p>
            </div>
        </main>
    }
}

/// The fields a consumer sets (`form[…]`, for [`crate::dto::PortalSubscriptionFormDto`]).
#[component]
fn PortalSubscriptionFields(
    error: Signal<Option<AppError>>,
    #[prop(optional)] initial: Option<SubscriptionDto>,
) -> impl IntoView {
    let (url, description, event_types, payload_filter) = match initial {
        Some(s) => (
            s.url,
            s.description,
            s.event_types.join("\n"),
            s.payload_filter.unwrap_or_default(),
        ),
        None => Default::default(),
    };
    view! {
        <Field label="Endpoint URL" id="url" hint="Where each event is POSTed, signed." error>
            <input id="url" name="form[url]" type="url" required placeholder="https://api.example.com/webhooks" value=url/>
        </Field>
        <Field label="Description" id="description" error>
            <input id="description" name="form[description]" maxlength="500" value=description/>
        </Field>
        <Field label="Event types" id="event_types" hint="One per line: * for all, invoice.* for a prefix. See Event types." error>
            <textarea id="event_types" name="form[event_types]" rows="3" required spellcheck="false" placeholder="*">{rcdata(event_types)}</textarea>
        </Field>
        <Field label="Payload filter" id="payload_filter" hint="Optional: only payloads that match are sent, such as data.amount > 100." error>
            <textarea id="payload_filter" name="form[payload_filter]" rows="2" spellcheck="false">{rcdata(payload_filter)}</textarea>
        </Field>
    }
}

/// The consumer's subscriptions, and a form to add one.
#[component]
pub fn PortalSubscriptionsPage() -> impl IntoView {
    let create = server_action::<PortalCreateSubscription>();
    let error = action_error(create);
    let form = reset_on_success(create);
    let list = Resource::new(move || create.version().get(), |_| portal_subscriptions());
    view! {
        <Title text="Webhooks"/>
        <header class="page-head">
            <h1>"Webhook endpoints"</h1>
            <p class="muted">"Each endpoint receives the events it asks for, signed with its own secret."</p>
        </header>
        <section class="panel">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) if list.is_empty() => view! { <p class="empty">"No endpoints yet. Add one below."</p> }.into_any(),
                        Ok(list) => view! {
                            <ScrollRegion label="Endpoints">
                                <table class="table subscriptions linked">
                                    <thead><tr><th>"URL"</th><th>"Event types"</th><th>"State"</th><th>"Description"</th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|s| view! {
                                            <tr>
                                                <td><a class="url row-link" href=format!("/portal/subscriptions/{}", s.id)>{s.url}</a></td>
                                                <td><span class="type-list">{s.event_types.into_iter().map(|p| view! { <code>{p}</code> }).collect_view()}</span></td>
                                                <td><StateBadge state=s.state/></td>
                                                <td>{s.description}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </ScrollRegion>
                        }.into_any(),
                        Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section class="panel" id="add">
            <h2>"Add an endpoint"</h2>
            <ActionForm action=create node_ref=form attr:class="stack form-wide">
                <PortalSubscriptionFields error/>
                <FormError error/>
                <div><button type="submit" class="button primary">"Add endpoint"</button></div>
            </ActionForm>
        </section>
    }
}

/// One subscription: its secret, state, test event, edits, deletion and newest deliveries.
#[component]
pub fn PortalSubscriptionPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let update = server_action::<PortalUpdateSubscription>();
    let set_state = server_action::<PortalSetSubscriptionState>();
    let rotate = server_action::<PortalRotateSecret>();
    let send_test = server_action::<PortalSendTestEvent>();
    let delete = server_action::<PortalDeleteSubscription>();
    let detail = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                update.version().get(),
                set_state.version().get(),
                rotate.version().get(),
                send_test.version().get(),
            )
        },
        |(id, ..)| portal_subscription(id),
    );
    let update_error = action_error(update);
    let errors = [
        action_error(set_state),
        action_error(rotate),
        action_error(send_test),
        action_error(delete),
    ];
    let created = move || query.read().get("created").is_some();
    let test_delivery = move || send_test.value().get().and_then(Result::ok);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let d = match detail.await {
                    Ok(d) => d,
                    Err(err) => return view! { <ErrorPanel error=err/> }.into_any(),
                };
                let s = d.subscription;
                let [id_state, id_rotate, id_test, id_update, id_delete] = std::array::from_fn(|_| s.id.clone());
                let (next_state, state_button) = match s.state.as_str() {
                    "active" => ("paused", "Pause"),
                    _ => ("active", "Resume"),
                };
                let secret = d.secrets.map(|secrets| view! {
                    <details class="reveal">
                        <summary>"Show signing secret"</summary>
                        <div class="copy-line"><code class="secret-text">{secrets.signing_secret.clone()}</code><CopyButton text=secrets.signing_secret/></div>
                    </details>
                });
                let previous = d.previous_secret_until.map(|until| view! {
                    <p class="rotation">"The previous secret also signs every delivery until "<Time millis=until/>"."</p>
                });
                view! {
                    <Title text=s.url.clone()/>
                    <header class="page-head">
                        <p class="crumbs"><a href="/portal">"Endpoints"</a>" / "</p>
                        <h1 class="url-title">{s.url.clone()}" "<StateBadge state=s.state.clone()/></h1>
                        <p class="muted">{s.description.clone()}</p>
                    </header>
                    <Show when=created>
                        <p class="notice" role="status">"The endpoint is added. Its signing secret is below."</p>
                    </Show>
                    <section class="panel">
                        <h2>"Signing"</h2>
                        <dl class="facts">
                            <dt>"Secret"</dt><dd>{secret}{previous}</dd>
                            <dt>"Event types"</dt>
                            <dd><span class="type-list">{s.event_types.clone().into_iter().map(|p| view! { <code>{p}</code> }).collect_view()}</span></dd>
                            <dt>"Payload filter"</dt>
                            <dd>{s.payload_filter.clone().unwrap_or_else(|| "None: every payload".to_owned())}</dd>
                        </dl>
                        <div class="toolbar">
                            <ActionForm action=set_state>
                                <input type="hidden" name="id" value=id_state/>
                                <input type="hidden" name="state" value=next_state/>
                                <button type="submit" class="button">{state_button}</button>
                            </ActionForm>
                            <ActionForm action=rotate>
                                <input type="hidden" name="id" value=id_rotate/>
                                <button type="submit" class="button">"Rotate secret"</button>
                            </ActionForm>
                            <ActionForm action=send_test>
                                <input type="hidden" name="id" value=id_test/>
                                <button type="submit" class="button primary">"Send test event"</button>
                            </ActionForm>
                        </div>
                        {errors.map(|error| view! { <ButtonError error/> })}
                        {move || test_delivery().map(|delivery| view! {
                            <p class="notice" role="status">"Test event queued as "<a href=format!("/portal/deliveries/{delivery}")>"delivery "{delivery}</a>"."</p>
                        })}
                    </section>
                    <section class="panel">
                        <h2>"Newest deliveries"</h2>
                        {if d.recent.is_empty() {
                            view! { <p class="empty">"Nothing sent yet."</p> }.into_any()
                        } else {
                            view! { <DeliveryTable deliveries=d.recent with_subscription=false base="/portal"/> }.into_any()
                        }}
                        <p class="pager"><a href="/portal/deliveries">"All deliveries →"</a></p>
                    </section>
                    <section class="panel">
                        <h2>"Settings"</h2>
                        <ActionForm action=update attr:class="stack form-wide">
                            <input type="hidden" name="id" value=id_update/>
                            <PortalSubscriptionFields error=update_error initial=s/>
                            <FormError error=update_error/>
                            <Show when=move || matches!(update.value().get(), Some(Ok(())))>
                                <p class="notice" role="status">"Saved."</p>
                            </Show>
                            <div><button type="submit" class="button primary">"Save"</button></div>
                        </ActionForm>
                        <details class="danger">
                            <summary>"Delete this endpoint…"</summary>
                            <p>"Nothing more is sent to it, and its delivery history is deleted."</p>
                            <ActionForm action=delete>
                                <input type="hidden" name="id" value=id_delete/>
                                <button type="submit" class="button danger">"Delete endpoint"</button>
                            </ActionForm>
                        </details>
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

/// What can be subscribed to, each with its description and an example payload.
#[component]
pub fn PortalEventTypesPage() -> impl IntoView {
    let types = Resource::new(|| (), |_| portal_event_types());
    view! {
        <Title text="Event types"/>
        <header class="page-head">
            <h1>"Event types"</h1>
            <p class="muted">"The events your endpoints can subscribe to."</p>
        </header>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match types.await {
                    Ok(list) if list.is_empty() => view! { <section class="panel"><p class="empty">"No event types yet."</p></section> }.into_any(),
                    Ok(list) => list.into_iter().map(|t| view! {
                        <section class="panel event-type">
                            <h2><code>{t.name}</code></h2>
                            <p>{if t.description.is_empty() { "No description.".to_owned() } else { t.description }}</p>
                            {t.example.map(|example| view! {
                                <p class="muted">"Example payload"</p>
                                <pre class="body">{example}</pre>
                            })}
                        </section>
                    }).collect_view().into_any(),
                    Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Every delivery to the consumer's endpoints, newest first, and "redeliver what failed since".
#[component]
pub fn PortalDeliveriesPage() -> impl IntoView {
    let redeliver = server_action::<PortalRedeliverFailedSince>();
    let error = action_error(redeliver);
    let query = use_query_map();
    let position = move || {
        let q = query.read();
        DeliveryQuery {
            before: q.get("before").and_then(|b| b.parse().ok()),
            after: q.get("after").and_then(|a| a.parse().ok()),
            ..Default::default()
        }
    };
    let deliveries = Resource::new(
        move || (position(), redeliver.version().get()),
        |(position, _)| portal_deliveries(position),
    );
    // The first page follows new deliveries and their statuses.
    every(std::time::Duration::from_secs(5), move || {
        let at = position();
        if at.before.is_none() && at.after.is_none() {
            deliveries.refetch();
        }
    });
    let requeued = move || redeliver.value().get().and_then(Result::ok);
    view! {
        <Title text="Deliveries"/>
        <header class="page-head">
            <h1>"Deliveries"</h1>
            <p class="muted">"Every event sent to your endpoints, with each attempt and what your endpoint answered."</p>
        </header>
        <section class="panel">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match deliveries.await {
                        Ok(page) if page.deliveries.is_empty() => view! { <p class="empty">"Nothing sent yet."</p> }.into_any(),
                        Ok(page) => {
                            let shown = page.deliveries.len();
                            view! {
                                <DeliveryTable deliveries=page.deliveries base="/portal"/>
                                <Pager path="/portal/deliveries" filters=Vec::new() paging=page.paging shown/>
                            }.into_any()
                        }
                        Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section class="panel">
            <h2>"Redeliver everything that failed since"</h2>
            <ActionForm action=redeliver attr:class="inline-form">
                <Field label="Since (UTC)" id="since" error>
                    <input id="since" name="since" required placeholder="2026-12-06 14:00" autocomplete="off"/>
                </Field>
                <button type="submit" class="button">"Redeliver failures"</button>
            </ActionForm>
            <FormError error/>
            {move || requeued().map(|count| view! {
                <p class="notice" role="status">{match count { 0 => "Nothing failed since then.".to_owned(), 1 => "1 delivery queued again.".to_owned(), n => format!("{n} deliveries queued again.") }}</p>
            })}
        </section>
    }
}

/// One delivery with its payload and every attempt, and "Redeliver".
#[component]
pub fn PortalDeliveryPage() -> impl IntoView {
    let params = use_params_map();
    let redeliver = server_action::<PortalRedeliver>();
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
        |(id, _)| portal_delivery(id),
    );
    every(std::time::Duration::from_secs(2), move || {
        let pending =
            detail.with_untracked(|d| matches!(d, Some(Ok(d)) if d.summary.status == "pending"));
        if pending {
            detail.refetch();
        }
    });
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
                                <p class="crumbs"><a href="/portal/deliveries">"Deliveries"</a>" / "</p>
                                <div class="head-row">
                                    <h1><code class="title-code">{s.event_type.clone()}</code>" "<DeliveryStatusBadge status=s.status.clone()/></h1>
                                    <ActionForm action=redeliver attr:class="head-action">
                                        <input type="hidden" name="id" value=id/>
                                        <button type="submit" class="button primary">"Redeliver"</button>
                                    </ActionForm>
                                </div>
                                <p class="muted">
                                    "To "<a href=format!("/portal/subscriptions/{}", s.subscription_id)>{s.subscription_url.clone()}</a>
                                    " · created "<Time millis=s.created_at/>
                                </p>
                            </header>
                            <ButtonError error/>
                            <section class="panel">
                                <dl class="facts">
                                    <dt>"Message id"</dt><dd><code class="mono-cell">{s.message_id.clone()}</code></dd>
                                    <dt>"Attempts"</dt><dd>{s.attempts}</dd>
                                    <dt>"Last response"</dt><dd>{last_outcome_text(s.last_status, s.last_error)}</dd>
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

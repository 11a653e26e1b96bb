//! The outgoing catalog: the event types this hub sends, a form to add one, and a form to
//! publish a message of a type by hand (handy to try a subscription out).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::components::{
    ButtonError, ErrorPanel, Field, FormError, ScrollRegion, Time, action_error, rcdata,
};
use crate::api::{
    CreateEventType, PublishMessage, SetEventTypeDeprecated, SetEventTypeSchema, list_event_types,
};
use crate::dto::{EventTypeDto, PublishedDto};
use crate::error::AppError;
use crate::flash::server_action;

#[component]
pub fn EventTypesPage() -> impl IntoView {
    let create = server_action::<CreateEventType>();
    let deprecate = server_action::<SetEventTypeDeprecated>();
    let set_schema = server_action::<SetEventTypeSchema>();
    let create_error = action_error(create);
    let deprecate_error = action_error(deprecate);
    let schema_error = action_error(set_schema);
    let types = Resource::new(
        move || {
            (
                create.version().get(),
                deprecate.version().get(),
                set_schema.version().get(),
            )
        },
        |_| list_event_types(),
    );
    let created = move || create.value().get().and_then(Result::ok);
    view! {
        <Title text="Event types"/>
        <header class="page-head">
            <h1>"Event types"</h1>
            <p class="muted">"The events this hub sends. Subscriptions choose from them by name or by pattern."</p>
        </header>
        <section class="panel">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match types.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No event types yet. Add one below."</p>
                        }.into_any(),
                        Ok(list) => view! { <EventTypeTable list deprecate set_schema/> }.into_any(),
                        Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                    }
                })}
            </Suspense>
            <ButtonError error=deprecate_error/>
            <ButtonError error=schema_error/>
            {move || matches!(set_schema.value().get(), Some(Ok(()))).then(|| view! {
                <p class="notice" role="status">"The schema is saved."</p>
            })}
        </section>
        <section class="panel" id="add">
            <h2>"Add an event type"</h2>
            {move || created().map(|t| view! {
                <p class="notice" role="status">"“"{t.name}"” is in the catalog."</p>
            })}
            <ActionForm action=create attr:class="stack form-narrow">
                <Field label="Name" id="name" hint="Dotted words, such as invoice.paid." error=create_error>
                    <input id="name" name="name" placeholder="invoice.paid" required maxlength="100" autocomplete="off"/>
                </Field>
                <Field label="Description" id="description" error=create_error>
                    <input id="description" name="description" placeholder="An invoice was paid in full." maxlength="500"/>
                </Field>
                <Field label="Example payload (JSON)" id="example" hint="Optional. The publish form starts with it, and subscribers can see what to expect." error=create_error>
                    <textarea id="example" name="example" rows="4" spellcheck="false" placeholder="{\"id\": \"in_123\", \"amount\": 4200}"></textarea>
                </Field>
                <Field label="JSON Schema" id="schema" hint="Optional, draft 2020-12. Every payload published as this type is checked against it; the example must match it too." error=create_error>
                    <textarea id="schema" name="schema" rows="4" spellcheck="false" placeholder="{\"type\": \"object\", \"required\": [\"id\"]}"></textarea>
                </Field>
                <Field label="If a payload does not match" id="schema_mode" error=create_error>
                    <SchemaModeSelect id="schema_mode" mode=String::new()/>
                </Field>
                <FormError error=create_error/>
                <div><button type="submit" class="button primary">"Add event type"</button></div>
            </ActionForm>
        </section>
        <PublishForm types/>
    }
}

/// What a schema does with a payload that does not match it: value and label.
const SCHEMA_MODES: &[(&str, &str)] = &[
    ("enforce", "refuse it (422)"),
    ("warn", "publish it, flagged"),
];

#[component]
fn SchemaModeSelect(#[prop(into)] id: String, mode: String) -> impl IntoView {
    view! {
        <select id=id name="schema_mode">
            {SCHEMA_MODES.iter().map(|(value, label)| {
                let selected = mode == *value;
                view! { <option value=*value selected=selected>{*label}</option> }
            }).collect_view()}
        </select>
    }
}

/// An event type's schema, shown, and a form to change or remove it.
#[component]
fn SchemaEditor(
    name: String,
    schema: Option<String>,
    mode: String,
    set_schema: ServerAction<SetEventTypeSchema>,
) -> impl IntoView {
    let summary = match (&schema, mode.as_str()) {
        (None, _) => "Add a schema",
        (Some(_), "warn") => "Schema (warns)",
        (Some(_), _) => "Schema (enforced)",
    };
    let shown = schema
        .clone()
        .map(|schema| view! { <pre class="body">{schema}</pre> });
    let field = format!("schema-{name}");
    let mode_field = format!("schema-mode-{name}");
    view! {
        <details class="reveal">
            <summary>{summary}</summary>
            {shown}
            <ActionForm action=set_schema attr:class="stack">
                <input type="hidden" name="name" value=name/>
                <label for=field.clone()>"JSON Schema (blank removes it)"</label>
                <textarea id=field name="schema" rows="6" spellcheck="false">{rcdata(schema.unwrap_or_default())}</textarea>
                <label for=mode_field.clone()>"If a payload does not match"</label>
                <SchemaModeSelect id=mode_field mode/>
                <div><button type="submit" class="button small">"Save schema"</button></div>
            </ActionForm>
        </details>
    }
}

#[component]
fn EventTypeTable(
    list: Vec<EventTypeDto>,
    deprecate: ServerAction<SetEventTypeDeprecated>,
    set_schema: ServerAction<SetEventTypeSchema>,
) -> impl IntoView {
    view! {
        <ScrollRegion label="Event types">
            <table class="table event-types">
                <thead><tr><th>"Name"</th><th>"Description"</th><th>"Status"</th><th>"Added"</th><th></th></tr></thead>
                <tbody>
                    {list.into_iter().map(|t| {
                        let (badge, button) = if t.deprecated {
                            (view! { <span class="badge warn">"deprecated"</span> }.into_any(), "Undeprecate")
                        } else {
                            (view! { <span class="badge ok">"current"</span> }.into_any(), "Deprecate")
                        };
                        let publish = format!(
                            "/event-types?{}#publish",
                            form_urlencoded::Serializer::new(String::new()).append_pair("publish", &t.name).finish()
                        );
                        let example = t.example.map(|example| view! {
                            <details class="reveal">
                                <summary>"Example"</summary>
                                <pre class="body">{example}</pre>
                            </details>
                        });
                        view! {
                            <tr class:deprecated=t.deprecated>
                                <td><code>{t.name.clone()}</code></td>
                                <td>
                                    {t.description}{example}
                                    <SchemaEditor name=t.name.clone() schema=t.schema mode=t.schema_mode set_schema/>
                                </td>
                                <td>{badge}</td>
                                <td class="when"><Time millis=t.created_at/></td>
                                <td class="actions">
                                    <a class="button small ghost" href=publish>"Publish…"</a>
                                    <ActionForm action=deprecate>
                                        <input type="hidden" name="name" value=t.name/>
                                        <input type="hidden" name="deprecated" value=(!t.deprecated).to_string()/>
                                        <button type="submit" class="button small ghost">{button}</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </ScrollRegion>
    }
}

/// Where a published message went: how many subscriptions, with a link to its deliveries, or
/// why it went nowhere.
#[component]
fn PublishedNotice(published: PublishedDto) -> impl IntoView {
    let PublishedDto {
        message_id,
        event_type,
        deliveries,
        schema_errors,
    } = published;
    let mismatches = (!schema_errors.is_empty()).then(|| view! {
        <p>"It does not match its type's schema, which only warns:"</p>
        <ul class="mismatches">
            {schema_errors.into_iter().map(|line| view! { <li><code>{line}</code></li> }).collect_view()}
        </ul>
    });
    let href = format!(
        "/deliveries?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("message", &message_id)
            .finish()
    );
    let reach = match deliveries {
        0 => None,
        1 => Some("1 subscription".to_owned()),
        n => Some(format!("{n} subscriptions")),
    };
    view! {
        <div class="secret-reveal" role="status">
            <p><strong>"Published "<code class="message-id">{message_id}</code>"."</strong></p>
            {mismatches}
            {match reach {
                Some(reach) => view! {
                    <p>"Sent to "{reach}". "<a href=href>"See its deliveries →"</a></p>
                }.into_any(),
                None => view! {
                    <p>
                        "It went to nobody: no subscription's event types match "<code>{event_type}</code>". "
                        <a href="/subscriptions">"Add a subscription"</a>" that wants it, and publish again."
                    </p>
                }.into_any(),
            }}
        </div>
    }
}

/// Publishes a message of a catalog type to every subscription that wants it. The form starts
/// with the type a catalog row's "Publish…" link chose (`?publish=`), or the first, and that
/// type's example payload; once hydrated, choosing another type brings its example, unless the
/// payload was written by hand.
#[component]
fn PublishForm(types: Resource<Result<Vec<EventTypeDto>, AppError>>) -> impl IntoView {
    let publish = server_action::<PublishMessage>();
    let error = action_error(publish);
    let published = move || publish.value().get().and_then(Result::ok);
    let query = use_query_map();
    let payload = NodeRef::<leptos::html::Textarea>::new();
    view! {
        <section class="panel" id="publish">
            <h2>"Publish a message"</h2>
            <p class="muted">"Sends the payload to every active subscription whose event types match, signed for each."</p>
            {move || published().map(|published| view! { <PublishedNotice published/> })}
            <ActionForm action=publish attr:class="stack form-wide">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let list = types.await.unwrap_or_default();
                        if list.is_empty() {
                            return view! { <p class="empty">"Add an event type first."</p> }.into_any();
                        }
                        let asked = query.read().get("publish");
                        let chosen = list
                            .iter()
                            .find(|t| Some(&t.name) == asked.as_ref())
                            .unwrap_or(&list[0])
                            .clone();
                        let examples: Vec<(String, String)> = list
                            .iter()
                            .map(|t| (t.name.clone(), t.example.clone().unwrap_or_default()))
                            .collect();
                        let on_change = move |ev: leptos::ev::Event| {
                            let Some(textarea) = payload.get_untracked() else { return };
                            let typed = textarea.value();
                            // Only a payload that is still some type's example (or empty) is replaced.
                            if typed.trim().is_empty() || examples.iter().any(|(_, e)| *e == typed) {
                                let name = event_target_value(&ev);
                                let example = examples.iter().find(|(n, _)| *n == name).map(|(_, e)| e.clone());
                                textarea.set_value(&example.unwrap_or_default());
                            }
                        };
                        view! {
                            <Field label="Event type" id="event_type" error=error>
                                <select id="event_type" name="event_type" on:change=on_change>
                                    {list.into_iter().map(|t| {
                                        let label = if t.deprecated { format!("{} (deprecated)", t.name) } else { t.name.clone() };
                                        let selected = t.name == chosen.name;
                                        view! { <option value=t.name selected=selected>{label}</option> }
                                    }).collect_view()}
                                </select>
                            </Field>
                            <Field label="Payload (JSON)" id="payload" error=error>
                                <textarea id="payload" name="payload" rows="8" required spellcheck="false" node_ref=payload placeholder="{\"id\": \"in_123\", \"amount\": 4200}">
                                    {rcdata(chosen.example.unwrap_or_default())}
                                </textarea>
                            </Field>
                        }.into_any()
                    })}
                </Suspense>
                <Field label="Consumer" id="consumer" hint="Optional: a consumer's id, to send it only to their subscriptions." error=error>
                    <input id="consumer" name="consumer" maxlength="64" placeholder="acme"/>
                </Field>
                <FormError error/>
                <div><button type="submit" class="button primary">"Publish"</button></div>
            </ActionForm>
        </section>
    }
}

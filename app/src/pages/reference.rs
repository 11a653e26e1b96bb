//! The REST API's reference, drawn from its OpenAPI description: each route with what it takes
//! and answers, then every schema they name. Drawn on the server, so nothing is loaded from
//! outside and it reads without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use serde_json::{Map, Value};

use super::components::{ErrorPanel, ScrollRegion};
use crate::api::api_description;

const BASE: &str = "/api/v1";
const METHODS: [&str; 5] = ["get", "post", "patch", "put", "delete"];

#[component]
pub fn ReferencePage() -> impl IntoView {
    let description = Resource::new(|| (), |_| api_description());
    view! {
        <Title text="API reference"/>
        <header class="page-head">
            <div>
                <h1>"API reference"</h1>
                <p class="muted">
                    "Every route of the REST API, under " <code>{BASE}</code> ". Authenticate with an API key from "
                    <a href="/settings#api-keys">"Settings"</a> " as " <code>"Authorization: Bearer <key>"</code>
                    ". The same description as OpenAPI 3.1, for generating a client: "
                    <a href="/api/v1/openapi.json" download="hookhub-openapi.json">"openapi.json"</a> "."
                </p>
            </div>
        </header>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match description.await {
                    Ok(text) => match serde_json::from_str::<Value>(&text) {
                        Ok(spec) => reference(&spec).into_any(),
                        Err(err) => view! { <p class="error">{format!("The description does not parse: {err}")}</p> }.into_any(),
                    },
                    Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The routes by tag, in the description's order, then the schemas.
fn reference(spec: &Value) -> impl IntoView + use<> {
    let tags: Vec<(String, String)> = spec["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (text(&t["name"]), text(&t["description"])))
        .collect();
    let mut operations: Vec<(String, String, Value)> = Vec::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                operations.push((method.to_owned(), path.clone(), op.clone()));
            }
        }
    }
    let toc = tags
        .iter()
        .map(|(name, _)| view! { <li><a href=format!("#tag-{}", anchor(name))>{name.clone()}</a></li> })
        .collect_view();
    let sections = tags
        .into_iter()
        .map(|(name, about)| {
            let ops = operations
                .iter()
                .filter(|(_, _, op)| {
                    op["tags"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|t| t == &Value::String(name.clone())))
                })
                .map(|(method, path, op)| operation(spec, method, path, op))
                .collect_view();
            let id = format!("tag-{}", anchor(&name));
            view! {
                <section class="reference-tag" id=id>
                    <h2>{capitalised(&name)}</h2>
                    <p class="muted">{prose(&about)}</p>
                    {ops}
                </section>
            }
        })
        .collect_view();
    let schemas = spec["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| {
            view! {
                <section class="panel reference-op" id=format!("schema-{name}")>
                    <h3><code class="title-code">{name.clone()}</code></h3>
                    {description_of(schema)}
                    {fields_table(spec, schema, format!("Fields of {name}")).map(IntoAny::into_any).unwrap_or_else(|| {
                        view! { <p>"A value: " {type_view(schema)}</p> }.into_any()
                    })}
                </section>
            }
        })
        .collect_view();
    view! {
        <nav class="panel reference-toc" aria-label="API sections">
            <ul class="chips">{toc}<li><a href="#schemas">"Schemas"</a></li></ul>
        </nav>
        {sections}
        <section class="reference-tag" id="schemas">
            <h2>"Schemas"</h2>
            {schemas}
        </section>
    }
}

fn operation(spec: &Value, method: &str, path: &str, op: &Value) -> impl IntoView + use<> {
    let id = format!("{method}-{}", anchor(path));
    let summary = text(&op["summary"]);
    let detail = text(&op["description"]);
    let parameters: Vec<Value> = op["parameters"].as_array().cloned().unwrap_or_default();
    let parameters = (!parameters.is_empty()).then(|| {
        let rows = parameters
            .iter()
            .map(|p| {
                view! {
                    <tr>
                        <td><code>{text(&p["name"])}</code></td>
                        <td>{text(&p["in"])}</td>
                        <td>{type_view(&p["schema"])}</td>
                        <td>{if p["required"] == Value::Bool(true) { "yes" } else { "no" }}</td>
                        <td>{prose(&text(&p["description"]))}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h4>"Parameters"</h4>
            <ScrollRegion label=format!("Parameters of {} {path}", method.to_uppercase())>
                <table class="table">
                    <thead><tr><th>"Name"</th><th>"In"</th><th>"Type"</th><th>"Required"</th><th>"About"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </ScrollRegion>
        }
    });
    let body = op["requestBody"]["content"]["application/json"]["schema"].clone();
    let body = (!body.is_null()).then(|| {
        view! {
            <h4>"Body " <span class="muted">"(application/json): "</span> {type_view(&body)}</h4>
            {fields_table(spec, &body, format!("Body of {} {path}", method.to_uppercase()))}
        }
    });
    let responses = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, response)| {
            let response = resolve(spec, response);
            let (kind, schema) = response["content"]
                .as_object()
                .and_then(|c| c.iter().next())
                .map(|(kind, c)| (kind.clone(), c["schema"].clone()))
                .unwrap_or_default();
            let class = if status.starts_with('2') { "badge ok" } else { "badge muted" };
            view! {
                <li>
                    <span class=class>{status.clone()}</span> " " {prose(&text(&response["description"]))}
                    {(!schema.is_null()).then(|| view! { " " <span class="muted">{kind}</span> " " {type_view(&schema)} })}
                </li>
            }
        })
        .collect_view();
    view! {
        <article class="panel reference-op" id=id>
            <h3>
                <span class=format!("method method-{method}")>{method.to_uppercase()}</span> " "
                <code class="url">{format!("{BASE}{path}")}</code>
            </h3>
            {(!summary.is_empty()).then(|| view! { <p>{prose(&summary)}</p> })}
            {(!detail.is_empty()).then(|| view! { <p class="muted">{prose(&detail)}</p> })}
            {parameters}
            {body}
            <h4>"Answers"</h4>
            <ul class="reference-answers">{responses}</ul>
        </article>
    }
}

/// A table of an object schema's fields, with those of the schemas it is made of (`allOf`);
/// nothing for a schema that is not an object.
fn fields_table(spec: &Value, schema: &Value, label: String) -> Option<impl IntoView + use<>> {
    let mut fields = Vec::new();
    collect_fields(spec, schema, &mut fields, 0);
    (!fields.is_empty()).then(|| {
        let rows = fields
            .into_iter()
            .map(|(name, field, required)| {
                view! {
                    <tr>
                        <td><code>{name}</code></td>
                        <td>{type_view(&field)}</td>
                        <td>{if required { "yes" } else { "no" }}</td>
                        <td>{prose(&text(&field["description"]))}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <ScrollRegion label=label>
                <table class="table">
                    <thead><tr><th>"Field"</th><th>"Type"</th><th>"Required"</th><th>"About"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </ScrollRegion>
        }
    })
}

fn collect_fields(spec: &Value, schema: &Value, out: &mut Vec<(String, Value, bool)>, depth: u8) {
    if depth > 4 {
        return;
    }
    let schema = resolve(spec, schema);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        collect_fields(spec, part, out, depth + 1);
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, field) in schema["properties"].as_object().into_iter().flatten() {
        out.push((
            name.clone(),
            field.clone(),
            required.contains(&name.as_str()),
        ));
    }
}

/// A schema's type in a few words, with a link to each named schema it mentions.
fn type_view(schema: &Value) -> AnyView {
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        let name = name.to_owned();
        return view! { <a href=format!("#schema-{name}")><code>{name.clone()}</code></a> }
            .into_any();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema[key].as_array() {
            let joined = parts
                .iter()
                .enumerate()
                .map(|(i, part)| view! { {(i > 0).then_some(" or ")} {type_view(part)} })
                .collect_view();
            return view! { <span>{joined}</span> }.into_any();
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        let words: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        return view! { <span>"one of " <code>{words.join(", ")}</code></span> }.into_any();
    }
    let kinds: Vec<&str> = match &schema["type"] {
        Value::String(kind) => vec![kind.as_str()],
        Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let nullable = kinds.contains(&"null");
    let kind = kinds.iter().find(|k| **k != "null").copied().unwrap_or("");
    let main = match kind {
        "array" => view! { <span>"array of " {type_view(&schema["items"])}</span> }.into_any(),
        "object" => match schema["properties"].as_object() {
            Some(properties) => inline_object(properties).into_any(),
            None => view! { <span>"object"</span> }.into_any(),
        },
        "" if kinds.is_empty() => view! { <span>"any JSON"</span> }.into_any(),
        "" => view! { <span>"null"</span> }.into_any(),
        kind => {
            let format = schema["format"]
                .as_str()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default();
            view! { <span>{format!("{kind}{format}")}</span> }.into_any()
        }
    };
    view! { {main} {nullable.then_some(" or null")} }.into_any()
}

/// An object written in place, such as a page: `{ data: array of X, next_cursor: integer }`.
fn inline_object(properties: &Map<String, Value>) -> impl IntoView + use<> {
    let fields = properties
        .iter()
        .enumerate()
        .map(|(i, (name, field))| view! { {(i > 0).then_some(", ")} <code>{name.clone()}</code> ": " {type_view(field)} })
        .collect_view();
    view! { <span>"{ " {fields} " }"</span> }
}

fn description_of(schema: &Value) -> Option<impl IntoView + use<>> {
    schema["description"]
        .as_str()
        .map(|d| view! { <p class="muted">{prose(d)}</p> })
}

/// Text whose `backticked` parts are code, as the descriptions write them.
fn prose(text: &str) -> impl IntoView + use<> {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            let part = part.to_owned();
            if i % 2 == 1 {
                view! { <code>{part}</code> }.into_any()
            } else {
                part.into_any()
            }
        })
        .collect_view()
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A `$ref` to a shared response or schema, followed once.
fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix("#/")) {
        Some(path) => path.split('/').fold(spec, |node, key| &node[key]),
        None => value,
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// A path or name as a fragment id: letters and digits, the rest as dashes.
fn anchor(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_owned()
}

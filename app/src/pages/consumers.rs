//! Consumers: who messages are addressed to (the operator's customers, by the ids the
//! operator chose). A list with each one's subscriptions and deliveries, a form to add one,
//! and the link that signs one in to their portal.

use leptos::prelude::*;
use leptos_meta::Title;

use super::components::{
    ButtonError, Confirm, CopyButton, ErrorPanel, Field, FormError, ScrollRegion, Time,
    action_error, reset_on_success,
};
use crate::api::{CreateConsumer, DeleteConsumer, PortalLink, RotatePortalKey, list_consumers};
use crate::flash::server_action;

#[component]
pub fn ConsumersPage() -> impl IntoView {
    let create = server_action::<CreateConsumer>();
    let delete = server_action::<DeleteConsumer>();
    let link = server_action::<PortalLink>();
    let rotate = server_action::<RotatePortalKey>();
    let create_error = action_error(create);
    let errors = [
        action_error(delete),
        action_error(link),
        action_error(rotate),
    ];
    let form = reset_on_success(create);
    let consumers = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_consumers(),
    );
    let issued = move || link.value().get().and_then(Result::ok);
    let rotated = move || matches!(rotate.value().get(), Some(Ok(())));
    view! {
        <Title text="Consumers"/>
        <header class="page-head">
            <h1>"Consumers"</h1>
            <p class="muted">
                "Your customers, by the ids you choose. A message published with a consumer goes only to "
                "their subscriptions; each can manage their own in a portal you link them to."
            </p>
        </header>
        <section class="panel">
            {errors.map(|error| view! { <ButtonError error/> })}
            {move || issued().map(|l| view! {
                <div class="secret-reveal" role="status">
                    <p><strong>"A portal link for "<code>{l.consumer.clone()}</code></strong>" · it works once, and expires "<Time millis=l.expires_at/>"."</p>
                    <div class="copy-line"><code class="url portal-link">{l.url.clone()}</code><CopyButton text=l.url/></div>
                </div>
            })}
            <Show when=rotated>
                <p class="notice" role="status">"The portal key is rotated: every link and portal session of that consumer has ended."</p>
            </Show>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match consumers.await {
                        Ok(list) if list.is_empty() => view! { <p class="empty">"No consumers yet. Add one below, or with POST /api/v1/consumers."</p> }.into_any(),
                        Ok(list) => view! {
                            <ScrollRegion label="Consumers">
                                <table class="table consumers">
                                    <thead><tr><th>"Id"</th><th>"Name"</th><th>"Subscriptions"</th><th>"Added"</th><th>"Portal"</th><th></th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|c| {
                                            let [id_link, id_rotate, id_delete] = std::array::from_fn(|_| c.id.clone());
                                            let deliveries = format!("/deliveries?consumer={}", c.id);
                                            view! {
                                                <tr>
                                                    <td><code>{c.id.clone()}</code></td>
                                                    <td>
                                                        {c.name}
                                                        {(!c.metadata.is_empty()).then(|| view! { <pre class="metadata">{c.metadata}</pre> })}
                                                    </td>
                                                    <td>{c.subscriptions}" · "<a href=deliveries>"deliveries"</a></td>
                                                    <td class="when"><Time millis=c.created_at/></td>
                                                    <td>
                                                        <div class="toolbar">
                                                            <ActionForm action=link>
                                                                <input type="hidden" name="id" value=id_link/>
                                                                <button type="submit" class="button small">"Portal link"</button>
                                                            </ActionForm>
                                                            <ActionForm action=rotate>
                                                                <input type="hidden" name="id" value=id_rotate/>
                                                                <button type="submit" class="button small ghost">"Rotate portal key"</button>
                                                            </ActionForm>
                                                        </div>
                                                    </td>
                                                    <td>
                                                        <Confirm label="Delete" question=format!("Delete consumer {} with their subscriptions and delivery history?", c.id)>
                                                            <ActionForm action=delete>
                                                                <input type="hidden" name="id" value=id_delete/>
                                                                <button type="submit" class="button small danger">"Yes, delete"</button>
                                                            </ActionForm>
                                                        </Confirm>
                                                    </td>
                                                </tr>
                                            }
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
            <h2>"Add a consumer"</h2>
            <ActionForm action=create node_ref=form attr:class="stack form-wide">
                <Field label="Id" id="id" hint="Yours to choose, such as your customer's id: letters, digits, . _ -" error=create_error>
                    <input id="id" name="form[id]" required maxlength="64" placeholder="acme"/>
                </Field>
                <Field label="Name" id="name" error=create_error>
                    <input id="name" name="form[name]" maxlength="200" placeholder="Acme Corporation"/>
                </Field>
                <Field label="Metadata (JSON)" id="metadata" hint="Optional: a JSON object of your own." error=create_error>
                    <textarea id="metadata" name="form[metadata]" rows="2" spellcheck="false" placeholder="{\"plan\": \"pro\"}"></textarea>
                </Field>
                <FormError error=create_error/>
                <div><button type="submit" class="button primary">"Add consumer"</button></div>
            </ActionForm>
        </section>
    }
}

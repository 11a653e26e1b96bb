//! The pages a person sees before they are signed in: first-run setup and login.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::components::{Field, FormError, action_error};
use crate::api::{LogIn, SetUp};
use crate::flash::server_action;

#[component]
pub fn LoginPage() -> impl IntoView {
    let log_in = server_action::<LogIn>();
    let error = action_error(log_in);
    let next = move || use_query_map().read().get("next").unwrap_or_default();
    view! {
        <Title text="Log in"/>
        <main class="center-page">
            <div class="card narrow">
                <Brand/>
                <h1>"Log in"</h1>
                <ActionForm action=log_in attr:class="stack">
                    <input type="hidden" name="next" value=next/>
                    <Field label="Username" id="username">
                        <input id="username" name="username" autocomplete="username" required autofocus/>
                    </Field>
                    <Field label="Password" id="password">
                        <input id="password" name="password" type="password" autocomplete="current-password" required/>
                    </Field>
                    <FormError error/>
                    <button type="submit" class="button primary" disabled=move || log_in.pending().get()>
                        "Log in"
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let set_up = server_action::<SetUp>();
    let error = action_error(set_up);
    view! {
        <Title text="Set up"/>
        <main class="center-page">
            <div class="card narrow">
                <Brand/>
                <h1>"Welcome to hookhub"</h1>
                <p class="muted">"Create the admin account. You will use it to log in to this dashboard."</p>
                <ActionForm action=set_up attr:class="stack">
                    <Field label="Username" id="username" error=error>
                        <input id="username" name="username" autocomplete="username" required autofocus/>
                    </Field>
                    <Field label="Password" id="password" hint="At least 10 characters." error=error>
                        <input id="password" name="password" type="password" autocomplete="new-password" required minlength="10"/>
                    </Field>
                    <Field label="Repeat the password" id="confirm" error=error>
                        <input id="confirm" name="confirm" type="password" autocomplete="new-password" required/>
                    </Field>
                    <FormError error/>
                    <button type="submit" class="button primary" disabled=move || set_up.pending().get()>
                        "Create the admin account"
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}

#[component]
fn Brand() -> impl IntoView {
    view! {
        <div class="brand standalone">
            <span class="brand-mark" aria-hidden="true">"⟲"</span>
            "hookhub"
        </div>
    }
}

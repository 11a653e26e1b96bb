//! Settings: your password, the users of this dashboard, and API keys.

use leptos::prelude::*;
use leptos_meta::Title;

use super::components::{
    Confirm, CopyableValue, ErrorPanel, Field, FormError, ScrollRegion, Time, action_error,
    reset_on_success,
};
use crate::api::{
    AddUser, ChangePassword, CreateApiKey, RemoveUser, RevokeApiKey, current_user, list_api_keys,
    list_users,
};
use crate::dto::UserDto;
use crate::error::AppError;
use crate::flash::server_action;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    view! {
        <Title text="Settings"/>
        <header class="page-head">
            <h1>"Settings"</h1>
        </header>
        <PasswordSection/>
        <UsersSection me/>
        <ApiKeysSection me/>
    }
}

#[component]
fn PasswordSection() -> impl IntoView {
    let change = server_action::<ChangePassword>();
    let error = action_error(change);
    let done = move || matches!(change.value().get(), Some(Ok(())));
    let form = reset_on_success(change);
    view! {
        <section class="panel" id="your-password">
            <h2>"Your password"</h2>
            <ActionForm action=change node_ref=form attr:class="stack form-narrow">
                <Field label="Current password" id="current" error=error>
                    <input id="current" name="current" type="password" autocomplete="current-password" required/>
                </Field>
                <Field label="New password" id="new" error=error>
                    <input id="new" name="new" type="password" autocomplete="new-password" required minlength="10"/>
                </Field>
                <Field label="Repeat the new password" id="confirm" error=error>
                    <input id="confirm" name="confirm" type="password" autocomplete="new-password" required/>
                </Field>
                <FormError error/>
                <Show when=done>
                    <p class="notice" role="status">"Your password was changed."</p>
                </Show>
                <div><button type="submit" class="button">"Change password"</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
fn UsersSection(me: Resource<Result<UserDto, AppError>>) -> impl IntoView {
    let add = server_action::<AddUser>();
    let remove = server_action::<RemoveUser>();
    let add_error = action_error(add);
    let remove_error = action_error(remove);
    let add_form = reset_on_success(add);
    let added = move || add.value().get().and_then(Result::ok);
    let removed = move || matches!(remove.value().get(), Some(Ok(())));
    let users = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| list_users(),
    );
    view! {
        <section class="panel" id="users">
            <h2>"Users"</h2>
            <p class="muted">"Everyone listed here can log in to this dashboard. Admins can add and remove users."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let me = match me.await {
                        Ok(me) => me,
                        Err(err) => return view! { <ErrorPanel error=err/> }.into_any(),
                    };
                    let users = match users.await {
                        Ok(users) => users,
                        Err(err) => return view! { <ErrorPanel error=err/> }.into_any(),
                    };
                    let is_admin = me.is_admin;
                    view! {
                        <ScrollRegion label="Users">
                            <table class="table">
                                <thead><tr><th>"Username"</th><th>"Role"</th><th>"Added"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {users.into_iter().map(|user| {
                                        let removable = is_admin && user.id != me.id;
                                        let question = format!("Remove {}? They are signed out at once and cannot log in again.", user.username);
                                        let confirm = format!("Yes, remove {}", user.username);
                                        view! {
                                            <tr>
                                                <td>{user.username.clone()}</td>
                                                <td>{if user.is_admin { "Admin" } else { "Member" }}</td>
                                                <td class="when"><Time millis=user.created_at/></td>
                                                <td class="actions">
                                                    {removable.then(|| view! {
                                                        <Confirm label="Remove" question>
                                                            <ActionForm action=remove>
                                                                <input type="hidden" name="id" value=user.id/>
                                                                <button type="submit" class="button small danger">{confirm}</button>
                                                            </ActionForm>
                                                        </Confirm>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </ScrollRegion>
                        <FormError error=remove_error/>
                        <Show when=removed>
                            <p class="notice" role="status">"The user was removed and signed out."</p>
                        </Show>
                        <Show when=move || is_admin>
                            <h3>"Add a user"</h3>
                            {move || added().map(|user| view! {
                                <p class="notice" role="status">"Added "{user.username}"; they can log in now."</p>
                            })}
                            <ActionForm action=add node_ref=add_form attr:class="inline-form">
                                <Field label="Username" id="username" error=add_error>
                                    <input id="username" name="username" autocomplete="off" required/>
                                </Field>
                                <Field label="Password" id="password" error=add_error>
                                    <input id="password" name="password" type="password" autocomplete="new-password" required minlength="10"/>
                                </Field>
                                <label class="checkbox">
                                    <input name="is_admin" type="checkbox"/>
                                    <span>"Admin"</span>
                                </label>
                                <button type="submit" class="button">"Add user"</button>
                            </ActionForm>
                            <FormError error=add_error/>
                        </Show>
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ApiKeysSection(me: Resource<Result<UserDto, AppError>>) -> impl IntoView {
    let create = server_action::<CreateApiKey>();
    let revoke = server_action::<RevokeApiKey>();
    let create_error = action_error(create);
    let create_form = reset_on_success(create);
    let revoked = move || matches!(revoke.value().get(), Some(Ok(())));
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    let created = move || create.value().get().and_then(Result::ok);
    view! {
        <section class="panel" id="api-keys">
            <h2>"API keys"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(me) if me.is_admin => {}
                        // A key can do anything on the REST API: only admins manage them.
                        Ok(_) => return view! {
                            <p class="muted">"Only an admin can create, see and revoke API keys, as a key can do anything on the REST API."</p>
                        }.into_any(),
                        Err(err) => return view! { <ErrorPanel error=err/> }.into_any(),
                    }
                    let list = match keys.await {
                        Ok(keys) if keys.is_empty() => view! {
                            <p class="empty">"No API keys yet."</p>
                        }.into_any(),
                        Ok(keys) => view! {
                            <ScrollRegion label="API keys">
                                <table class="table">
                                    <thead><tr><th>"Name"</th><th>"Key"</th><th>"Created"</th><th>"Last used"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                    <tbody>
                                        {keys.into_iter().map(|key| {
                                            let revoked = key.revoked_at.is_some();
                                            view! {
                                                <tr class:revoked=revoked>
                                                    <td>{key.name.clone()}</td>
                                                    <td><code>{key.prefix}"…"</code></td>
                                                    <td class="when"><Time millis=key.created_at/></td>
                                                    <td class="when">{match key.last_used_at { Some(at) => view! { <Time millis=at/> }.into_any(), None => "never".into_any() }}</td>
                                                    <td class="actions">
                                                        {if revoked {
                                                            view! { <span class="badge muted">"revoked"</span> }.into_any()
                                                        } else {
                                                            let question = format!("Revoke “{}”? Whatever uses it is refused from then on.", key.name);
                                                            view! {
                                                                <Confirm label="Revoke" question>
                                                                    <ActionForm action=revoke>
                                                                        <input type="hidden" name="id" value=key.id/>
                                                                        <button type="submit" class="button small danger">"Yes, revoke it"</button>
                                                                    </ActionForm>
                                                                </Confirm>
                                                            }.into_any()
                                                        }}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </ScrollRegion>
                        }.into_any(),
                        Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                    };
                    view! {
                        <p class="muted">
                            "Scripts and services use a key to call the REST API under "<code>"/api/v1"</code>
                            ", sending it as "<code>"Authorization: Bearer <key>"</code>"."
                        </p>
                        {move || created().map(|new_key| view! {
                            <div class="secret-reveal" role="status">
                                <p><strong>"Copy the key “"{new_key.key.name.clone()}"” now."</strong>" It is stored hashed and will not be shown again."</p>
                                <CopyableValue value=new_key.token label="New API key"/>
                            </div>
                        })}
                        <Show when=revoked>
                            <p class="notice" role="status">"The key was revoked."</p>
                        </Show>
                        <ActionForm action=create node_ref=create_form attr:class="inline-form">
                            <Field label="Key name" id="name" error=create_error>
                                <input id="name" name="name" placeholder="deploy script" required maxlength="100"/>
                            </Field>
                            <button type="submit" class="button primary">"Create key"</button>
                        </ActionForm>
                        <FormError error=create_error/>
                        {list}
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
}

//! Routes, the HTML shell and the dashboard layout.

mod account;
pub(crate) mod components;
mod consumers;
pub(crate) mod deliveries;
mod event_types;
mod events;
mod overview;
mod reference;
mod settings;
mod sources;
pub(crate) mod subscriptions;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{A, Outlet, ParentRoute, Route, Router, Routes},
    path,
};

use crate::api::{LogOut, current_user};
use crate::flash::{self, FlashSlot, server_action};
use crate::portal;
use components::{Clock, ErrorPanel, ZoneToggle, rcdata};

/// Where a page loads the dashboard's script, wasm and stylesheet from: URLs that carry each
/// file's hash, so browsers may cache them for good (the server provides them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssetUrls {
    pub js: String,
    pub wasm: String,
    pub css: String,
}

pub fn shell(options: LeptosOptions) -> impl IntoView {
    let assets = use_context::<AssetUrls>().unwrap_or_else(|| AssetUrls {
        js: "/pkg/hookhub.js".into(),
        wasm: "/pkg/hookhub.wasm".into(),
        css: "/pkg/hookhub.css".into(),
    });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" id="leptos" href=assets.css.clone()/>
                <AutoReload options/>
                <Hydration assets/>
                <MetaTags/>
                {use_context::<FlashSlot>().and_then(|slot| slot.encoded()).map(|flash| view! {
                    <meta name=flash::META_NAME content=flash/>
                })}
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Loads the wasm and hydrates the page: what leptos' `HydrationScripts` does, with the
/// hashed URLs. The inline script carries the page's nonce, as the CSP asks.
#[component]
fn Hydration(assets: AssetUrls) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    let script = format!(
        "import({js:?}).then(m => m.default({{module_or_path: {wasm:?}}}).then(() => m.hydrate()));",
        js = assets.js,
        wasm = assets.wasm,
    );
    view! {
        <link rel="modulepreload" href=assets.js crossorigin=nonce.clone()/>
        <link rel="preload" href=assets.wasm r#as="fetch" r#type="application/wasm" crossorigin=nonce.clone()/>
        <script type="module" nonce=nonce>{script}</script>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Async rendering everywhere: every page is complete HTML before any wasm runs.
    view! {
        <Title formatter=|page: String| rcdata(if page.is_empty() { "hookhub".to_owned() } else { format!("{page} · hookhub") })/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=account::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/setup") view=account::SetupPage ssr=SsrMode::Async/>
                <Route path=path!("/portal/signed-out") view=portal::SignedOutPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("/portal") view=portal::PortalLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=portal::PortalSubscriptionsPage/>
                    <Route path=path!("subscriptions/:id") view=portal::PortalSubscriptionPage/>
                    <Route path=path!("event-types") view=portal::PortalEventTypesPage/>
                    <Route path=path!("deliveries") view=portal::PortalDeliveriesPage/>
                    <Route path=path!("deliveries/:id") view=portal::PortalDeliveryPage/>
                </ParentRoute>
                <ParentRoute path=path!("") view=Layout ssr=SsrMode::Async>
                    <Route path=path!("") view=overview::OverviewPage/>
                    <Route path=path!("events") view=events::EventsPage/>
                    <Route path=path!("events/:id") view=events::EventPage/>
                    <Route path=path!("sources") view=sources::SourcesPage/>
                    <Route path=path!("sources/:id") view=sources::SourcePage/>
                    <Route path=path!("event-types") view=event_types::EventTypesPage/>
                    <Route path=path!("consumers") view=consumers::ConsumersPage/>
                    <Route path=path!("subscriptions") view=subscriptions::SubscriptionsPage/>
                    <Route path=path!("subscriptions/:id") view=subscriptions::SubscriptionPage/>
                    <Route path=path!("deliveries") view=deliveries::DeliveriesPage/>
                    <Route path=path!("deliveries/:id") view=deliveries::DeliveryPage/>
                    <Route path=path!("settings") view=settings::SettingsPage/>
                    <Route path=path!("api-reference") view=reference::ReferencePage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The dashboard frame: navigation on the left, the page on the right.
#[component]
fn Layout() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    let log_out = server_action::<LogOut>();
    Clock::provide();
    flash::leave_on_navigation();
    let menu_toggle = NodeRef::<leptos::html::Input>::new();
    let close_menu = move |_| {
        if let Some(toggle) = menu_toggle.get_untracked() {
            toggle.set_checked(false);
        }
    };
    view! {
        <a class="skip-link" href="#content">"Skip to the content"</a>
        <div class="layout">
            <nav class="sidebar" aria-label="Main">
                // On a phone the menu folds away behind a button; a checkbox opens it, so it
                // works before (and without) the wasm. A link followed in it closes it again.
                <input type="checkbox" id="menu-toggle" class="menu-toggle" node_ref=menu_toggle aria-controls="menu" aria-label="Menu"/>
                <div class="sidebar-head">
                    <a class="brand" href="/">
                        <span class="brand-mark" aria-hidden="true">"⟲"</span>
                        "hookhub"
                    </a>
                    <label for="menu-toggle" class="menu-button">"Menu"</label>
                </div>
                <div class="menu" id="menu" on:click=close_menu>
                    <ul class="nav">
                        <li><A href="/" exact=true>"Overview"</A></li>
                        <li class="nav-section" aria-hidden="true">"Receive"</li>
                        <li><A href="/sources">"Sources"</A></li>
                        <li><A href="/events">"Events"</A></li>
                        <li class="nav-section" aria-hidden="true">"Send"</li>
                        <li><A href="/event-types">"Event types"</A></li>
                        <li><A href="/consumers">"Consumers"</A></li>
                        <li><A href="/subscriptions">"Subscriptions"</A></li>
                        <li><A href="/deliveries">"Deliveries"</A></li>
                        <li class="nav-gap" aria-hidden="true"></li>
                        <li><A href="/settings">"Settings"</A></li>
                        <li><A href="/api-reference">"API reference"</A></li>
                    </ul>
                    <div class="sidebar-foot">
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                user.await.ok().map(|user| view! {
                                    <div class="whoami">
                                        <span class="avatar" aria-hidden="true">
                                            {user.username.chars().next().unwrap_or('?').to_uppercase().to_string()}
                                        </span>
                                        <span class="whoami-name">{user.username}</span>
                                    </div>
                                })
                            })}
                        </Suspense>
                        <ZoneToggle/>
                        <ActionForm action=log_out attr:class="logout">
                            <button type="submit" class="button ghost small">"Log out"</button>
                        </ActionForm>
                    </div>
                </div>
            </nav>
            <main class="content" id="content">
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(_) => view! { <Outlet/> }.into_any(),
                            Err(err) => view! { <ErrorPanel error=err/> }.into_any(),
                        }
                    })}
                </Suspense>
            </main>
        </div>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <main class="center-page">
            <div class="card narrow">
                <p class="eyebrow">"404"</p>
                <h1>"There is nothing here"</h1>
                <p class="muted">"The page you asked for does not exist, or it has moved."</p>
                <a class="button" href="/">"Back to the overview"</a>
            </div>
        </main>
    }
}

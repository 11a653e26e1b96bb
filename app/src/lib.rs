//! hookhub's browser side: pages, components, routes, the DTOs that cross the wire and the
//! `#[server]` functions. The backend is reached only through [`backend::Backend`] (ssr-only),
//! which the server crate implements, so this crate never sees SQL, argon2 or reqwest.

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod dto;
pub mod error;
pub mod flash;
mod pages;
pub mod portal;
#[cfg(feature = "ssr")]
pub mod session;

pub use pages::{App, AssetUrls, shell};

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(|| {
        use leptos::prelude::*;
        provide_context(flash::from_page_head());
        view! { <App/> }
    });
    // Lets browser tests (and curious people) see that the page is now interactive.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "");
    }
}

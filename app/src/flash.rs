//! What an action answered, carried across the redirect of a form posted without JavaScript.
//!
//! A server function called by the hydrated page hands its answer to the page's action. A form
//! posted before (or without) the wasm gets only a redirect back, and the answer would be lost:
//! a new API key created and never shown. So the server keeps that answer in the session as a
//! [`Flash`] (`server/src/http/flash.rs`), gives it to the next page it renders, and that page
//! starts its action with it, exactly as if the page had made the call. The browser gets the
//! same flash in the page's head, so hydration renders what the server did. It is shown until
//! the browser goes to another page, and the server keeps it for one page only.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::ServerFn;

use crate::error::AppError;

/// The `<meta>` that carries the flash from the server's render to the hydrating browser.
pub const META_NAME: &str = "hookhub-flash";

/// One server function's successful answer to a form posted without JavaScript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    /// The server function's path (`ServerFn::PATH`).
    pub path: String,
    /// Its answer, JSON-encoded as the server function encodes it.
    pub output: String,
}

/// The flash of the page the browser was sent to, until it goes to another page.
///
/// Not taken by the first action that reads it: a page's components may be built more than
/// once while it renders (each time a `Suspense` above them resolves), and each build must show
/// the same outcome.
#[derive(Clone, Debug, Default)]
pub struct FlashSlot {
    /// As it came, for the page's head.
    pub flash: Option<Flash>,
    left: Arc<AtomicBool>,
}

impl FlashSlot {
    pub fn new(flash: Option<Flash>) -> Self {
        Self {
            flash,
            left: Arc::default(),
        }
    }

    /// The browser went to another page: the outcome belonged to the one it left.
    pub fn leave(&self) {
        self.left.store(true, Ordering::Relaxed);
    }

    /// The flash as the page head's `<meta>` content, while there is one.
    pub fn encoded(&self) -> Option<String> {
        self.flash
            .as_ref()
            .and_then(|f| serde_json::to_string(f).ok())
    }

    /// The answer of server function `S`, while the browser is on the page it was for.
    fn answer<S: ServerFn>(&self) -> Option<S::Output>
    where
        S::Output: for<'de> Deserialize<'de>,
    {
        if self.left.load(Ordering::Relaxed) {
            return None;
        }
        let flash = self.flash.as_ref().filter(|f| f.path == S::PATH)?;
        serde_json::from_str(&flash.output).ok()
    }
}

/// The slot as the hydrating browser finds it in the page's head.
#[cfg(feature = "hydrate")]
pub fn from_page_head() -> FlashSlot {
    let flash = document()
        .query_selector(&format!("meta[name=\"{META_NAME}\"]"))
        .ok()
        .flatten()
        .and_then(|meta| meta.get_attribute("content"))
        .and_then(|content| serde_json::from_str(&content).ok());
    FlashSlot::new(flash)
}

/// A server action that starts with its answer to a form this page posted without JavaScript,
/// so the page shows the outcome (a notice, a key to copy) with or without the wasm.
pub fn server_action<S>() -> ServerAction<S>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: for<'de> Deserialize<'de> + Clone + Send + Sync + 'static,
{
    let action = ServerAction::<S>::new();
    if let Some(output) = use_context::<FlashSlot>().and_then(|slot| slot.answer::<S>()) {
        action.value().set(Some(Ok(output)));
    }
    action
}

/// Forgets the flash once the hydrated page moves to another route.
pub fn leave_on_navigation() {
    let Some(slot) = use_context::<FlashSlot>() else {
        return;
    };
    let location = leptos_router::hooks::use_location();
    let first = location.pathname.get_untracked();
    Effect::new(move |_| {
        if location.pathname.get() != first {
            slot.leave();
        }
    });
}

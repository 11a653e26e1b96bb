//! Small pieces shared by the pages: forms, lists and times in their modules; here what is
//! left (copying, refreshing, the error panel, text made safe).

mod forms;
mod health;
mod lists;
mod time;

use leptos::prelude::*;

use crate::error::AppError;
pub use forms::*;
pub use health::*;
pub use lists::*;
pub use time::*;

/// What a member sees where an admin sees a secret.
pub const ADMIN_ONLY_SECRET: &str = "Only an admin can see or rotate the secret.";

/// A stored value made safe as the text of a `<title>` or `<textarea>`.
///
/// The browser reads both as RCDATA: markup in them is text, but their closing tag is not, and
/// leptos writes their contents unescaped on the server (leptos_meta the title, tachys a
/// textarea's children). Escaped, a value cannot close the element, and the browser decodes it
/// back to the same text. In the browser the DOM sets text directly, so the value is used as it
/// is: escaping it there would show `&lt;` after a client-side navigation.
pub fn rcdata(text: String) -> String {
    if cfg!(feature = "ssr") {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    } else {
        text
    }
}

/// A page's failure to load, shown in place of its content; the page is answered with the
/// error's status (so `/events/999999` is a 404, not a 200 saying so). A session that ended
/// while the page was open goes to the login page, which comes back here afterwards.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    if error == AppError::Unauthorized {
        to_login();
    }
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(error.status()),
    ) {
        response.set_status(status);
    }
    view! {
        <div class="panel error-panel" role="alert">
            <h2>"This could not be loaded"</h2>
            <p>{error.to_string()}</p>
        </div>
    }
}

/// Sends the browser to the login page, to come back to this one. On the server the login
/// guard has already done so for every page, so only the hydrated page needs it.
fn to_login() {
    #[cfg(feature = "hydrate")]
    {
        let location = window().location();
        let here = format!(
            "{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default()
        );
        let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
        let _ = location.set_href(&format!("/login?next={next}"));
    }
}

/// Copies `text` to the clipboard once the page is hydrated; `label` names what it copies.
#[component]
pub fn CopyButton(text: String, #[prop(default = "Copy")] label: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let _ = window().navigator().clipboard().write_text(&text);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <button type="button" class="button small ghost" on:click=copy>
            {move || if copied.get() { "Copied" } else { label }}
        </button>
    }
}

/// A value to copy into another system (a new key, an endpoint URL), read-only, with a button.
#[component]
pub fn CopyableValue(value: String, label: &'static str) -> impl IntoView {
    view! {
        <div class="secret-row">
            <input class="secret" readonly value=value.clone() aria-label=label/>
            <CopyButton text=value/>
        </div>
    }
}

/// Runs `tick` every `period` while the page is hydrated and shown, and stops when it is left.
/// Without JavaScript it never runs: the page is as fresh as its last load.
pub fn every(period: std::time::Duration, tick: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(tick, period).ok();
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.clear();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (period, tick);
}

/// A request as a `curl` command that sends it again (the headers curl adds itself left out;
/// credentials stay as they are shown, redacted or not).
pub fn curl_command(url: &str, headers: &[(String, String)], body: &str) -> String {
    const ADDED_BY_CURL: [&str; 3] = ["host", "content-length", "accept"];
    let mut command = format!("curl -X POST {}", shell_quote(url));
    for (name, value) in headers {
        if !ADDED_BY_CURL.contains(&name.as_str()) {
            command.push_str(&format!(
                " \\\n  -H {}",
                shell_quote(&format!("{name}: {value}"))
            ));
        }
    }
    command.push_str(&format!(" \\\n  --data-binary {}", shell_quote(body)));
    command
}

/// `text` as one single-quoted shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rcdata_text_cannot_close_its_element() {
        assert_eq!(
            rcdata("a&b </title><script>x</script>".into()),
            "a&amp;b &lt;/title&gt;&lt;script&gt;x&lt;/script&gt;"
        );
        assert_eq!(rcdata("plain · text".into()), "plain · text");
    }

    #[test]
    fn a_request_copies_as_a_curl_command_that_sends_it_again() {
        let headers = vec![
            ("host".to_owned(), "example.com".to_owned()),
            ("webhook-id".to_owned(), "msg_1".to_owned()),
            ("x-note".to_owned(), "it's".to_owned()),
        ];
        assert_eq!(
            curl_command("https://example.com/in", &headers, r#"{"a":1}"#),
            "curl -X POST 'https://example.com/in' \\\n  -H 'webhook-id: msg_1' \\\n  \
             -H 'x-note: it'\\''s' \\\n  --data-binary '{\"a\":1}'"
        );
    }
}

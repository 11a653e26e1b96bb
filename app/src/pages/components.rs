//! Small pieces shared by the pages.

use leptos::prelude::*;

use crate::error::AppError;

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

/// The error of an action's last run, if it failed.
pub fn action_error<I, O>(action: ServerAction<I>) -> Signal<Option<AppError>>
where
    I: server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// A labelled form field: the label, the input given as children (its `id` must be `id`), an
/// optional hint, and the error for this field when the form's last submission had one.
#[component]
pub fn Field(
    label: &'static str,
    id: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional, into)] error: Option<Signal<Option<AppError>>>,
    children: Children,
) -> impl IntoView {
    let message = move || {
        error
            .and_then(|e| e.get())
            .and_then(|err| err.for_field(id).map(str::to_owned))
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {children()}
            {hint.map(|hint| view! { <small class="hint">{hint}</small> })}
            {move || message().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </div>
    }
}

/// A message about the whole form, such as a wrong password or a throttled login.
#[component]
pub fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().filter(AppError::is_general).map(|err| {
            view! { <p class="form-error" role="alert">{err.to_string()}</p> }
        })
    }
}

/// Any error of a form that is only a button: it has no field to put a message beside.
#[component]
pub fn ButtonError(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|err| view! { <p class="form-error" role="alert">{err.to_string()}</p> })
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

/// Copies `text` to the clipboard once the page is hydrated.
#[component]
pub fn CopyButton(text: String) -> impl IntoView {
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
            {move || if copied.get() { "Copied" } else { "Copy" }}
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

/// A link to `path` with the `filters` that are set and `before`, for keyset paging.
pub fn page_link(path: &str, filters: &[(&str, &Option<String>)], before: i64) -> String {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    for (name, value) in filters {
        if let Some(value) = value {
            pairs.append_pair(name, value);
        }
    }
    pairs.append_pair("before", &before.to_string());
    format!("{path}?{}", pairs.finish())
}

/// Whether any of the filters is set.
pub fn any_set(filters: &[(&str, &Option<String>)]) -> bool {
    filters.iter().any(|(_, value)| value.is_some())
}

/// What a list says when it is empty: that the filters hide everything (with a way to clear
/// them) when `filtered`, or `empty`.
#[component]
pub fn NothingMatches(filtered: bool, clear: &'static str, empty: &'static str) -> impl IntoView {
    if filtered {
        view! {
            <p class="empty">"Nothing matches these filters · "<a href=clear>"Clear filters"</a></p>
        }
        .into_any()
    } else {
        view! { <p class="empty">{empty}</p> }.into_any()
    }
}

/// Leaves blank fields out of a filter form's query string, so a filtered URL names only the
/// filters in use: the router's `<Form>` hands this its data before it navigates.
pub fn drop_blank_fields(data: &web_sys::FormData) {
    #[cfg(feature = "hydrate")]
    {
        let Ok(params) = web_sys::UrlSearchParams::new_with_str_sequence_sequence(data) else {
            return;
        };
        let query = String::from(params.to_string());
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if value.trim().is_empty() {
                data.delete(&name);
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = data;
}

/// A UTC time to the second: `2026-11-23 14:05:09 UTC`.
pub fn format_time(millis: i64) -> String {
    format_with(millis, "%Y-%m-%d %H:%M:%S UTC")
}

/// A UTC time to the millisecond, for attempts: `2026-11-23 14:05:09.417 UTC`.
pub fn format_time_precise(millis: i64) -> String {
    format_with(millis, "%Y-%m-%d %H:%M:%S%.3f UTC")
}

fn format_with(millis: i64, format: &str) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.format(format).to_string())
        .unwrap_or_else(|| "—".to_owned())
}

/// The time between two attempts, as the timeline shows it: `+450 ms`, `+3 s`, `+2 min 5 s`.
pub fn format_gap(millis: i64) -> String {
    let millis = millis.max(0);
    match millis {
        0..1_000 => format!("+{millis} ms"),
        1_000..60_000 => format!("+{} s", millis / 1_000),
        60_000..3_600_000 => format!("+{} min {} s", millis / 60_000, millis % 60_000 / 1_000),
        _ => format!(
            "+{} h {} min",
            millis / 3_600_000,
            millis % 3_600_000 / 60_000
        ),
    }
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
    fn times_carry_seconds_and_attempts_milliseconds() {
        let millis = 1_764_000_309_417; // 2025-11-24 16:05:09.417 UTC
        assert_eq!(format_time(millis), "2025-11-24 16:05:09 UTC");
        assert_eq!(format_time_precise(millis), "2025-11-24 16:05:09.417 UTC");
    }

    #[test]
    fn gaps_between_attempts_read_in_the_largest_sensible_unit() {
        assert_eq!(format_gap(450), "+450 ms");
        assert_eq!(format_gap(3_200), "+3 s");
        assert_eq!(format_gap(125_000), "+2 min 5 s");
        assert_eq!(format_gap(3_660_000), "+1 h 1 min");
        assert_eq!(format_gap(-5), "+0 ms");
    }
}

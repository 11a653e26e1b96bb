//! Small pieces shared by the pages.

use leptos::prelude::*;

use crate::dto::PagingDto;
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

/// A form that empties itself once its action succeeds, so a second click cannot submit the
/// same values again (a duplicate source, a password left in its field). Without JavaScript
/// the page after the redirect is new, and so are its forms.
pub fn reset_on_success<I, O>(action: ServerAction<I>) -> NodeRef<leptos::html::Form>
where
    I: server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        let succeeded = action.value().with(|v| matches!(v, Some(Ok(_))));
        if succeeded && let Some(form) = form.get_untracked() {
            form.reset();
        }
    });
    form
}

/// A destructive button that asks first: `label` opens a question with the button that does it.
/// A `<details>`, so it works before and without the wasm.
#[component]
pub fn Confirm(#[prop(into)] label: String, question: String, children: Children) -> impl IntoView {
    view! {
        <details class="confirm">
            <summary class="button small danger">{label.clone()}</summary>
            <div class="confirm-body" role="group" aria-label=label>
                <p>{question}</p>
                {children()}
            </div>
        </details>
    }
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

/// A table that scrolls sideways when the screen is narrower than it: a named region that
/// takes keyboard focus, so it can be scrolled without a pointer.
#[component]
pub fn ScrollRegion(label: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label=label>
            {children()}
        </div>
    }
}

/// An id in a table: cut short to fit, the whole of it on hover and behind a copy button.
#[component]
pub fn IdCell(value: String, label: &'static str) -> impl IntoView {
    if value.is_empty() {
        return view! { <span class="muted">"—"</span> }.into_any();
    }
    view! {
        <span class="id-cell">
            <code title=value.clone()>{value.clone()}</code>
            <CopyButton text=value label/>
        </span>
    }
    .into_any()
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

/// A link to `path` with the `filters` that are set and a cursor (`("before", id)`), for
/// keyset paging.
pub fn page_link(
    path: &str,
    filters: &[(&str, &Option<String>)],
    cursor: Option<(&str, i64)>,
) -> String {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    for (name, value) in filters {
        if let Some(value) = value {
            pairs.append_pair(name, value);
        }
    }
    if let Some((name, id)) = cursor {
        pairs.append_pair(name, &id.to_string());
    }
    let query = pairs.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// Where a page is in its list ("51–100 of 734") and links to the newest, newer and older
/// pages, keeping the filters.
#[component]
pub fn Pager(
    path: &'static str,
    filters: Vec<(&'static str, Option<String>)>,
    paging: PagingDto,
    shown: usize,
) -> impl IntoView {
    let filters: Vec<(&str, &Option<String>)> = filters.iter().map(|(n, v)| (*n, v)).collect();
    let end = paging.start + shown as u64 - 1;
    let total = match paging.capped_at {
        Some(cap) => format!("{}+", thousands(cap)),
        None => thousands(paging.total),
    };
    let newest = paging.newer_after.map(|_| page_link(path, &filters, None));
    let newer = paging
        .newer_after
        .map(|after| page_link(path, &filters, Some(("after", after))));
    let older = paging
        .older_before
        .map(|before| page_link(path, &filters, Some(("before", before))));
    view! {
        <nav class="pager" aria-label="Pages">
            <span class="pager-position">{thousands(paging.start)}"–"{thousands(end)}" of "{total}</span>
            {newest.map(|href| view! { <a class="button small" href=href>"« Newest"</a> })}
            {newer.map(|href| view! { <a class="button small" href=href>"‹ Newer"</a> })}
            {older.map(|href| view! { <a class="button small" href=href>"Older ›"</a> })}
        </nav>
    }
}

/// A count with thousands separated: `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
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

/// Whether times show in UTC or in the browser's own zone: the person's choice, kept in the
/// browser (`localStorage`), shared by every [`Time`] on the page, with the clock that keeps
/// relative times moving.
#[derive(Clone, Copy)]
pub struct Clock {
    pub local: RwSignal<bool>,
    /// Unix milliseconds, 0 until the page is hydrated (the server renders exact times only).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub now: RwSignal<i64>,
}

/// Where the choice is kept in the browser.
#[cfg(feature = "hydrate")]
const ZONE_KEY: &str = "hookhub.times";

impl Clock {
    /// The page's clock. Until hydrated (and without JavaScript) times are UTC and exact, as
    /// the server rendered them; then the stored choice applies and the clock ticks.
    pub fn provide() -> Self {
        let clock = Self {
            local: RwSignal::new(false),
            now: RwSignal::new(0),
        };
        #[cfg(feature = "hydrate")]
        {
            Effect::new(move |_| {
                let stored = window()
                    .local_storage()
                    .ok()
                    .flatten()
                    .and_then(|storage| storage.get_item(ZONE_KEY).ok().flatten());
                clock.local.set(stored.as_deref() == Some("local"));
                clock.now.set(web_sys::js_sys::Date::now() as i64);
            });
            every(std::time::Duration::from_secs(15), move || {
                clock.now.set(web_sys::js_sys::Date::now() as i64)
            });
        }
        provide_context(clock);
        clock
    }

    /// Switches between UTC and local time, and remembers it.
    pub fn toggle(self) {
        let local = !self.local.get_untracked();
        self.local.set(local);
        #[cfg(feature = "hydrate")]
        if let Ok(Some(storage)) = window().local_storage() {
            let _ = storage.set_item(ZONE_KEY, if local { "local" } else { "utc" });
        }
    }
}

/// A moment. The server renders it exact, in UTC; once hydrated a table time reads relative
/// ("5 min ago") with the exact time on hover, and a `precise` one (an attempt) reads exact to
/// the millisecond with the relative time on hover, each in the zone the person chose.
#[component]
pub fn Time(millis: i64, #[prop(optional)] precise: bool) -> impl IntoView {
    let exact = if precise {
        format_time_precise(millis)
    } else {
        format_time(millis)
    };
    let iso = chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    let node = NodeRef::<leptos::html::Time>::new();
    #[cfg(feature = "hydrate")]
    if let Some(clock) = use_context::<Clock>() {
        Effect::new(move |_| {
            let (now, local) = (clock.now.get(), clock.local.get());
            let Some(element) = node.get() else { return };
            if now == 0 {
                return;
            }
            let exact = zoned(millis, precise, local);
            let relative = relative_time(millis, now);
            let (text, title) = if precise {
                (exact, relative)
            } else {
                (relative, exact)
            };
            element.set_text_content(Some(&text));
            let _ = element.set_attribute("title", &title);
        });
    }
    let title = exact.clone();
    view! { <time datetime=iso title=title node_ref=node>{exact}</time> }
}

/// The exact time in UTC or, when `local`, in the browser's zone with its offset.
#[cfg(feature = "hydrate")]
fn zoned(millis: i64, precise: bool, local: bool) -> String {
    if !local {
        return if precise {
            format_time_precise(millis)
        } else {
            format_time(millis)
        };
    }
    let offset_minutes =
        -(web_sys::js_sys::Date::new(&(millis as f64).into()).get_timezone_offset() as i64);
    let shifted = millis + offset_minutes * 60_000;
    let format = if precise {
        "%Y-%m-%d %H:%M:%S%.3f"
    } else {
        "%Y-%m-%d %H:%M:%S"
    };
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let (hours, minutes) = (offset_minutes.abs() / 60, offset_minutes.abs() % 60);
    format!(
        "{} UTC{sign}{hours:02}:{minutes:02}",
        format_with(shifted, format)
    )
}

/// How long ago (or how far ahead) `millis` is from `now`: `just now`, `42 s ago`, `in 5 min`.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn relative_time(millis: i64, now: i64) -> String {
    let delta = now - millis;
    let seconds = delta.abs() / 1_000;
    let amount = match seconds {
        0..10 => return "just now".to_owned(),
        10..60 => format!("{seconds} s"),
        60..3_600 => format!("{} min", seconds / 60),
        3_600..86_400 => format!("{} h", seconds / 3_600),
        _ => match seconds / 86_400 {
            1 => "1 day".to_owned(),
            days => format!("{days} days"),
        },
    };
    if delta >= 0 {
        format!("{amount} ago")
    } else {
        format!("in {amount}")
    }
}

/// The switch between UTC and local times, kept in the browser.
#[component]
pub fn ZoneToggle() -> impl IntoView {
    let clock = use_context::<Clock>();
    let label = move || match clock.map(|c| c.local.get()) {
        Some(true) => "Times: local",
        _ => "Times: UTC",
    };
    view! {
        <button type="button" class="button ghost small zone-toggle" title="Show times in UTC or in this browser's time zone"
            on:click=move |_| if let Some(clock) = clock { clock.toggle() }>
            {label}
        </button>
    }
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
    fn counts_read_with_thousands_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn page_links_keep_the_filters_in_use_and_the_cursor() {
        let source = Some("src_1".to_owned());
        let filters = [("source", &source), ("q", &None)];
        assert_eq!(page_link("/events", &filters, None), "/events?source=src_1");
        assert_eq!(
            page_link("/events", &filters, Some(("after", 7))),
            "/events?source=src_1&after=7"
        );
        assert_eq!(page_link("/events", &[], None), "/events");
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

    #[test]
    fn times_carry_seconds_and_attempts_milliseconds() {
        let millis = 1_764_000_309_417; // 2025-11-24 16:05:09.417 UTC
        assert_eq!(format_time(millis), "2025-11-24 16:05:09 UTC");
        assert_eq!(format_time_precise(millis), "2025-11-24 16:05:09.417 UTC");
    }

    #[test]
    fn relative_times_read_in_the_largest_sensible_unit_both_ways() {
        let now = 1_764_000_000_000;
        assert_eq!(relative_time(now - 3_000, now), "just now");
        assert_eq!(relative_time(now - 42_000, now), "42 s ago");
        assert_eq!(relative_time(now - 300_000, now), "5 min ago");
        assert_eq!(relative_time(now - 7_200_000, now), "2 h ago");
        assert_eq!(relative_time(now - 86_400_000, now), "1 day ago");
        assert_eq!(relative_time(now - 3 * 86_400_000, now), "3 days ago");
        assert_eq!(relative_time(now + 300_000, now), "in 5 min");
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

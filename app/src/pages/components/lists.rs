//! Lists: paging both ways with a count, filters that name only what is set, what an empty
//! list says, and tables that scroll and show ids cut short.

use leptos::prelude::*;

use super::CopyButton;
use crate::dto::PagingDto;

/// A table that scrolls sideways when the screen is narrower than it: a named region that
/// takes keyboard focus, so it can be scrolled without a pointer.
#[component]
pub fn ScrollRegion(#[prop(into)] label: String, children: Children) -> impl IntoView {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

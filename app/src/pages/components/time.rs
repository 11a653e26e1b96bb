//! Times: exact in UTC as the server renders them; once hydrated, relative with the exact
//! time on hover, in UTC or the browser's zone as the person chose.

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
use super::every;

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

#[cfg(test)]
mod tests {
    use super::*;

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

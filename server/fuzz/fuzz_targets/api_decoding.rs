//! The checks the REST API and the dashboard run on what people type: history filters and
//! times, event type names and patterns, signing secrets, subscription URLs, the outbound
//! allow-list, and `Retry-After` with the retry policy. None may panic, and the properties
//! their documentation promises must hold.
//!
//! Input: a selector byte choosing the check, then that check's fields.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use hookhub_fuzz::Reader;
use http::{HeaderMap, Method};
use libfuzzer_sys::fuzz_target;
use server::outbound::{AllowList, blocked_range, validate_url};
use server::receiving::history::{EventParams, filter, parse_instant};
use server::receiving::providers::{Incoming, Provider, Secret, verify};
use server::sending::filter::{EventPattern, EventType, matches, validate_name, validate_pattern};
use server::sending::retry::{AttemptOutcome, Decision, RetrySchedule, decide, parse_retry_after};
use server::sending::signing::{
    SigningSecret, aspnet_body, aspnet_headers, sign, standard_headers,
};

fuzz_target!(|data: &[u8]| {
    let mut input = Reader::new(data);
    match input.byte() % 8 {
        0 => history_filter(&mut input),
        1 => {
            let _ = parse_instant(&String::from_utf8_lossy(input.rest()));
        }
        2 => event_names(&mut input),
        3 => signing_secret(&mut input),
        4 => {
            if let Ok(url) = validate_url(&String::from_utf8_lossy(input.rest())) {
                assert!(matches!(url.scheme(), "http" | "https"));
            }
        }
        5 => allow_list(&mut input),
        6 => retry(&mut input),
        _ => aspnet(&mut input),
    }
});

fn history_filter(input: &mut Reader) {
    let mut text = || input.option(|input| input.text().into_owned());
    let params = EventParams {
        source: text(),
        event_type: text(),
        handling: text(),
        from: text(),
        to: text(),
        q: text(),
        before: None,
        after: None,
        limit: 0,
    };
    let params = EventParams {
        before: input.option(Reader::i64),
        after: input.option(Reader::i64),
        limit: input.i64() as u64,
        ..params
    };
    match filter(params) {
        Ok(filter) => assert!(filter.text.is_none_or(|t| t.chars().count() <= 200)),
        Err(err) => assert!(!err.message.is_empty()),
    }
}

fn event_names(input: &mut Reader) {
    let pattern = input.text();
    let name = input.text();
    let pattern_ok = validate_pattern(&pattern).is_ok();
    let name_ok = validate_name(&name).is_ok();
    let matched = matches(&pattern, &name);
    assert_eq!(EventPattern::parse(pattern.as_ref()).is_ok(), pattern_ok);
    assert_eq!(EventType::parse(name.as_ref()).is_ok(), name_ok);
    if name_ok {
        // Every valid name is a valid pattern that matches exactly itself, and `*` matches it.
        assert!(validate_pattern(&name).is_ok() && matches(&name, &name) && matches("*", &name));
    }
    if pattern_ok && name_ok && matched {
        // A match is the name itself or a name under the pattern's prefix.
        assert!(
            pattern == "*"
                || pattern == name
                || pattern
                    .strip_suffix('*')
                    .is_some_and(|prefix| name.starts_with(prefix))
        );
    }
}

/// A secret that parses has one canonical text, and what it signs verifies as Standard
/// Webhooks on the receiving side.
fn signing_secret(input: &mut Reader) {
    let text = input.text();
    let msg_id = input.text();
    let timestamp = input.i64();
    let body = input.rest();
    let Ok(secret) = SigningSecret::parse(&text) else {
        return;
    };
    let again = SigningSecret::parse(secret.expose()).expect("the canonical form parses");
    assert!(again == secret && again.expose() == secret.expose());
    assert_eq!(format!("{secret:?}"), "[redacted]");

    let _ = sign(&msg_id, timestamp, body, std::slice::from_ref(&secret));
    let Ok(headers) = standard_headers(&msg_id, timestamp, body, std::slice::from_ref(&secret))
    else {
        return;
    };
    // Real message ids are short printable ASCII without surrounding blanks.
    let sensible_id =
        !msg_id.is_empty() && msg_id.len() <= 256 && msg_id.bytes().all(|b| b.is_ascii_graphic());
    if sensible_id {
        let verified = received(
            &Provider::StandardWebhooks,
            &secret,
            &headers,
            body,
            timestamp,
        )
        .expect("what hookhub signs verifies as Standard Webhooks");
        assert_eq!(verified.delivery_id(), Some(msg_id.as_ref()));
    }
}

fn received(
    provider: &Provider,
    secret: &SigningSecret,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<server::receiving::providers::Verified, String> {
    let req = Incoming {
        method: &Method::POST,
        headers,
        query: None,
        body,
        callback_url: None,
    };
    verify(provider, &[Secret::new(secret.expose())], &req, now).map_err(|e| e.to_string())
}

fn allow_list(input: &mut Reader) {
    let list = input.text();
    let v4 = Ipv4Addr::from(input.u32());
    let v6 =
        Ipv6Addr::from((u128::from(input.i64() as u64) << 64) | u128::from(input.i64() as u64));
    let _ = blocked_range(IpAddr::V6(v6));
    // IPv6 forms that embed an IPv4 address are judged by that address.
    assert_eq!(
        blocked_range(IpAddr::V6(v4.to_ipv6_mapped())),
        blocked_range(IpAddr::V4(v4))
    );
    let Ok(allow) = AllowList::parse(&list) else {
        return;
    };
    for ip in [IpAddr::V4(v4), IpAddr::V6(v6)] {
        let refusal = allow.refusal(ip);
        assert!(!allow.contains(ip) || refusal.is_none());
    }
    if allow.contains(IpAddr::V4(v4)) {
        assert!(allow.contains(IpAddr::V6(v4.to_ipv6_mapped())));
    }
}

/// `Retry-After` can postpone an attempt, bounded by `max_retry_after`, but never bring it
/// forward or add attempts.
fn retry(input: &mut Reader) {
    let value = input.text();
    let now = input.i64();
    let after = parse_retry_after(&value, now);
    let delays: Vec<Duration> = (0..input.byte() % 10)
        .map(|_| Duration::from_millis(u64::from(input.u32())))
        .collect();
    let schedule = RetrySchedule {
        jitter: input.f64(),
        max_retry_after: Duration::from_millis(u64::from(input.u32())),
        ..RetrySchedule::new(delays)
    };
    let attempt = u32::from(input.u16());
    let status = input.u16();
    let sample = input.f64();
    let outcome = if status == 0 {
        AttemptOutcome::NoResponse
    } else {
        AttemptOutcome::Responded {
            status,
            retry_after: after,
        }
    };
    match decide(&schedule, attempt, outcome, now, sample) {
        Decision::Delivered => assert!((200..300).contains(&status)),
        Decision::Disable { .. } => assert_eq!(status, 410),
        Decision::GiveUp => assert!(attempt >= schedule.max_attempts()),
        Decision::RetryAt(at) => {
            assert!(attempt < schedule.max_attempts());
            assert!(at >= now);
            let scheduled = schedule
                .delay_before(attempt + 1, sample)
                .expect("a next step");
            let longest = scheduled.max(schedule.max_retry_after);
            let longest = i64::try_from(longest.as_millis()).unwrap_or(i64::MAX);
            assert!(at <= now.saturating_add(longest));
        }
    }
}

/// 24 zero bytes: deterministic, unlike `SigningSecret::generate`.
const FALLBACK_SECRET: &str = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// What hookhub sends in ASP.NET WebHooks mode verifies as ASP.NET on the receiving side.
fn aspnet(input: &mut Reader) {
    let msg_id = input.text();
    let attempt = input.u32();
    let event_type = input.text();
    let properties = serde_json::from_slice(input.bytes()).unwrap_or_default();
    let secret = SigningSecret::parse(&input.text())
        .or_else(|_| SigningSecret::parse(FALLBACK_SECRET))
        .expect("the fallback secret parses");
    let Ok(payload) = serde_json::from_slice(input.rest()) else {
        return;
    };
    let body = aspnet_body(&msg_id, attempt, &event_type, &payload, &properties);
    let headers = aspnet_headers(&body, &secret);
    let verified = received(&Provider::AspNet, &secret, &headers, &body, 0)
        .expect("what hookhub signs verifies as ASP.NET");
    if let Some(reported) = verified.event_type() {
        assert_eq!(reported, event_type.trim());
    }
}

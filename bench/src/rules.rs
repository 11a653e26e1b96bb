//! `rules`: what a subscription's payload filter and an event type's JSON Schema cost when a
//! message is published, measured in-process on a 1 KiB payload: parsing a filter and
//! evaluating it (done per subscription with a filter, for each message), and checking a
//! payload against a schema (once per message; the schema is compiled once and kept).

use std::hint::black_box;
use std::time::Instant;

use serde_json::{Value, json};
use server::sending::payload_filter::PayloadFilter;
use server::sending::schemas;

use crate::RulesArgs;
use crate::stats::median_f64;

const FILTERS: &[(&str, &str)] = &[
    ("one comparison", "data.amount > 100"),
    (
        "four clauses",
        r#"data.amount > 100 and data.currency in ["eur", "usd", "chf"] and not exists(data.test) or data.customer.plan == "pro""#,
    ),
];

const SCHEMA: &str = r#"{
    "type": "object",
    "required": ["id", "data"],
    "properties": {
        "id": {"type": "string", "pattern": "^evt_"},
        "data": {
            "type": "object",
            "required": ["amount", "currency", "customer", "lines"],
            "properties": {
                "amount": {"type": "integer", "minimum": 0},
                "currency": {"enum": ["eur", "usd", "chf"]},
                "customer": {"type": "object", "required": ["email"],
                             "properties": {"email": {"type": "string", "format": "email"}}},
                "lines": {"type": "array", "items": {"type": "object", "required": ["sku", "qty"]}}
            }
        }
    }
}"#;

/// About 1 KiB of JSON, shaped like an invoice event.
fn payload() -> Value {
    let lines: Vec<Value> = (0..8)
        .map(|i| json!({"sku": format!("SKU-{i:04}"), "qty": i + 1, "price": 1250 + i * 10, "name": "A line item"}))
        .collect();
    json!({
        "id": "evt_0123456789abcdef",
        "data": {
            "amount": 4200, "currency": "eur",
            "customer": {"email": "billing@example.com", "plan": "pro", "name": "Example GmbH"},
            "lines": lines,
            "note": "x".repeat(370)
        }
    })
}

/// Nanoseconds per call of `work`, the median of `rounds` rounds of `iterations` calls.
fn nanos_per_call(rounds: usize, iterations: usize, mut work: impl FnMut()) -> f64 {
    let per_round: Vec<f64> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..iterations {
                work();
            }
            started.elapsed().as_nanos() as f64 / iterations as f64
        })
        .collect();
    median_f64(&per_round)
}

pub async fn run(args: RulesArgs) -> anyhow::Result<()> {
    let payload = payload();
    println!(
        "payload: {} bytes of JSON; median of {} rounds of {} calls each",
        payload.to_string().len(),
        args.rounds,
        args.iterations
    );
    for (label, text) in FILTERS {
        let filter = PayloadFilter::parse(text)?;
        let parse = nanos_per_call(args.rounds, args.iterations, || {
            black_box(PayloadFilter::parse(black_box(text)).is_ok());
        });
        let evaluate = nanos_per_call(args.rounds, args.iterations, || {
            black_box(filter.matches(black_box(&payload)));
        });
        // What publishing does per subscription with a filter: the parsed filter from the
        // cache, then evaluated.
        let publish = nanos_per_call(args.rounds, args.iterations, || {
            let cached = PayloadFilter::cached(black_box(text)).expect("parses");
            black_box(cached.matches(black_box(&payload)));
        });
        println!(
            "payload filter, {label:<15} parse {parse:>5.0} ns, evaluate {evaluate:>4.0} ns; \
             per subscription and message, cached {publish:>4.0} ns"
        );
    }
    schemas::checked(SCHEMA)?;
    let check = nanos_per_call(args.rounds, args.iterations / 10, || {
        black_box(
            schemas::mismatches(SCHEMA, black_box(&payload))
                .map(|m| m.len())
                .ok(),
        );
    });
    let mut wrong = payload.clone();
    wrong["data"]["amount"] = json!(-1);
    wrong["data"]["customer"]["email"] = json!("nobody");
    let refuse = nanos_per_call(args.rounds, args.iterations / 10, || {
        black_box(
            schemas::mismatches(SCHEMA, black_box(&wrong))
                .map(|m| m.len())
                .ok(),
        );
    });
    println!(
        "JSON Schema check per message: {:.1} µs when it matches, {:.1} µs with 2 mismatches",
        check / 1000.0,
        refuse / 1000.0
    );
    Ok(())
}

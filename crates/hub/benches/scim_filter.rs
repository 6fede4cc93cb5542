//! SCIM filter → SQL against the raw RSA-2048 verify limit, measured in the same run.
//!
//! `cargo bench -p crossfed-hub --bench scim_filter` prints criterion's statistics, then a
//! summary: the path a `GET /scim/v2/Users?filter=…` takes before touching the database, for
//! the filters Entra ID sends — `crossfed_scim::parse_filter`, `Filter::validate`, the hub's
//! `user_condition` (filter → store `Condition`), and the store's `compile_user_condition` (→ WHERE
//! clause with bound parameters) — each as a ratio to the raw aws-lc-rs RSA-2048 verify rate.
//! Set `CROSSFED_BENCH_QUICK=1` for a short summary window.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::Criterion;
use crossfed_hub::directory::scim::user_condition;
use crossfed_scim::{Filter, USER, parse_filter};
use crossfed_store::compile_user_condition;
use crossfed_testkit::bench::{RawRsa, rate, summary_window};

/// The filters Entra ID's provisioning sends (matching a user before creating it, by userName or
/// by externalId), a compound one the store can answer, and one it cannot (a value path on
/// emails: the hub then evaluates it user by user, in memory).
const FILTERS: [(&str, &str); 4] = [
    ("userName eq", r#"userName eq "alice@example.com""#),
    ("externalId eq", r#"externalId eq "8b1f0e5c-6a2d-4f3e-9c7b-1a2b3c4d5e6f""#),
    ("compound", r#"(userName sw "a" and active eq true) or displayName co "example""#),
    ("emails value path", r#"(userName sw "a" and active eq true) or emails[type eq "work" and value co "example"]"#),
];

/// The whole pre-database path of a filtered user list: `Some(WHERE clause, parameter count)`, or
/// `None` when the hub falls back to evaluating the filter on every user.
fn filter_to_sql(text: &str) -> Option<(String, usize)> {
    let filter = parse_filter(text).unwrap();
    filter.validate(&USER).unwrap();
    let condition = user_condition(&filter)?;
    let compiled = compile_user_condition(&condition).unwrap();
    Some((compiled.sql().to_string(), compiled.params().len()))
}

fn main() {
    for (name, text) in FILTERS {
        match filter_to_sql(text) {
            Some((sql, params)) => println!("{name}: WHERE {sql}  ({params} parameters)"),
            None => println!("{name}: no SQL; evaluated in memory on each user"),
        }
    }
    // The stages, split for the compound filter.
    let compound = FILTERS[2].1;
    let parsed: Filter = parse_filter(compound).unwrap();
    let condition = user_condition(&parsed).unwrap();

    let raw = RawRsa::new();
    let raw_verify = || raw.verify();

    let whole = |text: &'static str| move || drop(black_box(filter_to_sql(black_box(text))));
    let parse_only = || drop(black_box(parse_filter(black_box(compound)).unwrap()));
    let validate_only = || black_box(&parsed).validate(&USER).unwrap();
    let condition_only = || drop(black_box(user_condition(black_box(&parsed))));
    let compile_only = || drop(black_box(compile_user_condition(black_box(&condition)).unwrap()));

    let mut c = Criterion::default().configure_from_args();
    c.bench_function("reference: raw RSA-2048 verify", |b| b.iter(raw_verify));
    for (name, text) in FILTERS {
        c.bench_function(&format!("filter → SQL: {name}"), |b| b.iter(whole(text)));
    }
    c.bench_function("compound: parse_filter", |b| b.iter(parse_only));
    c.bench_function("compound: validate", |b| b.iter(validate_only));
    c.bench_function("compound: user_condition", |b| b.iter(condition_only));
    c.bench_function("compound: compile to SQL", |b| b.iter(compile_only));
    c.final_summary();

    // The ratios, measured back to back so machine load affects both sides alike.
    let window = summary_window();
    let verify_raw = rate(window, raw_verify);
    let mut rows: Vec<(String, f64)> =
        FILTERS.iter().map(|&(name, text)| (format!("filter → SQL: {name}"), rate(window, whole(text)))).collect();
    rows.push(("compound: parse_filter".into(), rate(window, parse_only)));
    rows.push(("compound: validate".into(), rate(window, validate_only)));
    rows.push(("compound: user_condition".into(), rate(window, condition_only)));
    rows.push(("compound: compile to SQL".into(), rate(window, compile_only)));
    println!("\nsummary (1 core, {} ms windows):", window.as_millis());
    println!("  {:<34} {verify_raw:>10.0}/s", "raw RSA-2048 verify");
    for (what, ours) in rows {
        println!("  {what:<34} {ours:>10.0}/s  ratio {:.1} to verify", ours / verify_raw);
    }
}

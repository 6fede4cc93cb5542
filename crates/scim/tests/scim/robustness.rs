#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Property-style checks: the filter and PATCH path parsers return errors, never panic, on
//! arbitrary and mutated input; whatever parses prints back to an equivalent filter.

use crossfed_scim::{GROUP, MAX_FILTER_LEN, ScimType, USER, parse_filter, parse_patch_path};
use serde_json::json;

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SEEDS: &[&str] = &[
    r#"userName eq "bjensen""#,
    r#"name.familyName co "O'Malley""#,
    r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    r#"title pr and userType eq "Employee""#,
    r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x\u00e9\"y""#,
    "active eq true and x gt -1.5e3 or y eq null",
];

const FRAGMENTS: &[&str] = &[
    " ",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "\\",
    "\\u00",
    ".",
    ":",
    "eq",
    "ne",
    "co",
    "sw",
    "ew",
    "gt",
    "ge",
    "lt",
    "le",
    "pr",
    "and",
    "or",
    "not",
    "not (",
    "true",
    "false",
    "null",
    "1",
    "-2.5e9",
    "userName",
    "emails",
    "value",
    "urn:ietf:params:scim:schemas:core:2.0:User:",
    "é",
    "\u{0}",
    "\t",
    "\"x\"",
    "$ref",
    "_",
    "-",
    "]]",
    "((",
    "'",
];

fn check_filter(text: &str) {
    match parse_filter(text) {
        Ok(f) => {
            let printed = f.to_string();
            let again = parse_filter(&printed).unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}: {e}"));
            assert_eq!(again, f, "{text:?} printed as {printed:?}");
            let user = json!({ "userName": "bjensen", "emails": [{ "value": "a@example.com", "type": "work" }], "active": true });
            let _ = f.matches(&user, &USER);
            let _ = f.matches(&json!({ "displayName": "g" }), &GROUP);
            let _ = f.validate(&USER);
        }
        Err(e) => {
            assert_eq!(e.status, 400, "{text:?}");
            assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{text:?}");
            assert!(e.detail.contains("character") || e.detail.contains("limit"), "{text:?}: {}", e.detail);
        }
    }
}

fn mutate(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = if chars.is_empty() { 0 } else { rng.below(chars.len() + 1) };
        match rng.below(4) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 => {
                for (i, c) in rng.pick(FRAGMENTS).chars().enumerate() {
                    chars.insert(at + i, c);
                }
            }
            2 if at < chars.len() => chars[at] = char::from_u32((rng.next() % 0x80) as u32).unwrap_or('?'),
            _ => chars.truncate(at),
        }
    }
    chars.into_iter().collect()
}

#[test]
fn filter_parser_never_panics_on_mutated_filters() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0;
    for round in 0..3000 {
        let seed = SEEDS[round % SEEDS.len()];
        let text = mutate(&mut rng, seed);
        if parse_filter(&text).is_ok() {
            parsed += 1;
        }
        check_filter(&text);
    }
    // The mutations leave a fair share valid, so the round trip is really exercised.
    assert!(parsed > 100, "only {parsed} mutated filters parsed");
}

#[test]
fn filter_parser_never_panics_on_fragment_soup() {
    let mut rng = Rng(42);
    for _ in 0..3000 {
        let n = rng.below(30);
        let text: String = (0..n).map(|_| rng.pick(FRAGMENTS)).collect();
        check_filter(&text);
    }
}

#[test]
fn filter_parser_never_panics_on_random_bytes() {
    let mut rng = Rng(7);
    for _ in 0..2000 {
        let n = rng.below(64);
        let bytes: Vec<u8> = (0..n).map(|_| (rng.next() & 0xff) as u8).collect();
        check_filter(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn extreme_inputs_are_refused_cheaply() {
    for text in [
        "(".repeat(100_000),
        "not (".repeat(MAX_FILTER_LEN / 5),
        "[".repeat(MAX_FILTER_LEN),
        format!("emails{}", "[type pr]".repeat(400)),
        "\"".repeat(MAX_FILTER_LEN),
        "\\".repeat(MAX_FILTER_LEN),
        "a".repeat(MAX_FILTER_LEN),
    ] {
        let e = parse_filter(&text).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
        let _ = parse_patch_path(&text);
    }
}

#[test]
fn patch_path_parser_never_panics() {
    let seeds = [
        r#"emails[type eq "work"].value"#,
        r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
        "name.familyName",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    ];
    let mut rng = Rng(1234);
    for round in 0..3000 {
        let text = mutate(&mut rng, seeds[round % seeds.len()]);
        if let Err(e) = parse_patch_path(&text) {
            assert_eq!(e.status, 400);
            assert!(matches!(e.scim_type, Some(ScimType::InvalidPath | ScimType::InvalidFilter)), "{text:?}: {e}");
        }
    }
}

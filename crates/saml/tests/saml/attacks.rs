//! The attack corpus run against SP-side validation: every case must be refused with its own
//! specific error, and the untouched response the cases are generated from must be accepted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

// A crate root resolves `mod` next to itself, so the path names the attacks/ directory.
use crossfed_attacks as corpus;

use std::sync::OnceLock;

use corpus::{ACS, Case, Context, Expected, Fixture, IDP, Input, REQUEST_ID, SP, VICTIM};
use crossfed_saml::{Accepted, MemoryReplayCache, SpPolicy, ValidationError, decode_redirect, validate_response};
use crossfed_xmldsig::Certificate;

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(Fixture::new)
}

fn validate(xml: &[u8], context: &Context, replay: &MemoryReplayCache) -> Result<Accepted, ValidationError> {
    let certs: Vec<Certificate> = vec![fixture().idp_key.certificate().clone()];
    let policy = SpPolicy { signatures: context.signatures, ..SpPolicy::new(SP, ACS, IDP, &certs) };
    validate_response(xml, &policy, context.request_id.as_deref(), context.now, replay)
}

/// Runs one case; returns a description of the mismatch, if any.
fn run(case: &Case) -> Result<(), String> {
    let replay = MemoryReplayCache::default();
    let xml = match (&case.input, &case.expected) {
        (Input::Redirect(query), Expected::Binding(expected)) => {
            return match decode_redirect(query) {
                Err(e) if &e == expected => Ok(()),
                Err(e) => Err(format!("expected {expected:?}, got binding error {e:?}")),
                Ok(m) => Err(format!("expected {expected:?}, but the message decoded ({} bytes)", m.xml.len())),
            };
        }
        (Input::Redirect(query), _) => decode_redirect(query).map_err(|e| format!("binding error {e:?}"))?.xml,
        (Input::Post(xml), _) => xml.clone(),
    };
    if case.context.replay_first {
        validate(&xml, &case.context, &replay).map_err(|e| format!("the first presentation was refused: {e:?}"))?;
    }
    match validate(&xml, &case.context, &replay) {
        Ok(accepted) => Err(format!(
            "ACCEPTED (security bug): name id {:?}, expected {}",
            accepted.name_id.value,
            case.expected.describe()
        )),
        Err(e) if case.expected.matches_validation(&e) => Ok(()),
        Err(e) => Err(format!("expected {}, got {e:?}", case.expected.describe())),
    }
}

#[test]
fn the_untouched_response_is_accepted() {
    let fx = fixture();
    let xml = fx.valid();
    let accepted = validate(xml.as_bytes(), &Context::default(), &MemoryReplayCache::default()).unwrap();
    assert_eq!(accepted.name_id.value, VICTIM);
    assert_eq!(accepted.in_response_to.as_deref(), Some(REQUEST_ID));
    // The other signing choices the corpus starts from are accepted too.
    for parts in [crossfed_saml::SignedParts::Response, crossfed_saml::SignedParts::Both] {
        validate(fx.signed(parts).as_bytes(), &Context::default(), &MemoryReplayCache::default()).unwrap();
    }
    // The time cases sit one second past the skew: at the skew itself the response is accepted.
    let at_skew = fx.build_at(&fx.spec(), Fixture::now().plus_seconds(corpus::SKEW));
    validate(at_skew.as_bytes(), &Context::default(), &MemoryReplayCache::default()).unwrap();
    let late = Context { now: Fixture::t0().plus_seconds(300 + corpus::SKEW - 1), ..Context::default() };
    validate(xml.as_bytes(), &late, &MemoryReplayCache::default()).unwrap();
    // And through the Redirect binding.
    let query = crossfed_saml::redirect_query(crossfed_saml::MessageKind::Response, &xml, None, None).unwrap();
    let decoded = decode_redirect(&query).unwrap();
    validate(&decoded.xml, &Context::default(), &MemoryReplayCache::default()).unwrap();
}

#[test]
fn every_attack_is_refused_with_its_specific_error() {
    let cases = corpus::corpus(fixture());
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut names = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for case in &cases {
        assert!(names.insert(case.name), "duplicate case name {}", case.name);
        if let Err(why) = run(case) {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// Replaces the random message IDs (`_` and 40 hex digits) so the table is stable.
fn redact_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('_') {
        out.push_str(&rest[..at]);
        let candidate = &rest[at + 1..];
        let hex = candidate.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 40 {
            out.push_str("_ID");
            rest = &candidate[40..];
        } else {
            out.push('_');
            rest = candidate;
        }
    }
    out.push_str(rest);
    out
}

/// The Markdown table of the corpus; written to docs/attacks.md when
/// CROSSFED_WRITE_ATTACK_TABLE=1.
#[test]
fn attack_table() {
    let cases = corpus::corpus(fixture());
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = String::from(
        "# Attack corpus\n\nGenerated by `crates/saml/tests/saml/attacks.rs` (run with `CROSSFED_WRITE_ATTACK_TABLE=1`). \
Every case is derived from a valid signed Response and must be refused with exactly the error shown; \
a control test checks that the untouched Response is accepted. \
`crates/cli/tests/cli/attack_corpus_cli.rs` runs the same cases through `crossfed saml validate` \
(all but the replay case, which needs two presentations in one process) and expects the same errors. \
Every case is also posted over HTTP to the hub's ACS (`POST /saml/acs`, `crates/hub/tests/hub/attack_corpus.rs`, \
on SQLite and PostgreSQL) and to the target account's AWS sign-in endpoint (`POST /saml`, \
`crates/cloud/tests/cloud/attack_corpus.rs`), each with its clock fixed at the case's instant; \
both must refuse it with the expected error on their error page, except where the table after this one says otherwise.\n\n\
Besides the signature and protocol checks, two rules hold for every Response before its assertion is read \
(`crates/saml/src/identity.rs`, `crates/saml/src/schema.rs`). Identity values (NameID, Issuer) are taken \
exactly as signed: one with surrounding whitespace is refused, never trimmed (`Identity`, SAML core §1.3.1). \
The Response follows the SAML 2.0 protocol and assertion schemas: the children of Response, Status, Assertion, \
Subject, SubjectConfirmation, Conditions, AudienceRestriction, AuthnStatement, AuthnContext, AttributeStatement \
and Attribute in the schemas' order, no element in a foreign or near-miss namespace among them, no XInclude \
anywhere (`Schema`); content the schemas leave open (Extensions, Advice, SubjectConfirmationData, AttributeValue) \
stays open.\n\n",
    );
    out.push_str(&format!("{} cases.\n\n| # | Case | Source | Expected error |\n|---|---|---|---|\n", cases.len()));
    for (i, case) in cases.iter().enumerate() {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            i + 1,
            case.name,
            cell(case.source),
            cell(&redact_ids(&case.expected.describe()))
        ));
    }
    out.push_str(
        "\n## Through the hub's ACS and the AWS sign-in endpoint\n\n\
The hub's ACS shows `The identity provider's response was refused: <error>` with status 403; it finds \
the pending login by the response's InResponseTo (the tests keep one waiting for `_req1`, the record \
the hub's own `/login` wrote). The sign-in endpoint shows `<message>: <error> (<code>)` with the code \
AWS gives it; there the cases are built for its own audience and recipient (its sign-in URL) and carry \
a Role attribute, since it finds the SAML provider to validate with from that attribute. \
The cases where either answers otherwise, and how (\"expected error\" where it gives the case's error):\n\n\
| # | Case | Hub ACS | AWS sign-in endpoint |\n|---|---|---|---|\n",
    );
    let answer = |list: &[(&str, &str)], name: &str| {
        list.iter().find(|(n, _)| *n == name).map_or_else(|| "expected error".to_string(), |(_, a)| cell(a))
    };
    for (i, case) in cases.iter().enumerate() {
        let listed = |list: &[(&str, &str)]| list.iter().any(|(n, _)| *n == case.name);
        if listed(corpus::HUB_ACS_ANSWERS) || listed(corpus::SIGN_IN_ANSWERS) {
            out.push_str(&format!(
                "| {} | `{}` | {} | {} |\n",
                i + 1,
                case.name,
                answer(corpus::HUB_ACS_ANSWERS, case.name),
                answer(corpus::SIGN_IN_ANSWERS, case.name)
            ));
        }
    }
    if std::env::var("CROSSFED_WRITE_ATTACK_TABLE").as_deref() == Ok("1") {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/attacks.md");
        std::fs::write(path, out).unwrap();
    }
}

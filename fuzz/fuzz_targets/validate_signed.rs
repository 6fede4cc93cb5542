//! Full SP-side validation past the signature: the target holds the IdP's key and signs what the
//! input designates (its first byte: bit 0 the first Assertion, bit 1 the Response, bit 2 leave
//! KeyInfo out), then validates. Never panics; when a Response is accepted, what it reports (the
//! assertion, its issuer, NameID and attributes) is exactly what the signed element holds, so a
//! wrapping or parser-differential bug shows up as a broken invariant, not a silent acceptance.
#![no_main]

use std::sync::OnceLock;

use crossfed_saml::{Accepted, MemoryReplayCache, SpPolicy, Timestamp, ns, validate_response};
use crossfed_xml::{Document, NodeId};
use crossfed_xmldsig::{Certificate, SignOptions, SigningKey, sign_enveloped};
use libfuzzer_sys::fuzz_target;

const SP: &str = "https://sp.example.com";
const ACS: &str = "https://sp.example.com/acs";
const IDP: &str = "https://idp.example.com";

fn key() -> &'static (SigningKey, Vec<Certificate>) {
    static KEY: OnceLock<(SigningKey, Vec<Certificate>)> = OnceLock::new();
    KEY.get_or_init(|| {
        // Valid from before the time inputs are judged at, whatever day the fuzzer runs.
        let from = crossfed_clock::Clock::fixed(Timestamp::parse("2025-06-01T00:00:00Z").expect("time")).now();
        let key = SigningKey::generate_rsa("fuzz idp", from, 3650).expect("key");
        let certificates = vec![key.certificate().clone()];
        (key, certificates)
    })
}

/// The first Assertion element (any depth) with an ID.
fn first_assertion(doc: &Document) -> Option<NodeId> {
    doc.descendants().find(|e| e.is(ns::ASSERTION, "Assertion") && e.attr("ID").is_some()).map(|e| e.id())
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, xml)) = data.split_first() else { return };
    let Ok(mut doc) = crossfed_xml::parse(xml) else { return };
    let (key, trusted) = key();
    let options = SignOptions { include_certificate: mode & 4 == 0, ..SignOptions::default() };
    let mut signed_assertion = None;
    if mode & 1 == 1 || mode & 2 == 0 {
        let Some(target) = first_assertion(&doc) else { return };
        signed_assertion = doc.element(target).and_then(|e| e.attr("ID")).map(str::to_string);
        if sign_enveloped(&mut doc, target, key, &options).is_err() {
            return;
        }
    }
    let response_signed = mode & 2 == 2;
    if response_signed {
        let root = doc.root();
        if sign_enveloped(&mut doc, root, key, &options).is_err() {
            return;
        }
    }
    let signed = crossfed_xml::to_xml(&doc);
    let mut policy = SpPolicy::new(SP, ACS, IDP, trusted);
    policy.allow_unsolicited = true;
    let now = Timestamp::parse("2026-01-01T00:00:00Z").expect("time");
    let result = validate_response(signed.as_bytes(), &policy, None, now, &MemoryReplayCache::default());
    if std::env::var_os("CROSSFED_FUZZ_SHOW").is_some() {
        eprintln!("{result:?}");
    }
    if let Ok(accepted) = result {
        check_accepted(&signed, &accepted, signed_assertion.as_deref(), response_signed);
    }
});

/// What was accepted is what the signed element holds.
fn check_accepted(signed: &str, accepted: &Accepted, signed_assertion: Option<&str>, response_signed: bool) {
    let doc = crossfed_xml::parse(signed.as_bytes()).expect("the target wrote this document");
    let same_id: Vec<_> = doc.descendants().filter(|e| e.attr("ID") == Some(accepted.assertion_id.as_str())).collect();
    assert_eq!(same_id.len(), 1, "accepted assertion {} whose ID is not unique", accepted.assertion_id);
    let assertion = same_id[0];
    assert!(assertion.is(ns::ASSERTION, "Assertion"), "accepted a {} as the assertion", assertion.qualified_name());
    // Covered by a signature: its own, or the Response's (then it is the Response's child).
    let own = signed_assertion == Some(accepted.assertion_id.as_str());
    let in_response = response_signed && assertion.parent().is_some_and(|p| p.id() == doc.root());
    assert!(own || in_response, "accepted assertion {} that no signature covers", accepted.assertion_id);
    let issuer = assertion.child(ns::ASSERTION, "Issuer").and_then(|i| i.text().ok());
    assert_eq!(issuer, Some(accepted.issuer.as_str()), "the issuer reported is not the signed one");
    let name_id = assertion
        .child(ns::ASSERTION, "Subject")
        .and_then(|s| s.child(ns::ASSERTION, "NameID"))
        .and_then(|n| n.text().ok());
    assert_eq!(name_id, Some(accepted.name_id.value.as_str()), "the NameID reported is not the signed one");
    let signed_attributes: Vec<(String, Vec<String>)> = assertion
        .children_named(ns::ASSERTION, "AttributeStatement")
        .flat_map(|s| s.children_named(ns::ASSERTION, "Attribute").collect::<Vec<_>>())
        .map(|a| {
            let values = a.children_named(ns::ASSERTION, "AttributeValue").map(|v| v.text().unwrap_or("").to_string());
            (a.attr("Name").unwrap_or("").to_string(), values.collect())
        })
        .collect();
    for attribute in &accepted.attributes {
        let found = signed_attributes.iter().any(|(name, values)| *name == attribute.name && *values == attribute.values);
        assert!(found, "attribute {} = {:?} is not in the signed assertion", attribute.name, attribute.values);
    }
}

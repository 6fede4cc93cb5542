//! Signing and verification against the raw RSA-2048 limit, measured in the same run.
//!
//! `cargo bench -p crossfed-saml --bench sign_verify` prints criterion's statistics, then a
//! summary: build+sign of a typical AWS sign-in assertion as a fraction of the raw aws-lc-rs
//! RSA-2048 sign rate, and verification of a ~10 KB IdP response as a fraction of the raw verify
//! rate (targets: ≥ 0.85 and ≥ 0.5).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use crossfed_saml::{
    Attribute, MemoryReplayCache, NameId, ResponseSpec, SignedParts, SpPolicy, Timestamp, build_response, ns,
    validate_response,
};
use crossfed_testkit::bench::rate;
use crossfed_xmldsig::{Certificate, SignatureAlgorithm, SigningKey, VerifyOptions, verify_enveloped};

const SIGNIN: &str = "https://signin.aws.amazon.com/saml";

fn aws_signin_spec(now: Timestamp) -> ResponseSpec {
    ResponseSpec {
        issuer: "https://hub.example.com/saml/idp/connect".into(),
        destination: SIGNIN.into(),
        audiences: vec!["urn:amazon:webservices".into()],
        in_response_to: None,
        name_id: NameId {
            value: "alice@example.com".into(),
            format: Some(ns::NAMEID_EMAIL.into()),
            ..NameId::default()
        },
        session_index: "_session".into(),
        authn_instant: now,
        authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.into(),
        attributes: vec![
            Attribute::uri(
                "https://aws.amazon.com/SAML/Attributes/Role",
                vec!["arn:aws:iam::123456789012:role/ConnectAgent,arn:aws:iam::123456789012:saml-provider/Hub".into()],
            ),
            Attribute::uri("https://aws.amazon.com/SAML/Attributes/RoleSessionName", vec!["alice@example.com".into()]),
            Attribute::uri("https://aws.amazon.com/SAML/Attributes/SessionDuration", vec!["43200".into()]),
        ],
        lifetime_seconds: 300,
        not_before_skew_seconds: 0,
        session_not_on_or_after: None,
        signed_parts: SignedParts::Assertion,
    }
}

/// An upstream IdP response of about 10 KB: many group values, as Entra ID sends them.
fn ten_kb_response(key: &SigningKey, now: Timestamp) -> String {
    let mut spec = aws_signin_spec(now);
    spec.destination = "https://hub.example.com/saml/acs".into();
    spec.audiences = vec!["https://hub.example.com/saml/sp".into()];
    spec.issuer = "https://sts.windows.net/00000000-0000-0000-0000-000000000000/".into();
    spec.attributes = vec![
        Attribute::uri(
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            vec!["alice@example.com".into()],
        ),
        Attribute::uri("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", vec!["Alice".into()]),
        Attribute::uri("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", vec!["Example".into()]),
        Attribute::uri(
            "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
            (0..80).map(|i| format!("{i:08x}-1111-2222-3333-444455556666")).collect(),
        ),
    ];
    let xml = build_response(&spec, now, key).unwrap().xml;
    assert!((9_000..12_000).contains(&xml.len()), "response is {} bytes", xml.len());
    xml
}

fn main() {
    let key = SigningKey::generate_rsa("bench", crossfed_clock::Clock::system().now(), 30).unwrap();
    let certs: Vec<Certificate> = vec![key.certificate().clone()];
    let now = Timestamp::parse("2026-11-25T10:00:00Z").unwrap();
    let spec = aws_signin_spec(now);
    let response = ten_kb_response(&key, now);
    let raw_message = [7u8; 32];
    let raw_signature = key.sign(&raw_message).unwrap();
    let policy_acs = "https://hub.example.com/saml/acs";
    let policy_sp = "https://hub.example.com/saml/sp";
    let policy_idp = "https://sts.windows.net/00000000-0000-0000-0000-000000000000/";

    let raw_sign = || {
        black_box(key.sign(black_box(&raw_message)).unwrap());
    };
    let build_sign = || {
        black_box(build_response(black_box(&spec), now, &key).unwrap());
    };
    let raw_verify = || {
        assert!(certs[0].verify(SignatureAlgorithm::RsaSha256, black_box(&raw_message), &raw_signature));
    };
    let verify = || {
        let doc = crossfed_xml::parse(black_box(response.as_bytes())).unwrap();
        let assertion = doc.descendants().find(|e| e.is(ns::ASSERTION, "Assertion")).unwrap().id();
        black_box(verify_enveloped(&doc, assertion, &certs, &VerifyOptions::default()).unwrap());
    };
    let validate = || {
        let policy = SpPolicy::new(policy_sp, policy_acs, policy_idp, &certs);
        let mut p = policy;
        p.allow_unsolicited = true;
        black_box(validate_response(response.as_bytes(), &p, None, now, &MemoryReplayCache::default()).unwrap());
    };

    let mut c = Criterion::default().configure_from_args();
    c.bench_function("reference: raw RSA-2048 sign", |b| b.iter(raw_sign));
    c.bench_function("build + sign AWS sign-in response", |b| b.iter(build_sign));
    c.bench_function("reference: raw RSA-2048 verify", |b| b.iter(raw_verify));
    c.bench_function("parse + verify 10 KB IdP response", |b| b.iter(verify));
    c.bench_function("full SP validation of 10 KB response", |b| b.iter(validate));
    c.final_summary();

    // The ratios, measured back to back so machine load affects both sides alike.
    let window = Duration::from_millis(1500);
    let sign_raw = rate(window, raw_sign);
    let sign_ours = rate(window, build_sign);
    let verify_raw = rate(window, raw_verify);
    let verify_ours = rate(window, verify);
    let validate_ours = rate(window, validate);
    println!("\nsummary ({} bytes response, 1 core):", response.len());
    println!("  raw RSA-2048 sign            {sign_raw:>9.0}/s");
    println!("  build + sign assertion       {sign_ours:>9.0}/s  ratio {:.2} (target >= 0.85)", sign_ours / sign_raw);
    println!("  raw RSA-2048 verify          {verify_raw:>9.0}/s");
    println!(
        "  parse + verify 10 KB         {verify_ours:>9.0}/s  ratio {:.2} (target >= 0.50)",
        verify_ours / verify_raw
    );
    println!("  full validation 10 KB        {validate_ours:>9.0}/s  ratio {:.2}", validate_ours / verify_raw);
}

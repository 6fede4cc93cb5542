//! IAM policy parsing and evaluation against the raw RSA-2048 limit, measured in the same run.
//!
//! `cargo bench -p crossfed-iam --bench evaluate` prints criterion's statistics, then a summary:
//! the reference case's trust policy (`sts:AssumeRoleWithSAML` for the hub's SAML provider,
//! `StringEquals SAML:aud`) and permission policy (`connect:GetFederationToken` on the caller's
//! own Connect user, with Deny statements and unrelated grants around it), parsed and evaluated
//! with request contexts built as crossfed-cloud builds them, each as a ratio to the raw
//! aws-lc-rs RSA-2048 verify and sign rates. Set `CROSSFED_BENCH_QUICK=1` for a short summary
//! window.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::Criterion;
use crossfed_iam::{Decision, Policy, RequestContext, RequestPrincipal, evaluate, evaluate_trust};
use crossfed_testkit::bench::{RawRsa, rate, summary_window};

const ACCOUNT: &str = "123456789012";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/ConnectAgent";
const ROLE_ID: &str = "AROAEXAMPLEID1234567";
const PROVIDER_ARN: &str = "arn:aws:iam::123456789012:saml-provider/Hub";
const INSTANCE: &str = "11111111-2222-3333-4444-555555555555";
const SESSION: &str = "alice@example.com";

/// The trust policy the IAM console writes for a SAML 2.0 federation role.
const TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "TrustHub",
      "Effect": "Allow",
      "Principal": {"Federated": "arn:aws:iam::123456789012:saml-provider/Hub"},
      "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
      "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}
    }
  ]
}"#;

/// A Connect agent role's permissions: the federation grant on the caller's own user, read-only
/// Connect and a recordings prefix per user, and two Deny guards every request is checked against.
const PERMISSIONS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "OnlyConnectAndIdentity",
      "Effect": "Deny",
      "NotAction": ["connect:*", "sts:GetCallerIdentity", "s3:GetObject"],
      "Resource": "*"
    },
    {
      "Sid": "NoDestructiveChanges",
      "Effect": "Deny",
      "Action": ["connect:Delete*", "connect:UpdateUserHierarchy*", "connect:UpdateUserSecurityProfiles"],
      "Resource": "*"
    },
    {
      "Sid": "ReadInstance",
      "Effect": "Allow",
      "Action": ["connect:Describe*", "connect:List*", "connect:Get*Metric*"],
      "Resource": [
        "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555",
        "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555/*"
      ]
    },
    {
      "Sid": "OwnRecordings",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::connect-recordings-123456789012/${aws:username}/*",
      "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/Connect*"}}
    },
    {
      "Sid": "Statement1",
      "Effect": "Allow",
      "Action": "connect:GetFederationToken",
      "Resource": [
        "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555/user/${aws:userid}"
      ]
    }
  ]
}"#;

/// The `SAML:` keys crossfed-cloud's `saml_keys` derives from an accepted assertion presented
/// at the sign-in endpoint (the name qualifier is base64(SHA-1(issuer + account/provider))).
fn saml_keys() -> BTreeMap<String, String> {
    [
        ("saml:aud", "https://signin.aws.amazon.com/saml"),
        ("saml:iss", "https://hub.example.com/saml/idp/connect"),
        ("saml:sub", SESSION),
        ("saml:sub_type", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"),
        ("saml:doc", "123456789012/Hub"),
        ("saml:namequalifier", "9rbmVK3HHkXbLo/QX3asMY7rQYc="),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The AssumeRoleWithSAML context, as `crossfed_cloud::sts` builds it.
fn trust_context(keys: &BTreeMap<String, String>) -> RequestContext {
    let mut context = RequestContext::new("sts:AssumeRoleWithSAML", ROLE_ARN)
        .with_principal(RequestPrincipal::federated(PROVIDER_ARN));
    for (key, value) in keys {
        context = context.with_key(key.as_str(), value.as_str());
    }
    context
}

/// The GetFederationToken context, as `crossfed_cloud::federation` builds it for the session.
fn federation_context() -> RequestContext {
    let user_id = format!("{ROLE_ID}:{SESSION}");
    let resource = format!("arn:aws:connect:us-east-1:{ACCOUNT}:instance/{INSTANCE}/user/{user_id}");
    RequestContext::new("connect:GetFederationToken", resource)
        .with_key("aws:userid", user_id.as_str())
        .with_key("aws:username", SESSION)
        .with_key("aws:PrincipalArn", ROLE_ARN)
}

fn main() {
    let trust = Policy::parse(TRUST).unwrap();
    let permissions = Policy::parse(PERMISSIONS).unwrap();
    let keys = saml_keys();
    let trust_ctx = trust_context(&keys);
    let federation_ctx = federation_context();
    // The benchmarked decisions must be the ones the product relies on.
    assert_eq!(evaluate_trust(&trust, &trust_ctx).sid(), Some("TrustHub"));
    assert_eq!(evaluate(&[&permissions], &federation_ctx).sid(), Some("Statement1"));
    let mut other_user = federation_ctx.clone();
    other_user.resource = other_user.resource.replace(SESSION, "bob@example.com");
    assert_eq!(evaluate(&[&permissions], &other_user), Decision::ImplicitDeny);

    let raw = RawRsa::new();
    let raw_sign = || raw.sign();
    let raw_verify = || raw.verify();
    let parse_trust = || {
        black_box(Policy::parse(black_box(TRUST)).unwrap());
    };
    let parse_permissions = || {
        black_box(Policy::parse(black_box(PERMISSIONS)).unwrap());
    };
    let eval_trust = || {
        black_box(evaluate_trust(black_box(&trust), black_box(&trust_ctx)));
    };
    let eval_federation = || {
        black_box(evaluate(&[black_box(&permissions)], black_box(&federation_ctx)));
    };
    // What one request costs today: crossfed-cloud parses the stored documents per request.
    let sts_request = || {
        let trust = Policy::parse(black_box(TRUST)).unwrap();
        black_box(evaluate_trust(&trust, &trust_context(black_box(&keys))));
    };
    let federation_request = || {
        let permissions = Policy::parse(black_box(PERMISSIONS)).unwrap();
        black_box(evaluate(&[&permissions], &federation_context()));
    };

    let mut c = Criterion::default().configure_from_args();
    c.bench_function("reference: raw RSA-2048 verify", |b| b.iter(raw_verify));
    c.bench_function("reference: raw RSA-2048 sign", |b| b.iter(raw_sign));
    c.bench_function("parse trust policy", |b| b.iter(parse_trust));
    c.bench_function("parse permission policy (5 statements)", |b| b.iter(parse_permissions));
    c.bench_function("evaluate_trust AssumeRoleWithSAML", |b| b.iter(eval_trust));
    c.bench_function("evaluate GetFederationToken", |b| b.iter(eval_federation));
    c.bench_function("AssumeRoleWithSAML: parse + context + evaluate_trust", |b| b.iter(sts_request));
    c.bench_function("GetFederationToken: parse + context + evaluate", |b| b.iter(federation_request));
    c.final_summary();

    // The ratios, measured back to back so machine load affects both sides alike.
    let window = summary_window();
    let verify_raw = rate(window, raw_verify);
    let sign_raw = rate(window, raw_sign);
    let rows = [
        ("parse trust policy          ", rate(window, parse_trust)),
        ("parse permission policy     ", rate(window, parse_permissions)),
        ("evaluate_trust              ", rate(window, eval_trust)),
        ("evaluate GetFederationToken ", rate(window, eval_federation)),
        ("sts: parse+context+trust    ", rate(window, sts_request)),
        ("federation: parse+ctx+eval  ", rate(window, federation_request)),
    ];
    println!("\nsummary (1 core, {} ms windows):", window.as_millis());
    println!("  raw RSA-2048 verify           {verify_raw:>10.0}/s");
    println!("  raw RSA-2048 sign             {sign_raw:>10.0}/s");
    for (what, ours) in rows {
        println!("  {what}  {ours:>10.0}/s  ratio {:.1} to verify, {:.1} to sign", ours / verify_raw, ours / sign_raw);
    }
}

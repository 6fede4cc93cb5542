//! IAM policy documents from arbitrary text: parsing never panics, and an accepted policy
//! evaluates without panicking against a request whose variables and condition keys it may name.
#![no_main]

use crossfed_iam::{Policy, RequestContext, evaluate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::parse(text) else {
        return;
    };
    let context = RequestContext::new(
        "connect:GetFederationToken",
        "arn:aws:connect:us-east-1:123456789012:instance/i-1/user/AROAEXAMPLE:alice@example.com",
    )
    .with_key("aws:userid", "AROAEXAMPLE:alice@example.com")
    .with_key("aws:SourceIp", "203.0.113.7")
    .with_key("aws:CurrentTime", "2026-11-25T10:00:00Z")
    .with_key("aws:MultiFactorAuthPresent", "true")
    .with_values("aws:TagKeys", ["team", "env"]);
    let _ = evaluate(&[&policy], &context);
});

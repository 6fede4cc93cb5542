//! SigV4 parsing and canonicalization of arbitrary requests: never panics, never verifies
//! without the secret.
#![no_main]

use crossfed_sigv4::{EMPTY_SHA256, Request, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let path = parts.next().unwrap_or("/");
    let query = parts.next().unwrap_or("");
    let authorization = parts.next().unwrap_or("");
    let extra = parts.next().unwrap_or("");
    let headers = vec![
        ("host".to_string(), "example.amazonaws.com".to_string()),
        ("x-amz-date".to_string(), "20150830T123600Z".to_string()),
        ("authorization".to_string(), authorization.to_string()),
        ("my-header".to_string(), extra.to_string()),
    ];
    let request = Request { method: "GET", path, query, headers: &headers, body_sha256: EMPTY_SHA256 };
    let _ = crossfed_sigv4::parse_authorization(authorization);
    let _ = crossfed_sigv4::canonical_request(&request, &["host".to_string(), "my-header".to_string()]);
    if verify(&request, |_| Some("secret".to_string()), "service", "us-east-1", 1_440_938_160).is_ok() {
        panic!("verified a signature the fuzzer could not have made");
    }
});

//! Full SP-side validation of arbitrary input: never panics, never accepts without a valid
//! signature by the configured key (which the fuzzer does not have).
#![no_main]

use std::sync::OnceLock;

use crossfed_saml::{Timestamp, MemoryReplayCache, SpPolicy, validate_response};
use crossfed_xmldsig::{Certificate, SigningKey};
use libfuzzer_sys::fuzz_target;

fn trusted() -> &'static [Certificate] {
    static CERTS: OnceLock<Vec<Certificate>> = OnceLock::new();
    CERTS.get_or_init(|| vec![SigningKey::generate_rsa("fuzz", crossfed_clock::Clock::system().now(), 30).expect("key").certificate().clone()])
}

fuzz_target!(|data: &[u8]| {
    let mut policy = SpPolicy::new("https://sp.example.com", "https://sp.example.com/acs", "https://idp.example.com", trusted());
    policy.allow_unsolicited = true;
    let now = Timestamp::parse("2026-01-01T00:00:00Z").expect("time");
    if validate_response(data, &policy, None, now, &MemoryReplayCache::default()).is_ok() {
        panic!("accepted a response the fuzzer could not have signed");
    }
});

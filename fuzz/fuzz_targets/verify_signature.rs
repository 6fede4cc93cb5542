//! Signature verification of every element of arbitrary documents against a fixed certificate:
//! never panics, and never accepts (the fuzzer cannot forge RSA signatures, so an acceptance
//! would mean the verifier checked the wrong bytes).
#![no_main]

use std::sync::OnceLock;

use crossfed_xmldsig::{Certificate, SigningKey, VerifyOptions, verify_enveloped};
use libfuzzer_sys::fuzz_target;

fn trusted() -> &'static [Certificate] {
    static CERTS: OnceLock<Vec<Certificate>> = OnceLock::new();
    CERTS.get_or_init(|| vec![SigningKey::generate_rsa("fuzz", crossfed_clock::Clock::system().now(), 30).expect("key").certificate().clone()])
}

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = crossfed_xml::parse(data) else { return };
    for e in doc.descendants() {
        if verify_enveloped(&doc, e.id(), trusted(), &VerifyOptions::default()).is_ok() {
            panic!("accepted a signature the fuzzer could not have made");
        }
    }
});

//! HTTP-Redirect decoding of arbitrary query strings: bounded inflation, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    if let Ok(message) = crossfed_saml::decode_redirect(&query) {
        assert!(message.xml.len() <= crossfed_saml::MAX_MESSAGE_BYTES);
        let _ = crossfed_xml::parse(&message.xml);
    }
});

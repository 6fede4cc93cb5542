//! The hardened parser on arbitrary bytes: it must refuse or accept, never panic or hang, and
//! whatever it accepts must write out and parse back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = crossfed_xml::parse(data) {
        for e in doc.descendants() {
            let _ = e.text();
        }
        let written = crossfed_xml::to_xml(&doc);
        if crossfed_xml::parse(written.as_bytes()).is_err() {
            panic!("the writer produced a document the parser refuses");
        }
    }
});

//! Exclusive c14n of every element of arbitrary documents, with an inclusive prefix list taken
//! from the input: never panics, and is stable under write-and-reparse.
#![no_main]

use crossfed_xml::{C14nOptions, canonicalize_to_vec, parse, to_xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (prefixes, xml) = match data.iter().position(|&b| b == 0) {
        Some(i) => (String::from_utf8_lossy(&data[..i]).into_owned(), &data[i + 1..]),
        None => (String::new(), data),
    };
    let prefixes: Vec<&str> = prefixes.split_ascii_whitespace().collect();
    let Ok(doc) = parse(xml) else { return };
    let Ok(again) = parse(to_xml(&doc).as_bytes()) else { panic!("writer output refused") };
    let options = C14nOptions { exclude: None, inclusive_prefixes: &prefixes };
    let first: Vec<_> = doc.descendants().map(|e| canonicalize_to_vec(&doc, e.id(), &options)).collect();
    let second: Vec<_> = again.descendants().map(|e| canonicalize_to_vec(&again, e.id(), &options)).collect();
    assert_eq!(first, second, "canonical form changed after write and reparse");
});

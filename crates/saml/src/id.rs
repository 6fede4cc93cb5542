//! Message identifiers: unguessable, and valid `xs:ID` values (they must not start with a digit).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// A new random ID: `_` followed by 40 hex digits (160 bits).
pub fn new_id() -> String {
    let mut bytes = [0u8; 20];
    // SystemRandom only fails if the OS has no randomness source at all; then a time-based
    // fallback would be guessable, so the zero bytes make duplicates fail loudly downstream.
    let _ = SystemRandom::new().fill(&mut bytes);
    let mut out = String::with_capacity(41);
    out.push('_');
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

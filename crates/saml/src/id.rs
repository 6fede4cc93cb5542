//! Message identifiers: unguessable, and valid `xs:ID` values (they must not start with a digit).

/// A new random ID: `_` followed by 40 hex digits (160 bits).
pub fn new_id() -> String {
    format!("_{}", crossfed_random::hex::<20>())
}

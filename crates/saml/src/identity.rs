//! Identity values — a NameID, an Issuer, a SessionIndex — are taken exactly as signed. SAML
//! core §1.3.1 compares strings by exact binary comparison and forbids depending on trimmed
//! whitespace, so a value with whitespace around it is refused here rather than trimmed: trimmed,
//! `" alice@example.com "` as the IdP signed it would sign in as `alice@example.com`.

/// An identity value with whitespace (space, tab, carriage return, line feed) around it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{element} {found:?} has surrounding whitespace; identity values are taken exactly as signed, so expected a value without it"
)]
pub struct SurroundingWhitespace {
    /// The element the value was read from (`NameID`, `Issuer`, …).
    pub element: &'static str,
    /// The value as the message carries it.
    pub found: String,
}

fn is_xml_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

impl SurroundingWhitespace {
    /// `value`, read from `element`, unchanged if nothing surrounds it; refused otherwise. For
    /// identity values read past validation too, such as the ARNs of an AWS Role attribute.
    pub fn check<'a>(element: &'static str, value: &'a str) -> Result<&'a str, SurroundingWhitespace> {
        if value.starts_with(is_xml_whitespace) || value.ends_with(is_xml_whitespace) {
            return Err(SurroundingWhitespace { element, found: value.to_string() });
        }
        Ok(value)
    }
}

/// [`SurroundingWhitespace::check`], as the readers in this crate call it.
pub(crate) fn exact<'a>(element: &'static str, value: &'a str) -> Result<&'a str, SurroundingWhitespace> {
    SurroundingWhitespace::check(element, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_without_surrounding_whitespace_is_kept_as_it_is() {
        assert_eq!(exact("NameID", "alice@example.com"), Ok("alice@example.com"));
        assert_eq!(exact("NameID", "Alice Example"), Ok("Alice Example"));
        assert_eq!(exact("NameID", ""), Ok(""));
    }

    #[test]
    fn whitespace_on_either_side_is_refused_with_the_value_found() {
        for found in [" alice@example.com ", "alice@example.com\n", "\talice@example.com", "\r\n", " "] {
            assert_eq!(
                exact("NameID", found),
                Err(SurroundingWhitespace { element: "NameID", found: found.to_string() })
            );
        }
        let message = exact("NameID", " alice@example.com ").unwrap_err().to_string();
        assert!(
            message.starts_with(
                "NameID \" alice@example.com \" has surrounding whitespace; identity values are taken exactly as signed"
            ),
            "{message}"
        );
    }
}

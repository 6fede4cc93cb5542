//! Attribute paths (RFC 7644 §3.10): `userName`, `name.givenName`,
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.

use crate::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, ScimError, ScimType, USER_SCHEMA};

/// A possibly schema-qualified attribute with an optional sub-attribute.
///
/// `attr` is empty only when the path names a whole schema extension
/// (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`), which PATCH and
/// `attributes=` both accept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    pub schema: Option<String>,
    pub attr: String,
    pub sub_attr: Option<String>,
}

/// Schemas whose URNs are recognised as prefixes even though their versions contain dots;
/// other URNs are split at their last colon.
const KNOWN_SCHEMAS: [&str; 3] = [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA];

impl AttrPath {
    /// An unqualified path to a top-level attribute.
    pub fn new(attr: impl Into<String>) -> Self {
        AttrPath { schema: None, attr: attr.into(), sub_attr: None }
    }

    /// An unqualified path to a sub-attribute.
    pub fn sub(attr: impl Into<String>, sub_attr: impl Into<String>) -> Self {
        AttrPath { schema: None, attr: attr.into(), sub_attr: Some(sub_attr.into()) }
    }

    /// Parses a path; errors are 400 `invalidPath`.
    pub fn parse(text: &str) -> Result<AttrPath, ScimError> {
        parse_attr_path(text).map_err(|why| {
            ScimError::bad_request(ScimType::InvalidPath, format!("invalid attribute path \"{text}\": {why}"))
        })
    }

    /// True when the path names a whole schema extension rather than one of its attributes.
    pub fn is_whole_schema(&self) -> bool {
        self.attr.is_empty()
    }
}

impl std::fmt::Display for AttrPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(s) = &self.schema {
            f.write_str(s)?;
            if !self.attr.is_empty() {
                f.write_str(":")?;
            }
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Splits `text` into schema, attribute and sub-attribute; the error says what is wrong,
/// for the caller to wrap with the right `scimType`.
pub(crate) fn parse_attr_path(text: &str) -> Result<AttrPath, String> {
    if text.is_empty() {
        return Err("the path is empty; name an attribute such as userName".to_owned());
    }
    let (schema, rest) = split_schema(text);
    if let Some(s) = &schema
        && !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '-' | '_'))
    {
        return Err(format!("schema URN \"{s}\" contains characters a URN cannot have"));
    }
    let Some(rest) = rest else {
        // The whole text was a known schema URN.
        return Ok(AttrPath { schema, attr: String::new(), sub_attr: None });
    };
    let (attr, sub) = match rest.split_once('.') {
        Some((a, s)) => (a, Some(s)),
        None => (rest, None),
    };
    check_attr_name(attr)?;
    if let Some(s) = sub {
        if s.contains('.') {
            return Err("only one level of sub-attribute is allowed (attribute.subAttribute)".to_owned());
        }
        check_attr_name(s)?;
    }
    Ok(AttrPath { schema, attr: attr.to_owned(), sub_attr: sub.map(str::to_owned) })
}

/// Returns the schema URN (if any) and the remainder; `None` remainder means the text is
/// exactly a known schema URN.
fn split_schema(text: &str) -> (Option<String>, Option<&str>) {
    for known in KNOWN_SCHEMAS {
        if text.eq_ignore_ascii_case(known) {
            return (Some(known.to_owned()), None);
        }
        if let Some(head) = text.get(..known.len())
            && head.eq_ignore_ascii_case(known)
            && let Some(rest) = text.get(known.len()..).and_then(|r| r.strip_prefix(':'))
        {
            return (Some(known.to_owned()), Some(rest));
        }
    }
    let is_urn = text.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    if is_urn && let Some((schema, rest)) = text.rsplit_once(':') {
        return (Some(schema.to_owned()), Some(rest));
    }
    (None, Some(text))
}

/// ATTRNAME = ALPHA *(nameChar). `$` is also accepted first because RFC 7643 itself names
/// sub-attributes `$ref`.
pub(crate) fn check_attr_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Err("an attribute name is empty".to_owned()),
        Some(c) if c.is_ascii_alphabetic() || c == '$' => {}
        Some(c) => return Err(format!("attribute name \"{name}\" must start with a letter, not '{c}'")),
    }
    if let Some(c) = chars.find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$'))) {
        return Err(format!("attribute name \"{name}\" contains '{c}'; names are letters, digits, '-', '_' and '$'"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn parses_plain_sub_and_urn_paths() {
        assert_eq!(AttrPath::parse("userName").unwrap(), AttrPath::new("userName"));
        assert_eq!(AttrPath::parse("name.givenName").unwrap(), AttrPath::sub("name", "givenName"));
        let p = AttrPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").unwrap();
        assert_eq!(p.schema.as_deref(), Some(ENTERPRISE_USER_SCHEMA));
        assert_eq!(p.attr, "manager");
        assert_eq!(p.sub_attr.as_deref(), Some("value"));
        // A differently cased URN is still recognised and canonicalised.
        let p = AttrPath::parse("URN:IETF:params:scim:schemas:core:2.0:user:userName").unwrap();
        assert_eq!(p.schema.as_deref(), Some(USER_SCHEMA));
        assert_eq!(p.attr, "userName");
    }

    #[test]
    fn whole_extension_and_unknown_urns() {
        let p = AttrPath::parse(ENTERPRISE_USER_SCHEMA).unwrap();
        assert!(p.is_whole_schema());
        let p = AttrPath::parse("urn:example:ext:1.0:Thing:color").unwrap();
        assert_eq!(p.schema.as_deref(), Some("urn:example:ext:1.0:Thing"));
        assert_eq!(p.attr, "color");
        assert_eq!(p.to_string(), "urn:example:ext:1.0:Thing:color");
    }

    #[test]
    fn rejects_bad_names() {
        for bad in ["", "1abc", "name.", ".name", "a.b.c", "na me", "emails[", "x:y"] {
            let e = AttrPath::parse(bad).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidPath), "{bad}");
        }
        assert!(AttrPath::parse("members.$ref").is_ok());
    }
}

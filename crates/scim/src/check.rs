//! Checking a parsed filter against a resource type's schema before it runs: every attribute it
//! names exists, value filters `[...]` sit on complex attributes, and every comparison fits the
//! attribute's type (RFC 7643 §2.3, RFC 7644 §3.4.2.2): a dateTime against an RFC 3339
//! dateTime, a boolean against `true`/`false` with `eq`/`ne` only, a number against a number,
//! a string against a string; no ordering of booleans and binaries, no substring operators on
//! numbers, no comparison of a complex attribute that has no `value`. Each refusal is a 400
//! `invalidFilter` naming the attribute, what it takes and what it was given.

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::filter::{Scope, compared, resolve_in};
use crate::schema::{AttrType, AttributeDef, ResourceType};
use crate::{AttrPath, CompareOp, Filter, ScimError, ScimType};

/// Why a comparison in a filter does not fit the attribute it names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterTypeError {
    /// The value is not of the attribute's type.
    #[error("\"{attribute}\" is a {kind} attribute, so '{op}' takes {expected}; found {found}")]
    Value { attribute: String, kind: &'static str, op: &'static str, expected: &'static str, found: String },
    /// The operator does not apply to the attribute's type.
    #[error("\"{attribute}\" is a {kind} attribute, which '{op}' does not apply to; use {allowed}")]
    Operator { attribute: String, kind: &'static str, op: &'static str, allowed: &'static str },
    /// A complex attribute without a `value` sub-attribute has nothing to compare.
    #[error(
        "\"{attribute}\" is a complex attribute with no value of its own; compare one of its sub-attributes \
         ({subs}) or filter its values with {attribute}[...]"
    )]
    Complex { attribute: String, subs: String },
}

impl From<FilterTypeError> for ScimError {
    fn from(e: FilterTypeError) -> Self {
        ScimError::bad_request(ScimType::InvalidFilter, format!("invalid filter: {e}"))
    }
}

impl Filter {
    /// Checks that every attribute the filter names exists for `rt`, that value filters sit on
    /// complex attributes and that every comparison fits its attribute's type; errors are 400
    /// `invalidFilter`.
    pub fn validate(&self, rt: &ResourceType) -> Result<(), ScimError> {
        validate_in(self, Scope::Resource(rt), rt.name)
    }

    /// [`Filter::validate`] for a value filter on the elements of `parent` (PATCH paths).
    pub(crate) fn validate_element(&self, parent: &'static AttributeDef) -> Result<(), ScimError> {
        validate_in(self, Scope::Element(parent), parent.name)
    }
}

fn unknown(scope: Scope<'_>, owner: &str, path: &AttrPath) -> ScimError {
    let what = match scope {
        Scope::Resource(_) => "an attribute",
        Scope::Element(_) => "a sub-attribute",
    };
    ScimError::bad_request(
        ScimType::InvalidFilter,
        format!("the filter names \"{path}\", which is not {what} of {owner}; see /Schemas for the names"),
    )
}

/// The name of `path` as an error shows it: inside `[...]`, with the attribute it belongs to.
fn label(scope: Scope<'_>, owner: &str, path: &AttrPath) -> String {
    match scope {
        Scope::Resource(_) => path.to_string(),
        Scope::Element(_) => format!("{owner}.{path}"),
    }
}

/// Walks the tree; it recurses only into nesting (parentheses, `not`, `[...]`), which the parser
/// bounds, and loops over the parts of `and`/`or`.
fn validate_in(f: &Filter, scope: Scope<'_>, owner: &str) -> Result<(), ScimError> {
    match f {
        Filter::Present(path) => resolve_in(scope, path).map(|_| ()).ok_or_else(|| unknown(scope, owner, path)),
        Filter::Compare { path, op, value } => {
            let r = resolve_in(scope, path).ok_or_else(|| unknown(scope, owner, path))?;
            Ok(check_comparison(&label(scope, owner, path), r.target(), *op, value)?)
        }
        Filter::And(parts) | Filter::Or(parts) => parts.iter().try_for_each(|p| validate_in(p, scope, owner)),
        Filter::Not(x) => validate_in(x, scope, owner),
        Filter::ValuePath { path, filter } => {
            let r = resolve_in(scope, path).ok_or_else(|| unknown(scope, owner, path))?;
            if r.attr.kind != AttrType::Complex || r.sub.is_some() {
                return Err(ScimError::bad_request(
                    ScimType::InvalidFilter,
                    format!("\"{path}\" is not a complex attribute, so it cannot take a value filter '[...]'"),
                ));
            }
            validate_in(filter, Scope::Element(r.attr), r.attr.name)
        }
    }
}

/// What a comparison on an attribute of `kind` takes as its value, in words.
fn expected_value(kind: AttrType) -> &'static str {
    match kind {
        AttrType::Boolean => "true or false (without quotes)",
        AttrType::Integer => "a whole number (without quotes)",
        AttrType::Decimal => "a number (without quotes)",
        AttrType::DateTime => "an RFC 3339 dateTime in double quotes, such as \"2024-05-01T12:00:00Z\"",
        AttrType::Binary => "a base64 value in double quotes",
        AttrType::String | AttrType::Reference | AttrType::Complex => "a value in double quotes",
    }
}

/// The operators an attribute of `kind` allows, or `None` when all do.
fn allowed_operators(kind: AttrType) -> Option<(&'static [CompareOp], &'static str)> {
    use CompareOp::{Eq, Ge, Gt, Le, Lt, Ne};
    match kind {
        AttrType::Boolean | AttrType::Binary => Some((&[Eq, Ne], "eq, ne or pr")),
        AttrType::Integer | AttrType::Decimal => Some((&[Eq, Ne, Gt, Ge, Lt, Le], "eq, ne, gt, ge, lt, le or pr")),
        AttrType::String | AttrType::Reference | AttrType::DateTime | AttrType::Complex => None,
    }
}

/// Whether `value` is of the type a comparison `op` on an attribute of `kind` takes.
fn value_fits(kind: AttrType, op: CompareOp, value: &Value) -> bool {
    let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    match (kind, value) {
        (AttrType::Boolean, Value::Bool(_)) => true,
        (AttrType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (AttrType::Decimal, Value::Number(_)) => true,
        // A substring of a timestamp ("2024-05") is text; an ordering or equality needs an instant.
        (AttrType::DateTime, Value::String(_)) if substring => true,
        (AttrType::DateTime, Value::String(s)) => OffsetDateTime::parse(s, &Rfc3339).is_ok(),
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(_)) => true,
        _ => false,
    }
}

/// Checks that `attribute` `op` `value` fits the attribute's definition `def`.
pub(crate) fn check_comparison(
    attribute: &str,
    def: &'static AttributeDef,
    op: CompareOp,
    value: &Value,
) -> Result<(), FilterTypeError> {
    let def = compared(def);
    if def.kind == AttrType::Complex {
        let subs: Vec<&str> = def.sub_attributes.iter().map(|s| s.name).collect();
        return Err(FilterTypeError::Complex { attribute: attribute.to_owned(), subs: subs.join(", ") });
    }
    let kind = def.kind.as_str();
    if let Some((ops, allowed)) = allowed_operators(def.kind)
        && !ops.contains(&op)
    {
        return Err(FilterTypeError::Operator { attribute: attribute.to_owned(), kind, op: op.as_str(), allowed });
    }
    // `eq null` and `ne null` test absence and presence, whatever the type.
    let absence = value.is_null() && matches!(op, CompareOp::Eq | CompareOp::Ne);
    if absence || value_fits(def.kind, op, value) {
        return Ok(());
    }
    Err(FilterTypeError::Value {
        attribute: attribute.to_owned(),
        kind,
        op: op.as_str(),
        expected: expected_value(def.kind),
        found: value.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::{GROUP, USER, parse_filter};

    fn refusal(text: &str) -> String {
        let e = parse_filter(text).unwrap().validate(&USER).unwrap_err();
        assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidFilter)), "{text}");
        e.detail
    }

    #[test]
    fn values_must_fit_the_attribute_type() {
        let d = refusal(r#"meta.lastModified gt "not-a-date""#);
        assert_eq!(
            d,
            "invalid filter: \"meta.lastModified\" is a dateTime attribute, so 'gt' takes an RFC 3339 dateTime \
             in double quotes, such as \"2024-05-01T12:00:00Z\"; found \"not-a-date\""
        );
        let d = refusal(r#"active eq "yes""#);
        assert_eq!(
            d,
            "invalid filter: \"active\" is a boolean attribute, so 'eq' takes true or false (without quotes); \
             found \"yes\""
        );
        assert!(refusal(r#"active eq "true""#).contains(r#"found "true""#));
        assert!(
            refusal("userName eq 5")
                .contains("\"userName\" is a string attribute, so 'eq' takes a value in double quotes; found 5")
        );
        assert!(refusal("displayName sw true").contains("found true"));
        assert!(refusal(r#"emails[primary eq "True"]"#).contains("\"emails.primary\" is a boolean attribute"));
        assert!(refusal("emails co 3").contains("\"emails\" is a string attribute"));
    }

    #[test]
    fn operators_must_apply_to_the_attribute_type() {
        let d = refusal("active gt true");
        assert_eq!(
            d,
            "invalid filter: \"active\" is a boolean attribute, which 'gt' does not apply to; use eq, ne or pr"
        );
        assert!(refusal(r#"active co "t""#).contains("'co' does not apply"));
        assert!(refusal(r#"name eq "Barbara""#).contains("complex attribute with no value of its own"));
        assert!(refusal("name gt 1").contains("givenName"));
        assert!(refusal("title gt null").contains("found null"));
    }

    #[test]
    fn fitting_comparisons_pass() {
        for text in [
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified sw "2011-05""#,
            "active eq true and active ne FALSE",
            r#"userName gt "a" and title eq null and title ne null"#,
            r#"emails[type eq "work" and primary eq true] or emails co "example.com""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915""#,
            "not (active eq false)",
        ] {
            parse_filter(text).unwrap().validate(&USER).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
        parse_filter(r#"members[value eq "x"] and displayName co "a""#).unwrap().validate(&GROUP).unwrap();
    }
}

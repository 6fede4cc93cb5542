//! The `Condition` element: operators, keys, values and how they combine.
//!
//! IAM's rules, applied here:
//! - all operator blocks, and all keys within a block, must hold (AND);
//! - the values listed for one key are alternatives (OR); for a negated
//!   operator the request value must match none of them (NOR);
//! - a missing key makes a condition false, except that negated operators are
//!   then true, `...IfExists` is then true, `ForAllValues:` is then true and
//!   `Null` tests for exactly that;
//! - key names are case-insensitive; values are case-sensitive unless the
//!   operator ignores case.

mod ip;
pub use ip::Cidr;
mod operator;
mod scalar;
mod values;

pub use operator::{Operator, OperatorKind, SetQualifier};

use crate::context::{ContextKeys, ContextValue};
use crate::error::PolicyError;
use crate::json::Json;
use values::{RawValue, Values};

/// One condition: an operator applied to one context key with one or more
/// policy values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    operator: Operator,
    key: String,
    raw_values: Vec<String>,
    values: Values,
}

impl Condition {
    /// The operator, such as `ForAnyValue:StringLike`.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The context key as written in the policy.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The policy values as written (numbers and booleans as text).
    pub fn values(&self) -> &[String] {
        &self.raw_values
    }

    /// Whether the condition holds for the request's context keys.
    pub fn is_satisfied(&self, keys: &ContextKeys) -> bool {
        // An empty multi-valued key is treated exactly like a missing one.
        let present = keys.get(&self.key).filter(|v| !v.is_empty());

        if let Some(expect_absent) = self.values.null_expectations() {
            let absent = present.is_none();
            return expect_absent.contains(&absent);
        }

        let negated = self.operator.kind.is_negated();
        let Some(request_values) = present else {
            if self.operator.if_exists {
                return true;
            }
            return match self.operator.qualifier {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => negated,
            };
        };

        // `passes` applies the operator to one request value: the positive
        // test, inverted for a negated operator (so "matches none of the
        // policy values").
        let passes = |v: &ContextValue| self.values.any_match(v, keys) != negated;
        match self.operator.qualifier {
            Some(SetQualifier::ForAllValues) => request_values.iter().all(passes),
            Some(SetQualifier::ForAnyValue) => request_values.iter().any(passes),
            // Without a qualifier the key is compared as a whole: a positive
            // operator holds if any request value matches, a negated one if
            // none does.
            None => request_values.iter().any(|v| self.values.any_match(v, keys)) != negated,
        }
    }
}

/// Parses a statement's `Condition` object. `substitute` enables policy
/// variables (policy language `2012-10-17`).
pub(crate) fn parse_block(json: &Json, path: &str, substitute: bool) -> Result<Vec<Condition>, PolicyError> {
    let Json::Object(operators) = json else {
        return Err(PolicyError::WrongType {
            path: path.to_owned(),
            expected: "an object mapping condition operators to {key: value} objects",
            found: json.kind(),
        });
    };
    if operators.is_empty() {
        return Err(PolicyError::Empty { path: path.to_owned(), what: "condition operator (or remove \"Condition\")" });
    }
    let mut conditions = Vec::new();
    for (name, block) in operators {
        let op_path = format!("{path}.{name}");
        let operator = Operator::parse(name, &op_path)?;
        let Json::Object(entries) = block else {
            return Err(PolicyError::WrongType {
                path: op_path,
                expected: "an object mapping condition keys to values",
                found: block.kind(),
            });
        };
        if entries.is_empty() {
            return Err(PolicyError::Empty { path: op_path, what: "condition key" });
        }
        for (key, value) in entries {
            let key_path = format!("{op_path}.{key}");
            check_key(key, &key_path)?;
            let raw = raw_values(value, &key_path)?;
            let values = Values::compile(operator.kind, name, &raw, substitute)?;
            conditions.push(Condition {
                operator,
                key: key.clone(),
                raw_values: raw.into_iter().map(|r| r.text).collect(),
                values,
            });
        }
    }
    Ok(conditions)
}

fn check_key(key: &str, path: &str) -> Result<(), PolicyError> {
    let invalid = |reason| PolicyError::InvalidConditionKey { path: path.to_owned(), key: key.to_owned(), reason };
    if key.chars().any(char::is_whitespace) {
        return Err(invalid("condition keys contain no spaces"));
    }
    match key.split_once(':') {
        Some((service, name)) if !service.is_empty() && !name.is_empty() => Ok(()),
        _ => Err(invalid("write condition keys as service:key, such as aws:SourceIp or saml:aud")),
    }
}

/// A condition value: a string, number or boolean, or a non-empty array of
/// them. Numbers and booleans are kept as their JSON text, since IAM accepts
/// `10` and `"10"` alike.
fn raw_values(json: &Json, path: &str) -> Result<Vec<RawValue>, PolicyError> {
    let scalar = |item: &Json, path: String| -> Result<RawValue, PolicyError> {
        let text = match item {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            Json::Bool(b) => b.to_string(),
            other => {
                return Err(PolicyError::WrongType {
                    path,
                    expected: "a string, number or boolean, or an array of them",
                    found: other.kind(),
                });
            }
        };
        Ok(RawValue { text, path })
    };
    match json {
        Json::Array(items) if items.is_empty() => Err(PolicyError::Empty { path: path.to_owned(), what: "value" }),
        Json::Array(items) => items.iter().enumerate().map(|(i, item)| scalar(item, format!("{path}[{i}]"))).collect(),
        other => Ok(vec![scalar(other, path.to_owned())?]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    /// Parses `{"Op": {"key": values}}` and returns its single condition.
    fn condition(op: &str, values: &str) -> Condition {
        let text = format!(r#"{{"{op}": {{"x:key": {values}}}}}"#);
        let mut block = parse_block(&json::parse(&text).unwrap(), "Condition", true).unwrap();
        assert_eq!(block.len(), 1);
        block.remove(0)
    }

    fn keys(values: &[&str]) -> ContextKeys {
        let mut keys = ContextKeys::new();
        keys.insert_multi("X:Key", values.iter().copied());
        keys
    }

    fn absent() -> ContextKeys {
        ContextKeys::new()
    }

    #[test]
    fn values_are_ored_and_negation_is_nor() {
        let eq = condition("StringEquals", r#"["a", "b"]"#);
        assert!(eq.is_satisfied(&keys(&["b"])));
        assert!(!eq.is_satisfied(&keys(&["c"])));
        let ne = condition("StringNotEquals", r#"["a", "b"]"#);
        assert!(!ne.is_satisfied(&keys(&["b"])));
        assert!(ne.is_satisfied(&keys(&["c"])));
    }

    #[test]
    fn missing_key_rules() {
        assert!(!condition("StringEquals", r#""a""#).is_satisfied(&absent()));
        assert!(condition("StringNotEquals", r#""a""#).is_satisfied(&absent()));
        assert!(condition("StringEqualsIfExists", r#""a""#).is_satisfied(&absent()));
        assert!(condition("StringNotEqualsIfExists", r#""a""#).is_satisfied(&absent()));
        assert!(condition("ForAllValues:StringEquals", r#""a""#).is_satisfied(&absent()));
        assert!(!condition("ForAnyValue:StringEquals", r#""a""#).is_satisfied(&absent()));
        assert!(condition("ForAnyValue:StringEqualsIfExists", r#""a""#).is_satisfied(&absent()));
        assert!(!condition("ForAnyValue:StringNotEquals", r#""a""#).is_satisfied(&absent()));
        // An empty list counts as absent.
        assert!(condition("ForAllValues:StringEquals", r#""a""#).is_satisfied(&keys(&[])));
        assert!(!condition("ForAnyValue:StringEquals", r#""a""#).is_satisfied(&keys(&[])));
        assert!(condition("Null", r#""true""#).is_satisfied(&keys(&[])));
    }

    #[test]
    fn set_qualifiers() {
        let all = condition("ForAllValues:StringEquals", r#"["a", "b"]"#);
        assert!(all.is_satisfied(&keys(&["a", "b", "a"])));
        assert!(!all.is_satisfied(&keys(&["a", "c"])));
        let any = condition("ForAnyValue:StringEquals", r#"["a", "b"]"#);
        assert!(any.is_satisfied(&keys(&["c", "b"])));
        assert!(!any.is_satisfied(&keys(&["c", "d"])));
        // Negated: every request value must match none of the policy values.
        let all_not = condition("ForAllValues:StringNotEquals", r#"["a", "b"]"#);
        assert!(all_not.is_satisfied(&keys(&["c", "d"])));
        assert!(!all_not.is_satisfied(&keys(&["c", "a"])));
        let any_not = condition("ForAnyValue:StringNotEquals", r#"["a", "b"]"#);
        assert!(any_not.is_satisfied(&keys(&["a", "z"])));
        assert!(!any_not.is_satisfied(&keys(&["a", "b"])));
        // Unqualified on a multi-valued key: any value matching counts.
        assert!(condition("StringEquals", r#""a""#).is_satisfied(&keys(&["z", "a"])));
        assert!(!condition("StringNotEquals", r#""a""#).is_satisfied(&keys(&["z", "a"])));
    }

    #[test]
    fn null_operator() {
        let must_be_absent = condition("Null", "true");
        assert!(must_be_absent.is_satisfied(&absent()));
        assert!(!must_be_absent.is_satisfied(&keys(&["v"])));
        let must_exist = condition("Null", r#""false""#);
        assert!(!must_exist.is_satisfied(&absent()));
        assert!(must_exist.is_satisfied(&keys(&["v"])));
    }

    #[test]
    fn string_operator_variants() {
        assert!(condition("StringEqualsIgnoreCase", r#""Admin""#).is_satisfied(&keys(&["aDMIN"])));
        assert!(!condition("StringNotEqualsIgnoreCase", r#""Admin""#).is_satisfied(&keys(&["ADMIN"])));
        assert!(!condition("StringEquals", r#""a*""#).is_satisfied(&keys(&["abc"])));
        assert!(condition("StringEquals", r#""a*""#).is_satisfied(&keys(&["a*"])));
        assert!(condition("StringLike", r#""a?c*""#).is_satisfied(&keys(&["abcde"])));
        assert!(!condition("StringNotLike", r#""a*""#).is_satisfied(&keys(&["abc"])));
        assert!(condition("StringNotLike", r#""a*""#).is_satisfied(&keys(&["xbc"])));
    }

    #[test]
    fn variables_in_values() {
        let c = condition("StringLike", r#""home/${aws:username}/*""#);
        let mut k = keys(&["home/bob/x"]);
        assert!(!c.is_satisfied(&k), "unresolved variable matches nothing");
        k.insert("aws:username", "bob");
        assert!(c.is_satisfied(&k));
        // A value with an unresolved variable cannot make a negated operator false.
        let c = condition("StringNotEquals", r#""${aws:username}""#);
        assert!(c.is_satisfied(&keys(&["bob"])));
        // Variables are not substituted for numeric operators.
        let text = r#"{"NumericEquals": {"x:key": "${aws:n}"}}"#;
        assert!(parse_block(&json::parse(text).unwrap(), "C", true).is_err());
        // Bool supports variables.
        let c = condition("Bool", r#""${x:flag}""#);
        let mut k = keys(&["true"]);
        k.insert("x:flag", true);
        assert!(c.is_satisfied(&k));
    }

    #[test]
    fn numeric_date_bool_ip_types() {
        let mut k = ContextKeys::new();
        k.insert("x:key", 5);
        assert!(condition("NumericLessThan", "10").is_satisfied(&k));
        assert!(condition("NumericEquals", r#""5.0""#).is_satisfied(&k));
        assert!(!condition("NumericGreaterThanEquals", "6").is_satisfied(&k));
        assert!(condition("NumericNotEquals", "6").is_satisfied(&k));
        // A value of the wrong type never matches: positive false, negated true.
        assert!(!condition("NumericEquals", "5").is_satisfied(&keys(&["five"])));
        assert!(condition("NumericNotEquals", "5").is_satisfied(&keys(&["five"])));

        assert!(condition("DateLessThanEquals", r#""2020-01-01""#).is_satisfied(&keys(&["2019-12-31T23:59:59Z"])));
        assert!(condition("DateEquals", "1577836800").is_satisfied(&keys(&["2020-01-01T00:00:00Z"])));
        assert!(condition("DateNotEquals", "1577836800").is_satisfied(&keys(&["2020-01-02"])));
        assert!(condition("DateGreaterThan", r#""2020-01-01T00:00:00Z""#).is_satisfied(&{
            let mut k = ContextKeys::new();
            k.insert("x:key", 1_600_000_000);
            k
        }));

        assert!(condition("Bool", "true").is_satisfied(&keys(&["TRUE"])));
        assert!(!condition("Bool", "true").is_satisfied(&keys(&["false"])));

        assert!(condition("IpAddress", r#"["10.0.0.0/8", "2001:db8::/32"]"#).is_satisfied(&keys(&["2001:db8::9"])));
        assert!(condition("NotIpAddress", r#""10.0.0.0/8""#).is_satisfied(&keys(&["192.0.2.1"])));
        assert!(!condition("IpAddress", r#""10.0.0.0/8""#).is_satisfied(&keys(&["not-an-ip"])));
    }

    #[test]
    fn arn_operators() {
        let like = condition("ArnLike", r#""arn:aws:iam::*:role/${aws:username}""#);
        let mut k = keys(&["arn:aws:iam::123456789012:role/bob"]);
        k.insert("aws:username", "bob");
        assert!(like.is_satisfied(&k));
        k.insert("aws:username", "*");
        assert!(!like.is_satisfied(&k), "substituted * must stay literal");
        assert!(!like.is_satisfied(&keys(&["arn:aws:iam::123456789012"])));
        let equals = condition("ArnEquals", r#""arn:aws:sns:*:123456789012:topic""#);
        assert!(equals.is_satisfied(&keys(&["arn:aws:sns:us-east-1:123456789012:topic"])));
        assert!(
            condition("ArnNotLike", r#""arn:aws:sns:*:*:topic""#)
                .is_satisfied(&keys(&["arn:aws:sqs:us-east-1:1:topic"]))
        );
        // A non-ARN-shaped value such as "*" matches the whole string.
        assert!(condition("ArnLike", r#""*""#).is_satisfied(&keys(&["arn:aws:s3:::b"])));
    }

    #[test]
    fn accessors() {
        let c = condition("ForAnyValue:NumericLessThanIfExists", "[1, 2.5]");
        assert_eq!(c.key(), "x:key");
        assert_eq!(c.values(), ["1", "2.5"]);
        assert_eq!(c.operator().to_string(), "ForAnyValue:NumericLessThanIfExists");
    }
}

//! Condition operator names: the base operator, the `IfExists` suffix and the
//! `ForAllValues:` / `ForAnyValue:` set qualifiers.

use std::cmp::Ordering;
use std::fmt;

use crate::error::PolicyError;
use crate::suggest;

/// A base condition operator, as listed in the IAM documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the variant names are the documented operator names
pub enum OperatorKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// How a request value is compared with a policy value (request OP policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    /// Whether `request.cmp(policy)` satisfies the comparison.
    pub(crate) fn holds(self, ordering: Option<Ordering>) -> bool {
        matches!(
            (self, ordering),
            (Comparison::Equal, Some(Ordering::Equal))
                | (Comparison::Less, Some(Ordering::Less))
                | (Comparison::LessOrEqual, Some(Ordering::Less | Ordering::Equal))
                | (Comparison::Greater, Some(Ordering::Greater))
                | (Comparison::GreaterOrEqual, Some(Ordering::Greater | Ordering::Equal))
        )
    }
}

/// The data type an operator works on, with the *positive* form of its test
/// (negated operators are evaluated as "not the positive test").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    String { ignore_case: bool, wildcards: bool },
    Numeric(Comparison),
    Date(Comparison),
    Bool,
    Binary,
    IpAddress,
    Arn,
    Null,
}

impl OperatorKind {
    /// Every base operator.
    pub const ALL: [OperatorKind; 27] = {
        use OperatorKind::*;
        [
            StringEquals,
            StringNotEquals,
            StringEqualsIgnoreCase,
            StringNotEqualsIgnoreCase,
            StringLike,
            StringNotLike,
            NumericEquals,
            NumericNotEquals,
            NumericLessThan,
            NumericLessThanEquals,
            NumericGreaterThan,
            NumericGreaterThanEquals,
            DateEquals,
            DateNotEquals,
            DateLessThan,
            DateLessThanEquals,
            DateGreaterThan,
            DateGreaterThanEquals,
            Bool,
            BinaryEquals,
            IpAddress,
            NotIpAddress,
            ArnEquals,
            ArnLike,
            ArnNotEquals,
            ArnNotLike,
            Null,
        ]
    };

    /// The operator's name as written in policies.
    pub fn name(self) -> &'static str {
        use OperatorKind::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            BinaryEquals => "BinaryEquals",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
            ArnEquals => "ArnEquals",
            ArnLike => "ArnLike",
            ArnNotEquals => "ArnNotEquals",
            ArnNotLike => "ArnNotLike",
            Null => "Null",
        }
    }

    /// The operator with this exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether this is a negated matching operator (`StringNotEquals`,
    /// `NotIpAddress`, `ArnNotLike`, ...). A negated operator is true when
    /// the request value matches *none* of the policy values, and true when
    /// the key is missing.
    pub fn is_negated(self) -> bool {
        use OperatorKind::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// Whether policy variables are substituted in this operator's values.
    /// IAM documents them for the string, ARN and Bool operators only.
    pub fn supports_variables(self) -> bool {
        matches!(self.family(), Family::String { .. } | Family::Arn | Family::Bool)
    }

    pub(crate) fn family(self) -> Family {
        use OperatorKind::*;
        let string = |ignore_case, wildcards| Family::String { ignore_case, wildcards };
        match self {
            StringEquals | StringNotEquals => string(false, false),
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => string(true, false),
            StringLike | StringNotLike => string(false, true),
            NumericEquals | NumericNotEquals => Family::Numeric(Comparison::Equal),
            NumericLessThan => Family::Numeric(Comparison::Less),
            NumericLessThanEquals => Family::Numeric(Comparison::LessOrEqual),
            NumericGreaterThan => Family::Numeric(Comparison::Greater),
            NumericGreaterThanEquals => Family::Numeric(Comparison::GreaterOrEqual),
            DateEquals | DateNotEquals => Family::Date(Comparison::Equal),
            DateLessThan => Family::Date(Comparison::Less),
            DateLessThanEquals => Family::Date(Comparison::LessOrEqual),
            DateGreaterThan => Family::Date(Comparison::Greater),
            DateGreaterThanEquals => Family::Date(Comparison::GreaterOrEqual),
            Bool => Family::Bool,
            BinaryEquals => Family::Binary,
            IpAddress | NotIpAddress => Family::IpAddress,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Family::Arn,
            Null => Family::Null,
        }
    }
}

/// A set qualifier for multi-valued context keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    /// `ForAllValues:` — every request value must pass; true for a missing or
    /// empty key.
    ForAllValues,
    /// `ForAnyValue:` — at least one request value must pass; false for a
    /// missing or empty key.
    ForAnyValue,
}

impl SetQualifier {
    /// The prefix as written in policies, including the colon.
    pub fn prefix(self) -> &'static str {
        match self {
            SetQualifier::ForAllValues => "ForAllValues:",
            SetQualifier::ForAnyValue => "ForAnyValue:",
        }
    }
}

/// A complete condition operator such as `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    /// The `ForAllValues:` / `ForAnyValue:` prefix, if any.
    pub qualifier: Option<SetQualifier>,
    /// The base operator.
    pub kind: OperatorKind,
    /// Whether the `IfExists` suffix is present: a missing key then makes the
    /// condition true.
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name; `path` locates it for error messages.
    pub(crate) fn parse(name: &str, path: &str) -> Result<Self, PolicyError> {
        let (qualifier, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else {
            (None, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let Some(kind) = OperatorKind::from_name(base) else {
            return Err(PolicyError::UnknownOperator {
                path: path.to_owned(),
                operator: name.to_owned(),
                suggestion: suggest_operator(name),
            });
        };
        let invalid =
            |reason| PolicyError::InvalidOperator { path: path.to_owned(), operator: name.to_owned(), reason };
        if kind == OperatorKind::Null && if_exists {
            return Err(invalid(
                "Null already tests whether the key exists, so it cannot take the IfExists suffix; use \"Null\"",
            ));
        }
        if kind == OperatorKind::Null && qualifier.is_some() {
            return Err(invalid(
                "Null only tests whether the key exists, so it cannot take ForAllValues:/ForAnyValue:; use \"Null\"",
            ));
        }
        Ok(Self { qualifier, kind, if_exists })
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(q) = self.qualifier {
            f.write_str(q.prefix())?;
        }
        f.write_str(self.kind.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// The valid operator name closest to a misspelt one.
fn suggest_operator(name: &str) -> Option<String> {
    let mut candidates = Vec::new();
    for qualifier in [None, Some(SetQualifier::ForAllValues), Some(SetQualifier::ForAnyValue)] {
        for kind in OperatorKind::ALL {
            for if_exists in [false, true] {
                if kind == OperatorKind::Null && (if_exists || qualifier.is_some()) {
                    continue;
                }
                candidates.push(Operator { qualifier, kind, if_exists }.to_string());
            }
        }
    }
    suggest::closest(name, candidates.iter().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_form() {
        let op = Operator::parse("ForAnyValue:StringLikeIfExists", "p").unwrap();
        assert_eq!(op.qualifier, Some(SetQualifier::ForAnyValue));
        assert_eq!(op.kind, OperatorKind::StringLike);
        assert!(op.if_exists);
        assert_eq!(op.to_string(), "ForAnyValue:StringLikeIfExists");
        for kind in OperatorKind::ALL {
            assert_eq!(Operator::parse(kind.name(), "p").unwrap().kind, kind);
            if kind != OperatorKind::Null {
                let name = format!("ForAllValues:{}IfExists", kind.name());
                assert_eq!(Operator::parse(&name, "p").unwrap().to_string(), name);
            }
        }
    }

    #[test]
    fn unknown_operator_names_path_and_suggests() {
        let err = Operator::parse("StringEqualz", "Statement[1].Condition.StringEqualz").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Statement[1].Condition.StringEqualz: unknown condition operator \"StringEqualz\" (did you mean \"StringEquals\"?)"
        );
        let err = Operator::parse("stringlikeifexists", "p").unwrap_err();
        assert!(err.to_string().contains("did you mean \"StringLikeIfExists\""), "{err}");
        let err = Operator::parse("Totally", "p").unwrap_err();
        assert!(!err.to_string().contains("did you mean"), "{err}");
    }

    #[test]
    fn null_takes_no_suffix_or_qualifier() {
        let err = Operator::parse("NullIfExists", "p").unwrap_err();
        assert!(err.to_string().contains("cannot take the IfExists suffix"), "{err}");
        assert!(Operator::parse("ForAnyValue:Null", "p").is_err());
    }

    #[test]
    fn negation_and_variables() {
        assert!(OperatorKind::StringNotLike.is_negated());
        assert!(OperatorKind::NotIpAddress.is_negated());
        assert!(!OperatorKind::IpAddress.is_negated());
        assert!(OperatorKind::ArnLike.supports_variables());
        assert!(!OperatorKind::NumericEquals.supports_variables());
    }

    #[test]
    fn comparisons() {
        assert!(Comparison::LessOrEqual.holds(Some(Ordering::Equal)));
        assert!(!Comparison::Less.holds(Some(Ordering::Equal)));
        assert!(!Comparison::Equal.holds(None));
    }
}

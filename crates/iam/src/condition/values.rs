//! Policy-side condition values, compiled once per operator type, and the
//! positive test of one request value against them.

use std::net::IpAddr;

use super::ip::Cidr;
use super::operator::{Comparison, Family, OperatorKind};
use super::scalar::{decode_base64, instant_from_seconds, parse_bool, parse_instant, parse_number};
use crate::context::{ContextKeys, ContextValue};
use crate::error::PolicyError;
use crate::variables::Template;

/// An `ArnLike` value: matched per ARN component, or (when the value is not
/// ARN-shaped, such as `*`) against the whole request string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ArnPattern {
    Components(Vec<Template>),
    Whole(Template),
}

impl ArnPattern {
    fn matches(&self, value: &str, keys: &ContextKeys) -> bool {
        match self {
            ArnPattern::Whole(t) => t.resolve(keys, true).is_some_and(|p| p.matches(value)),
            ArnPattern::Components(templates) => {
                // Components are matched separately, so a `*` never reaches
                // across a colon into the next component.
                let parts: Vec<&str> = value.splitn(templates.len(), ':').collect();
                parts.len() == templates.len()
                    && templates
                        .iter()
                        .zip(parts)
                        .all(|(t, part)| t.resolve(keys, true).is_some_and(|p| p.matches(part)))
            }
        }
    }
}

/// The values listed for one key under one operator, ready to compare.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Values {
    Strings {
        templates: Vec<Template>,
        ignore_case: bool,
        wildcards: bool,
    },
    Numbers {
        numbers: Vec<f64>,
        comparison: Comparison,
    },
    Dates {
        instants: Vec<i128>,
        comparison: Comparison,
    },
    Bools(Vec<Template>),
    Binary(Vec<Vec<u8>>),
    Ips(Vec<Cidr>),
    Arns(Vec<ArnPattern>),
    /// `Null`: `true` means "the key must be absent".
    Nulls(Vec<bool>),
}

/// One raw value and where it sits in the document.
pub(crate) struct RawValue {
    pub(crate) text: String,
    pub(crate) path: String,
}

impl Values {
    /// Compiles the raw values for `kind`, rejecting any that cannot be read
    /// as the operator's type. `substitute` enables policy variables.
    pub(crate) fn compile(
        kind: OperatorKind,
        operator: &str,
        raw: &[RawValue],
        substitute: bool,
    ) -> Result<Self, PolicyError> {
        let substitute = substitute && kind.supports_variables();
        let invalid = |value: &RawValue, reason: String| PolicyError::InvalidConditionValue {
            path: value.path.clone(),
            operator: operator.to_owned(),
            value: value.text.clone(),
            reason,
        };
        let template = |value: &RawValue| -> Result<Template, PolicyError> {
            crate::variables::compile(&value.text, substitute, &value.path)
        };
        Ok(match kind.family() {
            Family::String { ignore_case, wildcards } => Values::Strings {
                templates: raw.iter().map(template).collect::<Result<_, _>>()?,
                ignore_case,
                wildcards,
            },
            Family::Numeric(comparison) => Values::Numbers {
                numbers: raw
                    .iter()
                    .map(|v| {
                        parse_number(&v.text)
                            .ok_or_else(|| invalid(v, "expected a number such as 10 or 2.5".into()))
                    })
                    .collect::<Result<_, _>>()?,
                comparison,
            },
            Family::Date(comparison) => Values::Dates {
                instants: raw
                    .iter()
                    .map(|v| {
                        parse_instant(&v.text).ok_or_else(|| {
                            invalid(
                                v,
                                "expected an ISO 8601 date such as 2020-01-01T00:00:00Z or epoch seconds such as 1577836800".into(),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
                comparison,
            },
            Family::Bool => Values::Bools(
                raw.iter()
                    .map(|v| {
                        let t = template(v)?;
                        if !t.has_variables() && parse_bool(&v.text).is_none() {
                            return Err(invalid(v, "expected \"true\" or \"false\"".into()));
                        }
                        Ok(t)
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Family::Binary => Values::Binary(
                raw.iter()
                    .map(|v| {
                        decode_base64(&v.text)
                            .ok_or_else(|| invalid(v, "expected base64-encoded bytes".into()))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Family::IpAddress => Values::Ips(
                raw.iter()
                    .map(|v| {
                        Cidr::parse(&v.text).map_err(|reason| {
                            invalid(v, format!("{reason}; expected CIDR such as 203.0.113.0/24 or 2001:DB8::/32"))
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Family::Arn => Values::Arns(
                raw.iter()
                    .map(|v| {
                        let t = template(v)?;
                        Ok(match t.split_arn() {
                            Some(components) => ArnPattern::Components(components),
                            None => ArnPattern::Whole(t),
                        })
                    })
                    .collect::<Result<_, PolicyError>>()?,
            ),
            Family::Null => Values::Nulls(
                raw.iter()
                    .map(|v| {
                        parse_bool(&v.text).ok_or_else(|| {
                            invalid(
                                v,
                                "expected \"true\" (key must be absent) or \"false\" (key must be present)".into(),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    /// For `Null`: the listed expectations (`true` = key must be absent).
    pub(crate) fn null_expectations(&self) -> Option<&[bool]> {
        match self {
            Values::Nulls(v) => Some(v),
            _ => None,
        }
    }

    /// The positive test: does `value` match at least one policy value?
    ///
    /// A request value that cannot be read as the operator's type (a
    /// non-numeric string for `NumericEquals`) matches nothing.
    pub(crate) fn any_match(&self, value: &ContextValue, keys: &ContextKeys) -> bool {
        match self {
            Values::Strings { templates, ignore_case, wildcards } => {
                let text = value.to_text();
                templates.iter().any(|t| {
                    t.resolve(keys, *wildcards)
                        .is_some_and(|p| if *ignore_case { p.matches_ignore_case(&text) } else { p.matches(&text) })
                })
            }
            Values::Numbers { numbers, comparison } => {
                number_of(value).is_some_and(|x| numbers.iter().any(|n| comparison.holds(x.partial_cmp(n))))
            }
            Values::Dates { instants, comparison } => {
                instant_of(value).is_some_and(|x| instants.iter().any(|d| comparison.holds(Some(x.cmp(d)))))
            }
            Values::Bools(templates) => bool_of(value).is_some_and(|b| {
                templates.iter().any(|t| t.resolve_text(keys).and_then(|s| parse_bool(&s)) == Some(b))
            }),
            Values::Binary(expected) => decode_base64(&value.to_text()).is_some_and(|bytes| expected.contains(&bytes)),
            Values::Ips(blocks) => ip_of(value).is_some_and(|ip| blocks.iter().any(|b| b.contains(ip))),
            Values::Arns(patterns) => {
                let text = value.to_text();
                patterns.iter().any(|p| p.matches(&text, keys))
            }
            Values::Nulls(_) => false,
        }
    }
}

fn number_of(value: &ContextValue) -> Option<f64> {
    match value {
        ContextValue::Number(n) => Some(*n).filter(|n| n.is_finite()),
        ContextValue::String(s) => parse_number(s),
        ContextValue::Bool(_) => None,
    }
}

fn instant_of(value: &ContextValue) -> Option<i128> {
    match value {
        ContextValue::Number(n) => instant_from_seconds(*n),
        ContextValue::String(s) => parse_instant(s),
        ContextValue::Bool(_) => None,
    }
}

fn bool_of(value: &ContextValue) -> Option<bool> {
    match value {
        ContextValue::Bool(b) => Some(*b),
        ContextValue::String(s) => parse_bool(s),
        ContextValue::Number(_) => None,
    }
}

fn ip_of(value: &ContextValue) -> Option<IpAddr> {
    match value {
        ContextValue::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

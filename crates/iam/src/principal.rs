//! The `Principal` / `NotPrincipal` element of resource-based and trust
//! policies.

use crate::arn::{Arn, is_account_id};
use crate::context::{PrincipalType, RequestPrincipal};
use crate::error::PolicyError;
use crate::json::Json;
use crate::suggest;

/// The principals a statement names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"*"`: everyone, including anonymous callers.
    Any,
    /// An object listing principals by type.
    Listed(PrincipalSet),
}

/// Principals listed by type, as in
/// `{"AWS": [...], "Federated": "...", "Service": "...", "CanonicalUser": "..."}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalSet {
    /// Account IDs, account root ARNs, user/role/session ARNs, or `*`.
    pub aws: Vec<String>,
    /// SAML/OIDC provider ARNs or web identity provider names.
    pub federated: Vec<String>,
    /// Service principals such as `ec2.amazonaws.com`.
    pub service: Vec<String>,
    /// Amazon S3 canonical user IDs.
    pub canonical_user: Vec<String>,
}

/// Validates one entry of a principal list.
type Check = fn(&str) -> Result<(), String>;

const KEYS: [&str; 4] = ["AWS", "Federated", "Service", "CanonicalUser"];

impl Principal {
    /// Whether the element names `who` (`None` is an anonymous caller).
    ///
    /// - `"*"` and `{"AWS": "*"}` (documented as equivalent) match everyone.
    /// - An account ID, or the account's `arn:...:iam::ACCOUNT:root`, matches
    ///   every AWS principal in that account: the account delegates to its own
    ///   IAM policies.
    /// - Any other AWS ARN, and `Federated`/`CanonicalUser` entries, must equal
    ///   the caller's identifier; `Service` names compare ignoring ASCII case.
    pub fn matches(&self, who: Option<&RequestPrincipal>) -> bool {
        let set = match self {
            Principal::Any => return true,
            Principal::Listed(set) => set,
        };
        if set.aws.iter().any(|a| a == "*") {
            return true;
        }
        let Some(who) = who else {
            return false;
        };
        match who.kind {
            PrincipalType::Aws => set.aws.iter().any(|entry| aws_entry_matches(entry, &who.id)),
            PrincipalType::Federated => set.federated.contains(&who.id),
            PrincipalType::Service => set.service.iter().any(|e| e.eq_ignore_ascii_case(&who.id)),
            PrincipalType::CanonicalUser => set.canonical_user.contains(&who.id),
        }
    }
}

fn aws_entry_matches(entry: &str, caller: &str) -> bool {
    if entry == caller {
        return true;
    }
    let whole_account = if is_account_id(entry) {
        Some(entry)
    } else {
        Arn::parse(entry).ok().filter(|arn| arn.service == "iam" && arn.resource == "root").map(|arn| arn.account)
    };
    whole_account.is_some_and(|account| account_of(caller) == Some(account))
}

/// The account a caller belongs to: itself if it is an account ID, else the
/// account component of its ARN.
fn account_of(caller: &str) -> Option<&str> {
    if is_account_id(caller) {
        return Some(caller);
    }
    Arn::parse(caller).ok().map(|arn| arn.account).filter(|a| !a.is_empty())
}

/// Parses a `Principal` or `NotPrincipal` value found at `path`.
pub(crate) fn parse(json: &Json, path: &str) -> Result<Principal, PolicyError> {
    match json {
        Json::String(s) if s == "*" => Ok(Principal::Any),
        Json::String(s) => Err(PolicyError::InvalidPrincipal {
            path: path.to_owned(),
            value: s.clone(),
            reason: "a principal written as a string must be \"*\"; list specific principals in an object such as {\"AWS\": \"arn:aws:iam::123456789012:root\"}".into(),
        }),
        Json::Object(entries) => {
            if entries.is_empty() {
                return Err(PolicyError::Empty {
                    path: path.to_owned(),
                    what: "principal type (AWS, Federated, Service or CanonicalUser)",
                });
            }
            let mut set = PrincipalSet::default();
            for (key, value) in entries {
                let key_path = format!("{path}.{key}");
                let (list, check): (&mut Vec<String>, Check) = match key.as_str() {
                    "AWS" => (&mut set.aws, check_aws),
                    "Federated" => (&mut set.federated, check_other),
                    "Service" => (&mut set.service, check_other),
                    "CanonicalUser" => (&mut set.canonical_user, check_other),
                    _ => {
                        return Err(PolicyError::UnknownKey {
                            path: path.to_owned(),
                            key: key.clone(),
                            allowed: "AWS, Federated, Service, CanonicalUser",
                            suggestion: suggest::closest(key, KEYS),
                        });
                    }
                };
                for (text, item_path) in string_list(value, &key_path)? {
                    check(&text).map_err(|reason| PolicyError::InvalidPrincipal {
                        path: item_path,
                        value: text.clone(),
                        reason,
                    })?;
                    list.push(text);
                }
            }
            Ok(Principal::Listed(set))
        }
        other => Err(PolicyError::WrongType {
            path: path.to_owned(),
            expected: "\"*\" or an object such as {\"AWS\": \"123456789012\"}",
            found: other.kind(),
        }),
    }
}

/// A string or a non-empty array of strings, each with its own path.
fn string_list(json: &Json, path: &str) -> Result<Vec<(String, String)>, PolicyError> {
    match json {
        Json::String(s) => Ok(vec![(s.clone(), path.to_owned())]),
        Json::Array(items) if items.is_empty() => Err(PolicyError::Empty { path: path.to_owned(), what: "principal" }),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Json::String(s) => Ok((s.clone(), format!("{path}[{i}]"))),
                other => Err(PolicyError::WrongType {
                    path: format!("{path}[{i}]"),
                    expected: "a string",
                    found: other.kind(),
                }),
            })
            .collect(),
        other => Err(PolicyError::WrongType {
            path: path.to_owned(),
            expected: "a string or an array of strings",
            found: other.kind(),
        }),
    }
}

fn check_aws(value: &str) -> Result<(), String> {
    if value == "*" || is_account_id(value) {
        return Ok(());
    }
    match Arn::parse(value) {
        Err(err) => Err(format!(
            "{err}; an AWS principal is a 12-digit account ID, an ARN such as arn:aws:iam::123456789012:role/Name, or \"*\""
        )),
        Ok(_) if value.contains(['*', '?']) => {
            Err("wildcards are not allowed inside principal ARNs; use \"*\" alone to match every principal".into())
        }
        Ok(_) => Ok(()),
    }
}

fn check_other(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("the principal is empty".into());
    }
    if value.contains(['*', '?']) {
        return Err("wildcards are not allowed here; name the provider or service exactly".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn principal(text: &str) -> Principal {
        parse(&json::parse(text).unwrap(), "Statement[0].Principal").unwrap()
    }

    #[test]
    fn star_matches_everyone() {
        assert!(principal("\"*\"").matches(None));
        assert!(principal(r#"{"AWS":"*"}"#).matches(Some(&RequestPrincipal::federated("x"))));
    }

    #[test]
    fn account_entries_cover_the_account() {
        let p = principal(r#"{"AWS":["123456789012"]}"#);
        assert!(p.matches(Some(&RequestPrincipal::aws("arn:aws:iam::123456789012:user/bob"))));
        assert!(p.matches(Some(&RequestPrincipal::aws("123456789012"))));
        assert!(!p.matches(Some(&RequestPrincipal::aws("arn:aws:iam::999999999999:user/bob"))));
        assert!(!p.matches(None));
        let root = principal(r#"{"AWS":"arn:aws:iam::123456789012:root"}"#);
        assert!(root.matches(Some(&RequestPrincipal::aws("arn:aws:sts::123456789012:assumed-role/R/s"))));
    }

    #[test]
    fn specific_arns_match_exactly() {
        let p = principal(r#"{"AWS":"arn:aws:iam::123456789012:role/Admin"}"#);
        assert!(p.matches(Some(&RequestPrincipal::aws("arn:aws:iam::123456789012:role/Admin"))));
        assert!(!p.matches(Some(&RequestPrincipal::aws("arn:aws:iam::123456789012:role/Other"))));
    }

    #[test]
    fn federated_and_service() {
        let p =
            principal(r#"{"Federated":"arn:aws:iam::123456789012:saml-provider/Hub","Service":["ec2.amazonaws.com"]}"#);
        assert!(p.matches(Some(&RequestPrincipal::federated("arn:aws:iam::123456789012:saml-provider/Hub"))));
        assert!(!p.matches(Some(&RequestPrincipal::federated("arn:aws:iam::123456789012:saml-provider/Other"))));
        assert!(p.matches(Some(&RequestPrincipal::service("EC2.amazonaws.com"))));
        // A federated entry never matches an AWS caller with the same text.
        assert!(!p.matches(Some(&RequestPrincipal::aws("arn:aws:iam::123456789012:saml-provider/Hub"))));
    }

    #[test]
    fn rejects_bad_principals() {
        let err = |text: &str| parse(&json::parse(text).unwrap(), "P").unwrap_err().to_string();
        assert!(err("\"everyone\"").contains("must be \"*\""));
        assert!(err(r#"{"Aws":"*"}"#).contains("did you mean \"AWS\""));
        assert!(err(r#"{"AWS":"arn:aws:iam::*:root"}"#).contains("wildcards are not allowed"));
        assert!(err(r#"{"AWS":"bob"}"#).starts_with("P.AWS: invalid principal \"bob\""));
        assert!(err(r#"{"AWS":["123456789012", 5]}"#).starts_with("P.AWS[1]: expected a string"));
        assert!(err(r#"{"Federated":[]}"#).contains("must not be empty"));
        assert!(err("{}").contains("must not be empty"));
    }
}

//! The policy document model and its parser.
//!
//! Parsing validates everything that can be checked without a request, so a
//! policy that parses can always be evaluated. Errors name the JSON path of
//! the offending element, for example
//! `Statement[1].Condition.StringEqualz: unknown condition operator "StringEqualz"`.

use std::fmt;
use std::str::FromStr;

use crate::arn::Arn;
use crate::condition::{self, Condition};
use crate::error::PolicyError;
use crate::json::{self, Json};
use crate::principal::{self, Principal};
use crate::suggest;
use crate::variables::{self, Template};
use crate::wildcard::Pattern;

/// The policy language version (the `Version` element).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `2008-10-17`, also assumed when `Version` is absent: `${...}` is
    /// literal text, not a policy variable.
    V2008,
    /// `2012-10-17`: policy variables are substituted.
    V2012,
}

impl Version {
    /// The version string as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2008 => "2008-10-17",
            Version::V2012 => "2012-10-17",
        }
    }

    /// Whether `${...}` policy variables are substituted.
    pub fn substitutes_variables(self) -> bool {
        self == Version::V2012
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a statement allows or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `"Allow"`.
    Allow,
    /// `"Deny"`.
    Deny,
}

/// Which kind of policy a document is, deciding which elements it must and
/// must not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Attached to a user, group or role: no `Principal`, and every statement
    /// needs `Resource` or `NotResource`.
    Identity,
    /// Attached to a resource (bucket policy, queue policy): every statement
    /// needs `Principal`/`NotPrincipal` and `Resource`/`NotResource`.
    Resource,
    /// A role trust policy: every statement needs `Principal`/`NotPrincipal`
    /// and has no `Resource`/`NotResource` (the role itself is the resource).
    Trust,
}

/// An action pattern from `Action` or `NotAction`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ActionPattern {
    pub(crate) raw: String,
    pub(crate) pattern: Pattern,
}

/// A resource pattern from `Resource` or `NotResource`; variables are
/// substituted per request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResourcePattern {
    pub(crate) raw: String,
    pub(crate) template: Template,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    /// Whether the actions came from `NotAction`.
    pub(crate) not_action: bool,
    pub(crate) actions: Vec<ActionPattern>,
    /// `None` when the statement has neither `Resource` nor `NotResource`
    /// (trust policies): it then applies to any resource.
    pub(crate) resources: Option<(bool, Vec<ResourcePattern>)>,
    /// The principal element and whether it is `NotPrincipal`.
    pub(crate) principal: Option<(bool, Principal)>,
    pub(crate) conditions: Vec<Condition>,
}

impl Statement {
    /// The `Sid`, if any.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The `Effect`.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The actions as written; see [`is_not_action`](Self::is_not_action).
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|a| a.raw.as_str())
    }

    /// Whether the actions came from `NotAction` rather than `Action`.
    pub fn is_not_action(&self) -> bool {
        self.not_action
    }

    /// The resources as written, or `None` without `Resource`/`NotResource`.
    pub fn resources(&self) -> Option<impl Iterator<Item = &str>> {
        self.resources.as_ref().map(|(_, list)| list.iter().map(|r| r.raw.as_str()))
    }

    /// Whether the resources came from `NotResource`.
    pub fn is_not_resource(&self) -> bool {
        self.resources.as_ref().is_some_and(|(not, _)| *not)
    }

    /// The `Principal` or `NotPrincipal` element, if any.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref().map(|(_, p)| p)
    }

    /// Whether the principal element is `NotPrincipal`.
    pub fn is_not_principal(&self) -> bool {
        self.principal.as_ref().is_some_and(|(not, _)| *not)
    }

    /// The conditions, one per (operator, key) pair, in document order.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }
}

/// A parsed, validated policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) version: Version,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
}

impl Policy {
    /// Parses a policy of any kind. A statement with `Principal` or
    /// `NotPrincipal` is read as resource-based, where `Resource` is optional
    /// (trust policies have none); any other statement must have exactly one
    /// of `Resource` and `NotResource`.
    ///
    /// # Errors
    ///
    /// [`PolicyError`] describing the first problem found, with its location.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        parse_document(text, None)
    }

    /// Parses a policy and checks the rules of one [`PolicyKind`].
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse), plus elements the kind forbids or requires.
    pub fn parse_as(text: &str, kind: PolicyKind) -> Result<Self, PolicyError> {
        parse_document(text, Some(kind))
    }

    /// The language version (`2008-10-17` when `Version` is absent).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The `Id`, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

impl FromStr for Policy {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

const TOP_KEYS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_KEYS: [&str; 9] =
    ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"];

fn parse_document(text: &str, kind: Option<PolicyKind>) -> Result<Policy, PolicyError> {
    let root = json::parse(text)?;
    let entries = object(&root, "policy", "a JSON object with \"Version\" and \"Statement\"")?;
    check_keys(entries, "policy", &TOP_KEYS, "Version, Id, Statement")?;

    let version = match json::get(entries, "Version") {
        None => Version::V2008,
        Some(Json::String(v)) if v == "2012-10-17" => Version::V2012,
        Some(Json::String(v)) if v == "2008-10-17" => Version::V2008,
        Some(Json::String(v)) => return Err(PolicyError::InvalidVersion { value: v.clone() }),
        Some(other) => return Err(wrong_type("Version", "the string \"2012-10-17\"", other)),
    };
    let id = optional_string(entries, "Id", "Id")?;

    let statements = match json::get(entries, "Statement") {
        None => {
            return Err(PolicyError::MissingKey {
                path: "policy".into(),
                key: "Statement",
                hint: "add a \"Statement\" object or array of statements",
            });
        }
        Some(one @ Json::Object(_)) => vec![parse_statement(one, "Statement", version, kind)?],
        Some(Json::Array(items)) if items.is_empty() => {
            return Err(PolicyError::Empty { path: "Statement".into(), what: "statement" });
        }
        Some(Json::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_statement(item, &format!("Statement[{i}]"), version, kind))
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(wrong_type("Statement", "a statement object or an array of them", other));
        }
    };
    Ok(Policy { version, id, statements })
}

fn parse_statement(
    json: &Json,
    path: &str,
    version: Version,
    kind: Option<PolicyKind>,
) -> Result<Statement, PolicyError> {
    let entries = object(json, path, "a statement object")?;
    check_keys(
        entries,
        path,
        &STATEMENT_KEYS,
        "Sid, Effect, Action, NotAction, Resource, NotResource, Principal, NotPrincipal, Condition",
    )?;
    let field = |key| json::get(entries, key);
    let child = |key: &str| format!("{path}.{key}");

    let sid = optional_string(entries, "Sid", &child("Sid"))?;

    let effect = match field("Effect") {
        Some(Json::String(e)) if e == "Allow" => Effect::Allow,
        Some(Json::String(e)) if e == "Deny" => Effect::Deny,
        Some(Json::String(e)) => {
            return Err(PolicyError::InvalidEffect { path: child("Effect"), value: e.clone() });
        }
        Some(other) => return Err(wrong_type(&child("Effect"), "\"Allow\" or \"Deny\"", other)),
        None => {
            return Err(PolicyError::MissingKey {
                path: path.to_owned(),
                key: "Effect",
                hint: "add \"Effect\": \"Allow\" or \"Effect\": \"Deny\"",
            });
        }
    };

    let (not_action, action_json) = exactly_one(
        entries,
        path,
        ("Action", "NotAction"),
        "every statement needs exactly one of \"Action\" or \"NotAction\"",
    )?;
    let action_key = if not_action { "NotAction" } else { "Action" };
    let actions = string_list(action_json, &child(action_key), "action")?
        .into_iter()
        .map(|(raw, item_path)| parse_action(raw, &item_path))
        .collect::<Result<_, _>>()?;

    let principal = match (field("Principal"), field("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::Conflict { path: path.to_owned(), first: "Principal", second: "NotPrincipal" });
        }
        (Some(p), None) => Some((false, principal::parse(p, &child("Principal"))?)),
        (None, Some(p)) => Some((true, principal::parse(p, &child("NotPrincipal"))?)),
        (None, None) => None,
    };
    check_principal_rules(kind, path, principal.as_ref(), field("Principal").is_some())?;

    let resource_json = match (field("Resource"), field("NotResource")) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::Conflict { path: path.to_owned(), first: "Resource", second: "NotResource" });
        }
        (Some(r), None) => Some((false, r)),
        (None, Some(r)) => Some((true, r)),
        (None, None) => None,
    };
    check_resource_rules(kind, path, resource_json.map(|(not, _)| not), principal.is_some())?;
    let resources = match resource_json {
        None => None,
        Some((not, json)) => {
            let key = if not { "NotResource" } else { "Resource" };
            let list = string_list(json, &child(key), "resource ARN")?
                .into_iter()
                .map(|(raw, item_path)| parse_resource(raw, &item_path, version))
                .collect::<Result<_, _>>()?;
            Some((not, list))
        }
    };

    let conditions = match field("Condition") {
        Some(c) => condition::parse_block(c, &child("Condition"), version.substitutes_variables())?,
        None => Vec::new(),
    };

    Ok(Statement { sid, effect, not_action, actions, resources, principal, conditions })
}

fn check_principal_rules(
    kind: Option<PolicyKind>,
    path: &str,
    principal: Option<&(bool, Principal)>,
    is_principal: bool,
) -> Result<(), PolicyError> {
    match (kind, principal) {
        (Some(PolicyKind::Identity), Some(_)) => Err(PolicyError::NotAllowed {
            path: path.to_owned(),
            key: if is_principal { "Principal" } else { "NotPrincipal" },
            reason: "an identity policy applies to the identity it is attached to, so it names no principal; remove it",
        }),
        (Some(PolicyKind::Resource | PolicyKind::Trust), None) => Err(PolicyError::MissingKey {
            path: path.to_owned(),
            key: "Principal",
            hint: "resource-based and trust policies must say who they apply to with \"Principal\" (or \"NotPrincipal\")",
        }),
        _ => Ok(()),
    }
}

fn check_resource_rules(
    kind: Option<PolicyKind>,
    path: &str,
    resource: Option<bool>,
    has_principal: bool,
) -> Result<(), PolicyError> {
    let required = match kind {
        Some(PolicyKind::Identity | PolicyKind::Resource) => true,
        Some(PolicyKind::Trust) => {
            if let Some(not) = resource {
                return Err(PolicyError::NotAllowed {
                    path: path.to_owned(),
                    key: if not { "NotResource" } else { "Resource" },
                    reason: "a trust policy always applies to its own role; remove it",
                });
            }
            false
        }
        None => !has_principal,
    };
    if required && resource.is_none() {
        return Err(PolicyError::MissingKey {
            path: path.to_owned(),
            key: "Resource",
            hint: "every statement needs exactly one of \"Resource\" or \"NotResource\" (use \"*\" for all resources)",
        });
    }
    Ok(())
}

/// Checks `service:action` shape; the pattern compares case-insensitively.
fn parse_action(raw: String, path: &str) -> Result<ActionPattern, PolicyError> {
    let invalid = |reason| PolicyError::InvalidAction { path: path.to_owned(), value: raw.clone(), reason };
    if raw != "*" {
        let Some((service, action)) = raw.split_once(':') else {
            return Err(invalid("it has no \":\" between service and action"));
        };
        if service.is_empty() {
            return Err(invalid("the service prefix before \":\" is empty"));
        }
        if action.is_empty() {
            return Err(invalid("the action name after \":\" is empty"));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '*' | '?');
        if !service.chars().all(allowed) || !action.chars().all(allowed) {
            return Err(invalid(
                "only letters, digits, \"-\", \"_\", \".\" and the wildcards * and ? may appear on either side of the single \":\"",
            ));
        }
    }
    let pattern = Pattern::glob(&raw);
    Ok(ActionPattern { raw, pattern })
}

/// Checks the ARN shape (with variables standing in for text) and compiles
/// the resource template.
fn parse_resource(raw: String, path: &str, version: Version) -> Result<ResourcePattern, PolicyError> {
    let template = variables::compile(&raw, version.substitutes_variables(), path)?;
    if raw != "*" {
        let skeleton = template.skeleton();
        if let Err(err) = Arn::parse(&skeleton) {
            return Err(PolicyError::InvalidArn { path: path.to_owned(), value: raw, reason: err.to_string() });
        }
    }
    Ok(ResourcePattern { raw, template })
}

fn object<'a>(json: &'a Json, path: &str, expected: &'static str) -> Result<&'a [(String, Json)], PolicyError> {
    match json {
        Json::Object(entries) => Ok(entries),
        other => Err(wrong_type(path, expected, other)),
    }
}

fn wrong_type(path: &str, expected: &'static str, found: &Json) -> PolicyError {
    PolicyError::WrongType { path: path.to_owned(), expected, found: found.kind() }
}

fn check_keys(
    entries: &[(String, Json)],
    path: &str,
    known: &[&'static str],
    allowed: &'static str,
) -> Result<(), PolicyError> {
    match entries.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        Some((key, _)) => Err(PolicyError::UnknownKey {
            path: path.to_owned(),
            key: key.clone(),
            allowed,
            suggestion: suggest::closest(key, known.iter().copied()),
        }),
        None => Ok(()),
    }
}

fn optional_string(entries: &[(String, Json)], key: &str, path: &str) -> Result<Option<String>, PolicyError> {
    match json::get(entries, key) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(wrong_type(path, "a string", other)),
    }
}

/// Exactly one of two mutually exclusive keys; returns whether it was the
/// second, and its value.
fn exactly_one<'a>(
    entries: &'a [(String, Json)],
    path: &str,
    (first, second): (&'static str, &'static str),
    hint: &'static str,
) -> Result<(bool, &'a Json), PolicyError> {
    match (json::get(entries, first), json::get(entries, second)) {
        (Some(v), None) => Ok((false, v)),
        (None, Some(v)) => Ok((true, v)),
        (Some(_), Some(_)) => Err(PolicyError::Conflict { path: path.to_owned(), first, second }),
        (None, None) => Err(PolicyError::MissingKey { path: path.to_owned(), key: first, hint }),
    }
}

/// A string or a non-empty array of strings, each with its own path.
fn string_list(json: &Json, path: &str, what: &'static str) -> Result<Vec<(String, String)>, PolicyError> {
    match json {
        Json::String(s) => Ok(vec![(s.clone(), path.to_owned())]),
        Json::Array(items) if items.is_empty() => Err(PolicyError::Empty { path: path.to_owned(), what }),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let item_path = format!("{path}[{i}]");
                match item {
                    Json::String(s) => Ok((s.clone(), item_path)),
                    other => Err(wrong_type(&item_path, "a string", other)),
                }
            })
            .collect(),
        other => Err(wrong_type(path, "a string or an array of strings", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Policy::parse(text).unwrap_err().to_string()
    }

    const MINIMAL: &str =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;

    #[test]
    fn parses_minimal_policy() {
        let p = Policy::parse(MINIMAL).unwrap();
        assert_eq!(p.version(), Version::V2012);
        assert_eq!(p.statements().len(), 1);
        let s = &p.statements()[0];
        assert_eq!(s.effect(), Effect::Allow);
        assert_eq!(s.actions().collect::<Vec<_>>(), ["s3:GetObject"]);
        assert!(!s.is_not_action());
        assert_eq!(s.resources().unwrap().collect::<Vec<_>>(), ["*"]);
        assert!(MINIMAL.parse::<Policy>().is_ok());
    }

    #[test]
    fn statement_forms_and_metadata() {
        let p = Policy::parse(
            r#"{"Id":"p1","Statement":[{"Sid":"A","Effect":"Deny","NotAction":["iam:*","sts:*"],"NotResource":"arn:aws:s3:::b/*"}]}"#,
        )
        .unwrap();
        assert_eq!(p.version(), Version::V2008);
        assert_eq!(p.id(), Some("p1"));
        let s = &p.statements()[0];
        assert_eq!(s.sid(), Some("A"));
        assert!(s.is_not_action() && s.is_not_resource());
        assert_eq!(s.actions().count(), 2);
        assert!(s.principal().is_none() && !s.is_not_principal());
    }

    #[test]
    fn condition_operator_error_names_path() {
        let e = err(r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"s3:*","Resource":"*"},
                {"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"x"}}}]}"#);
        assert!(
            e.starts_with("Statement[1].Condition.StringEqualz: unknown condition operator \"StringEqualz\""),
            "{e}"
        );
    }

    #[test]
    fn structural_errors() {
        let cases = [
            (r#"[]"#, "policy: expected a JSON object"),
            (r#"{"Version":"2012-10-17"}"#, "policy: missing \"Statement\""),
            (r#"{"Statement":[]}"#, "Statement: must not be empty"),
            (r#"{"Statement":"x"}"#, "Statement: expected a statement object or an array"),
            (
                r#"{"Version":"2012-10-18","Statement":[]}"#,
                "Version: unsupported policy language version \"2012-10-18\"",
            ),
            (r#"{"Version":2012,"Statement":[]}"#, "Version: expected the string"),
            (r#"{"Statment":[]}"#, "policy: unknown element \"Statment\" (did you mean \"Statement\"?)"),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condtion":{}}]}"#,
                "Statement[0]: unknown element \"Condtion\" (did you mean \"Condition\"?)",
            ),
            (
                r#"{"Statement":[{"Effect":"allow","Action":"s3:*","Resource":"*"}]}"#,
                "Statement[0].Effect: invalid effect \"allow\"",
            ),
            (r#"{"Statement":[{"Action":"s3:*","Resource":"*"}]}"#, "Statement[0]: missing \"Effect\""),
            (r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#, "Statement[0]: missing \"Action\""),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}]}"#,
                "Statement[0]: \"Action\" and \"NotAction\" cannot both be present",
            ),
            (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#, "Statement[0]: missing \"Resource\""),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","NotResource":"*"}]}"#,
                "\"Resource\" and \"NotResource\" cannot both be present",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":["s3:*","GetObject"],"Resource":"*"}]}"#,
                "Statement[0].Action[1]: invalid action \"GetObject\": it has no \":\"",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:Get Object","Resource":"*"}]}"#,
                "Statement[0].Action: invalid action",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}"#,
                "Statement[0].Action: must not be empty",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["*","arn:aws:s3"]}]}"#,
                "Statement[0].Resource[1]: invalid ARN \"arn:aws:s3\": it has 3 colon-separated parts but an ARN needs 6",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}]}"#,
                "Statement[0].Resource: invalid ARN \"bucket\": it does not start with \"arn:\"",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":5}]}"#,
                "Statement[0].Resource: expected a string or an array of strings, found a number",
            ),
            (
                r#"{"Statement":[{"Sid":1,"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
                "Statement[0].Sid: expected a string, found a number",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Principal":"*","NotPrincipal":"*"}]}"#,
                "\"Principal\" and \"NotPrincipal\" cannot both be present",
            ),
        ];
        for (text, expected) in cases {
            let e = err(text);
            assert!(e.contains(expected), "{text}\n  got: {e}\n  want: {expected}");
        }
    }

    #[test]
    fn condition_errors() {
        let with = |cond: &str| {
            err(&format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{cond}}}}}"#
            ))
        };
        let cases = [
            (
                r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","10.0.0.0/33"]}}"#,
                "Statement.Condition.IpAddress.aws:SourceIp[1]: invalid value \"10.0.0.0/33\" for IpAddress: prefix length",
            ),
            (
                r#"{"NumericLessThan":{"s3:max-keys":"ten"}}"#,
                "Statement.Condition.NumericLessThan.s3:max-keys: invalid value \"ten\" for NumericLessThan: expected a number",
            ),
            (
                r#"{"DateGreaterThan":{"aws:CurrentTime":"soon"}}"#,
                "invalid value \"soon\" for DateGreaterThan: expected an ISO 8601 date",
            ),
            (r#"{"Bool":{"aws:SecureTransport":"yes"}}"#, "expected \"true\" or \"false\""),
            (r#"{"Null":{"aws:TokenIssueTime":"maybe"}}"#, "invalid value \"maybe\" for Null"),
            (r#"{"BinaryEquals":{"k:b":"%%%"}}"#, "expected base64"),
            (
                r#"{"StringEquals":{"aws:username":"${aws:username"}}"#,
                "Statement.Condition.StringEquals.aws:username: invalid policy variable in \"${aws:username\"",
            ),
            (
                r#"{"StringEquals":{"username":"x"}}"#,
                "Statement.Condition.StringEquals.username: invalid condition key \"username\"",
            ),
            (
                r#"{"StringEquals":{"aws:username":[]}}"#,
                "Statement.Condition.StringEquals.aws:username: must not be empty",
            ),
            (r#"{"StringEquals":{"aws:username":{"a":"b"}}}"#, "expected a string, number or boolean"),
            (
                r#"{"StringEquals":{"aws:username":[null]}}"#,
                "aws:username[0]: expected a string, number or boolean, or an array of them, found null",
            ),
            (r#"{"StringEquals":{}}"#, "Statement.Condition.StringEquals: must not be empty"),
            (r#"{}"#, "Statement.Condition: must not be empty"),
            (r#"[]"#, "Statement.Condition: expected an object"),
            (r#"{"NullIfExists":{"aws:x":"true"}}"#, "cannot take the IfExists suffix"),
            (r#"{"StringEquals":{"a:b":"x"},"StringEquals":{"a:c":"y"}}"#, "duplicate key \"StringEquals\""),
        ];
        for (cond, expected) in cases {
            let e = with(cond);
            assert!(e.contains(expected), "{cond}\n  got: {e}\n  want: {expected}");
        }
    }

    #[test]
    fn variables_only_parsed_in_2012() {
        // Malformed variable syntax is plain text under 2008-10-17.
        let p = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${oops"}}"#;
        assert!(Policy::parse(p).is_ok());
        let p = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${oops"}}"#;
        assert!(err(p).starts_with("Statement.Resource: invalid policy variable"));
    }

    #[test]
    fn variable_colons_do_not_count_as_arn_parts() {
        let p = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3::${aws:username}"}}"#;
        assert!(err(p).contains("it has 5 colon-separated parts"), "{}", err(p));
    }

    #[test]
    fn policy_kinds() {
        let trust = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/Hub"},"Action":"sts:AssumeRoleWithSAML"}}"#;
        assert!(Policy::parse(trust).is_ok());
        assert!(Policy::parse_as(trust, PolicyKind::Trust).is_ok());
        let e = Policy::parse_as(trust, PolicyKind::Identity).unwrap_err().to_string();
        assert!(e.starts_with("Statement: \"Principal\" is not allowed here"), "{e}");
        let e = Policy::parse_as(trust, PolicyKind::Resource).unwrap_err().to_string();
        assert!(e.starts_with("Statement: missing \"Resource\""), "{e}");
        let e = Policy::parse_as(MINIMAL, PolicyKind::Trust).unwrap_err().to_string();
        assert!(e.starts_with("Statement: missing \"Principal\""), "{e}");
        let with_resource =
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}}"#;
        let e = Policy::parse_as(with_resource, PolicyKind::Trust).unwrap_err().to_string();
        assert!(e.contains("\"Resource\" is not allowed here"), "{e}");
        assert!(Policy::parse_as(with_resource, PolicyKind::Resource).is_ok());
    }

    #[test]
    fn json_errors_carry_position() {
        let e = Policy::parse("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n}").unwrap_err();
        match e {
            PolicyError::Json { line, column, .. } => assert_eq!((line, column), (4, 1)),
            other => panic!("unexpected {other:?}"),
        }
    }
}

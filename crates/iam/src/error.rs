//! Errors reported while parsing a policy document.
//!
//! Every semantic error carries `path`, the location of the offending element
//! written the way a reader would navigate the document
//! (`Statement[1].Condition.StringEquals.aws:username[0]`), so a user can find
//! and fix it without guessing.

use thiserror::Error;

/// Why a policy document was rejected.
///
/// The `Display` text always starts with the JSON path (or the line and column
/// for JSON syntax errors) and ends with what to change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The text is not well-formed JSON (or repeats a key inside one object).
    #[error("policy is not valid JSON: {message} at line {line}, column {column}")]
    Json {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the JSON reader found wrong.
        message: String,
    },

    /// An element has the wrong JSON type.
    #[error("{path}: expected {expected}, found {found}")]
    WrongType {
        /// Where the element is.
        path: String,
        /// What the grammar allows here.
        expected: &'static str,
        /// The JSON type actually present.
        found: &'static str,
    },

    /// An object contains a key the grammar does not know.
    #[error("{path}: unknown element \"{key}\"{hint}; allowed here: {allowed}", hint = did_you_mean(suggestion.as_deref()))]
    UnknownKey {
        /// The object holding the key.
        path: String,
        /// The unrecognised key.
        key: String,
        /// The keys that are valid at this place.
        allowed: &'static str,
        /// The closest valid key, when the unknown one looks like a typo.
        suggestion: Option<String>,
    },

    /// A required element is absent.
    #[error("{path}: missing \"{key}\"; {hint}")]
    MissingKey {
        /// The object that should hold the key.
        path: String,
        /// The missing key.
        key: &'static str,
        /// What to add.
        hint: &'static str,
    },

    /// Two mutually exclusive elements are both present.
    #[error("{path}: \"{first}\" and \"{second}\" cannot both be present; keep exactly one of them")]
    Conflict {
        /// The object holding both keys.
        path: String,
        /// The first key.
        first: &'static str,
        /// The second key.
        second: &'static str,
    },

    /// An element is valid in general but not in this kind of policy.
    #[error("{path}: \"{key}\" is not allowed here: {reason}")]
    NotAllowed {
        /// The object holding the key.
        path: String,
        /// The key that must be removed.
        key: &'static str,
        /// Why it is not allowed.
        reason: &'static str,
    },

    /// A list, or an object of conditions, has no entries.
    #[error("{path}: must not be empty; list at least one {what}")]
    Empty {
        /// The empty element.
        path: String,
        /// What it should contain.
        what: &'static str,
    },

    /// `Version` is not a policy language version IAM knows.
    #[error(
        "Version: unsupported policy language version \"{value}\"; use \"2012-10-17\" (or \"2008-10-17\" for the legacy language without policy variables)"
    )]
    InvalidVersion {
        /// The rejected value.
        value: String,
    },

    /// `Effect` is neither `Allow` nor `Deny`.
    #[error("{path}: invalid effect \"{value}\"; it must be exactly \"Allow\" or \"Deny\"")]
    InvalidEffect {
        /// Where the effect is.
        path: String,
        /// The rejected value.
        value: String,
    },

    /// An action is not of the form `service:action`.
    #[error(
        "{path}: invalid action \"{value}\": {reason}; write actions as \"service:ActionName\" (wildcards * and ? allowed) or \"*\""
    )]
    InvalidAction {
        /// Where the action is.
        path: String,
        /// The rejected action.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A resource is neither `*` nor a well-formed ARN.
    #[error(
        "{path}: invalid ARN \"{value}\": {reason}; expected \"arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE\" or \"*\""
    )]
    InvalidArn {
        /// Where the resource is.
        path: String,
        /// The rejected value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A `Principal`/`NotPrincipal` entry is malformed.
    #[error("{path}: invalid principal \"{value}\": {reason}")]
    InvalidPrincipal {
        /// Where the entry is.
        path: String,
        /// The rejected value.
        value: String,
        /// What is wrong with it and what is expected.
        reason: String,
    },

    /// A condition operator name is not one IAM defines.
    #[error("{path}: unknown condition operator \"{operator}\"{hint}", hint = did_you_mean(suggestion.as_deref()))]
    UnknownOperator {
        /// Where the operator is.
        path: String,
        /// The unrecognised operator.
        operator: String,
        /// The closest valid operator, when the unknown one looks like a typo.
        suggestion: Option<String>,
    },

    /// A condition operator exists but is used in a combination IAM rejects.
    #[error("{path}: condition operator \"{operator}\" is not allowed: {reason}")]
    InvalidOperator {
        /// Where the operator is.
        path: String,
        /// The rejected operator.
        operator: String,
        /// Why it is rejected.
        reason: &'static str,
    },

    /// A condition key name is malformed.
    #[error("{path}: invalid condition key \"{key}\": {reason}")]
    InvalidConditionKey {
        /// Where the key is.
        path: String,
        /// The rejected key.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A condition value cannot be read as the operator's type.
    #[error("{path}: invalid value \"{value}\" for {operator}: {reason}")]
    InvalidConditionValue {
        /// Where the value is.
        path: String,
        /// The operator that needs the value.
        operator: String,
        /// The rejected value.
        value: String,
        /// What is expected instead.
        reason: String,
    },

    /// A `${...}` policy variable is malformed.
    #[error("{path}: invalid policy variable in \"{value}\": {reason}")]
    InvalidVariable {
        /// Where the string containing the variable is.
        path: String,
        /// The whole string.
        value: String,
        /// What is wrong and how to write it.
        reason: String,
    },
}

/// Renders an optional typo suggestion as ` (did you mean "X"?)`.
fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean \"{s}\"?)"))
}

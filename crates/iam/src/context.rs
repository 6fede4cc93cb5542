//! The request context: what is being asked for, by whom, and the condition
//! keys that describe the request.

use std::collections::BTreeMap;
use std::fmt;

/// One value of a condition context key.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    /// A string, the common case (`aws:username`, `saml:aud`, ...).
    String(String),
    /// A number (`s3:max-keys`, `aws:EpochTime`, ...).
    Number(f64),
    /// A boolean (`aws:SecureTransport`, `aws:MultiFactorAuthPresent`, ...).
    Bool(bool),
}

impl ContextValue {
    /// The value as a string, the way it is compared by string operators and
    /// substituted into policy variables (`true`, `10`, `2.5`).
    pub fn to_text(&self) -> String {
        match self {
            ContextValue::String(s) => s.clone(),
            // f64's Display prints integral values without a fraction ("10").
            ContextValue::Number(n) => n.to_string(),
            ContextValue::Bool(b) => b.to_string(),
        }
    }
}

impl fmt::Display for ContextValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl From<&str> for ContextValue {
    fn from(v: &str) -> Self {
        ContextValue::String(v.to_owned())
    }
}

impl From<String> for ContextValue {
    fn from(v: String) -> Self {
        ContextValue::String(v)
    }
}

impl From<&String> for ContextValue {
    fn from(v: &String) -> Self {
        ContextValue::String(v.clone())
    }
}

impl From<bool> for ContextValue {
    fn from(v: bool) -> Self {
        ContextValue::Bool(v)
    }
}

impl From<f64> for ContextValue {
    fn from(v: f64) -> Self {
        ContextValue::Number(v)
    }
}

impl From<i64> for ContextValue {
    fn from(v: i64) -> Self {
        // Context numbers are small counts and epoch seconds; f64 holds them
        // exactly up to 2^53.
        ContextValue::Number(v as f64)
    }
}

impl From<i32> for ContextValue {
    fn from(v: i32) -> Self {
        ContextValue::Number(f64::from(v))
    }
}

impl From<u32> for ContextValue {
    fn from(v: u32) -> Self {
        ContextValue::Number(f64::from(v))
    }
}

/// Condition context keys and their values.
///
/// Key names are case-insensitive, as IAM documents (`aws:CurrentTime` is the
/// same key as `AWS:currenttime`); values keep their case. A key may hold
/// several values (for example `aws:TagKeys`); a key holding an empty list is
/// treated as absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContextKeys {
    /// Lower-cased name -> (name as first given, values).
    entries: BTreeMap<String, (String, Vec<ContextValue>)>,
}

impl ContextKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to a single value, replacing any previous values.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<ContextValue>) {
        self.insert_multi(key, [value]);
    }

    /// Sets `key` to a list of values (a multi-valued key), replacing any
    /// previous values.
    pub fn insert_multi<I, V>(&mut self, key: impl Into<String>, values: I)
    where
        I: IntoIterator<Item = V>,
        V: Into<ContextValue>,
    {
        let key = key.into();
        let values = values.into_iter().map(Into::into).collect();
        self.entries.insert(key.to_lowercase(), (key, values));
    }

    /// Removes `key`, returning its values.
    pub fn remove(&mut self, key: &str) -> Option<Vec<ContextValue>> {
        self.entries.remove(&key.to_lowercase()).map(|(_, v)| v)
    }

    /// The values of `key` (any case), if present.
    pub fn get(&self, key: &str) -> Option<&[ContextValue]> {
        self.entries.get(&key.to_lowercase()).map(|(_, values)| values.as_slice())
    }

    /// Whether `key` is present with at least one value.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| !v.is_empty())
    }

    /// The text of a key that has exactly one value.
    ///
    /// Policy variables use this: IAM cannot substitute a multi-valued key,
    /// so such a key counts as having no value.
    pub fn single_text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            [only] => Some(only.to_text()),
            _ => None,
        }
    }

    /// All keys (with the spelling first given) and their values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[ContextValue])> {
        self.entries.values().map(|(name, values)| (name.as_str(), values.as_slice()))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The kind of identity making a request, matching the keys of a policy's
/// `Principal` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    /// An AWS account, IAM user, IAM role or assumed-role session (`"AWS"`).
    Aws,
    /// A SAML or OIDC identity provider (`"Federated"`).
    Federated,
    /// An AWS service such as `ec2.amazonaws.com` (`"Service"`).
    Service,
    /// An Amazon S3 canonical user ID (`"CanonicalUser"`).
    CanonicalUser,
}

/// Who is making the request, for matching `Principal` / `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPrincipal {
    /// The kind of principal.
    pub kind: PrincipalType,
    /// Its identifier: an ARN or 12-digit account ID for [`PrincipalType::Aws`],
    /// the provider ARN (or web identity provider name) for
    /// [`PrincipalType::Federated`], the service name for
    /// [`PrincipalType::Service`], the canonical ID for
    /// [`PrincipalType::CanonicalUser`].
    pub id: String,
}

impl RequestPrincipal {
    /// An AWS principal identified by ARN or account ID.
    pub fn aws(id: impl Into<String>) -> Self {
        Self { kind: PrincipalType::Aws, id: id.into() }
    }

    /// A federated principal identified by its identity provider, for example
    /// `arn:aws:iam::123456789012:saml-provider/Hub`.
    pub fn federated(provider: impl Into<String>) -> Self {
        Self { kind: PrincipalType::Federated, id: provider.into() }
    }

    /// An AWS service principal such as `ec2.amazonaws.com`.
    pub fn service(name: impl Into<String>) -> Self {
        Self { kind: PrincipalType::Service, id: name.into() }
    }

    /// An Amazon S3 canonical user.
    pub fn canonical_user(id: impl Into<String>) -> Self {
        Self { kind: PrincipalType::CanonicalUser, id: id.into() }
    }
}

/// Everything a policy is evaluated against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestContext {
    /// The action, `service:ActionName` (compared case-insensitively).
    pub action: String,
    /// The resource ARN (compared case-sensitively).
    pub resource: String,
    /// Condition context keys.
    pub keys: ContextKeys,
    /// Who is asking; needed for policies with `Principal`/`NotPrincipal`.
    pub principal: Option<RequestPrincipal>,
}

impl RequestContext {
    /// A request for `action` on `resource` with no keys and no principal.
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self { action: action.into(), resource: resource.into(), keys: ContextKeys::new(), principal: None }
    }

    /// Adds a single-valued context key.
    #[must_use]
    pub fn with_key(mut self, key: impl Into<String>, value: impl Into<ContextValue>) -> Self {
        self.keys.insert(key, value);
        self
    }

    /// Adds a multi-valued context key.
    #[must_use]
    pub fn with_values<I, V>(mut self, key: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<ContextValue>,
    {
        self.keys.insert_multi(key, values);
        self
    }

    /// Sets the requesting principal.
    #[must_use]
    pub fn with_principal(mut self, principal: RequestPrincipal) -> Self {
        self.principal = Some(principal);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_values_are_not() {
        let ctx = RequestContext::new("s3:GetObject", "*").with_key("aws:UserName", "Alice");
        assert_eq!(ctx.keys.get("AWS:username"), Some(&[ContextValue::from("Alice")][..]));
        assert_eq!(ctx.keys.single_text("aws:username").as_deref(), Some("Alice"));
        assert_eq!(ctx.keys.iter().next().map(|(k, _)| k), Some("aws:UserName"));
    }

    #[test]
    fn multi_valued_and_empty_keys() {
        let mut keys = ContextKeys::new();
        keys.insert_multi("aws:TagKeys", ["a", "b"]);
        keys.insert_multi("x:empty", Vec::<String>::new());
        assert_eq!(keys.single_text("aws:TagKeys"), None);
        assert!(keys.contains("aws:tagkeys"));
        assert!(!keys.contains("x:empty"));
        assert_eq!(keys.len(), 2);
        assert_eq!(keys.remove("AWS:TAGKEYS").map(|v| v.len()), Some(2));
        assert_eq!(keys.len(), 1);
    }

    #[test]
    fn value_text() {
        assert_eq!(ContextValue::from(10).to_text(), "10");
        assert_eq!(ContextValue::from(2.5).to_text(), "2.5");
        assert_eq!(ContextValue::from(true).to_text(), "true");
    }
}

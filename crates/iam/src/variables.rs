//! Policy variables: `${aws:username}`, `${saml:sub}`, the escapes `${*}`,
//! `${?}` and `${$}`, and defaults such as `${aws:username, 'anonymous'}`.
//!
//! Variables are only recognised in policies whose `Version` is
//! `2012-10-17`; in older policies `${...}` is ordinary text
//! ([`Template::verbatim`]).
//!
//! A [`Template`] keeps policy text apart from substituted text, so that when
//! it is turned into a [`Pattern`] only the policy's own `*` and `?` act as
//! wildcards. A value from the request (a user ID containing `*`, say) or an
//! escape is always matched literally.

use thiserror::Error;

use crate::context::ContextKeys;
use crate::error::PolicyError;
use crate::wildcard::Pattern;

/// The number of colon-separated components in an ARN.
const ARN_COMPONENTS: usize = 6;

/// What is wrong with a `${...}` reference.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct VariableError(String);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Policy text: `*` and `?` are wildcards where the operator allows them.
    Text(String),
    /// Text that is always literal: the result of `${*}`, `${?}` or `${$}`.
    Literal(String),
    /// `${key}` or `${key, 'default'}`.
    Variable { key: String, default: Option<String> },
}

/// A policy string that may contain policy variables.
///
/// ```
/// use crossfed_iam::variables::Template;
/// use crossfed_iam::ContextKeys;
///
/// let t = Template::parse("home/${aws:username, 'guest'}/*")?;
/// let mut keys = ContextKeys::new();
/// assert!(t.resolve(&keys, true).unwrap().matches("home/guest/a.txt"));
/// keys.insert("aws:username", "bob");
/// assert!(t.resolve(&keys, true).unwrap().matches("home/bob/a.txt"));
/// # Ok::<(), crossfed_iam::variables::VariableError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `raw` with the `2012-10-17` variable syntax.
    ///
    /// # Errors
    ///
    /// A `${` without a closing `}`, an empty `${}`, a default that is not in
    /// single quotes, or a name that is not a `service:key` context key.
    pub fn parse(raw: &str) -> Result<Self, VariableError> {
        let mut parts = Vec::new();
        let mut rest = raw;
        while let Some(start) = rest.find("${") {
            push_text(&mut parts, rest.get(..start).unwrap_or_default());
            let (part, remaining) = parse_reference(rest.get(start + 2..).unwrap_or_default())?;
            parts.push(part);
            rest = remaining;
        }
        push_text(&mut parts, rest);
        Ok(Self { parts })
    }

    /// `raw` as plain policy text, with no variable substitution: the
    /// `2008-10-17` language, where `${aws:username}` is literal.
    pub fn verbatim(raw: &str) -> Self {
        let mut parts = Vec::new();
        push_text(&mut parts, raw);
        Self { parts }
    }

    /// Whether any `${key}` reference (not counting escapes) is present.
    pub fn has_variables(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Variable { .. }))
    }

    /// Substitutes variables from `keys` and compiles the result.
    ///
    /// With `wildcards`, `*` and `?` in the policy's own text are wildcards;
    /// substituted values and escapes are always literal. Returns `None` when
    /// a referenced key is absent (or multi-valued) and has no default: IAM
    /// then treats the string as matching nothing.
    pub fn resolve(&self, keys: &ContextKeys, wildcards: bool) -> Option<Pattern> {
        let mut pattern = Pattern::new();
        for part in &self.parts {
            match part {
                Part::Text(text) if wildcards => pattern.push_glob(text),
                Part::Text(text) | Part::Literal(text) => pattern.push_literal(text),
                Part::Variable { key, default } => {
                    pattern.push_literal(&lookup(keys, key, default.as_deref())?);
                }
            }
        }
        Some(pattern)
    }

    /// Substitutes variables from `keys` and returns plain text, for
    /// operators that do not match patterns. `None` as for
    /// [`resolve`](Self::resolve).
    pub fn resolve_text(&self, keys: &ContextKeys) -> Option<String> {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) | Part::Literal(t) => text.push_str(t),
                Part::Variable { key, default } => {
                    text.push_str(&lookup(keys, key, default.as_deref())?);
                }
            }
        }
        Some(text)
    }

    /// The text with each variable replaced by a colon-free placeholder, for
    /// checking the shape of an ARN before any request is known.
    pub(crate) fn skeleton(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) | Part::Literal(t) => t.as_str(),
                Part::Variable { .. } => "VARIABLE",
            })
            .collect()
    }

    /// Splits into the six ARN components at the colons of the policy's own
    /// text. Colons inside substituted values never split, so a value cannot
    /// shift text into another component. The last component keeps any
    /// further colons. `None` if there are fewer than six components.
    pub(crate) fn split_arn(&self) -> Option<Vec<Template>> {
        let mut components: Vec<Vec<Part>> = vec![Vec::new()];
        for part in &self.parts {
            let Part::Text(text) = part else {
                components.last_mut()?.push(part.clone());
                continue;
            };
            let mut current = String::new();
            for c in text.chars() {
                if c == ':' && components.len() < ARN_COMPONENTS {
                    push_text(components.last_mut()?, &current);
                    current.clear();
                    components.push(Vec::new());
                } else {
                    current.push(c);
                }
            }
            push_text(components.last_mut()?, &current);
        }
        (components.len() == ARN_COMPONENTS).then(|| components.into_iter().map(|parts| Template { parts }).collect())
    }
}

/// Reads a policy string as a [`Template`]: with variable syntax when
/// `substitute` (policy language `2012-10-17`), verbatim otherwise. `path`
/// locates the string for error messages.
pub(crate) fn compile(raw: &str, substitute: bool, path: &str) -> Result<Template, PolicyError> {
    if !substitute {
        return Ok(Template::verbatim(raw));
    }
    Template::parse(raw).map_err(|err| PolicyError::InvalidVariable {
        path: path.to_owned(),
        value: raw.to_owned(),
        reason: err.0,
    })
}

/// Appends policy text, merging with a preceding text part.
fn push_text(parts: &mut Vec<Part>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Part::Text(previous)) = parts.last_mut() {
        previous.push_str(text);
    } else {
        parts.push(Part::Text(text.to_owned()));
    }
}

/// The value to substitute for `key`: its single value, else the default.
fn lookup(keys: &ContextKeys, key: &str, default: Option<&str>) -> Option<String> {
    keys.single_text(key).or_else(|| default.map(str::to_owned))
}

fn fail<T>(reason: impl Into<String>) -> Result<T, VariableError> {
    Err(VariableError(reason.into()))
}

/// Parses one reference; `s` starts just after `${`. Returns the part and the
/// text after the closing `}`.
fn parse_reference(s: &str) -> Result<(Part, &str), VariableError> {
    let Some(stop) = s.find(['}', ',']) else {
        return fail("\"${\" has no closing \"}\"; write ${service:key}, or ${$} for a literal \"$\"");
    };
    let name = s.get(..stop).unwrap_or_default().trim();
    let after = s.get(stop..).unwrap_or_default();
    let (default, remaining) = match after.strip_prefix(',') {
        Some(tail) => {
            let Some(quoted) = tail.trim_start().strip_prefix('\'') else {
                return fail("a default value must be in single quotes, as in ${aws:username, 'anonymous'}");
            };
            let Some(end) = quoted.find('\'') else {
                return fail("the default value has no closing single quote");
            };
            let default = quoted.get(..end).unwrap_or_default().to_owned();
            let tail = quoted.get(end + 1..).unwrap_or_default().trim_start();
            let Some(remaining) = tail.strip_prefix('}') else {
                return fail("expected \"}\" right after the quoted default value");
            };
            (Some(default), remaining)
        }
        None => (None, after.strip_prefix('}').unwrap_or(after)),
    };
    let part = match name {
        "*" | "?" | "$" if default.is_some() => {
            return fail(format!("the escape ${{{name}}} cannot have a default value"));
        }
        "*" | "?" | "$" => Part::Literal(name.to_owned()),
        "" => return fail("empty \"${}\"; name a context key, as in ${aws:username}"),
        key => {
            check_key(key)?;
            Part::Variable { key: key.to_owned(), default }
        }
    };
    Ok((part, remaining))
}

fn check_key(key: &str) -> Result<(), VariableError> {
    if key.chars().any(|c| c.is_whitespace() || matches!(c, '$' | '{' | '\'')) {
        return fail(format!("\"{key}\" is not a context key name (no spaces, quotes, \"$\" or \"{{\" allowed)"));
    }
    match key.split_once(':') {
        Some((service, name)) if !service.is_empty() && !name.is_empty() => Ok(()),
        _ => {
            fail(format!("\"{key}\" is not a context key; write service:key, as in ${{aws:username}} or ${{saml:sub}}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(pairs: &[(&str, &str)]) -> ContextKeys {
        let mut keys = ContextKeys::new();
        for (k, v) in pairs {
            keys.insert(*k, *v);
        }
        keys
    }

    #[test]
    fn substitutes_case_insensitively() {
        let t = Template::parse("user/${AWS:UserName}").unwrap();
        let p = t.resolve(&keys(&[("aws:username", "Alice")]), true).unwrap();
        assert!(p.matches("user/Alice"));
        assert!(!p.matches("user/alice"));
    }

    #[test]
    fn missing_key_resolves_to_none_unless_defaulted() {
        let t = Template::parse("u/${aws:username}").unwrap();
        assert_eq!(t.resolve(&ContextKeys::new(), true), None);
        assert_eq!(t.resolve_text(&ContextKeys::new()), None);
        let t = Template::parse("u/${ aws:username ,  'no one' }").unwrap();
        assert_eq!(t.resolve_text(&ContextKeys::new()).as_deref(), Some("u/no one"));
        assert_eq!(t.resolve_text(&keys(&[("aws:username", "x")])).as_deref(), Some("u/x"));
    }

    #[test]
    fn multi_valued_key_counts_as_missing() {
        let mut k = ContextKeys::new();
        k.insert_multi("aws:username", ["a", "b"]);
        let t = Template::parse("${aws:username}").unwrap();
        assert_eq!(t.resolve_text(&k), None);
    }

    #[test]
    fn substituted_values_are_literal() {
        let t = Template::parse("user/${aws:userid}").unwrap();
        let p = t.resolve(&keys(&[("aws:userid", "*")]), true).unwrap();
        assert!(p.matches("user/*"));
        assert!(!p.matches("user/alice"));
        let p = t.resolve(&keys(&[("aws:userid", "a?c")]), true).unwrap();
        assert!(!p.matches("user/abc"));
    }

    #[test]
    fn escapes_are_literal() {
        let t = Template::parse("a${*}b${?}c${$}{x}").unwrap();
        let p = t.resolve(&ContextKeys::new(), true).unwrap();
        assert!(p.matches("a*b?c${x}"));
        assert!(!p.matches("aXXbYc${x}"));
        assert!(!t.has_variables());
    }

    #[test]
    fn policy_text_keeps_its_wildcards() {
        let t = Template::parse("${aws:username}/*").unwrap();
        let k = keys(&[("aws:username", "bob")]);
        assert!(t.resolve(&k, true).unwrap().matches("bob/x/y"));
        assert!(!t.resolve(&k, false).unwrap().matches("bob/x/y"));
        assert!(t.resolve(&k, false).unwrap().matches("bob/*"));
    }

    #[test]
    fn verbatim_does_not_substitute() {
        let t = Template::verbatim("u/${aws:username}/*");
        assert!(!t.has_variables());
        let p = t.resolve(&keys(&[("aws:username", "bob")]), true).unwrap();
        assert!(p.matches("u/${aws:username}/x"));
        assert!(!p.matches("u/bob/x"));
    }

    #[test]
    fn lone_dollar_is_text() {
        let t = Template::parse("cost$5{").unwrap();
        assert_eq!(t.resolve_text(&ContextKeys::new()).as_deref(), Some("cost$5{"));
    }

    #[test]
    fn syntax_errors() {
        for (raw, needle) in [
            ("a${aws:username", "no closing"),
            ("${}", "empty"),
            ("${aws:username, anonymous}", "single quotes"),
            ("${aws:username, 'x}", "no closing single quote"),
            ("${aws:username, 'x' y}", "right after"),
            ("${username}", "service:key"),
            ("${aws:user name}", "not a context key name"),
            ("${*, 'x'}", "cannot have a default"),
        ] {
            let err = Template::parse(raw).unwrap_err().to_string();
            assert!(err.contains(needle), "{raw}: {err}");
        }
    }

    #[test]
    fn splits_arn_at_policy_colons_only() {
        let t = Template::parse("arn:aws:iam::123:user/${aws:userid}:x").unwrap();
        let parts = t.split_arn().unwrap();
        assert_eq!(parts.len(), 6);
        let k = keys(&[("aws:userid", "AID:bob")]);
        let last = parts[5].resolve(&k, true).unwrap();
        assert!(last.matches("user/AID:bob:x"));
        assert!(Template::parse("arn:aws:s3").unwrap().split_arn().is_none());
        assert_eq!(t.skeleton(), "arn:aws:iam::123:user/VARIABLE:x");
    }
}

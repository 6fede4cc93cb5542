//! Attribute mappings: the small template language that says what an application receives about a
//! user — `${user:email}`, `${user:groups}`, `${user:attr.costCenter}`, literals, and any
//! combination. Templates are checked when saved, with errors that say where and what is wrong;
//! evaluation fails clearly when a user lacks a value rather than sending an empty one.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What a template can refer to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Variable {
    /// The stable, opaque subject identifier (`${user:subject}`).
    Subject,
    UserName,
    Email,
    GivenName,
    FamilyName,
    DisplayName,
    ExternalId,
    /// Every group the user belongs to: one value each.
    Groups,
    /// A custom attribute (`${user:attr.NAME}`).
    Attribute(String),
}

impl Variable {
    const NAMED: [(&'static str, Variable); 8] = [
        ("subject", Variable::Subject),
        ("userName", Variable::UserName),
        ("email", Variable::Email),
        ("givenName", Variable::GivenName),
        ("familyName", Variable::FamilyName),
        ("displayName", Variable::DisplayName),
        ("externalId", Variable::ExternalId),
        ("groups", Variable::Groups),
    ];

    fn parse(name: &str) -> Option<Variable> {
        if let Some(attribute) = name.strip_prefix("attr.") {
            let valid = !attribute.is_empty()
                && attribute.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            return valid.then(|| Variable::Attribute(attribute.to_string()));
        }
        Variable::NAMED.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    }

    fn is_multi_valued(&self) -> bool {
        matches!(self, Variable::Groups)
    }
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Variable::Attribute(name) => write!(f, "${{user:attr.{name}}}"),
            other => {
                let name = Variable::NAMED.iter().find(|(_, v)| v == other).map_or("?", |(n, _)| n);
                write!(f, "${{user:{name}}}")
            }
        }
    }
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Part {
    Literal(String),
    Variable(Variable),
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// Why a template cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    #[error("the template is empty; give a literal value or a variable such as ${{user:email}}")]
    Empty,
    #[error("at column {column}: \"${{\" is not closed by \"}}\"")]
    Unclosed { column: usize },
    #[error("at column {column}: unknown variable ${{{name}}}{}; known: ${{user:subject}}, ${{user:userName}}, ${{user:email}}, ${{user:givenName}}, ${{user:familyName}}, ${{user:displayName}}, ${{user:externalId}}, ${{user:groups}}, ${{user:attr.NAME}}", .suggestion.as_ref().map(|s| format!(" (did you mean {s}?)")).unwrap_or_default())]
    UnknownVariable { column: usize, name: String, suggestion: Option<String> },
    #[error("the template uses ${{user:groups}} more than once; a value can repeat over one list only")]
    SeveralLists,
    #[error("an attribute mapping needs an attribute name")]
    NoAttributeName,
    #[error("mapping of {attribute}: {source}")]
    InMapping { attribute: String, source: Box<TemplateError> },
}

/// Why a template could not produce a value for a user.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MappingError {
    #[error(
        "user {user} has no value for {variable}, which the mapping of {attribute} needs; set it in the directory or change the mapping"
    )]
    MissingValue { user: String, variable: String, attribute: String },
}

fn distance(a: &str, b: &str) -> usize {
    // Levenshtein distance, for "did you mean" hints.
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let insertion = current.get(j).copied().unwrap_or(0) + 1;
            let deletion = previous.get(j + 1).copied().unwrap_or(0) + 1;
            current.push(substitution.min(insertion).min(deletion));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

fn suggest(name: &str) -> Option<String> {
    let candidates =
        Variable::NAMED.iter().map(|(n, _)| format!("user:{n}")).chain(std::iter::once("user:attr.NAME".to_string()));
    candidates
        .map(|c| (distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!("${{{c}}}"))
}

impl Template {
    /// Parses a template; `$$` writes a literal `$`.
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        if source.is_empty() {
            return Err(TemplateError::Empty);
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match (c, chars.peek().map(|(_, n)| *n)) {
                ('$', Some('$')) => {
                    chars.next();
                    literal.push('$');
                }
                ('$', Some('{')) => {
                    chars.next();
                    let start = i + 2;
                    let end = source.get(start..).and_then(|rest| rest.find('}')).map(|e| start + e);
                    let Some(end) = end else {
                        return Err(TemplateError::Unclosed {
                            column: source.get(..i).map_or(0, |p| p.chars().count()) + 1,
                        });
                    };
                    let name = source.get(start..end).unwrap_or("").trim();
                    let column = source.get(..i).map_or(0, |p| p.chars().count()) + 1;
                    let variable = name.strip_prefix("user:").and_then(Variable::parse).ok_or_else(|| {
                        TemplateError::UnknownVariable { column, name: name.to_string(), suggestion: suggest(name) }
                    })?;
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Variable(variable));
                    while chars.peek().is_some_and(|(j, _)| *j <= end) {
                        chars.next();
                    }
                }
                (c, _) => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        let lists = parts.iter().filter(|p| matches!(p, Part::Variable(v) if v.is_multi_valued())).count();
        if lists > 1 {
            return Err(TemplateError::SeveralLists);
        }
        Ok(Template { source: source.to_string(), parts })
    }

    /// A template that is only this text.
    pub fn literal(text: &str) -> Template {
        Template { source: text.replace('$', "$$"), parts: vec![Part::Literal(text.to_string())] }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Whether the template reads the user's groups.
    pub fn uses_groups(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Variable(v) if v.is_multi_valued()))
    }

    /// The values for `user`: one, or one per group for `${user:groups}` (none if the user is in
    /// no group). `attribute` names the mapping in errors.
    pub fn evaluate(&self, user: &UserValues, attribute: &str) -> Result<Vec<String>, MappingError> {
        let missing = |v: &Variable| MappingError::MissingValue {
            user: user.user_name.clone(),
            variable: v.to_string(),
            attribute: attribute.to_string(),
        };
        let list: Option<&[String]> = self.uses_groups().then_some(user.groups.as_slice());
        let render = |item: Option<&str>| -> Result<String, MappingError> {
            let mut out = String::new();
            for part in &self.parts {
                match part {
                    Part::Literal(text) => out.push_str(text),
                    Part::Variable(Variable::Groups) => out.push_str(item.unwrap_or("")),
                    Part::Variable(v) => out.push_str(user.single(v).ok_or_else(|| missing(v))?),
                }
            }
            Ok(out)
        };
        match list {
            Some(items) => items.iter().map(|item| render(Some(item))).collect(),
            None => Ok(vec![render(None)?]),
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// What templates read about a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserValues {
    pub subject: String,
    pub user_name: String,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub external_id: Option<String>,
    pub groups: Vec<String>,
    pub attributes: BTreeMap<String, String>,
}

impl UserValues {
    /// What templates read about directory user `user`, a member of the groups named.
    pub fn of(user: &crossfed_store::User, groups: Vec<String>) -> UserValues {
        UserValues {
            subject: user.id.clone(),
            user_name: user.user_name.clone(),
            email: user.email().map(str::to_string),
            given_name: user.given_name.clone(),
            family_name: user.family_name.clone(),
            display_name: user.display_name.clone(),
            external_id: user.external_id.clone(),
            groups,
            attributes: user.attributes.clone(),
        }
    }

    fn single(&self, variable: &Variable) -> Option<&str> {
        let value = match variable {
            Variable::Subject => Some(self.subject.as_str()),
            Variable::UserName => Some(self.user_name.as_str()),
            Variable::Email => self.email.as_deref(),
            Variable::GivenName => self.given_name.as_deref(),
            Variable::FamilyName => self.family_name.as_deref(),
            Variable::DisplayName => self.display_name.as_deref(),
            Variable::ExternalId => self.external_id.as_deref(),
            Variable::Attribute(name) => self.attributes.get(name).map(String::as_str),
            Variable::Groups => None,
        };
        value.filter(|v| !v.is_empty())
    }
}

/// One attribute an application receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeMapping {
    /// The SAML attribute name (often a URI).
    pub name: String,
    pub name_format: Option<String>,
    pub template: Template,
    /// Left out of the assertion when the user lacks a value, instead of refusing the login.
    #[serde(default)]
    pub optional: bool,
}

impl AttributeMapping {
    /// Checks a mapping from its parts, naming the attribute in errors.
    pub fn new(name: &str, template: &str) -> Result<AttributeMapping, TemplateError> {
        if name.trim().is_empty() {
            return Err(TemplateError::NoAttributeName);
        }
        let template = Template::parse(template)
            .map_err(|e| TemplateError::InMapping { attribute: name.to_string(), source: Box::new(e) })?;
        Ok(AttributeMapping {
            name: name.to_string(),
            name_format: Some(crossfed_saml::ns::ATTRNAME_URI.to_string()),
            template,
            optional: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> UserValues {
        UserValues {
            subject: "9f1c".into(),
            user_name: "alice".into(),
            email: Some("alice@example.com".into()),
            given_name: Some("Alice".into()),
            family_name: None,
            display_name: None,
            external_id: None,
            groups: vec!["agents".into(), "supervisors".into()],
            attributes: BTreeMap::from([("costCenter".into(), "42".into())]),
        }
    }

    fn eval(template: &str) -> Result<Vec<String>, MappingError> {
        Template::parse(template).unwrap().evaluate(&alice(), "test")
    }

    #[test]
    fn variables_literals_and_combinations() {
        assert_eq!(eval("${user:email}").unwrap(), ["alice@example.com"]);
        assert_eq!(eval("${user:subject}").unwrap(), ["9f1c"]);
        assert_eq!(eval("43200").unwrap(), ["43200"]);
        assert_eq!(eval("${user:givenName} <${user:email}>").unwrap(), ["Alice <alice@example.com>"]);
        assert_eq!(eval("cc-${user:attr.costCenter}").unwrap(), ["cc-42"]);
        assert_eq!(eval("price: $$5").unwrap(), ["price: $5"]);
        assert_eq!(eval("${ user:userName }").unwrap(), ["alice"]);
    }

    #[test]
    fn groups_give_one_value_each() {
        assert_eq!(eval("${user:groups}").unwrap(), ["agents", "supervisors"]);
        assert_eq!(
            eval("arn:aws:iam::123456789012:role/${user:groups}").unwrap(),
            ["arn:aws:iam::123456789012:role/agents", "arn:aws:iam::123456789012:role/supervisors"]
        );
        let mut nobody = alice();
        nobody.groups.clear();
        assert!(Template::parse("${user:groups}").unwrap().evaluate(&nobody, "g").unwrap().is_empty());
    }

    #[test]
    fn errors_say_where_and_what() {
        assert_eq!(Template::parse("").unwrap_err(), TemplateError::Empty);
        assert_eq!(Template::parse("ab${user:email").unwrap_err(), TemplateError::Unclosed { column: 3 });
        let e = Template::parse("x ${user:emial}").unwrap_err();
        assert_eq!(
            e,
            TemplateError::UnknownVariable {
                column: 3,
                name: "user:emial".into(),
                suggestion: Some("${user:email}".into())
            }
        );
        assert!(e.to_string().contains("did you mean ${user:email}?"), "{e}");
        assert!(matches!(Template::parse("${email}").unwrap_err(), TemplateError::UnknownVariable { .. }));
        assert!(matches!(Template::parse("${user:attr.}").unwrap_err(), TemplateError::UnknownVariable { .. }));
        assert_eq!(Template::parse("${user:groups}-${user:groups}").unwrap_err(), TemplateError::SeveralLists);
    }

    #[test]
    fn missing_values_are_errors_not_empty_strings() {
        let e = eval("${user:familyName}").unwrap_err();
        assert_eq!(
            e,
            MappingError::MissingValue {
                user: "alice".into(),
                variable: "${user:familyName}".into(),
                attribute: "test".into()
            }
        );
        assert!(eval("${user:attr.missing}").is_err());
    }

    #[test]
    fn literal_templates_round_trip() {
        let t = Template::literal("cost $5");
        assert_eq!(t.source(), "cost $$5");
        assert_eq!(Template::parse(t.source()).unwrap(), t);
        assert_eq!(t.evaluate(&alice(), "x").unwrap(), ["cost $5"]);
    }

    #[test]
    fn mappings_name_the_attribute_in_errors() {
        let e = AttributeMapping::new("https://aws.amazon.com/SAML/Attributes/RoleSessionName", "${user:mail}")
            .unwrap_err();
        assert!(
            e.to_string().starts_with("mapping of https://aws.amazon.com/SAML/Attributes/RoleSessionName: at column 1"),
            "{e}"
        );
        assert!(AttributeMapping::new(" ", "x").is_err());
    }
}

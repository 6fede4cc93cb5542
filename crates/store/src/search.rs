//! Conditions over directory columns, compiled to SQL. Columns are a closed set and every value
//! is a bound parameter, so no caller text ever reaches the SQL. Text compares case-insensitively
//! except where the field is case-exact (IDs, externalId), as SCIM's schema says.

use crate::error::StoreError;

/// A user column a condition may test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserField {
    Id,
    UserName,
    ExternalId,
    DisplayName,
    GivenName,
    FamilyName,
    Active,
    CreatedAt,
    UpdatedAt,
}

/// A group column a condition may test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupField {
    Id,
    DisplayName,
    ExternalId,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Ne,
    Contains,
    StartsWith,
    EndsWith,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Int(i64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition<F> {
    Compare(F, Comparison, Value),
    Present(F),
    And(Vec<Condition<F>>),
    Or(Vec<Condition<F>>),
    Not(Box<Condition<F>>),
}

/// How a column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    /// Text compared case-insensitively; `Some(key)` names a column already holding the
    /// lower-cased value (indexed), which equality then uses.
    Text {
        key: Option<&'static str>,
    },
    CaseExactText,
    Bool,
    Int,
}

pub(crate) trait Field: Copy {
    fn column(self) -> (&'static str, ColumnKind);
}

impl Field for UserField {
    fn column(self) -> (&'static str, ColumnKind) {
        match self {
            UserField::Id => ("id", ColumnKind::CaseExactText),
            UserField::UserName => ("user_name", ColumnKind::Text { key: Some("user_name_key") }),
            UserField::ExternalId => ("external_id", ColumnKind::CaseExactText),
            UserField::DisplayName => ("display_name", ColumnKind::Text { key: None }),
            UserField::GivenName => ("given_name", ColumnKind::Text { key: None }),
            UserField::FamilyName => ("family_name", ColumnKind::Text { key: None }),
            UserField::Active => ("active", ColumnKind::Bool),
            UserField::CreatedAt => ("created_at", ColumnKind::Int),
            UserField::UpdatedAt => ("updated_at", ColumnKind::Int),
        }
    }
}

impl Field for GroupField {
    fn column(self) -> (&'static str, ColumnKind) {
        match self {
            GroupField::Id => ("id", ColumnKind::CaseExactText),
            GroupField::DisplayName => ("display_name", ColumnKind::Text { key: Some("display_name_key") }),
            GroupField::ExternalId => ("external_id", ColumnKind::CaseExactText),
            GroupField::CreatedAt => ("created_at", ColumnKind::Int),
            GroupField::UpdatedAt => ("updated_at", ColumnKind::Int),
        }
    }
}

/// A bound parameter of a compiled condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Text(String),
    Int(i64),
}

/// A WHERE clause and its parameters, numbered from `$1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compiled {
    pub(crate) sql: String,
    pub(crate) params: Vec<Param>,
}

impl Compiled {
    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }
}

/// The WHERE clause a user search runs with `condition` (what the SCIM server's filters
/// become), without running it.
pub fn compile_user_condition(condition: &Condition<UserField>) -> Result<Compiled, StoreError> {
    compile(condition)
}

/// Deep enough for any filter the SCIM parser accepts (32 levels of nesting, each of which may
/// add a `NOT` and an `AND`/`OR` here, and a `ne` two more); deeper conditions are refused rather
/// than risking the stack. A chain of terms is one level, however long.
const MAX_DEPTH: usize = 128;

/// Most terms one SQL `AND`/`OR` lists side by side: SQLite reads `a OR b OR …` as a tree as
/// deep as the list is long, and refuses expressions deeper than 1000, so longer lists are
/// written as parenthesised runs of this many.
const RUN: usize = 64;

pub(crate) fn compile<F: Field>(condition: &Condition<F>) -> Result<Compiled, StoreError> {
    let mut compiled = Compiled::default();
    compiled.sql = clause(condition, &mut compiled.params, 0)?;
    Ok(compiled)
}

fn like_pattern(text: &str, prefix: bool, suffix: bool) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    if prefix {
        pattern.push('%');
    }
    pattern.push_str(&like_escaped(&text.to_lowercase()));
    if suffix {
        pattern.push('%');
    }
    pattern
}

fn bind(params: &mut Vec<Param>, param: Param) -> String {
    params.push(param);
    format!("${}", params.len())
}

fn join<F: Field>(
    parts: &[Condition<F>],
    op: &str,
    params: &mut Vec<Param>,
    depth: usize,
) -> Result<String, StoreError> {
    if parts.is_empty() {
        // An empty AND holds; an empty OR does not.
        return Ok(if op == "AND" { "1 = 1" } else { "1 = 0" }.to_string());
    }
    let separator = format!(" {op} ");
    let mut clauses = parts.iter().map(|p| clause(p, params, depth + 1)).collect::<Result<Vec<_>, _>>()?;
    while clauses.len() > RUN {
        clauses = clauses.chunks(RUN).map(|run| format!("({})", run.join(&separator))).collect();
    }
    Ok(format!("({})", clauses.join(&separator)))
}

fn clause<F: Field>(condition: &Condition<F>, params: &mut Vec<Param>, depth: usize) -> Result<String, StoreError> {
    if depth > MAX_DEPTH {
        return Err(StoreError::Invalid(format!("filter: nested more than {MAX_DEPTH} levels deep")));
    }
    match condition {
        Condition::And(parts) => join(parts, "AND", params, depth),
        Condition::Or(parts) => join(parts, "OR", params, depth),
        // A comparison with a missing (NULL) value is unknown in SQL, and NOT unknown is unknown
        // again; here it is simply false, so its negation holds, as for an absent attribute.
        Condition::Not(inner) => Ok(format!("NOT COALESCE(({}), FALSE)", clause(inner, params, depth + 1)?)),
        Condition::Present(field) => {
            let (column, kind) = field.column();
            Ok(match kind {
                ColumnKind::Text { .. } | ColumnKind::CaseExactText => {
                    format!("({column} IS NOT NULL AND {column} <> '')")
                }
                _ => format!("{column} IS NOT NULL"),
            })
        }
        Condition::Compare(field, comparison, value) => compare(*field, *comparison, value, params),
    }
}

fn compare<F: Field>(
    field: F,
    comparison: Comparison,
    value: &Value,
    params: &mut Vec<Param>,
) -> Result<String, StoreError> {
    let (column, kind) = field.column();
    let ordering = |op: &str, params: &mut Vec<Param>, param: Param, left: String| {
        let p = bind(params, param);
        format!("{left} {op} {p}")
    };
    let operator = match comparison {
        Comparison::Eq => "=",
        Comparison::Ne => "<>",
        Comparison::Gt => ">",
        Comparison::Ge => ">=",
        Comparison::Lt => "<",
        Comparison::Le => "<=",
        Comparison::Contains | Comparison::StartsWith | Comparison::EndsWith => "LIKE",
    };
    match (kind, value) {
        (ColumnKind::Text { key }, Value::Text(text)) => {
            if operator == "LIKE" {
                let pattern = like_pattern(
                    text,
                    matches!(comparison, Comparison::Contains | Comparison::EndsWith),
                    matches!(comparison, Comparison::Contains | Comparison::StartsWith),
                );
                let p = bind(params, Param::Text(pattern));
                // The lower-cased key column when there is one: SQLite's LOWER folds ASCII only.
                let left = key.map_or_else(|| format!("LOWER({column})"), str::to_string);
                return Ok(format!("{left} LIKE {p} ESCAPE '\\'"));
            }
            let left = match key {
                Some(key) => key.to_string(),
                None => format!("LOWER({column})"),
            };
            Ok(ordering(operator, params, Param::Text(text.to_lowercase()), left))
        }
        (ColumnKind::CaseExactText, Value::Text(text)) => {
            if operator == "LIKE" {
                // LIKE folds ASCII case in SQLite: compare exact pieces instead, with functions
                // both backends have. A parameter is bound once per use, as SQLite numbers them.
                if text.is_empty() {
                    return Ok(format!("{column} IS NOT NULL"));
                }
                let mut p = || bind(params, Param::Text(text.clone()));
                return Ok(match comparison {
                    Comparison::StartsWith => format!("SUBSTR({column}, 1, LENGTH({})) = {}", p(), p()),
                    Comparison::EndsWith => format!(
                        "(LENGTH({column}) >= LENGTH({}) AND SUBSTR({column}, LENGTH({column}) - LENGTH({}) + 1) = {})",
                        p(),
                        p(),
                        p()
                    ),
                    _ => format!("REPLACE({column}, {}, '') <> {column}", p()),
                });
            }
            Ok(ordering(operator, params, Param::Text(text.clone()), column.to_string()))
        }
        (ColumnKind::Bool, Value::Bool(flag)) if matches!(comparison, Comparison::Eq | Comparison::Ne) => {
            Ok(ordering(operator, params, Param::Int(i64::from(*flag)), column.to_string()))
        }
        (ColumnKind::Int, Value::Int(number)) if operator != "LIKE" => {
            Ok(ordering(operator, params, Param::Int(*number), column.to_string()))
        }
        _ => Err(StoreError::Invalid(format!("filter on {column}: {comparison:?} does not apply to {value:?}"))),
    }
}

/// `text` matching itself only, in a LIKE pattern whose escape character is a backslash.
pub(crate) fn like_escaped(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn values_are_parameters_and_like_wildcards_are_escaped() {
        let c = Condition::And(vec![
            Condition::Compare(UserField::UserName, Comparison::Eq, Value::Text("Bob@X".into())),
            Condition::Compare(UserField::DisplayName, Comparison::Contains, Value::Text("50%_off".into())),
        ]);
        let compiled = compile(&c).unwrap();
        assert_eq!(compiled.sql, "(user_name_key = $1 AND LOWER(display_name) LIKE $2 ESCAPE '\\')");
        let not = compile(&Condition::Not(Box::new(Condition::Compare(
            UserField::UserName,
            Comparison::StartsWith,
            Value::Text("É".into()),
        ))))
        .unwrap();
        assert_eq!(not.sql, "NOT COALESCE((user_name_key LIKE $1 ESCAPE '\\'), FALSE)");
        assert_eq!(not.params, vec![Param::Text("é%".into())]);
        assert_eq!(compiled.params, vec![Param::Text("bob@x".into()), Param::Text("%50\\%\\_off%".into())]);
    }

    #[test]
    fn mismatched_types_and_deep_nesting_are_refused() {
        let c = Condition::Compare(UserField::Active, Comparison::Gt, Value::Bool(true));
        assert!(compile(&c).is_err());
        let mut deep = Condition::Present(UserField::Id);
        for _ in 0..=MAX_DEPTH {
            deep = Condition::Not(Box::new(deep));
        }
        assert!(matches!(compile(&deep), Err(StoreError::Invalid(_))));
    }

    #[test]
    fn long_chains_are_one_level_written_in_runs() {
        let term = |i: i64| Condition::Compare(UserField::CreatedAt, Comparison::Eq, Value::Int(i));
        let chain = Condition::Or((0..1000).map(term).collect());
        let compiled = compile(&chain).unwrap();
        assert_eq!(compiled.params.len(), 1000);
        // 1000 terms: 16 runs of at most 64, each in its own parentheses.
        assert_eq!(compiled.sql.matches('(').count(), 17, "{}", compiled.sql);
        assert!(compiled.sql.starts_with("((created_at = $1 OR created_at = $2 OR "), "{}", compiled.sql);
        let short = compile(&Condition::Or((0..3).map(term).collect())).unwrap();
        assert_eq!(short.sql, "(created_at = $1 OR created_at = $2 OR created_at = $3)");
    }
}

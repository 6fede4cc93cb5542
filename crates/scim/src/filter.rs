//! Filters (RFC 7644 §3.4.2.2): parsing into a tree and evaluating the tree against a
//! resource's SCIM JSON.
//!
//! The parser is a recursive descent over the text with explicit bounds on length, terms and
//! nesting, so hostile input costs a bounded number of steps and never exhausts the stack. A
//! chain of `and` or `or` terms is read in a loop into one node holding every term, so the tree
//! (and everything that walks it: evaluation, validation, printing, the store's SQL) is as deep
//! as the filter's nesting, never as long as its chains. Checking a filter against a resource
//! type's schema is [`crate::check`]'s.

use std::cmp::Ordering;

use serde_json::{Number, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::path::parse_attr_path;
use crate::schema::{AttrType, AttributeDef, Resolved, ResourceType};
use crate::{AttrPath, ScimError, ScimType};

/// Longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 32 * 1024;
/// Most terms (comparisons and `pr` tests, those inside `[...]` included) a filter may hold.
pub const MAX_FILTER_TERMS: usize = 1000;
/// Deepest nesting of parentheses, `not (...)` and `[...]` accepted.
pub const MAX_FILTER_DEPTH: usize = 32;

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    fn from_word(w: &str) -> Option<Self> {
        const ALL: [CompareOp; 9] = [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ];
        ALL.into_iter().find(|op| op.as_str().eq_ignore_ascii_case(w))
    }
}

/// A parsed filter. Inside `ValuePath`, paths are relative to one element of the
/// multi-valued attribute (`type`, not `emails.type`). `And` holds when every part does, `Or`
/// when some part does; the parser gives them two or more parts, none of them of the same kind
/// (`(a or b) or c` is `a or b or c`).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare { path: AttrPath, op: CompareOp, value: Value },
    Present(AttrPath),
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    ValuePath { path: AttrPath, filter: Box<Filter> },
}

/// Parses a filter; every error is 400 `invalidFilter` naming the character position.
pub fn parse_filter(text: &str) -> Result<Filter, ScimError> {
    if text.len() > MAX_FILTER_LEN {
        return Err(ScimError::bad_request(
            ScimType::InvalidFilter,
            format!("the filter is {} bytes long; the limit is {MAX_FILTER_LEN} bytes, so split the query", text.len()),
        ));
    }
    let mut p = Parser::new(text);
    p.skip_ws();
    if p.at_end() {
        return Err(p.error(p.pos, "the filter is empty; send an expression such as userName eq \"alice\""));
    }
    let f = p.parse_or(0, false)?;
    p.skip_ws();
    if !p.at_end() {
        let msg = if p.peek() == Some(')') {
            "this ')' has no matching '('".to_owned()
        } else {
            format!("expected 'and', 'or' or the end of the filter, found {}", p.describe(p.pos))
        };
        return Err(p.error(p.pos, &msg));
    }
    Ok(f)
}

/// Character-level recursive-descent parser; also used for PATCH paths, which embed filters.
pub(crate) struct Parser<'a> {
    text: &'a str,
    pub(crate) pos: usize,
    /// Terms read so far, against [`MAX_FILTER_TERMS`].
    terms: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '$' | '-' | '+')
}

/// One node of `parts` made with `make`, a part of the same kind spliced in (`unwrap` gives its
/// parts back); a single part stands alone.
fn joined(
    parts: Vec<Filter>,
    make: fn(Vec<Filter>) -> Filter,
    unwrap: fn(Filter) -> Result<Vec<Filter>, Filter>,
) -> Filter {
    let mut parts = parts;
    if parts.len() == 1
        && let Some(only) = parts.pop()
    {
        return only;
    }
    let mut flat = Vec::with_capacity(parts.len());
    for part in parts {
        match unwrap(part) {
            Ok(inner) => flat.extend(inner),
            Err(single) => flat.push(single),
        }
    }
    make(flat)
}

impl<'a> Parser<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Parser { text, pos: 0, terms: 0 }
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Skips whitespace; true if there was any.
    pub(crate) fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        self.pos > start
    }

    fn peek_word(&self) -> &'a str {
        let rest = self.rest();
        let end = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
        rest.get(..end).unwrap_or("")
    }

    pub(crate) fn read_word(&mut self) -> &'a str {
        let w = self.peek_word();
        self.pos += w.len();
        w
    }

    /// What is at `at`, for error messages.
    pub(crate) fn describe(&self, at: usize) -> String {
        match self.text.get(at..) {
            None | Some("") => "the end of the filter".to_owned(),
            Some(rest) => {
                let shown: String = rest.chars().take(20).collect();
                format!("\"{shown}\"")
            }
        }
    }

    pub(crate) fn error(&self, at: usize, msg: &str) -> ScimError {
        let column = self.text.get(..at).map_or(at, |s| s.chars().count()) + 1;
        ScimError::bad_request(ScimType::InvalidFilter, format!("invalid filter at character {column}: {msg}"))
    }

    fn enter(&self, depth: usize, at: usize) -> Result<usize, ScimError> {
        if depth >= MAX_FILTER_DEPTH {
            return Err(self.error(
                at,
                &format!("the filter nests more than {MAX_FILTER_DEPTH} levels of '(', 'not (' or '['; simplify it"),
            ));
        }
        Ok(depth + 1)
    }

    /// Consumes `kw` if it is the next whole word (any case).
    fn keyword(&mut self, kw: &str) -> bool {
        if self.peek_word().eq_ignore_ascii_case(kw) {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }

    /// Consumes `kw` and the whitespace before it if it comes next; else consumes nothing.
    fn next_keyword(&mut self, kw: &str) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.keyword(kw) {
            return true;
        }
        self.pos = save;
        false
    }

    /// `a or b or …`, read in a loop into one node.
    pub(crate) fn parse_or(&mut self, depth: usize, in_value: bool) -> Result<Filter, ScimError> {
        let mut parts = vec![self.parse_and(depth, in_value)?];
        while self.next_keyword("or") {
            parts.push(self.parse_and(depth, in_value)?);
        }
        Ok(joined(parts, Filter::Or, |f| match f {
            Filter::Or(inner) => Ok(inner),
            other => Err(other),
        }))
    }

    /// `a and b and …`, read in a loop into one node.
    fn parse_and(&mut self, depth: usize, in_value: bool) -> Result<Filter, ScimError> {
        let mut parts = vec![self.parse_unary(depth, in_value)?];
        while self.next_keyword("and") {
            parts.push(self.parse_unary(depth, in_value)?);
        }
        Ok(joined(parts, Filter::And, |f| match f {
            Filter::And(inner) => Ok(inner),
            other => Err(other),
        }))
    }

    /// Counts one more term, refusing the filter past [`MAX_FILTER_TERMS`].
    fn count_term(&mut self, at: usize) -> Result<(), ScimError> {
        self.terms += 1;
        if self.terms > MAX_FILTER_TERMS {
            return Err(self.error(
                at,
                &format!("the filter holds more than {MAX_FILTER_TERMS} terms, the limit; split the query"),
            ));
        }
        Ok(())
    }

    fn parse_unary(&mut self, depth: usize, in_value: bool) -> Result<Filter, ScimError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            None => Err(self.error(start, "expected an attribute, 'not' or '(' but the filter ended")),
            Some('(') => {
                let inner_depth = self.enter(depth, start)?;
                self.bump();
                let inner = self.parse_or(inner_depth, in_value)?;
                self.expect_close(')', start)?;
                Ok(inner)
            }
            Some(_) => {
                if self.peek_word().eq_ignore_ascii_case("not") {
                    let save = self.pos;
                    self.read_word();
                    self.skip_ws();
                    if self.peek() == Some('(') {
                        let open = self.pos;
                        let inner_depth = self.enter(depth, start)?;
                        self.bump();
                        let inner = self.parse_or(inner_depth, in_value)?;
                        self.expect_close(')', open)?;
                        return Ok(Filter::Not(Box::new(inner)));
                    }
                    // An attribute that happens to be called "not".
                    self.pos = save;
                }
                self.parse_attr_expr(depth, in_value)
            }
        }
    }

    fn expect_close(&mut self, close: char, open_at: usize) -> Result<(), ScimError> {
        self.skip_ws();
        if self.peek() == Some(close) {
            self.bump();
            return Ok(());
        }
        let open_col = self.text.get(..open_at).map_or(open_at, |s| s.chars().count()) + 1;
        Err(self.error(
            self.pos,
            &format!(
                "expected 'and', 'or' or '{close}' closing the one at character {open_col}, found {}",
                self.describe(self.pos)
            ),
        ))
    }

    /// Reads an attribute path word at the current position.
    pub(crate) fn parse_path(&mut self) -> Result<AttrPath, ScimError> {
        let start = self.pos;
        let word = self.read_word();
        if word.is_empty() {
            return Err(self.error(start, &format!("expected an attribute name, found {}", self.describe(start))));
        }
        parse_attr_path(word).map_err(|why| self.error(start, &why))
    }

    fn parse_attr_expr(&mut self, depth: usize, in_value: bool) -> Result<Filter, ScimError> {
        let start = self.pos;
        self.count_term(start)?;
        let path = self.parse_path()?;
        if self.peek() == Some('[') {
            if in_value {
                return Err(self.error(self.pos, "a value filter '[...]' cannot appear inside another one"));
            }
            if path.sub_attr.is_some() {
                return Err(self.error(
                    self.pos,
                    "a value filter '[...]' follows a multi-valued attribute such as emails, not a sub-attribute",
                ));
            }
            let open = self.pos;
            let inner_depth = self.enter(depth, open)?;
            self.bump();
            let inner = self.parse_or(inner_depth, true)?;
            self.expect_close(']', open)?;
            return Ok(Filter::ValuePath { path, filter: Box::new(inner) });
        }
        let attr_text = self.text.get(start..self.pos).unwrap_or("");
        if !self.skip_ws() {
            return Err(self.error(
                self.pos,
                &format!(
                    "expected a space and then an operator after \"{attr_text}\", found {}",
                    self.describe(self.pos)
                ),
            ));
        }
        let op_at = self.pos;
        let word = self.read_word();
        if word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_word(word) else {
            return Err(self.error(
                op_at,
                &format!(
                    "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after \"{attr_text}\", found {}",
                    self.describe(op_at)
                ),
            ));
        };
        if !self.skip_ws() {
            return Err(self.error(
                self.pos,
                &format!(
                    "expected a space and then a value after '{}', found {}",
                    op.as_str(),
                    self.describe(self.pos)
                ),
            ));
        }
        let value = self.parse_value()?;
        Ok(Filter::Compare { path, op, value })
    }

    fn parse_value(&mut self) -> Result<Value, ScimError> {
        let start = self.pos;
        if self.peek() == Some('"') {
            return self.parse_string().map(Value::String);
        }
        let word = self.read_word();
        const EXPECTED: &str = "a value (a \"double-quoted\" string, a number, true, false or null)";
        if word.is_empty() {
            return Err(self.error(start, &format!("expected {EXPECTED}, found {}", self.describe(start))));
        }
        if word.eq_ignore_ascii_case("true") {
            return Ok(Value::Bool(true));
        }
        if word.eq_ignore_ascii_case("false") {
            return Ok(Value::Bool(false));
        }
        if word.eq_ignore_ascii_case("null") {
            return Ok(Value::Null);
        }
        // serde_json's default float reading can be one step off in the last digit; the
        // standard library's is correctly rounded, so a printed filter reads back the same.
        let number = serde_json::from_str::<Number>(word)
            .ok()
            .and_then(|n| if n.is_f64() { word.parse::<f64>().ok().and_then(Number::from_f64) } else { Some(n) });
        match number {
            Some(n) => Ok(Value::Number(n)),
            None => {
                Err(self.error(start, &format!("expected {EXPECTED}, found \"{word}\"; put strings in double quotes")))
            }
        }
    }

    /// A JSON string literal, decoded by serde_json so every JSON escape works.
    fn parse_string(&mut self) -> Result<String, ScimError> {
        let start = self.pos;
        self.bump();
        loop {
            match self.bump() {
                None => {
                    return Err(self.error(start, "this string is not closed; end it with a double quote"));
                }
                Some('\\') => {
                    if self.bump().is_none() {
                        return Err(self.error(start, "this string ends in a lone backslash"));
                    }
                }
                Some('"') => break,
                Some(_) => {}
            }
        }
        let literal = self.text.get(start..self.pos).unwrap_or("");
        serde_json::from_str::<String>(literal).map_err(|e| {
            self.error(start, &format!("invalid string literal ({e}); use JSON escapes such as \\\" and \\u00e9"))
        })
    }
}

/// Writes `parts` separated by `separator`, in parentheses those `parens` says need them.
fn joined_with(
    f: &mut std::fmt::Formatter<'_>,
    parts: &[Filter],
    separator: &str,
    parens: fn(&Filter) -> bool,
) -> std::fmt::Result {
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        if parens(part) { write!(f, "({part})")? } else { write!(f, "{part}")? }
    }
    Ok(())
}

impl std::fmt::Display for Filter {
    /// Writes the filter back as text that parses to the same tree, with only the
    /// parentheses the tree needs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str()),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::And(parts) => joined_with(f, parts, " and ", |p| matches!(p, Filter::Or(..) | Filter::And(..))),
            Filter::Or(parts) => joined_with(f, parts, " or ", |p| matches!(p, Filter::Or(..))),
            Filter::Not(x) => write!(f, "not ({x})"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

/// What paths are relative to while evaluating: the resource, or one element of a
/// multi-valued complex attribute (inside `[...]`).
#[derive(Clone, Copy)]
pub(crate) enum Scope<'a> {
    Resource(&'a ResourceType),
    Element(&'static AttributeDef),
}

pub(crate) fn resolve_in(scope: Scope<'_>, path: &AttrPath) -> Option<Resolved> {
    match scope {
        Scope::Resource(rt) => rt.resolve(path),
        Scope::Element(parent) => {
            if path.schema.is_some() || path.sub_attr.is_some() {
                return None;
            }
            Some(Resolved { extension: None, attr: parent.sub(&path.attr)?, sub: None })
        }
    }
}

impl Filter {
    /// Whether `resource` (SCIM JSON) satisfies the filter. Unknown attributes and
    /// comparisons that make no sense for the attribute's type (ordering booleans,
    /// `co` on numbers) match nothing.
    pub fn matches(&self, resource: &Value, rt: &ResourceType) -> bool {
        eval(self, Scope::Resource(rt), resource)
    }

    /// Evaluates a value filter against one element of `parent` (PATCH paths use this).
    pub(crate) fn matches_element(&self, element: &Value, parent: &'static AttributeDef) -> bool {
        eval(self, Scope::Element(parent), element)
    }

    /// The `attr eq value` terms joined by `and`, which describe an element the filter
    /// selects; PATCH builds a new element from them when nothing matches.
    pub(crate) fn eq_terms(&self) -> Vec<(&AttrPath, &Value)> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(f) = stack.pop() {
            match f {
                Filter::Compare { path, op: CompareOp::Eq, value } => out.push((path, value)),
                Filter::And(parts) => stack.extend(parts.iter().rev()),
                _ => {}
            }
        }
        out
    }
}

fn eval(f: &Filter, scope: Scope<'_>, node: &Value) -> bool {
    match f {
        Filter::And(parts) => parts.iter().all(|p| eval(p, scope, node)),
        Filter::Or(parts) => parts.iter().any(|p| eval(p, scope, node)),
        Filter::Not(x) => !eval(x, scope, node),
        Filter::Present(path) => {
            let Some(r) = resolve_in(scope, path) else { return false };
            values_at(node, &r).iter().any(|v| is_present(v))
        }
        Filter::Compare { path, op, value } => {
            let Some(r) = resolve_in(scope, path) else { return false };
            let mut vals = values_at(node, &r);
            let def = compared(r.target());
            if !std::ptr::eq(def, r.target()) {
                vals = vals.into_iter().filter_map(|v| get_ci(v, "value")).flat_map(flatten).collect();
            }
            compare(&vals, def, *op, value)
        }
        Filter::ValuePath { path, filter } => {
            let Some(r) = resolve_in(scope, path) else { return false };
            if r.attr.kind != AttrType::Complex || r.sub.is_some() {
                return false;
            }
            values_at(node, &r).into_iter().any(|el| eval(filter, Scope::Element(r.attr), el))
        }
    }
}

/// The attribute a comparison on `def` tests: `emails co "x"` means the emails' `value`
/// sub-attribute (RFC 7644 §3.4.2.2), so a complex attribute with one compares that.
pub(crate) fn compared(def: &'static AttributeDef) -> &'static AttributeDef {
    match def.sub("value") {
        Some(value_def) if def.kind == AttrType::Complex => value_def,
        _ => def,
    }
}

/// Case-insensitive object key lookup, preferring an exact match.
pub(crate) fn get_ci<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    let obj = v.as_object()?;
    obj.get(key).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// The non-null values of `v`, looking inside arrays.
fn flatten(v: &Value) -> Vec<&Value> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().filter(|i| !i.is_null()).collect(),
        other => vec![other],
    }
}

/// The values a resolved path points at in `node`, arrays flattened.
fn values_at<'v>(node: &'v Value, r: &Resolved) -> Vec<&'v Value> {
    let container = match r.extension {
        Some(urn) => get_ci(node, urn),
        None => Some(node),
    };
    let Some(top) = container.and_then(|c| get_ci(c, r.attr.name)) else { return Vec::new() };
    let vals = flatten(top);
    match r.sub {
        None => vals,
        Some(sub) => vals.into_iter().filter_map(|v| get_ci(v, sub.name)).flat_map(flatten).collect(),
    }
}

/// RFC 7644 `pr`: a non-empty value, or a complex value with some non-empty part.
pub(crate) fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(is_present),
        Value::Object(o) => o.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// The comparison value prepared once for the attribute's type.
enum Expected {
    Str(String),
    Bool(bool),
    Num(Number),
    Time(OffsetDateTime),
}

fn prepare(def: &AttributeDef, op: CompareOp, expected: &Value) -> Option<Expected> {
    use CompareOp::{Co, Eq, Ew, Ne, Sw};
    let fold = |s: &str| if def.case_exact { s.to_owned() } else { s.to_lowercase() };
    match (def.kind, expected) {
        (AttrType::Boolean, Value::Bool(b)) if matches!(op, Eq | Ne) => Some(Expected::Bool(*b)),
        (AttrType::Integer | AttrType::Decimal, Value::Number(n)) if !matches!(op, Co | Sw | Ew) => {
            Some(Expected::Num(n.clone()))
        }
        (AttrType::DateTime, Value::String(s)) if matches!(op, Co | Sw | Ew) => Some(Expected::Str(fold(s))),
        (AttrType::DateTime, Value::String(s)) => OffsetDateTime::parse(s, &Rfc3339).ok().map(Expected::Time),
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(s)) => Some(Expected::Str(fold(s))),
        _ => None,
    }
}

fn ordering_holds(ord: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Ne | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

pub(crate) fn number_cmp(a: &Number, b: &Number) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn test_one(v: &Value, def: &AttributeDef, op: CompareOp, expected: &Expected) -> bool {
    match expected {
        Expected::Str(e) => {
            let Some(s) = v.as_str() else { return false };
            let s = if def.case_exact { s.to_owned() } else { s.to_lowercase() };
            match op {
                CompareOp::Co => s.contains(e.as_str()),
                CompareOp::Sw => s.starts_with(e.as_str()),
                CompareOp::Ew => s.ends_with(e.as_str()),
                _ => ordering_holds(s.as_str().cmp(e.as_str()), op),
            }
        }
        Expected::Bool(b) => v.as_bool() == Some(*b) && op == CompareOp::Eq,
        Expected::Num(n) => v.as_number().and_then(|x| number_cmp(x, n)).is_some_and(|ord| ordering_holds(ord, op)),
        Expected::Time(t) => v
            .as_str()
            .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
            .is_some_and(|x| ordering_holds(x.cmp(t), op)),
    }
}

/// Compares every value; a multi-valued attribute matches if any value does. `ne` is the
/// negation of `eq`, so it also matches resources without the attribute; `eq null` matches
/// exactly those.
fn compare(vals: &[&Value], def: &AttributeDef, op: CompareOp, expected: &Value) -> bool {
    if expected.is_null() {
        let present = vals.iter().any(|v| is_present(v));
        return match op {
            CompareOp::Eq => !present,
            CompareOp::Ne => present,
            _ => false,
        };
    }
    let Some(prepared) = prepare(def, op, expected) else { return false };
    match op {
        CompareOp::Ne => !vals.iter().any(|v| test_one(v, def, CompareOp::Eq, &prepared)),
        _ => vals.iter().any(|v| test_one(v, def, op, &prepared)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn display_round_trips() {
        for text in [
            "userName eq \"bjensen\"",
            "a pr and (b pr or c pr)",
            "a pr or b pr and c pr",
            "not (a pr) and emails[type eq \"work\" and value co \"@x\"]",
            "(a pr or b pr) and c pr",
            "x eq 1.5 or y eq null or z eq true",
        ] {
            let f = parse_filter(text).unwrap();
            let again = parse_filter(&f.to_string()).unwrap();
            assert_eq!(f, again, "{text} -> {f}");
        }
    }

    #[test]
    fn eq_terms_collects_anded_equalities() {
        let f = parse_filter("type eq \"work\" and primary eq true and value co \"x\"").unwrap();
        let terms: Vec<String> = f.eq_terms().iter().map(|(p, v)| format!("{p}={v}")).collect();
        assert_eq!(terms, ["type=\"work\"", "primary=true"]);
    }
}

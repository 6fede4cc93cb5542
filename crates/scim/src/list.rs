//! Queries on resource lists (RFC 7644 §3.4.2): query parameters, the list response, sorting,
//! and `attributes`/`excludedAttributes` projection (§3.4.2.5, RFC 7643 §7 `returned`).

use std::cmp::Ordering;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::filter::{get_ci, number_cmp};
use crate::schema::{AttrType, AttributeDef, ResourceType, SchemaDef, find_in};
use crate::{AttrPath, Filter, LIST_RESPONSE, ScimError, ScimType, parse_filter};

/// A parsed list request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based; values below 1 were raised to 1 (RFC 7644 §3.4.2.4).
    pub start_index: i64,
    /// `None` when absent (the server picks); negative values were raised to 0.
    pub count: Option<i64>,
    pub sort_by: Option<AttrPath>,
    pub descending: bool,
    pub attributes: Vec<AttrPath>,
    pub excluded_attributes: Vec<AttrPath>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            filter: None,
            start_index: 1,
            count: None,
            sort_by: None,
            descending: false,
            attributes: Vec::new(),
            excluded_attributes: Vec::new(),
        }
    }
}

const KNOWN_PARAMS: [&str; 7] =
    ["filter", "startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes"];

/// Reads the list parameters from decoded query pairs; names are matched ignoring case and
/// other parameters are ignored. A blank `filter` counts as no filter.
pub fn parse_list_query(params: &[(String, String)]) -> Result<ListQuery, ScimError> {
    let mut q = ListQuery::default();
    let mut seen = [false; KNOWN_PARAMS.len()];
    for (name, value) in params {
        let Some(idx) = KNOWN_PARAMS.iter().position(|k| k.eq_ignore_ascii_case(name)) else { continue };
        let canonical = KNOWN_PARAMS.get(idx).copied().unwrap_or("");
        if let Some(flag) = seen.get_mut(idx) {
            if *flag {
                return Err(ScimError::bad_request(
                    ScimType::InvalidSyntax,
                    format!("the query parameter \"{canonical}\" appears more than once; send it once"),
                ));
            }
            *flag = true;
        }
        let value = value.trim();
        match canonical {
            "filter" if value.is_empty() => {}
            "filter" => q.filter = Some(parse_filter(value)?),
            // RFC 7644 §3.4.2.4: a startIndex below 1 is read as 1, a negative count as 0.
            "startIndex" => q.start_index = parse_int(canonical, value, "1 or more (below 1 is read as 1)")?.max(1),
            "count" => q.count = Some(parse_int(canonical, value, "0 or more (below 0 is read as 0)")?.max(0)),
            "sortBy" if value.is_empty() => {}
            "sortBy" => q.sort_by = Some(AttrPath::parse(value)?),
            "sortOrder" => {
                q.descending = if value.eq_ignore_ascii_case("descending") {
                    true
                } else if value.eq_ignore_ascii_case("ascending") {
                    false
                } else {
                    return Err(ScimError::bad_request(
                        ScimType::InvalidValue,
                        format!("sortOrder is \"{value}\"; it must be ascending or descending"),
                    ));
                }
            }
            "attributes" => q.attributes = parse_path_list(value)?,
            "excludedAttributes" => q.excluded_attributes = parse_path_list(value)?,
            _ => {}
        }
    }
    Ok(q)
}

/// A whole-number parameter; `range` says which values it takes, for the error.
fn parse_int(name: &str, value: &str, range: &str) -> Result<i64, ScimError> {
    value.parse::<i64>().map_err(|_| {
        ScimError::bad_request(
            ScimType::InvalidValue,
            format!("the query parameter {name} is \"{value}\"; give a whole number, {range}"),
        )
    })
}

fn parse_path_list(value: &str) -> Result<Vec<AttrPath>, ScimError> {
    value.split(',').map(str::trim).filter(|p| !p.is_empty()).map(AttrPath::parse).collect()
}

/// A `ListResponse` message; `itemsPerPage` is the number of resources on this page.
pub fn list_response_json(resources: Vec<Value>, total_results: i64, start_index: i64) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total_results,
        "itemsPerPage": resources.len(),
        "startIndex": start_index,
        "Resources": resources,
    })
}

/// The value to sort a resource by: for multi-valued attributes the primary value, else the
/// first (RFC 7644 §3.4.2.3).
enum SortKey {
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
    Time(OffsetDateTime),
}

impl SortKey {
    fn rank(&self) -> u8 {
        match self {
            SortKey::Bool(_) => 0,
            SortKey::Num(_) => 1,
            SortKey::Time(_) => 2,
            SortKey::Str(_) => 3,
        }
    }

    fn compare(&self, other: &SortKey) -> Ordering {
        match (self, other) {
            (SortKey::Str(a), SortKey::Str(b)) => a.cmp(b),
            (SortKey::Num(a), SortKey::Num(b)) => number_cmp(a, b).unwrap_or(Ordering::Equal),
            (SortKey::Bool(a), SortKey::Bool(b)) => a.cmp(b),
            (SortKey::Time(a), SortKey::Time(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

fn sort_key(resource: &Value, rt: &ResourceType, path: &AttrPath) -> Option<SortKey> {
    let r = rt.resolve(path)?;
    let container = match r.extension {
        Some(urn) => get_ci(resource, urn)?,
        None => resource,
    };
    let mut v = get_ci(container, r.attr.name)?;
    if let Value::Array(items) = v {
        let primary = items.iter().find(|i| get_ci(i, "primary").and_then(Value::as_bool) == Some(true));
        v = primary.or_else(|| items.first())?;
    }
    let (v, def): (&Value, &AttributeDef) = match r.sub {
        Some(sub) => (get_ci(v, sub.name)?, sub),
        None if r.attr.kind == AttrType::Complex => (get_ci(v, "value")?, r.attr.sub("value")?),
        None => (v, r.attr),
    };
    match (def.kind, v) {
        (_, Value::Bool(b)) => Some(SortKey::Bool(*b)),
        (_, Value::Number(n)) => Some(SortKey::Num(n.clone())),
        (AttrType::DateTime, Value::String(s)) => match OffsetDateTime::parse(s, &Rfc3339) {
            Ok(t) => Some(SortKey::Time(t)),
            Err(_) => Some(SortKey::Str(s.clone())),
        },
        (_, Value::String(s)) if def.case_exact => Some(SortKey::Str(s.clone())),
        (_, Value::String(s)) => Some(SortKey::Str(s.to_lowercase())),
        _ => None,
    }
}

/// Sorts resources by an attribute (stable). Strings compare ignoring case unless the
/// schema says caseExact; resources without the attribute go last in either order, so
/// `descending` never puts the blanks first.
pub fn sort_resources(resources: &mut [Value], rt: &ResourceType, sort_by: &AttrPath, descending: bool) {
    let mut keyed: Vec<(Option<SortKey>, Value)> =
        resources.iter_mut().map(|r| (sort_key(r, rt, sort_by), std::mem::take(r))).collect();
    keyed.sort_by(|(a, _), (b, _)| match (a, b) {
        (Some(a), Some(b)) => {
            let ord = a.compare(b);
            if descending { ord.reverse() } else { ord }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    });
    for (slot, (_, v)) in resources.iter_mut().zip(keyed) {
        *slot = v;
    }
}

/// Whether `p` names attribute `attr` of schema `schema` (unqualified names mean the core
/// schema, as RFC 7644 §3.10 requires extension attributes to carry their URN).
fn names_attr(p: &AttrPath, schema: &SchemaDef, is_core: bool, attr: &str) -> bool {
    let schema_ok = match &p.schema {
        None => is_core,
        Some(s) => s.eq_ignore_ascii_case(schema.id),
    };
    schema_ok && p.attr.eq_ignore_ascii_case(attr)
}

fn names_schema(p: &AttrPath, schema: &SchemaDef) -> bool {
    p.is_whole_schema() && p.schema.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(schema.id))
}

/// Applies `f` to the value or each element of an array.
fn each_object(v: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    match v {
        Value::Object(o) => f(o),
        Value::Array(items) => {
            for item in items.iter_mut() {
                if let Value::Object(o) = item {
                    f(o);
                }
            }
            items.retain(|i| !i.as_object().is_some_and(Map::is_empty));
        }
        _ => {}
    }
}

fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Projects one attribute's value; `None` drops it.
fn project_attr(
    def: &AttributeDef,
    value: &Value,
    schema: &SchemaDef,
    is_core: bool,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Option<Value> {
    if def.returned == "never" {
        return None;
    }
    let mut v = value.clone();
    // Sub-attributes that are never returned go regardless of what was asked.
    each_object(&mut v, &mut |o| o.retain(|k, _| def.sub(k).is_none_or(|s| s.returned != "never")));
    if def.returned == "always" {
        return Some(v);
    }
    if !attributes.is_empty() {
        let asked: Vec<&AttrPath> = attributes.iter().filter(|p| names_attr(p, schema, is_core, def.name)).collect();
        if asked.iter().any(|p| p.sub_attr.is_none()) {
            return Some(v);
        }
        if asked.is_empty() || def.kind != AttrType::Complex {
            return None;
        }
        let keep = |k: &str| {
            def.sub(k).is_some_and(|s| s.returned == "always")
                || asked.iter().any(|p| p.sub_attr.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(k)))
        };
        each_object(&mut v, &mut |o| o.retain(|k, _| keep(k)));
        return (!is_empty_value(&v)).then_some(v);
    }
    if def.returned == "request" {
        return None;
    }
    let dropped: Vec<&AttrPath> = excluded.iter().filter(|p| names_attr(p, schema, is_core, def.name)).collect();
    if dropped.iter().any(|p| p.sub_attr.is_none()) {
        return None;
    }
    if !dropped.is_empty() {
        let gone = |k: &str| {
            def.sub(k).is_none_or(|s| s.returned != "always")
                && dropped.iter().any(|p| p.sub_attr.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(k)))
        };
        each_object(&mut v, &mut |o| o.retain(|k, _| !gone(k)));
        if is_empty_value(&v) {
            return None;
        }
    }
    Some(v)
}

fn project_object(
    obj: &Map<String, Value>,
    schema: &SchemaDef,
    is_core: bool,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in obj {
        match find_in(schema.attributes, key) {
            Some(def) => {
                if let Some(v) = project_attr(def, value, schema, is_core, attributes, excluded) {
                    out.insert(key.clone(), v);
                }
            }
            // Attributes outside the schema are the caller's own; they behave as
            // returned-by-default attributes.
            None => {
                let named = |p: &AttrPath| p.schema.is_none() && p.attr.eq_ignore_ascii_case(key);
                let keep = if attributes.is_empty() {
                    !excluded.iter().any(|p| named(p) && p.sub_attr.is_none())
                } else {
                    attributes.iter().any(named)
                };
                if keep {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
    }
    out
}

/// Applies `attributes` / `excludedAttributes` to a resource's SCIM JSON. `id` and `schemas`
/// (returned "always") are always kept and `password` (returned "never") always removed;
/// `meta` and everything else returned "default" is kept when no `attributes` are given or
/// when they name it. A whole extension URN in either list selects or drops the extension.
pub fn project(resource: &Value, rt: &ResourceType, attributes: &[AttrPath], excluded: &[AttrPath]) -> Value {
    let Some(obj) = resource.as_object() else { return resource.clone() };
    let mut out = Map::new();
    let mut core_fields = Map::new();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            out.insert(key.clone(), value.clone());
        } else if let Some(ext) = rt.extension(key) {
            let whole_asked = attributes.iter().any(|p| names_schema(p, ext));
            let whole_dropped = excluded.iter().any(|p| names_schema(p, ext));
            let Some(ext_obj) = value.as_object() else { continue };
            let projected = if whole_asked {
                project_object(ext_obj, ext, false, &[], &[])
            } else if attributes.is_empty() && whole_dropped {
                Map::new()
            } else {
                project_object(ext_obj, ext, false, attributes, excluded)
            };
            if !projected.is_empty() {
                out.insert(key.clone(), Value::Object(projected));
            }
        } else {
            core_fields.insert(key.clone(), value.clone());
        }
    }
    out.extend(project_object(&core_fields, rt.core, true, attributes, excluded));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn sort_keys_order_types_stably() {
        assert_eq!(SortKey::Num(1.into()).compare(&SortKey::Num(2.into())), Ordering::Less);
        assert_eq!(SortKey::Bool(true).compare(&SortKey::Str("a".into())), Ordering::Less);
    }
}

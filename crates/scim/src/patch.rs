//! PATCH (RFC 7644 §3.5.2) on a resource's SCIM JSON, accepting the forms Microsoft Entra ID
//! sends: capitalised ops, booleans as "True"/"False", path-less operations whose value keys
//! are themselves paths, and `add`/`replace` on a value-filtered path that matches nothing.
//!
//! Deliberate choices where the RFC leaves room or Entra departs from it:
//! - `add`/`replace` on `attr[filter].sub` (or `attr[filter]`) that matches no element
//!   appends a new element built from the filter's `eq` terms plus the value, instead of
//!   answering `noTarget`: Entra sends `emails[type eq "work"].value` for users that have
//!   no work email yet and expects the address to be stored.
//! - `remove` with a path to a multi-valued attribute and a `value` removes only the listed
//!   values (Entra removes group members as `"path": "members", "value": [{"value": id}]`).
//! - A `null` value on `add`/`replace` clears the target, as `null` means unassigned in SCIM.
//! - Elements that reference resources (members, groups, manager) are the same element when
//!   their `value` is the same, so re-adding a member is a no-op even with a different
//!   `display`; other elements are duplicates when the new one is contained in an old one.
//! - Read-only sub-attributes inside a value (`members[].display`, `manager.displayName`) are
//!   ignored, as RFC 7644 §3.5.1 does for PUT; naming a read-only attribute in a path is an
//!   error. In a path-less operation, read-only attributes repeating the current value (and
//!   `meta`, `schemas`) are ignored so clients may send back what they read.
//! - A single-valued complex attribute with a `value` sub-attribute (manager) also accepts a
//!   bare id or a one-element array, both of which Entra has sent for the manager.
//! - Operations apply all-or-nothing: the resource changes only if every operation succeeds.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::filter::{Parser, get_ci};
use crate::path::check_attr_name;
use crate::schema::{AttrType, AttributeDef, ResourceType};
use crate::{AttrPath, Filter, MAX_FILTER_LEN, PATCH_OP, ScimError, ScimType};

/// PATCH operation kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOp {
    Add,
    Remove,
    Replace,
}

impl PatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOp::Add => "add",
            PatchOp::Remove => "remove",
            PatchOp::Replace => "replace",
        }
    }
}

/// A PATCH path: `name.familyName` (sub-attribute in `attr`), `emails[type eq "work"].value`
/// (sub-attribute after the filter in `sub_attr`), or a whole extension URN (`attr.attr`
/// empty).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    pub sub_attr: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOp,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

fn invalid_path(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::InvalidPath, detail)
}

fn invalid_value(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::InvalidValue, detail)
}

fn invalid_syntax(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::InvalidSyntax, detail)
}

fn mutability(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::Mutability, detail)
}

fn prefixed(mut e: ScimError, prefix: &str) -> ScimError {
    e.detail = format!("{prefix}: {}", e.detail);
    e
}

/// Parses a PATCH path. Syntax errors are `invalidPath`, except inside `[...]`, where they
/// are `invalidFilter`.
pub fn parse_patch_path(text: &str) -> Result<PatchPath, ScimError> {
    let text = text.trim();
    if text.len() > MAX_FILTER_LEN {
        return Err(invalid_path(format!("the path is {} bytes long; the limit is {MAX_FILTER_LEN}", text.len())));
    }
    let mut p = Parser::new(text);
    let attr = AttrPath::parse(p.read_word())?;
    let mut filter = None;
    let mut sub_attr = None;
    if p.peek() == Some('[') {
        if attr.sub_attr.is_some() || attr.is_whole_schema() {
            return Err(invalid_path(format!(
                "in path \"{text}\" the value filter '[...]' must follow a multi-valued attribute such as members"
            )));
        }
        let open = p.pos;
        p.bump();
        let f = p.parse_or(1, true)?;
        p.skip_ws();
        if p.bump() != Some(']') {
            return Err(p.error(open, "this '[' is not closed with ']'"));
        }
        filter = Some(f);
        if p.peek() == Some('.') {
            p.bump();
            let sub = p.read_word();
            check_attr_name(sub).map_err(|why| invalid_path(format!("invalid path \"{text}\": {why}")))?;
            sub_attr = Some(sub.to_owned());
        }
    }
    if !p.at_end() {
        return Err(invalid_path(format!(
            "invalid path \"{text}\": unexpected {}; paths look like name.givenName or emails[type eq \"work\"].value",
            p.describe(p.pos)
        )));
    }
    Ok(PatchPath { attr, filter, sub_attr })
}

/// Parses a PATCH request body (RFC 7644 §3.5.2).
pub fn parse_patch(body: &Value) -> Result<Vec<PatchOperation>, ScimError> {
    if !body.is_object() {
        return Err(invalid_syntax("the PATCH body must be a JSON object with \"schemas\" and \"Operations\""));
    }
    let has_schema = get_ci(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP))));
    if !has_schema {
        return Err(invalid_syntax(format!("the PATCH body's \"schemas\" must be [\"{PATCH_OP}\"]")));
    }
    let Some(raw_ops) = get_ci(body, "Operations").and_then(Value::as_array) else {
        return Err(invalid_syntax("the PATCH body needs an \"Operations\" array of {op, path, value} objects"));
    };
    if raw_ops.is_empty() {
        return Err(invalid_syntax("\"Operations\" is empty; send at least one operation"));
    }
    raw_ops
        .iter()
        .enumerate()
        .map(|(i, raw)| parse_operation(raw).map_err(|e| prefixed(e, &format!("Operations[{i}]"))))
        .collect()
}

fn parse_operation(raw: &Value) -> Result<PatchOperation, ScimError> {
    if !raw.is_object() {
        return Err(invalid_syntax("an operation must be an object with \"op\", \"path\" and \"value\""));
    }
    let op_text = get_ci(raw, "op").and_then(Value::as_str).unwrap_or("");
    let op = if op_text.eq_ignore_ascii_case("add") {
        PatchOp::Add
    } else if op_text.eq_ignore_ascii_case("remove") {
        PatchOp::Remove
    } else if op_text.eq_ignore_ascii_case("replace") {
        PatchOp::Replace
    } else {
        return Err(invalid_syntax(format!("\"op\" is \"{op_text}\"; it must be add, remove or replace")));
    };
    let path = match get_ci(raw, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(parse_patch_path(s)?),
        Some(_) => return Err(invalid_path("\"path\" must be a string such as \"name.givenName\"")),
    };
    let value = get_ci(raw, "value").cloned();
    match (op, &path, &value) {
        (PatchOp::Remove, None, _) => Err(ScimError::bad_request(
            ScimType::NoTarget,
            "remove needs a \"path\" naming the attribute or values to remove",
        )),
        (PatchOp::Add | PatchOp::Replace, _, None) => Err(invalid_syntax(format!("{} needs a \"value\"", op.as_str()))),
        (PatchOp::Add | PatchOp::Replace, None, Some(v)) if !v.is_object() => Err(invalid_syntax(format!(
            "{} without a \"path\" needs a \"value\" object mapping attribute names to values",
            op.as_str()
        ))),
        _ => Ok(PatchOperation { op, path, value }),
    }
}

/// Applies `ops` to `resource` (the SCIM JSON of a `rt` resource). On error the resource is
/// left unchanged. The caller still validates the result (required attributes, uniqueness).
pub fn apply_patch(resource: &mut Value, ops: &[PatchOperation], rt: &ResourceType) -> Result<(), ScimError> {
    if !resource.is_object() {
        return Err(ScimError::internal("the resource to patch is not a JSON object"));
    }
    let mut work = resource.clone();
    for (i, op) in ops.iter().enumerate() {
        apply_operation(&mut work, op, rt).map_err(|e| prefixed(e, &format!("Operations[{i}]")))?;
    }
    *resource = work;
    Ok(())
}

fn apply_operation(work: &mut Value, op: &PatchOperation, rt: &ResourceType) -> Result<(), ScimError> {
    if let Some(path) = &op.path {
        return apply_path(work, op.op, path, op.value.as_ref(), rt, false);
    }
    if op.op == PatchOp::Remove {
        return Err(ScimError::bad_request(
            ScimType::NoTarget,
            "remove needs a \"path\" naming the attribute or values to remove",
        ));
    }
    let Some(Value::Object(entries)) = &op.value else {
        return Err(invalid_syntax(format!(
            "{} without a \"path\" needs a \"value\" object mapping attribute names to values",
            op.op.as_str()
        )));
    };
    for (key, value) in entries {
        // Clients echo `schemas` back; this module keeps it in step with the extensions.
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let path = parse_patch_path(key)?;
        apply_path(work, op.op, &path, Some(value), rt, true)?;
    }
    Ok(())
}

/// The attribute an operation acts on.
struct Target<'p> {
    extension: Option<&'static str>,
    attr: &'static AttributeDef,
    sub: Option<&'static AttributeDef>,
    filter: Option<&'p Filter>,
    label: String,
}

fn apply_path(
    work: &mut Value,
    op: PatchOp,
    path: &PatchPath,
    value: Option<&Value>,
    rt: &ResourceType,
    from_object: bool,
) -> Result<(), ScimError> {
    if path.attr.is_whole_schema() {
        return apply_whole_extension(work, op, path, value, rt, from_object);
    }
    let top = AttrPath { schema: path.attr.schema.clone(), attr: path.attr.attr.clone(), sub_attr: None };
    let Some(resolved) = rt.resolve(&top) else {
        let detail = match &top.schema {
            Some(s) if rt.schema(s).is_none() => {
                format!("\"{top}\": schema \"{s}\" is not used by {}; see /ResourceTypes", rt.name)
            }
            _ => format!("\"{top}\" is not an attribute of {}; check the name against /Schemas", rt.name),
        };
        return Err(invalid_path(detail));
    };
    let attr = resolved.attr;
    if attr.name == "schemas" {
        return Err(mutability("\"schemas\" is maintained by the server; change attributes instead"));
    }
    let sub = match path.attr.sub_attr.as_deref().or(path.sub_attr.as_deref()) {
        None => None,
        Some(name) => Some(attr.sub(name).ok_or_else(|| {
            invalid_path(if attr.kind == AttrType::Complex {
                let names: Vec<&str> = attr.sub_attributes.iter().map(|s| s.name).collect();
                format!("\"{}\" has no sub-attribute \"{name}\"; it has {}", attr.name, names.join(", "))
            } else {
                format!("\"{}\" is not complex, so it has no sub-attribute \"{name}\"", attr.name)
            })
        })?),
    };
    if let Some(f) = &path.filter {
        if !(attr.multi_valued && attr.kind == AttrType::Complex) {
            return Err(ScimError::bad_request(
                ScimType::InvalidFilter,
                format!(
                    "\"{}\" is single-valued; a value filter '[...]' only selects among the values of a \
                     multi-valued attribute such as emails or members",
                    attr.name
                ),
            ));
        }
        f.validate_element(attr)?;
    }
    let label = match sub {
        Some(s) => format!("{}.{}", attr.name, s.name),
        None => attr.name.to_owned(),
    };
    let target = Target { extension: resolved.extension, attr, sub, filter: path.filter.as_ref(), label };

    if attr.is_read_only() || sub.is_some_and(AttributeDef::is_read_only) {
        if from_object && op != PatchOp::Remove && (attr.name == "meta" || current(work, &target) == value) {
            return Ok(());
        }
        let hint = if attr.name == "groups" { "; change group membership through the Group's members" } else { "" };
        return Err(mutability(format!("\"{}\" is read-only and cannot be changed by PATCH{hint}", target.label)));
    }

    match (op, value) {
        (PatchOp::Remove, v) => remove(work, &target, v.filter(|v| !v.is_null()))?,
        (_, None) => return Err(invalid_syntax(format!("{} needs a \"value\"", op.as_str()))),
        (_, Some(Value::Null)) => remove(work, &target, None)?,
        (_, Some(v)) => set(work, &target, v, op)?,
    }
    if let Some(urn) = target.extension {
        drop_empty_extension(work, urn);
    }
    Ok(())
}

/// A path (or path-less key) that is exactly an extension URN: its value is an object of
/// that extension's attributes.
fn apply_whole_extension(
    work: &mut Value,
    op: PatchOp,
    path: &PatchPath,
    value: Option<&Value>,
    rt: &ResourceType,
    from_object: bool,
) -> Result<(), ScimError> {
    let urn = path.attr.schema.as_deref().unwrap_or("");
    let Some(ext) = rt.extension(urn) else {
        return Err(invalid_path(format!("\"{urn}\" is not a schema extension of {}", rt.name)));
    };
    if path.filter.is_some() || path.sub_attr.is_some() {
        return Err(invalid_path(format!("name an attribute of \"{}\" rather than filtering the schema", ext.id)));
    }
    match (op, value) {
        (PatchOp::Remove, _) | (_, Some(Value::Null)) => {
            if let Some(root) = work.as_object_mut() {
                remove_key_ci(root, ext.id);
                set_schema_listed(root, ext.id, false);
            }
            Ok(())
        }
        (_, Some(Value::Object(attrs))) => {
            if op == PatchOp::Replace
                && let Some(root) = work.as_object_mut()
            {
                // Replacing the extension replaces all of it: attributes left out are gone.
                remove_key_ci(root, ext.id);
            }
            for (key, v) in attrs {
                // Clients serialise the extension with its own `schemas`; the server keeps those.
                if key.eq_ignore_ascii_case("schemas") {
                    continue;
                }
                let sub_path = parse_patch_path(&format!("{}:{key}", ext.id))?;
                apply_path(work, op, &sub_path, Some(v), rt, from_object)?;
            }
            Ok(())
        }
        _ => Err(invalid_value(format!(
            "the value for \"{}\" must be an object of its attributes, such as {{\"department\": \"Sales\"}}",
            ext.id
        ))),
    }
}

/// The current value at a target without filter, for comparing echoed read-only values.
fn current<'v>(work: &'v Value, t: &Target<'_>) -> Option<&'v Value> {
    let container = match t.extension {
        Some(urn) => get_ci(work, urn)?,
        None => work,
    };
    let v = get_ci(container, t.attr.name)?;
    match (t.sub, t.filter) {
        (None, None) => Some(v),
        (Some(sub), None) => get_ci(v, sub.name),
        _ => None,
    }
}

fn find_key(map: &Map<String, Value>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_owned());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

fn remove_key_ci(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = find_key(map, name)?;
    map.remove(&key)
}

/// Renames a differently cased key to the schema's spelling, so results use canonical names.
fn canonicalize_key(map: &mut Map<String, Value>, name: &str) {
    if let Some(key) = find_key(map, name)
        && key != name
        && let Some(v) = map.remove(&key)
    {
        map.insert(name.to_owned(), v);
    }
}

/// Adds or removes `urn` in the resource's `schemas` list.
fn set_schema_listed(root: &mut Map<String, Value>, urn: &str, listed: bool) {
    let schemas = root.entry("schemas").or_insert_with(|| Value::Array(Vec::new()));
    let Some(list) = schemas.as_array_mut() else { return };
    let present = list.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)));
    if listed && !present {
        list.push(Value::String(urn.to_owned()));
    } else if !listed {
        list.retain(|s| !s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)));
    }
}

fn drop_empty_extension(work: &mut Value, urn: &str) {
    let Some(root) = work.as_object_mut() else { return };
    let empty =
        find_key(root, urn).and_then(|k| root.get(&k)).is_some_and(|v| v.as_object().is_some_and(Map::is_empty));
    if empty {
        remove_key_ci(root, urn);
        set_schema_listed(root, urn, false);
    }
}

/// The object holding the target attribute: the resource itself or its extension object.
fn container_mut<'v>(
    work: &'v mut Value,
    extension: Option<&str>,
    create: bool,
) -> Result<Option<&'v mut Map<String, Value>>, ScimError> {
    let Some(root) = work.as_object_mut() else {
        return Err(ScimError::internal("the resource to patch is not a JSON object"));
    };
    let Some(urn) = extension else { return Ok(Some(root)) };
    if find_key(root, urn).is_none() {
        if !create {
            return Ok(None);
        }
        root.insert(urn.to_owned(), Value::Object(Map::new()));
    }
    if create {
        set_schema_listed(root, urn, true);
    }
    canonicalize_key(root, urn);
    let slot = root.entry(urn).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        if !create {
            return Ok(None);
        }
        *slot = Value::Object(Map::new());
    }
    Ok(slot.as_object_mut())
}

/// Coerces a value to the attribute's type; Entra's "True"/"False" strings become booleans.
fn normalize_simple(def: &AttributeDef, v: &Value, label: &str) -> Result<Value, ScimError> {
    match (def.kind, v) {
        (AttrType::Boolean, Value::Bool(_)) => Ok(v.clone()),
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        (AttrType::Boolean, _) => Err(invalid_value(format!("\"{label}\" is a boolean; send true or false, not {v}"))),
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(_)) => Ok(v.clone()),
        (AttrType::String | AttrType::Reference | AttrType::Binary, _) => {
            Err(invalid_value(format!("\"{label}\" takes a string; send it in double quotes, not {v}")))
        }
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(v.clone()),
        (AttrType::Integer, _) => Err(invalid_value(format!("\"{label}\" takes a whole number, not {v}"))),
        (AttrType::Decimal, Value::Number(_)) => Ok(v.clone()),
        (AttrType::Decimal, _) => Err(invalid_value(format!("\"{label}\" takes a number, not {v}"))),
        (AttrType::DateTime, Value::String(s)) if OffsetDateTime::parse(s, &Rfc3339).is_ok() => Ok(v.clone()),
        (AttrType::DateTime, _) => Err(invalid_value(format!(
            "\"{label}\" takes an RFC 3339 date-time such as \"2024-05-01T12:00:00Z\", not {v}"
        ))),
        (AttrType::Complex, _) => normalize_complex(def, v, label, false).map(Value::Object),
    }
}

/// Checks and canonicalises a complex value's sub-attributes. `keep_nulls` keeps `null`
/// entries so a merge can clear those sub-attributes.
fn normalize_complex(
    def: &AttributeDef,
    v: &Value,
    label: &str,
    keep_nulls: bool,
) -> Result<Map<String, Value>, ScimError> {
    let entries = match v {
        Value::Object(m) => m,
        Value::Array(items) if !def.multi_valued && items.len() == 1 => {
            if let Some(only) = items.first() {
                return normalize_complex(def, only, label, keep_nulls);
            }
            return Ok(Map::new());
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_) if def.sub("value").is_some() => {
            let mut m = Map::new();
            let value_def = def.sub("value").ok_or_else(|| ScimError::internal("value sub-attribute vanished"))?;
            m.insert("value".to_owned(), normalize_simple(value_def, v, &format!("{label}.value"))?);
            return Ok(m);
        }
        _ => {
            let names: Vec<&str> = def.sub_attributes.iter().map(|s| s.name).collect();
            return Err(invalid_value(format!(
                "\"{label}\" is complex; send an object with some of its sub-attributes ({}), not {v}",
                names.join(", ")
            )));
        }
    };
    let mut out = Map::new();
    for (key, sv) in entries {
        let Some(sub) = def.sub(key) else {
            let names: Vec<&str> = def.sub_attributes.iter().map(|s| s.name).collect();
            return Err(invalid_path(format!(
                "\"{label}\" has no sub-attribute \"{key}\"; it has {}",
                names.join(", ")
            )));
        };
        if sub.is_read_only() {
            continue;
        }
        if sv.is_null() {
            if keep_nulls {
                out.insert(sub.name.to_owned(), Value::Null);
            }
            continue;
        }
        out.insert(sub.name.to_owned(), normalize_simple(sub, sv, &format!("{label}.{}", sub.name))?);
    }
    Ok(out)
}

/// The values to add to, replace in or remove from a multi-valued attribute; a single value
/// stands for a one-element array. Nulls and empty objects are dropped.
fn normalize_multi(def: &AttributeDef, v: &Value, label: &str) -> Result<Vec<Value>, ScimError> {
    let items: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for item in items {
        if item.is_null() {
            continue;
        }
        let n = if def.kind == AttrType::Complex {
            Value::Object(normalize_complex(def, item, label, false)?)
        } else {
            normalize_simple(def, item, label)?
        };
        if !n.as_object().is_some_and(Map::is_empty) {
            out.push(n);
        }
    }
    Ok(out)
}

fn values_equal(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if !def.case_exact && def.kind != AttrType::Binary => {
            x.to_lowercase() == y.to_lowercase()
        }
        _ => a == b,
    }
}

/// Whether `existing` is the element `item` describes: same `value` for references,
/// otherwise every sub-attribute of `item` equal in `existing`.
fn same_element(def: &AttributeDef, existing: &Value, item: &Value) -> bool {
    if def.kind != AttrType::Complex {
        return values_equal(def, existing, item);
    }
    if def.is_reference_holder() {
        return get_ci(existing, "value").is_some() && get_ci(existing, "value") == get_ci(item, "value");
    }
    let Some(fields) = item.as_object() else { return false };
    fields.iter().all(|(k, iv)| {
        let sub_def = def.sub(k);
        get_ci(existing, k).is_some_and(|ev| sub_def.map_or(ev == iv, |d| values_equal(d, ev, iv)))
    })
}

fn check_immutable(
    def: &AttributeDef,
    existing: Option<&Value>,
    new: Option<&Value>,
    label: &str,
) -> Result<(), ScimError> {
    let had_value = existing.is_some_and(|e| !e.is_null());
    if def.is_immutable() && had_value && existing != new {
        return Err(mutability(format!(
            "\"{label}\" is immutable once set; remove the element and add a new one instead"
        )));
    }
    Ok(())
}

/// Keeps at most one `primary: true`: when touched elements claim it, the others lose it.
fn fix_primary(def: &AttributeDef, items: &mut [Value], touched: &[usize]) {
    if def.sub("primary").is_none() {
        return;
    }
    let is_primary = |v: &Value| get_ci(v, "primary").and_then(Value::as_bool) == Some(true);
    let Some(keep) = touched.iter().rev().copied().find(|&i| items.get(i).is_some_and(is_primary)) else {
        return;
    };
    for (i, item) in items.iter_mut().enumerate() {
        if i != keep
            && is_primary(item)
            && let Some(obj) = item.as_object_mut()
        {
            obj.insert("primary".to_owned(), Value::Bool(false));
        }
    }
}

/// A new element from the filter's `eq` terms: `emails[type eq "work"]` gives
/// `{"type": "work"}`.
fn element_from_filter(def: &AttributeDef, f: &Filter, label: &str) -> Result<Map<String, Value>, ScimError> {
    let mut el = Map::new();
    for (path, value) in f.eq_terms() {
        if path.schema.is_some() || path.sub_attr.is_some() || value.is_null() {
            continue;
        }
        let Some(sub) = def.sub(&path.attr) else { continue };
        el.insert(sub.name.to_owned(), normalize_simple(sub, value, &format!("{label}.{}", sub.name))?);
    }
    Ok(el)
}

/// Takes the array under `name` out of the map (a lone stored value counts as one element);
/// `put_array` stores it back. Safe to leave taken on error: `apply_patch` works on a copy.
fn take_array(map: &mut Map<String, Value>, name: &str) -> Vec<Value> {
    canonicalize_key(map, name);
    match map.remove(name) {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(lone) => vec![lone],
    }
}

fn put_array(map: &mut Map<String, Value>, name: &str, items: Vec<Value>) {
    if !items.is_empty() {
        map.insert(name.to_owned(), Value::Array(items));
    }
}

fn remove_if_empty(map: &mut Map<String, Value>, name: &str) {
    let empty = map.get(name).is_some_and(|v| match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Null => true,
        _ => false,
    });
    if empty {
        map.remove(name);
    }
}

fn set(work: &mut Value, t: &Target<'_>, v: &Value, op: PatchOp) -> Result<(), ScimError> {
    let def = t.attr;
    let Some(map) = container_mut(work, t.extension, true)? else {
        return Err(ScimError::internal("could not create the extension object"));
    };
    canonicalize_key(map, def.name);
    match (t.filter, t.sub) {
        (None, None) if def.multi_valued => {
            let new_items = normalize_multi(def, v, &t.label)?;
            let mut items = take_array(map, def.name);
            let mut touched = Vec::new();
            if op == PatchOp::Replace {
                items = new_items;
                touched.extend(0..items.len());
            } else {
                for item in new_items {
                    if !items.iter().any(|e| same_element(def, e, &item)) {
                        touched.push(items.len());
                        items.push(item);
                    }
                }
            }
            fix_primary(def, &mut items, &touched);
            put_array(map, def.name, items);
        }
        (None, None) if def.kind == AttrType::Complex => {
            // Both add and replace merge sub-attributes into a single complex value
            // (RFC 7644 §3.5.2.1 and §3.5.2.3); unmentioned sub-attributes stay.
            let changes = normalize_complex(def, v, &t.label, true)?;
            let slot = map.entry(def.name).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Some(obj) = slot.as_object_mut() {
                for (k, nv) in changes {
                    if let Some(sub) = def.sub(&k) {
                        check_immutable(sub, obj.get(&k), Some(&nv), &format!("{}.{k}", def.name))?;
                    }
                    if nv.is_null() {
                        obj.remove(&k);
                    } else {
                        canonicalize_key(obj, &k);
                        obj.insert(k, nv);
                    }
                }
            }
        }
        (None, None) => {
            let nv = normalize_simple(def, v, &t.label)?;
            check_immutable(def, map.get(def.name), Some(&nv), &t.label)?;
            map.insert(def.name.to_owned(), nv);
        }
        (None, Some(sub)) => {
            let nv = normalize_simple(sub, v, &t.label)?;
            if def.multi_valued {
                // `emails.value` without a filter addresses every email; with none yet,
                // it creates one.
                let mut items = take_array(map, def.name);
                if items.is_empty() {
                    let mut el = Map::new();
                    el.insert(sub.name.to_owned(), nv);
                    items.push(Value::Object(el));
                } else {
                    for item in items.iter_mut() {
                        set_sub(item, sub, &nv, &t.label)?;
                    }
                }
                put_array(map, def.name, items);
            } else {
                let slot = map.entry(def.name).or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                set_sub(slot, sub, &nv, &t.label)?;
            }
        }
        (Some(f), sub) => {
            let mut items = take_array(map, def.name);
            let matched: Vec<usize> =
                items.iter().enumerate().filter(|(_, e)| f.matches_element(e, def)).map(|(i, _)| i).collect();
            let touched = if matched.is_empty() {
                // Entra's choice, not the RFC's noTarget: see the module documentation.
                let mut el = element_from_filter(def, f, &t.label)?;
                match sub {
                    Some(sub) => {
                        el.insert(sub.name.to_owned(), normalize_simple(sub, v, &t.label)?);
                    }
                    None => el.extend(normalize_complex(def, v, &t.label, false)?),
                }
                items.push(Value::Object(el));
                vec![items.len().saturating_sub(1)]
            } else {
                match sub {
                    Some(sub) => {
                        let nv = normalize_simple(sub, v, &t.label)?;
                        for &i in &matched {
                            if let Some(item) = items.get_mut(i) {
                                set_sub(item, sub, &nv, &t.label)?;
                            }
                        }
                    }
                    None => {
                        let new_el = normalize_complex(def, v, &t.label, op == PatchOp::Add)?;
                        for &i in &matched {
                            if let Some(item) = items.get_mut(i) {
                                replace_or_merge_element(def, item, &new_el, op, &t.label)?;
                            }
                        }
                    }
                }
                matched
            };
            fix_primary(def, &mut items, &touched);
            put_array(map, def.name, items);
        }
    }
    remove_if_empty(map, def.name);
    Ok(())
}

fn set_sub(item: &mut Value, sub: &AttributeDef, nv: &Value, label: &str) -> Result<(), ScimError> {
    let Some(obj) = item.as_object_mut() else {
        return Err(invalid_value(format!("\"{label}\" cannot be set: the stored value is not an object")));
    };
    canonicalize_key(obj, sub.name);
    check_immutable(sub, obj.get(sub.name), Some(nv), label)?;
    obj.insert(sub.name.to_owned(), nv.clone());
    Ok(())
}

/// `replace` swaps a matched element for the new one (keeping its immutable sub-attributes,
/// which may not change); `add` merges into it.
fn replace_or_merge_element(
    def: &AttributeDef,
    item: &mut Value,
    new_el: &Map<String, Value>,
    op: PatchOp,
    label: &str,
) -> Result<(), ScimError> {
    let Some(obj) = item.as_object_mut() else {
        *item = Value::Object(new_el.clone());
        return Ok(());
    };
    for sub in def.sub_attributes {
        let label = format!("{label}.{}", sub.name);
        if let Some(nv) = new_el.get(sub.name) {
            check_immutable(sub, obj.get(sub.name), Some(nv), &label)?;
        }
    }
    if op == PatchOp::Replace {
        let kept: Map<String, Value> = def
            .sub_attributes
            .iter()
            .filter(|s| s.is_immutable() || s.is_read_only())
            .filter_map(|s| obj.get(s.name).map(|v| (s.name.to_owned(), v.clone())))
            .collect();
        *obj = kept;
    }
    for (k, nv) in new_el {
        if nv.is_null() {
            obj.remove(k);
        } else {
            obj.insert(k.clone(), nv.clone());
        }
    }
    Ok(())
}

fn remove(work: &mut Value, t: &Target<'_>, value: Option<&Value>) -> Result<(), ScimError> {
    let def = t.attr;
    let Some(map) = container_mut(work, t.extension, false)? else { return Ok(()) };
    let Some(key) = find_key(map, def.name) else { return Ok(()) };
    match (t.filter, t.sub) {
        (None, None) => match value {
            Some(v) if def.multi_valued => {
                let gone = normalize_multi(def, v, &t.label)?;
                if let Some(items) = map.get_mut(&key).and_then(Value::as_array_mut) {
                    items.retain(|e| !gone.iter().any(|g| same_element(def, e, g)));
                }
            }
            _ => {
                if def.required {
                    return Err(invalid_value(format!(
                        "\"{}\" is required, so it cannot be removed; replace it with a new value instead",
                        def.name
                    )));
                }
                map.remove(&key);
            }
        },
        (None, Some(sub)) => {
            let label = t.label.as_str();
            match map.get_mut(&key) {
                Some(Value::Array(items)) => {
                    for item in items.iter_mut() {
                        remove_sub(item, sub, label)?;
                    }
                    items.retain(|e| !e.as_object().is_some_and(Map::is_empty));
                }
                Some(item @ Value::Object(_)) => remove_sub(item, sub, label)?,
                _ => {}
            }
        }
        (Some(f), sub) => {
            if let Some(items) = map.get_mut(&key).and_then(Value::as_array_mut) {
                match sub {
                    None => items.retain(|e| !f.matches_element(e, def)),
                    Some(sub) => {
                        for item in items.iter_mut().filter(|e| f.matches_element(e, def)) {
                            remove_sub(item, sub, &t.label)?;
                        }
                        items.retain(|e| !e.as_object().is_some_and(Map::is_empty));
                    }
                }
            }
        }
    }
    remove_if_empty(map, &key);
    Ok(())
}

fn remove_sub(item: &mut Value, sub: &AttributeDef, label: &str) -> Result<(), ScimError> {
    let Some(obj) = item.as_object_mut() else { return Ok(()) };
    let Some(key) = find_key(obj, sub.name) else { return Ok(()) };
    check_immutable(sub, obj.get(&key), None, label)?;
    obj.remove(&key);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn path_forms() {
        let p = parse_patch_path("emails[type eq \"work\"].value").unwrap();
        assert_eq!(p.attr, AttrPath::new("emails"));
        assert!(p.filter.is_some());
        assert_eq!(p.sub_attr.as_deref(), Some("value"));
        let p = parse_patch_path("name.familyName").unwrap();
        assert_eq!(p.attr, AttrPath::sub("name", "familyName"));
        assert!(p.filter.is_none() && p.sub_attr.is_none());
        let p = parse_patch_path("members[value eq \"2819c223\"]").unwrap();
        assert!(p.filter.is_some() && p.sub_attr.is_none());
    }

    #[test]
    fn path_errors() {
        assert_eq!(parse_patch_path("name.given Name").unwrap_err().scim_type, Some(ScimType::InvalidPath));
        assert_eq!(parse_patch_path("emails[type eq]").unwrap_err().scim_type, Some(ScimType::InvalidFilter));
        assert_eq!(parse_patch_path("emails[type eq \"w\"").unwrap_err().scim_type, Some(ScimType::InvalidFilter));
        assert_eq!(parse_patch_path("emails.value[type eq \"w\"]").unwrap_err().scim_type, Some(ScimType::InvalidPath));
        assert_eq!(parse_patch_path("emails[type eq \"w\"].").unwrap_err().scim_type, Some(ScimType::InvalidPath));
    }
}

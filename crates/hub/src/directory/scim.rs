//! Directory records in their SCIM representation and back, and SCIM filters as store
//! conditions. Core columns map to the directory's fields; the other SCIM attributes a
//! provisioning client sends (title, department, phone numbers…) are kept among the user's
//! attributes, so mappings can use them (`${user:attr.department}`) and they read back as sent.

use std::collections::BTreeMap;

use crossfed_scim::{AttrPath, CompareOp, Filter, ScimError, ScimType};
use crossfed_store::{Comparison, Condition, Email, Group, GroupField, User, UserField, Value as StoredValue};
use serde_json::{Map, Value, json};

/// Core User attributes kept as single strings among the user's attributes.
const CORE_STRINGS: [&str; 7] =
    ["nickName", "profileUrl", "title", "userType", "preferredLanguage", "locale", "timezone"];
/// Sub-attributes of `name` besides given and family name, kept as `name.X`.
const NAME_STRINGS: [&str; 4] = ["formatted", "middleName", "honorificPrefix", "honorificSuffix"];
/// Enterprise extension strings, kept under their own names.
const ENTERPRISE_STRINGS: [&str; 5] = ["employeeNumber", "costCenter", "organization", "division", "department"];
/// Multi-valued complex attributes, kept as JSON text.
const MULTI_VALUED: [&str; 7] =
    ["phoneNumbers", "ims", "photos", "addresses", "entitlements", "roles", "x509Certificates"];
/// The manager reference, kept as the manager's ID.
const MANAGER: &str = "manager";
/// Marks a user whose `active` a PATCH removed: shown without `active`, and not active.
const ACTIVE_UNSET: &str = "scim.activeRemoved";

/// Whether an attribute key belongs to SCIM (replaced by a PUT) rather than to the hub's own
/// configuration (kept).
fn scim_owned(key: &str) -> bool {
    CORE_STRINGS.contains(&key)
        || ENTERPRISE_STRINGS.contains(&key)
        || MULTI_VALUED.contains(&key)
        || key == MANAGER
        || key == ACTIVE_UNSET
        || key.strip_prefix("name.").is_some_and(|k| NAME_STRINGS.contains(&k))
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

pub(crate) fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

fn meta(resource_type: &str, location: String, created: i64, modified: i64, version: i64) -> Value {
    json!({
        "resourceType": resource_type,
        "created": rfc3339(created),
        "lastModified": rfc3339(modified),
        "location": location,
        "version": etag(version),
    })
}

fn insert_some(object: &mut Map<String, Value>, key: &str, value: Option<&String>) {
    if let Some(v) = value {
        object.insert(key.to_string(), Value::String(v.clone()));
    }
}

/// The SCIM representation of a user, with the groups it belongs to.
pub(crate) fn user_to_scim(user: &User, groups: &[Group], base: &str) -> Value {
    let mut object = Map::new();
    let mut schemas = vec![Value::String(crossfed_scim::USER_SCHEMA.to_string())];
    object.insert("id".into(), Value::String(user.id.clone()));
    insert_some(&mut object, "externalId", user.external_id.as_ref());
    object.insert("userName".into(), Value::String(user.user_name.clone()));
    let mut name = Map::new();
    insert_some(&mut name, "givenName", user.given_name.as_ref());
    insert_some(&mut name, "familyName", user.family_name.as_ref());
    for key in NAME_STRINGS {
        insert_some(&mut name, key, user.attributes.get(&format!("name.{key}")));
    }
    if !name.is_empty() {
        object.insert("name".into(), Value::Object(name));
    }
    insert_some(&mut object, "displayName", user.display_name.as_ref());
    for key in CORE_STRINGS {
        insert_some(&mut object, key, user.attributes.get(key));
    }
    if !user.attributes.contains_key(ACTIVE_UNSET) {
        object.insert("active".into(), Value::Bool(user.active));
    }
    if !user.emails.is_empty() {
        let emails: Vec<Value> = user
            .emails
            .iter()
            .map(|e| {
                let mut email = Map::new();
                email.insert("value".into(), Value::String(e.value.clone()));
                email.insert("primary".into(), Value::Bool(e.primary));
                insert_some(&mut email, "type", e.kind.as_ref());
                insert_some(&mut email, "display", e.display.as_ref());
                Value::Object(email)
            })
            .collect();
        object.insert("emails".into(), Value::Array(emails));
    }
    for key in MULTI_VALUED {
        if let Some(values) = user.attributes.get(key).and_then(|text| serde_json::from_str::<Value>(text).ok()) {
            object.insert(key.into(), values);
        }
    }
    if !groups.is_empty() {
        let groups: Vec<Value> = groups
            .iter()
            .map(|g| {
                json!({"value": g.id, "display": g.display_name, "type": "direct",
                       "$ref": format!("{base}/Groups/{}", g.id)})
            })
            .collect();
        object.insert("groups".into(), Value::Array(groups));
    }
    let mut enterprise = Map::new();
    for key in ENTERPRISE_STRINGS {
        insert_some(&mut enterprise, key, user.attributes.get(key));
    }
    if let Some(manager) = user.attributes.get(MANAGER) {
        enterprise.insert(MANAGER.into(), json!({"value": manager, "$ref": format!("{base}/Users/{manager}")}));
    }
    if !enterprise.is_empty() {
        schemas.push(Value::String(crossfed_scim::ENTERPRISE_USER_SCHEMA.to_string()));
        object.insert(crossfed_scim::ENTERPRISE_USER_SCHEMA.into(), Value::Object(enterprise));
    }
    object.insert("schemas".into(), Value::Array(schemas));
    object.insert(
        "meta".into(),
        meta("User", format!("{base}/Users/{}", user.id), user.created_at, user.updated_at, user.version),
    );
    Value::Object(object)
}

/// A member of an object, its key compared without regard to case (SCIM attribute names are
/// case-insensitive).
fn get<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn optional_string(object: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, ScimError> {
    match get(object, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => {
            Err(ScimError::bad_request(ScimType::InvalidValue, format!("{path} must be a string, not {other}")))
        }
    }
}

/// Booleans as JSON or, as Microsoft Entra ID sends them, as the strings "True"/"False".
fn boolean(value: &Value, path: &str) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => {
            Err(ScimError::bad_request(ScimType::InvalidValue, format!("{path} must be true or false, not {other}")))
        }
    }
}

fn object_of<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, ScimError> {
    value
        .as_object()
        .ok_or_else(|| ScimError::bad_request(ScimType::InvalidSyntax, format!("{what} must be a JSON object")))
}

/// What a SCIM User representation says about a user.
#[derive(Debug, Default)]
pub(crate) struct UserFields {
    pub user_name: String,
    pub external_id: Option<String>,
    pub emails: Vec<Email>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    /// `None` when the representation has no `active` (see [`ACTIVE_UNSET`]).
    pub active: Option<bool>,
    /// SCIM-owned attributes only.
    pub attributes: BTreeMap<String, String>,
    pub password: Option<String>,
}

impl UserFields {
    /// Applies these fields to `user`, replacing SCIM-owned attributes and keeping the others.
    pub(crate) fn apply_to(self, user: &mut User) {
        user.user_name = self.user_name;
        user.external_id = self.external_id;
        user.emails = self.emails;
        user.given_name = self.given_name;
        user.family_name = self.family_name;
        user.display_name = self.display_name;
        user.attributes.retain(|k, _| !scim_owned(k));
        user.attributes.extend(self.attributes);
        match self.active {
            Some(active) => user.active = active,
            None => {
                // Removed by a PATCH: nothing says the user may sign in, so it may not.
                user.active = false;
                user.attributes.insert(ACTIVE_UNSET.to_string(), "true".to_string());
            }
        }
    }
}

/// Reads a SCIM User representation (POST, PUT, or the result of a PATCH).
pub(crate) fn user_from_scim(value: &Value) -> Result<UserFields, ScimError> {
    let object = object_of(value, "the User")?;
    let user_name = optional_string(object, "userName", "userName")?.ok_or_else(|| {
        ScimError::bad_request(ScimType::InvalidValue, "userName is required; give the user's unique sign-in name")
    })?;
    let mut fields = UserFields {
        user_name,
        external_id: optional_string(object, "externalId", "externalId")?,
        display_name: optional_string(object, "displayName", "displayName")?,
        active: match get(object, "active") {
            None | Some(Value::Null) => None,
            Some(v) => Some(boolean(v, "active")?),
        },
        password: optional_string(object, "password", "password")?,
        ..UserFields::default()
    };
    if let Some(name) = get(object, "name").filter(|v| !v.is_null()) {
        let name = object_of(name, "name")?;
        fields.given_name = optional_string(name, "givenName", "name.givenName")?;
        fields.family_name = optional_string(name, "familyName", "name.familyName")?;
        for key in NAME_STRINGS {
            if let Some(v) = optional_string(name, key, &format!("name.{key}"))? {
                fields.attributes.insert(format!("name.{key}"), v);
            }
        }
    }
    for key in CORE_STRINGS {
        if let Some(v) = optional_string(object, key, key)? {
            fields.attributes.insert(key.to_string(), v);
        }
    }
    match get(object, "emails") {
        None | Some(Value::Null) => {}
        Some(Value::Array(emails)) => {
            for email in emails {
                let email = object_of(email, "each of emails")?;
                let Some(value) = optional_string(email, "value", "emails.value")? else { continue };
                let primary = match get(email, "primary") {
                    None | Some(Value::Null) => false,
                    Some(v) => boolean(v, "emails.primary")?,
                };
                fields.emails.push(Email {
                    value,
                    kind: optional_string(email, "type", "emails.type")?,
                    primary,
                    display: optional_string(email, "display", "emails.display")?,
                });
            }
            if fields.emails.iter().filter(|e| e.primary).count() > 1 {
                return Err(ScimError::bad_request(ScimType::InvalidValue, "emails: only one may be primary"));
            }
        }
        Some(other) => {
            return Err(ScimError::bad_request(ScimType::InvalidValue, format!("emails must be a list, not {other}")));
        }
    }
    for key in MULTI_VALUED {
        match get(object, key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(values)) if values.is_empty() => {}
            Some(values @ Value::Array(_)) => {
                fields.attributes.insert(key.to_string(), values.to_string());
            }
            Some(other) => {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    format!("{key} must be a list, not {other}"),
                ));
            }
        }
    }
    let enterprise = get(object, crossfed_scim::ENTERPRISE_USER_SCHEMA).filter(|v| !v.is_null());
    if let Some(enterprise) = enterprise {
        let enterprise = object_of(enterprise, crossfed_scim::ENTERPRISE_USER_SCHEMA)?;
        for key in ENTERPRISE_STRINGS {
            if let Some(v) = optional_string(enterprise, key, key)? {
                fields.attributes.insert(key.to_string(), v);
            }
        }
        match get(enterprise, MANAGER) {
            None | Some(Value::Null) => {}
            Some(Value::String(id)) if !id.is_empty() => {
                fields.attributes.insert(MANAGER.to_string(), id.clone());
            }
            Some(Value::Object(manager)) => {
                if let Some(id) = optional_string(manager, "value", "manager.value")? {
                    fields.attributes.insert(MANAGER.to_string(), id);
                }
            }
            Some(_) => {}
        }
    }
    Ok(fields)
}

/// The SCIM representation of a group with its members' user IDs. Members carry no `display`:
/// what a client sends is what it reads back.
pub(crate) fn group_to_scim(group: &Group, members: &[String], base: &str) -> Value {
    let members: Vec<Value> =
        members.iter().map(|id| json!({"value": id, "type": "User", "$ref": format!("{base}/Users/{id}")})).collect();
    let mut object = json!({
        "schemas": [crossfed_scim::GROUP_SCHEMA],
        "id": group.id,
        "displayName": group.display_name,
        "members": members,
        "meta": meta("Group", format!("{base}/Groups/{}", group.id), group.created_at, group.updated_at, group.version),
    });
    if let (Some(external), Some(fields)) = (&group.external_id, object.as_object_mut()) {
        fields.insert("externalId".into(), Value::String(external.clone()));
    }
    object
}

/// What a SCIM Group representation says: name, externalId, member user IDs.
pub(crate) fn group_from_scim(value: &Value) -> Result<(String, Option<String>, Vec<String>), ScimError> {
    let object = object_of(value, "the Group")?;
    let name = optional_string(object, "displayName", "displayName")?.ok_or_else(|| {
        ScimError::bad_request(ScimType::InvalidValue, "displayName is required; give the group's unique name")
    })?;
    let mut members = Vec::new();
    match get(object, "members") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for member in list {
                let member = object_of(member, "each of members")?;
                if let Some(kind) = optional_string(member, "type", "members.type")?
                    && !kind.eq_ignore_ascii_case("user")
                {
                    return Err(ScimError::bad_request(
                        ScimType::InvalidValue,
                        format!("members: only users can be members here, not {kind}"),
                    ));
                }
                let id = optional_string(member, "value", "members.value")?.ok_or_else(|| {
                    ScimError::bad_request(ScimType::InvalidValue, "members: each member needs a value (a user id)")
                })?;
                if !members.contains(&id) {
                    members.push(id);
                }
            }
        }
        Some(other) => {
            return Err(ScimError::bad_request(ScimType::InvalidValue, format!("members must be a list, not {other}")));
        }
    }
    Ok((name, optional_string(object, "externalId", "externalId")?, members))
}

/// The store field a core attribute path names, for attributes the store can filter on.
trait Fields: Copy + Sized {
    fn field(path: &AttrPath) -> Option<(Self, Kind)>;
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Text the store folds to lower case itself (a key column) or compares exactly: any value.
    Text,
    /// Text the database lower-cases: SQLite folds ASCII only, so other values are compared in
    /// memory, where case folding covers all of Unicode.
    AsciiFoldedText,
    Bool,
    Time,
}

fn core_path<'a>(path: &'a AttrPath, core: &str) -> Option<(String, Option<&'a str>)> {
    if path.schema.as_deref().is_some_and(|s| !s.eq_ignore_ascii_case(core)) {
        return None;
    }
    Some((path.attr.to_ascii_lowercase(), path.sub_attr.as_deref()))
}

impl Fields for UserField {
    fn field(path: &AttrPath) -> Option<(Self, Kind)> {
        let (attr, sub) = core_path(path, crossfed_scim::USER_SCHEMA)?;
        let sub = sub.map(str::to_ascii_lowercase);
        Some(match (attr.as_str(), sub.as_deref()) {
            ("id", None) => (UserField::Id, Kind::Text),
            ("username", None) => (UserField::UserName, Kind::Text),
            ("externalid", None) => (UserField::ExternalId, Kind::Text),
            ("displayname", None) => (UserField::DisplayName, Kind::AsciiFoldedText),
            ("active", None) => (UserField::Active, Kind::Bool),
            ("name", Some("givenname")) => (UserField::GivenName, Kind::AsciiFoldedText),
            ("name", Some("familyname")) => (UserField::FamilyName, Kind::AsciiFoldedText),
            ("meta", Some("created")) => (UserField::CreatedAt, Kind::Time),
            ("meta", Some("lastmodified")) => (UserField::UpdatedAt, Kind::Time),
            _ => return None,
        })
    }
}

impl Fields for GroupField {
    fn field(path: &AttrPath) -> Option<(Self, Kind)> {
        let (attr, sub) = core_path(path, crossfed_scim::GROUP_SCHEMA)?;
        let sub = sub.map(str::to_ascii_lowercase);
        Some(match (attr.as_str(), sub.as_deref()) {
            ("id", None) => (GroupField::Id, Kind::Text),
            ("displayname", None) => (GroupField::DisplayName, Kind::Text),
            ("externalid", None) => (GroupField::ExternalId, Kind::Text),
            ("meta", Some("created")) => (GroupField::CreatedAt, Kind::Time),
            ("meta", Some("lastmodified")) => (GroupField::UpdatedAt, Kind::Time),
            _ => return None,
        })
    }
}

fn comparison(op: CompareOp) -> Comparison {
    match op {
        CompareOp::Eq => Comparison::Eq,
        CompareOp::Ne => Comparison::Ne,
        CompareOp::Co => Comparison::Contains,
        CompareOp::Sw => Comparison::StartsWith,
        CompareOp::Ew => Comparison::EndsWith,
        CompareOp::Gt => Comparison::Gt,
        CompareOp::Ge => Comparison::Ge,
        CompareOp::Lt => Comparison::Lt,
        CompareOp::Le => Comparison::Le,
    }
}

/// The filter as a store condition, or `None` when it names an attribute the store cannot
/// filter on (the caller then evaluates it on each resource's SCIM representation). An `and`
/// or `or` chain stays one condition with every term, so the condition is as deep as the
/// filter's nesting.
fn condition<F: Fields>(filter: &Filter) -> Option<Condition<F>> {
    Some(match filter {
        Filter::And(parts) => Condition::And(parts.iter().map(condition).collect::<Option<_>>()?),
        Filter::Or(parts) => Condition::Or(parts.iter().map(condition).collect::<Option<_>>()?),
        Filter::Not(inner) => Condition::Not(Box::new(condition(inner)?)),
        Filter::Present(path) => Condition::Present(F::field(path)?.0),
        Filter::ValuePath { .. } => return None,
        Filter::Compare { path, op, value } => {
            let (field, kind) = F::field(path)?;
            let ordering_or_equality = !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
            let value = match (kind, value) {
                (Kind::Text, Value::String(s)) => StoredValue::Text(s.clone()),
                (Kind::AsciiFoldedText, Value::String(s)) if s.is_ascii() => StoredValue::Text(s.clone()),
                (Kind::Bool, Value::Bool(b)) if matches!(op, CompareOp::Eq | CompareOp::Ne) => StoredValue::Bool(*b),
                (Kind::Time, Value::String(s)) if ordering_or_equality => {
                    let at = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
                    // Stored times are whole seconds; a fractional instant is compared in memory.
                    if at.nanosecond() != 0 {
                        return None;
                    }
                    StoredValue::Int(at.unix_timestamp())
                }
                // Anything else matches as the in-memory evaluation says (often: nothing).
                _ => return None,
            };
            let compare = Condition::Compare(field, comparison(*op), value);
            if *op == CompareOp::Ne {
                // A missing value is "not equal" too, which SQL's <> would not say.
                Condition::Or(vec![Condition::Not(Box::new(Condition::Present(field))), compare])
            } else {
                compare
            }
        }
    })
}

/// The store condition a Users filter becomes, or `None` when some part of it has no column
/// (the filter is then applied to each user in memory).
pub fn user_condition(filter: &Filter) -> Option<Condition<UserField>> {
    condition(filter)
}

pub(crate) fn group_condition(filter: &Filter) -> Option<Condition<GroupField>> {
    condition(filter)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn sample() -> User {
        User {
            id: "u1".into(),
            user_name: "bob@example.com".into(),
            external_id: Some("E-1".into()),
            emails: vec![Email::work("bob@example.com")],
            given_name: Some("Bob".into()),
            family_name: None,
            display_name: None,
            active: true,
            attributes: BTreeMap::from([
                ("department".to_string(), "Support".to_string()),
                ("phoneNumbers".to_string(), r#"[{"type":"work","value":"+1 555"}]"#.to_string()),
                ("badge".to_string(), "kept".to_string()),
            ]),
            created_at: 0,
            updated_at: 60,
            version: 3,
        }
    }

    #[test]
    fn users_read_back_as_written_and_keep_hub_attributes() {
        let mut user = sample();
        let scim = user_to_scim(&user, &[], "https://hub/scim/v2");
        assert_eq!(scim["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"], "Support");
        assert_eq!(scim["phoneNumbers"][0]["value"], "+1 555");
        assert_eq!(scim["meta"]["version"], "W/\"3\"");
        assert_eq!(scim["meta"]["lastModified"], "1970-01-01T00:01:00Z");
        let fields = user_from_scim(&scim).unwrap();
        let before = user.clone();
        fields.apply_to(&mut user);
        assert_eq!(user, before);
        // A replacement without the department drops it, but not the hub's own attribute.
        let fields = user_from_scim(&json!({"userName": "bob@example.com", "active": "False"})).unwrap();
        fields.apply_to(&mut user);
        assert!(!user.active);
        assert_eq!(user.attributes.keys().collect::<Vec<_>>(), ["badge"]);
        // Without `active` the user is shown without it, and may not sign in.
        let mut fields = user_from_scim(&json!({"userName": "bob@example.com"})).unwrap();
        fields.active = None;
        fields.apply_to(&mut user);
        assert!(!user.active);
        assert!(user_to_scim(&user, &[], "https://hub/scim/v2").get("active").is_none());
    }

    #[test]
    fn bad_values_name_the_attribute() {
        let e = user_from_scim(&json!({"userName": "x", "active": "maybe"})).unwrap_err();
        assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidValue)));
        assert!(e.detail.contains("active"), "{}", e.detail);
        let e = user_from_scim(&json!({"displayName": "x"})).unwrap_err();
        assert!(e.detail.contains("userName is required"));
        let e =
            group_from_scim(&json!({"displayName": "g", "members": [{"value": "g2", "type": "Group"}]})).unwrap_err();
        assert!(e.detail.contains("only users"));
    }

    #[test]
    fn filters_on_columns_become_conditions_and_others_do_not() {
        let f = crossfed_scim::parse_filter(r#"userName eq "Bob" and meta.lastModified gt "2024-01-01T00:00:00Z""#)
            .unwrap();
        let c = user_condition(&f).unwrap();
        assert_eq!(
            c,
            Condition::And(vec![
                Condition::Compare(UserField::UserName, Comparison::Eq, StoredValue::Text("Bob".into())),
                Condition::Compare(UserField::UpdatedAt, Comparison::Gt, StoredValue::Int(1_704_067_200)),
            ])
        );
        let f = crossfed_scim::parse_filter(r#"emails[type eq "work"]"#).unwrap();
        assert!(user_condition(&f).is_none());
        for memory_only in [
            r#"displayName eq "Émile""#,
            r#"active gt true"#,
            r#"meta.created co "2024""#,
            r#"meta.created gt "2024-01-01T00:00:00.5Z""#,
        ] {
            let f = crossfed_scim::parse_filter(memory_only).unwrap();
            assert!(user_condition(&f).is_none(), "{memory_only}");
        }
        let f = crossfed_scim::parse_filter(r#"userName sw "É""#).unwrap();
        assert!(user_condition(&f).is_some(), "userName has a key column folded by the hub");
        let f = crossfed_scim::parse_filter(r#"members.value eq "u1""#).unwrap();
        assert!(group_condition(&f).is_none());
    }

    /// A chain of 1000 terms is one condition of 1000 parts, and compiles; so does the deepest
    /// nesting the filter parser accepts, with `not` and `ne` adding levels of their own.
    #[test]
    fn long_chains_and_the_deepest_nesting_compile() {
        let chain = (0..1000).map(|i| format!(r#"userName eq "u{i}""#)).collect::<Vec<_>>().join(" or ");
        let c = user_condition(&crossfed_scim::parse_filter(&chain).unwrap()).unwrap();
        let Condition::Or(parts) = &c else { panic!("{c:?}") };
        assert_eq!(parts.len(), 1000);
        assert_eq!(crossfed_store::compile_user_condition(&c).unwrap().params().len(), 1000);
        let mut deep = r#"userName ne "x""#.to_string();
        for _ in 0..crossfed_scim::MAX_FILTER_DEPTH {
            deep = format!(r#"not (userName ne "x" and {deep})"#);
        }
        let c = user_condition(&crossfed_scim::parse_filter(&deep).unwrap()).unwrap();
        crossfed_store::compile_user_condition(&c).unwrap();
    }
}

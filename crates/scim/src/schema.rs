//! The schemas crossfed serves (RFC 7643 §4 User and Group, §4.3 Enterprise User) as static
//! data, attribute lookup by path, and the discovery documents built from them: `/Schemas`,
//! `/ResourceTypes` and `/ServiceProviderConfig`.

use serde_json::{Map, Value, json};

use crate::{
    AttrPath, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, LIST_RESPONSE, RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA,
    SERVICE_PROVIDER_CONFIG_SCHEMA, USER_SCHEMA,
};

/// Attribute data types of RFC 7643 §2.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

impl AttrType {
    /// The name used in schema representations.
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
            AttrType::Binary => "binary",
        }
    }
}

/// One attribute's characteristics (RFC 7643 §7). `description`, `canonical_values` and
/// `reference_types` go beyond the lookup needs but belong in `/Schemas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeDef {
    pub name: &'static str,
    pub kind: AttrType,
    pub multi_valued: bool,
    pub case_exact: bool,
    pub mutability: &'static str,
    pub returned: &'static str,
    pub uniqueness: &'static str,
    pub required: bool,
    pub sub_attributes: &'static [AttributeDef],
    pub description: &'static str,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
}

impl AttributeDef {
    /// Finds a sub-attribute by name, ignoring case as attribute names do.
    pub fn sub(&self, name: &str) -> Option<&'static AttributeDef> {
        find_in(self.sub_attributes, name)
    }

    pub fn is_read_only(&self) -> bool {
        self.mutability == "readOnly"
    }

    pub fn is_immutable(&self) -> bool {
        self.mutability == "immutable"
    }

    /// Elements that point at other resources (members, groups, manager) are identified by
    /// their `value` alone, so two entries for the same id are one entry.
    pub(crate) fn is_reference_holder(&self) -> bool {
        self.kind == AttrType::Complex && self.sub("$ref").is_some() && self.sub("value").is_some()
    }

    const fn string(name: &'static str, description: &'static str) -> Self {
        AttributeDef {
            name,
            kind: AttrType::String,
            multi_valued: false,
            case_exact: false,
            mutability: "readWrite",
            returned: "default",
            uniqueness: "none",
            required: false,
            sub_attributes: &[],
            description,
            canonical_values: &[],
            reference_types: &[],
        }
    }

    const fn of(mut self, kind: AttrType) -> Self {
        self.kind = kind;
        self
    }

    const fn complex(mut self, subs: &'static [AttributeDef]) -> Self {
        self.kind = AttrType::Complex;
        self.sub_attributes = subs;
        self
    }

    const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    const fn mutability(mut self, m: &'static str) -> Self {
        self.mutability = m;
        self
    }

    const fn returned(mut self, r: &'static str) -> Self {
        self.returned = r;
        self
    }

    const fn unique(mut self) -> Self {
        self.uniqueness = "server";
        self
    }

    const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }

    const fn references(mut self, types: &'static [&'static str]) -> Self {
        self.kind = AttrType::Reference;
        self.reference_types = types;
        self
    }
}

/// A schema and its attributes.
#[derive(Debug, PartialEq, Eq)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [AttributeDef],
}

/// A resource type: its endpoint, core schema and extensions.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceType {
    pub name: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub core: &'static SchemaDef,
    pub extensions: &'static [&'static SchemaDef],
}

/// Where an attribute path leads: which schema holds it (extension attributes live under
/// their URN key in the resource JSON), the attribute, and the sub-attribute if any.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved {
    /// `Some(urn)` when the attribute belongs to an extension schema.
    pub extension: Option<&'static str>,
    pub attr: &'static AttributeDef,
    pub sub: Option<&'static AttributeDef>,
}

impl Resolved {
    /// The attribute the path finally names.
    pub fn target(&self) -> &'static AttributeDef {
        self.sub.unwrap_or(self.attr)
    }
}

impl ResourceType {
    /// The definition of the attribute or sub-attribute `path` names, ignoring case; `None`
    /// for unknown attributes and for schemas this resource type does not use.
    pub fn find(&self, path: &AttrPath) -> Option<&'static AttributeDef> {
        self.resolve(path).map(|r| r.target())
    }

    /// The schema (core or extension) with this URN, ignoring case.
    pub fn schema(&self, urn: &str) -> Option<&'static SchemaDef> {
        std::iter::once(self.core).chain(self.extensions.iter().copied()).find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// The extension schema with this URN, ignoring case.
    pub fn extension(&self, urn: &str) -> Option<&'static SchemaDef> {
        self.extensions.iter().copied().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    pub(crate) fn resolve(&self, path: &AttrPath) -> Option<Resolved> {
        let schema = match &path.schema {
            None => self.core,
            Some(urn) => self.schema(urn)?,
        };
        let extension = (!std::ptr::eq(schema, self.core)).then_some(schema.id);
        let attr = if extension.is_none() && path.attr.eq_ignore_ascii_case("schemas") {
            &SCHEMAS_ATTR
        } else {
            find_in(schema.attributes, &path.attr)?
        };
        let sub = match &path.sub_attr {
            None => None,
            Some(s) => Some(attr.sub(s)?),
        };
        Some(Resolved { extension, attr, sub })
    }
}

pub(crate) fn find_in(attrs: &'static [AttributeDef], name: &str) -> Option<&'static AttributeDef> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// `schemas` is common to every resource but belongs to no schema; filters and projection
/// still need its characteristics.
pub(crate) static SCHEMAS_ATTR: AttributeDef = AttributeDef::string("schemas", "URNs of the schemas the resource uses")
    .of(AttrType::Reference)
    .multi()
    .returned("always");

const READ_ONLY: &str = "readOnly";
const IMMUTABLE: &str = "immutable";

static META_SUBS: [AttributeDef; 5] = [
    AttributeDef::string("resourceType", "Name of the resource type").case_exact().mutability(READ_ONLY),
    AttributeDef::string("created", "When the resource was added").of(AttrType::DateTime).mutability(READ_ONLY),
    AttributeDef::string("lastModified", "When the resource was last changed")
        .of(AttrType::DateTime)
        .mutability(READ_ONLY),
    AttributeDef::string("location", "URI of the resource").references(&["uri"]).case_exact().mutability(READ_ONLY),
    AttributeDef::string("version", "Entity tag of the current version").case_exact().mutability(READ_ONLY),
];

const ID: AttributeDef = AttributeDef::string("id", "Identifier assigned by the service provider")
    .case_exact()
    .mutability(READ_ONLY)
    .returned("always")
    .unique();
const EXTERNAL_ID: AttributeDef =
    AttributeDef::string("externalId", "Identifier assigned by the provisioning client").case_exact();
const META: AttributeDef = AttributeDef::string("meta", "Resource metadata").complex(&META_SUBS).mutability(READ_ONLY);

const PRIMARY: AttributeDef =
    AttributeDef::string("primary", "Whether this is the preferred value").of(AttrType::Boolean);
const DISPLAY: AttributeDef = AttributeDef::string("display", "Human-readable label for the value");

static NAME_SUBS: [AttributeDef; 6] = [
    AttributeDef::string("formatted", "Full name formatted for display"),
    AttributeDef::string("familyName", "Family (last) name"),
    AttributeDef::string("givenName", "Given (first) name"),
    AttributeDef::string("middleName", "Middle names"),
    AttributeDef::string("honorificPrefix", "Title before the name, such as Ms."),
    AttributeDef::string("honorificSuffix", "Suffix after the name, such as III"),
];

static EMAIL_SUBS: [AttributeDef; 4] = [
    AttributeDef::string("value", "The email address; one user's only, compared without case or Unicode form").unique(),
    DISPLAY,
    AttributeDef::string("type", "Kind of address").canonical(&["work", "home", "other"]),
    PRIMARY,
];

static PHONE_SUBS: [AttributeDef; 4] = [
    AttributeDef::string("value", "The phone number"),
    DISPLAY,
    AttributeDef::string("type", "Kind of number").canonical(&["work", "home", "mobile", "fax", "pager", "other"]),
    PRIMARY,
];

static ADDRESS_SUBS: [AttributeDef; 8] = [
    AttributeDef::string("formatted", "Full address formatted for display"),
    AttributeDef::string("streetAddress", "Street, house number and similar"),
    AttributeDef::string("locality", "City or locality"),
    AttributeDef::string("region", "State or region"),
    AttributeDef::string("postalCode", "Postal code"),
    AttributeDef::string("country", "ISO 3166-1 alpha-2 country code"),
    AttributeDef::string("type", "Kind of address").canonical(&["work", "home", "other"]),
    PRIMARY,
];

static USER_GROUP_SUBS: [AttributeDef; 4] = [
    AttributeDef::string("value", "id of the group").mutability(READ_ONLY),
    AttributeDef::string("$ref", "URI of the group").references(&["User", "Group"]).mutability(READ_ONLY),
    AttributeDef::string("display", "Name of the group").mutability(READ_ONLY),
    AttributeDef::string("type", "How the user belongs to the group")
        .canonical(&["direct", "indirect"])
        .mutability(READ_ONLY),
];

static ROLE_SUBS: [AttributeDef; 4] =
    [AttributeDef::string("value", "The role"), DISPLAY, AttributeDef::string("type", "Kind of role"), PRIMARY];

static USER_ATTRS: [AttributeDef; 20] = [
    ID,
    EXTERNAL_ID,
    AttributeDef::string("userName", "Unique name the user signs in with").required().unique(),
    AttributeDef::string("name", "Components of the user's name").complex(&NAME_SUBS),
    AttributeDef::string("displayName", "Name shown to end users"),
    AttributeDef::string("nickName", "Casual name"),
    AttributeDef::string("profileUrl", "URL of the user's online profile").references(&["external"]),
    AttributeDef::string("title", "Job title"),
    AttributeDef::string("userType", "Relationship to the organisation, such as Employee"),
    AttributeDef::string("preferredLanguage", "Preferred written or spoken language"),
    AttributeDef::string("locale", "Locale for localised output, such as en-US"),
    AttributeDef::string("timezone", "Time zone in IANA database form"),
    AttributeDef::string("active", "Whether the user may sign in").of(AttrType::Boolean),
    AttributeDef::string("password", "Clear-text password; never returned").mutability("writeOnly").returned("never"),
    AttributeDef::string("emails", "Email addresses").complex(&EMAIL_SUBS).multi(),
    AttributeDef::string("phoneNumbers", "Phone numbers").complex(&PHONE_SUBS).multi(),
    AttributeDef::string("addresses", "Postal addresses").complex(&ADDRESS_SUBS).multi(),
    AttributeDef::string("groups", "Groups the user belongs to; change them through the Group")
        .complex(&USER_GROUP_SUBS)
        .multi()
        .mutability(READ_ONLY),
    AttributeDef::string("roles", "Roles of the user").complex(&ROLE_SUBS).multi(),
    META,
];

static MANAGER_SUBS: [AttributeDef; 3] = [
    AttributeDef::string("value", "id of the manager's User"),
    AttributeDef::string("$ref", "URI of the manager's User").references(&["User"]),
    AttributeDef::string("displayName", "Name of the manager").mutability(READ_ONLY),
];

static ENTERPRISE_ATTRS: [AttributeDef; 6] = [
    AttributeDef::string("employeeNumber", "Number assigned by the organisation"),
    AttributeDef::string("costCenter", "Cost center"),
    AttributeDef::string("organization", "Organisation"),
    AttributeDef::string("division", "Division"),
    AttributeDef::string("department", "Department"),
    AttributeDef::string("manager", "The user's manager").complex(&MANAGER_SUBS),
];

static MEMBER_SUBS: [AttributeDef; 4] = [
    AttributeDef::string("value", "id of the member").case_exact().mutability(IMMUTABLE),
    AttributeDef::string("$ref", "URI of the member").references(&["User", "Group"]).mutability(IMMUTABLE),
    AttributeDef::string("display", "Name of the member").mutability(READ_ONLY),
    AttributeDef::string("type", "Kind of member").canonical(&["User", "Group"]).mutability(IMMUTABLE),
];

static GROUP_ATTRS: [AttributeDef; 5] = [
    ID,
    EXTERNAL_ID,
    AttributeDef::string("displayName", "Name of the group").required(),
    AttributeDef::string("members", "Users and groups in the group").complex(&MEMBER_SUBS).multi(),
    META,
];

/// Core User schema.
pub static USER_CORE: SchemaDef =
    SchemaDef { id: USER_SCHEMA, name: "User", description: "User account", attributes: &USER_ATTRS };

/// Enterprise User extension.
pub static ENTERPRISE_USER: SchemaDef = SchemaDef {
    id: ENTERPRISE_USER_SCHEMA,
    name: "EnterpriseUser",
    description: "Enterprise user attributes",
    attributes: &ENTERPRISE_ATTRS,
};

/// Core Group schema.
pub static GROUP_CORE: SchemaDef =
    SchemaDef { id: GROUP_SCHEMA, name: "Group", description: "Group", attributes: &GROUP_ATTRS };

pub static USER: ResourceType = ResourceType {
    name: "User",
    endpoint: "/Users",
    description: "User account",
    core: &USER_CORE,
    extensions: &[&ENTERPRISE_USER],
};

pub static GROUP: ResourceType =
    ResourceType { name: "Group", endpoint: "/Groups", description: "Group", core: &GROUP_CORE, extensions: &[] };

const ALL_SCHEMAS: [&SchemaDef; 3] = [&USER_CORE, &ENTERPRISE_USER, &GROUP_CORE];

/// The schema with this URN among those served, ignoring case.
pub fn find_schema(urn: &str) -> Option<&'static SchemaDef> {
    ALL_SCHEMAS.into_iter().find(|s| s.id.eq_ignore_ascii_case(urn))
}

fn base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

fn attribute_json(a: &AttributeDef) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), a.name.into());
    o.insert("type".into(), a.kind.as_str().into());
    o.insert("multiValued".into(), a.multi_valued.into());
    o.insert("description".into(), a.description.into());
    o.insert("required".into(), a.required.into());
    if a.kind != AttrType::Complex && a.kind != AttrType::Boolean {
        o.insert("caseExact".into(), a.case_exact.into());
    }
    if !a.canonical_values.is_empty() {
        o.insert("canonicalValues".into(), a.canonical_values.into());
    }
    if !a.reference_types.is_empty() {
        o.insert("referenceTypes".into(), a.reference_types.into());
    }
    o.insert("mutability".into(), a.mutability.into());
    o.insert("returned".into(), a.returned.into());
    o.insert("uniqueness".into(), a.uniqueness.into());
    if !a.sub_attributes.is_empty() {
        o.insert("subAttributes".into(), a.sub_attributes.iter().map(attribute_json).collect());
    }
    Value::Object(o)
}

/// A schema's `/Schemas/{id}` representation (RFC 7643 §7).
pub fn schema_json(s: &SchemaDef, base_url: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "attributes": s.attributes.iter().map(attribute_json).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{}/Schemas/{}", base(base_url), s.id),
        },
    })
}

fn list_of(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

/// `/Schemas`: a list response holding every schema served.
pub fn schemas_list_json(base_url: &str) -> Value {
    list_of(ALL_SCHEMAS.iter().map(|s| schema_json(s, base_url)).collect())
}

/// A resource type's `/ResourceTypes/{name}` representation (RFC 7643 §6).
pub fn resource_type_json(r: &ResourceType, base_url: &str) -> Value {
    let extensions: Vec<Value> = r.extensions.iter().map(|e| json!({ "schema": e.id, "required": false })).collect();
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": r.name,
        "name": r.name,
        "endpoint": r.endpoint,
        "description": r.description,
        "schema": r.core.id,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{}/ResourceTypes/{}", base(base_url), r.name),
        },
    })
}

/// `/ResourceTypes`: a list response holding User and Group.
pub fn resource_types_list_json(base_url: &str) -> Value {
    list_of(vec![resource_type_json(&USER, base_url), resource_type_json(&GROUP, base_url)])
}

/// What the hub supports, for `/ServiceProviderConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProviderFeatures {
    pub patch: bool,
    pub bulk: bool,
    pub filter_max_results: u32,
    pub change_password: bool,
    pub sort: bool,
    pub etag: bool,
    pub documentation_uri: Option<String>,
}

/// The `/ServiceProviderConfig` document (RFC 7643 §5). Filtering is always supported
/// because this crate implements it; bulk limits are zero when bulk is off.
pub fn service_provider_config_json(f: &ServiceProviderFeatures, base_url: &str) -> Value {
    let mut doc = json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": { "supported": f.patch },
        "bulk": { "supported": f.bulk, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": f.filter_max_results },
        "changePassword": { "supported": f.change_password },
        "sort": { "supported": f.sort },
        "etag": { "supported": f.etag },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token in the Authorization header",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", base(base_url)),
        },
    });
    if let (Some(uri), Some(obj)) = (&f.documentation_uri, doc.as_object_mut()) {
        obj.insert("documentationUri".into(), Value::String(uri.clone()));
    }
    doc
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn schemas_have_no_duplicate_names() {
        for s in ALL_SCHEMAS {
            let mut names: Vec<String> = s.attributes.iter().map(|a| a.name.to_ascii_lowercase()).collect();
            names.sort();
            let n = names.len();
            names.dedup();
            assert_eq!(names.len(), n, "{}", s.id);
        }
    }

    #[test]
    fn resolve_reports_extension_container() {
        let p = AttrPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:Manager.Value").unwrap();
        let r = USER.resolve(&p).unwrap();
        assert_eq!(r.extension, Some(ENTERPRISE_USER_SCHEMA));
        assert_eq!(r.attr.name, "manager");
        assert_eq!(r.target().name, "value");
        let r = USER.resolve(&AttrPath::new("SCHEMAS")).unwrap();
        assert!(r.attr.multi_valued);
        assert!(GROUP.resolve(&p).is_none());
    }
}

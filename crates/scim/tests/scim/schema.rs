#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Static schemas, attribute lookup and the discovery documents.

use crossfed_scim::{
    AttrPath, AttrType, ENTERPRISE_USER_SCHEMA, GROUP, GROUP_SCHEMA, ServiceProviderFeatures, USER, USER_SCHEMA,
    find_schema, resource_type_json, resource_types_list_json, schema_json, schemas_list_json,
    service_provider_config_json,
};
use serde_json::{Value, json};

fn find(rt: &crossfed_scim::ResourceType, p: &str) -> Option<&'static crossfed_scim::AttributeDef> {
    rt.find(&AttrPath::parse(p).unwrap())
}

#[test]
fn user_attribute_characteristics() {
    let user_name = find(&USER, "USERNAME").unwrap();
    assert_eq!(
        (user_name.name, user_name.uniqueness, user_name.case_exact, user_name.required),
        ("userName", "server", false, true)
    );
    let id = find(&USER, "id").unwrap();
    assert_eq!((id.mutability, id.returned, id.case_exact), ("readOnly", "always", true));
    assert!(find(&USER, "externalId").unwrap().case_exact);
    let email_value = find(&USER, "emails.value").unwrap();
    assert!(!email_value.case_exact && !email_value.multi_valued);
    assert!(find(&USER, "emails").unwrap().multi_valued);
    assert_eq!(find(&USER, "emails.primary").unwrap().kind, AttrType::Boolean);
    assert_eq!(find(&USER, "active").unwrap().kind, AttrType::Boolean);
    let password = find(&USER, "password").unwrap();
    assert_eq!((password.mutability, password.returned), ("writeOnly", "never"));
    assert_eq!(find(&USER, "groups").unwrap().mutability, "readOnly");
    assert_eq!(find(&USER, "groups.$ref").unwrap().kind, AttrType::Reference);
    assert_eq!(find(&USER, "meta.lastModified").unwrap().kind, AttrType::DateTime);
    assert_eq!(find(&USER, "addresses.postalCode").unwrap().name, "postalCode");
    assert_eq!(find(&USER, "name.honorificSuffix").unwrap().name, "honorificSuffix");
    assert_eq!(find(&USER, &format!("{USER_SCHEMA}:name.givenName")).unwrap().name, "givenName");
    for attr in [
        "phoneNumbers",
        "roles",
        "profileUrl",
        "timezone",
        "locale",
        "preferredLanguage",
        "userType",
        "title",
        "nickName",
        "displayName",
    ] {
        assert!(find(&USER, attr).is_some(), "{attr}");
    }
    assert!(find(&USER, "favoriteColor").is_none());
    assert!(find(&USER, "name.nickname").is_none());
    assert!(find(&USER, "members").is_none());
}

#[test]
fn enterprise_and_group_lookup() {
    let manager_value = find(&USER, &format!("{ENTERPRISE_USER_SCHEMA}:manager.value")).unwrap();
    assert_eq!(manager_value.name, "value");
    assert_eq!(find(&USER, &format!("{ENTERPRISE_USER_SCHEMA}:manager.displayName")).unwrap().mutability, "readOnly");
    for attr in ["employeeNumber", "costCenter", "organization", "division", "department"] {
        assert!(find(&USER, &format!("{ENTERPRISE_USER_SCHEMA}:{attr}")).is_some(), "{attr}");
    }
    assert!(find(&USER, "department").is_none(), "extension attributes need their URN");
    let display = find(&GROUP, "displayname").unwrap();
    assert_eq!((display.name, display.case_exact), ("displayName", false));
    assert_eq!(find(&GROUP, "members.value").unwrap().mutability, "immutable");
    assert!(find(&GROUP, "members.$ref").is_some() && find(&GROUP, "members.type").is_some());
    assert!(find(&GROUP, &format!("{ENTERPRISE_USER_SCHEMA}:department")).is_none());
    assert!(find(&GROUP, "userName").is_none());
    assert!(find_schema("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:GROUP").is_some());
}

fn attr<'a>(attrs: &'a Value, name: &str) -> &'a Value {
    attrs.as_array().unwrap().iter().find(|a| a["name"] == name).unwrap_or_else(|| panic!("{name}"))
}

#[test]
fn schema_documents() {
    let doc = schema_json(&crossfed_scim::USER_CORE, "https://hub.example/scim/v2/");
    assert_eq!(doc["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"]));
    assert_eq!(doc["id"], json!(USER_SCHEMA));
    assert_eq!(
        doc["meta"],
        json!({ "resourceType": "Schema", "location": format!("https://hub.example/scim/v2/Schemas/{USER_SCHEMA}") })
    );
    let attrs = &doc["attributes"];
    assert_eq!(
        attr(attrs, "userName"),
        &json!({
            "name": "userName", "type": "string", "multiValued": false, "description": attr(attrs, "userName")["description"],
            "required": true, "caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "server"
        })
    );
    let emails = attr(attrs, "emails");
    assert_eq!(emails["type"], json!("complex"));
    assert_eq!(emails["multiValued"], json!(true));
    assert_eq!(attr(&emails["subAttributes"], "type")["canonicalValues"], json!(["work", "home", "other"]));
    assert_eq!(attr(&emails["subAttributes"], "primary")["type"], json!("boolean"));
    assert_eq!(attr(attrs, "password")["returned"], json!("never"));
    assert_eq!(attr(&attr(attrs, "groups")["subAttributes"], "$ref")["referenceTypes"], json!(["User", "Group"]));

    let list = schemas_list_json("https://hub.example/scim/v2");
    assert_eq!(list["totalResults"], json!(3));
    let ids: Vec<&str> = list["Resources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA]);
    let ext = &list["Resources"][1];
    assert_eq!(attr(&attr(&ext["attributes"], "manager")["subAttributes"], "value")["type"], json!("string"));
}

#[test]
fn resource_type_documents() {
    assert_eq!(
        resource_type_json(&USER, "https://hub.example/scim/v2"),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User account",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{ "schema": ENTERPRISE_USER_SCHEMA, "required": false }],
            "meta": { "resourceType": "ResourceType", "location": "https://hub.example/scim/v2/ResourceTypes/User" }
        })
    );
    let group = resource_type_json(&GROUP, "https://hub.example/scim/v2");
    assert_eq!(group["endpoint"], json!("/Groups"));
    assert_eq!(group["schemaExtensions"], json!([]));
    let list = resource_types_list_json("https://hub.example/scim/v2");
    assert_eq!(list["totalResults"], json!(2));
    assert_eq!(list["Resources"][1]["id"], json!("Group"));
}

#[test]
fn service_provider_config_document() {
    let features = ServiceProviderFeatures {
        patch: true,
        bulk: false,
        filter_max_results: 200,
        change_password: false,
        sort: true,
        etag: true,
        documentation_uri: Some("https://hub.example/docs/scim".into()),
    };
    let doc = service_provider_config_json(&features, "https://hub.example/scim/v2/");
    assert_eq!(doc["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]));
    assert_eq!(doc["documentationUri"], json!("https://hub.example/docs/scim"));
    assert_eq!(doc["patch"], json!({ "supported": true }));
    assert_eq!(doc["bulk"], json!({ "supported": false, "maxOperations": 0, "maxPayloadSize": 0 }));
    assert_eq!(doc["filter"], json!({ "supported": true, "maxResults": 200 }));
    assert_eq!(doc["changePassword"], json!({ "supported": false }));
    assert_eq!(doc["sort"], json!({ "supported": true }));
    assert_eq!(doc["etag"], json!({ "supported": true }));
    let schemes = doc["authenticationSchemes"].as_array().unwrap();
    assert_eq!(schemes.len(), 1);
    assert_eq!(schemes[0]["type"], json!("oauthbearertoken"));
    assert_eq!(schemes[0]["primary"], json!(true));
    assert_eq!(doc["meta"]["location"], json!("https://hub.example/scim/v2/ServiceProviderConfig"));
    let without = service_provider_config_json(&ServiceProviderFeatures { documentation_uri: None, ..features }, "x");
    assert!(without.get("documentationUri").is_none());
}

#[test]
fn error_bodies() {
    use crossfed_scim::{ScimError, ScimType};
    let e = ScimError::bad_request(ScimType::InvalidFilter, "bad filter");
    assert_eq!(
        e.to_json(),
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "400",
            "scimType": "invalidFilter",
            "detail": "bad filter"
        })
    );
    let c = ScimError::conflict("userName taken");
    assert_eq!((c.status, c.scim_type), (409, Some(ScimType::Uniqueness)));
    assert_eq!(c.to_json()["scimType"], json!("uniqueness"));
    let p = ScimError::precondition_failed("stale").to_json();
    assert_eq!(p["status"], json!("412"));
    assert!(p.get("scimType").is_none());
    assert_eq!(ScimError::not_found("no such user").to_json()["status"], json!("404"));
    assert_eq!(ScimError::too_many("narrow it").to_json()["scimType"], json!("tooMany"));
}

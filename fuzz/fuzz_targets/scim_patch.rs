//! SCIM PATCH bodies (RFC 7644 §3.5.2, as Entra ID sends them) from arbitrary JSON: parsing
//! never panics, and accepted operations apply to a sample User and Group without panicking,
//! leaving the resource unchanged when they fail.
#![no_main]

use std::sync::OnceLock;

use crossfed_scim::{GROUP, ResourceType, USER, apply_patch, parse_patch};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fn user() -> &'static Value {
    static USER_JSON: OnceLock<Value> = OnceLock::new();
    USER_JSON.get_or_init(|| {
        json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            ],
            "id": "5171a35d82074e068ce2",
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
            "active": true,
            "displayName": "Test User",
            "name": { "formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName" },
            "emails": [
                { "primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com" },
                { "type": "home", "value": "me@home.example" }
            ],
            "phoneNumbers": [{ "type": "mobile", "value": "+1 555 0100" }],
            "addresses": [{ "type": "work", "locality": "Redmond", "country": "US", "primary": true }],
            "roles": [{ "value": "reader", "primary": false }],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "department": "Research",
                "manager": { "value": "m-1", "displayName": "Manager" }
            },
            "meta": { "resourceType": "User", "created": "2024-03-01T10:00:00Z", "lastModified": "2024-03-01T10:00:00Z" }
        })
    })
}

fn group() -> &'static Value {
    static GROUP_JSON: OnceLock<Value> = OnceLock::new();
    GROUP_JSON.get_or_init(|| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "id": "927fa2c08dcb4a7fae9e",
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "members": [{ "value": "f648f8d5ea4e4cd38e9c" }, { "value": "a1b2c3d4e5f6a7b8c9d0", "display": "A B" }],
            "meta": { "resourceType": "Group" }
        })
    })
}

fn apply(resource: &Value, ops: &[crossfed_scim::PatchOperation], rt: &ResourceType) {
    let mut patched = resource.clone();
    if apply_patch(&mut patched, ops, rt).is_err() {
        assert_eq!(&patched, resource, "a failed PATCH changed the resource");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else { return };
    let Ok(ops) = parse_patch(&body) else { return };
    apply(user(), &ops, &USER);
    apply(group(), &ops, &GROUP);
});

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! PATCH replays of the request bodies Microsoft Entra ID sends when provisioning, plus the
//! RFC 7644 §3.5.2 semantics and error cases.

use crossfed_scim::{
    ENTERPRISE_USER_SCHEMA, GROUP, GROUP_SCHEMA, PatchOp, ResourceType, ScimError, ScimType, USER, USER_SCHEMA,
    apply_patch, parse_patch,
};
use serde_json::{Value, json};

const EXT: &str = ENTERPRISE_USER_SCHEMA;

/// A user as the hub would render it after Entra's create request.
fn entra_user() -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "id": "5171a35d82074e068ce2",
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": true,
        "displayName": "Test User",
        "emails": [{ "primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com" }],
        "name": { "formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName" },
        "meta": { "resourceType": "User", "created": "2024-03-01T10:00:00Z", "lastModified": "2024-03-01T10:00:00Z" }
    })
}

fn entra_group() -> Value {
    json!({
        "schemas": [GROUP_SCHEMA],
        "id": "927fa2c08dcb4a7fae9e",
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "members": [{ "value": "f648f8d5ea4e4cd38e9c" }],
        "meta": { "resourceType": "Group" }
    })
}

fn patch(resource: &Value, body: Value, rt: &ResourceType) -> Result<Value, ScimError> {
    let ops = parse_patch(&body)?;
    let mut r = resource.clone();
    apply_patch(&mut r, &ops, rt)?;
    Ok(r)
}

fn ok(resource: &Value, body: Value, rt: &ResourceType) -> Value {
    patch(resource, body, rt).unwrap_or_else(|e| panic!("{e}"))
}

fn fails(resource: &Value, body: Value, rt: &ResourceType, scim_type: ScimType) -> String {
    let before = resource.clone();
    let e = patch(resource, body, rt).expect_err("the patch should fail");
    assert_eq!(e.status, 400, "{e}");
    assert_eq!(e.scim_type, Some(scim_type), "{e}");
    assert_eq!(resource, &before);
    e.detail
}

fn ops(ops: Value) -> Value {
    json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops })
}

#[test]
fn entra_disables_user_with_string_false() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "Replace", "path": "active", "value": "False" }]
    });
    let mut expected = entra_user();
    expected["active"] = json!(false);
    assert_eq!(ok(&entra_user(), body, &USER), expected);

    let disabled = expected;
    let enabled = ok(&disabled, ops(json!([{ "op": "Replace", "path": "active", "value": "True" }])), &USER);
    assert_eq!(enabled["active"], json!(true));
    let again = ok(&enabled, ops(json!([{ "op": "replace", "path": "active", "value": "FALSE" }])), &USER);
    assert_eq!(again["active"], json!(false));
    // The same under the aadOptscim062020 flag: a real boolean in a path-less value.
    let flagged = ok(&entra_user(), ops(json!([{ "op": "replace", "value": { "active": false } }])), &USER);
    assert_eq!(flagged["active"], json!(false));
}

#[test]
fn entra_updates_work_email_and_family_name() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com" },
            { "op": "Replace", "path": "name.familyName", "value": "updatedFamilyName" }
        ]
    });
    let mut expected = entra_user();
    expected["emails"] = json!([{ "primary": true, "type": "work", "value": "updatedEmail@microsoft.com" }]);
    expected["name"]["familyName"] = json!("updatedFamilyName");
    assert_eq!(ok(&entra_user(), body, &USER), expected);
}

#[test]
fn entra_adds_work_email_by_value_filter() {
    let body = ops(json!([
        { "op": "Replace", "path": "title", "value": "tester" },
        { "op": "Add", "path": "emails[type eq \"work\"].value", "value": "joe@example.com" }
    ]));
    // Existing work email: its value changes, nothing is appended.
    let r = ok(&entra_user(), body.clone(), &USER);
    assert_eq!(r["title"], json!("tester"));
    assert_eq!(r["emails"], json!([{ "primary": true, "type": "work", "value": "joe@example.com" }]));

    // No email at all: a work email is created from the filter (not noTarget).
    let mut bare = entra_user();
    bare.as_object_mut().unwrap().remove("emails");
    let r = ok(&bare, body, &USER);
    assert_eq!(r["emails"], json!([{ "type": "work", "value": "joe@example.com" }]));

    // Only a home email: the work one is added beside it.
    let mut home = entra_user();
    home["emails"] = json!([{ "type": "home", "value": "me@home.example" }]);
    let r = ok(
        &home,
        ops(json!([{ "op": "replace", "path": "emails[type eq \"work\"].value", "value": "w@x.example" }])),
        &USER,
    );
    assert_eq!(
        r["emails"],
        json!([{ "type": "home", "value": "me@home.example" }, { "type": "work", "value": "w@x.example" }])
    );
}

#[test]
fn entra_replaces_given_name() {
    let body = ops(json!([{ "op": "Replace", "path": "name.givenName", "value": "Barbara" }]));
    let mut expected = entra_user();
    expected["name"]["givenName"] = json!("Barbara");
    assert_eq!(ok(&entra_user(), body, &USER), expected);
}

#[test]
fn entra_replaces_many_attributes_without_path() {
    // The aadOptscim062020 form: one path-less replace whose keys are paths, including
    // enterprise extension attributes and the manager's id.
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "replace",
            "value": {
                "displayName": "Pvnd4LsJYrJ6",
                "name.givenName": "Kaitlyn",
                "name.familyName": "Gonzalez",
                "emails[type eq \"work\"].value": "kaitlyn@contoso.example",
                "active": "True",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Research",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": "2819c223-7f76-453a-919d-413861904646"
            }
        }]
    });
    let expected = json!({
        "schemas": [USER_SCHEMA, EXT],
        "id": "5171a35d82074e068ce2",
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": true,
        "displayName": "Pvnd4LsJYrJ6",
        "emails": [{ "primary": true, "type": "work", "value": "kaitlyn@contoso.example" }],
        "name": { "formatted": "givenName familyName", "familyName": "Gonzalez", "givenName": "Kaitlyn" },
        "meta": { "resourceType": "User", "created": "2024-03-01T10:00:00Z", "lastModified": "2024-03-01T10:00:00Z" },
        EXT: { "department": "Research", "manager": { "value": "2819c223-7f76-453a-919d-413861904646" } }
    });
    assert_eq!(ok(&entra_user(), body, &USER), expected);
}

#[test]
fn manager_accepts_object_string_and_one_element_array() {
    let path = format!("{EXT}:manager");
    for value in [
        json!({ "value": "m-1" }),
        json!("m-1"),
        json!([{ "$ref": null, "value": "m-1" }]),
        json!({ "value": "m-1", "displayName": "read-only, ignored" }),
    ] {
        let r = ok(&entra_user(), ops(json!([{ "op": "Add", "path": path, "value": value }])), &USER);
        assert_eq!(r[EXT], json!({ "manager": { "value": "m-1" } }), "{value}");
        assert_eq!(r["schemas"], json!([USER_SCHEMA, EXT]));
    }
    let two = json!([{ "value": "a" }, { "value": "b" }]);
    fails(&entra_user(), ops(json!([{ "op": "Add", "path": path, "value": two }])), &USER, ScimType::InvalidValue);
}

#[test]
fn entra_removes_manager() {
    let mut user = entra_user();
    user["schemas"] = json!([USER_SCHEMA, EXT]);
    user[EXT] = json!({ "department": "Research", "manager": { "value": "m-1" } });
    let body =
        ops(json!([{ "op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager" }]));
    let r = ok(&user, body.clone(), &USER);
    assert_eq!(r[EXT], json!({ "department": "Research" }));
    assert_eq!(r["schemas"], json!([USER_SCHEMA, EXT]));

    // With nothing left in the extension, the extension and its schema URN go too.
    user[EXT] = json!({ "manager": { "value": "m-1" } });
    let r = ok(&user, body.clone(), &USER);
    assert!(r.get(EXT).is_none());
    assert_eq!(r["schemas"], json!([USER_SCHEMA]));

    // Removing a manager that is not there changes nothing.
    assert_eq!(ok(&entra_user(), body, &USER), entra_user());
}

#[test]
fn entra_adds_members_to_group() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "Add",
            "path": "members",
            "value": [{ "$ref": null, "value": "f648f8d5ea4e4cd38e9c" }, { "$ref": null, "value": "a1b2c3d4e5f6a7b8c9d0" }]
        }]
    });
    let r = ok(&entra_group(), body.clone(), &GROUP);
    assert_eq!(r["members"], json!([{ "value": "f648f8d5ea4e4cd38e9c" }, { "value": "a1b2c3d4e5f6a7b8c9d0" }]));
    // Replaying the same add changes nothing: existing members are not duplicated.
    assert_eq!(ok(&r, body, &GROUP), r);
    // A single object value works too, and a member added with a display is the same member.
    let single =
        ops(json!([{ "op": "add", "path": "members", "value": { "value": "f648f8d5ea4e4cd38e9c", "display": "x" } }]));
    assert_eq!(ok(&r, single, &GROUP), r);
}

#[test]
fn entra_removes_member_by_value_filter() {
    let mut group = entra_group();
    group["members"] = json!([{ "value": "f648f8d5ea4e4cd38e9c" }, { "value": "a1b2c3d4e5f6a7b8c9d0" }]);
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "remove", "path": "members[value eq \"f648f8d5ea4e4cd38e9c\"]" }]
    });
    let r = ok(&group, body.clone(), &GROUP);
    assert_eq!(r["members"], json!([{ "value": "a1b2c3d4e5f6a7b8c9d0" }]));
    // Filter matching nothing: no-op.
    assert_eq!(ok(&r, body, &GROUP), r);
    // Removing the last member drops the attribute.
    let last = ops(json!([{ "op": "Remove", "path": "members[value eq \"a1b2c3d4e5f6a7b8c9d0\"]" }]));
    assert!(ok(&r, last, &GROUP).get("members").is_none());
}

#[test]
fn entra_removes_member_by_path_and_value() {
    let mut group = entra_group();
    group["members"] = json!([{ "value": "f648f8d5ea4e4cd38e9c" }, { "value": "a1b2c3d4e5f6a7b8c9d0" }]);
    let body = ops(json!([{ "op": "Remove", "path": "members", "value": [{ "value": "a1b2c3d4e5f6a7b8c9d0" }] }]));
    assert_eq!(ok(&group, body, &GROUP)["members"], json!([{ "value": "f648f8d5ea4e4cd38e9c" }]));
    // Without a value, every member goes.
    let all = ops(json!([{ "op": "Remove", "path": "members" }]));
    assert!(ok(&group, all, &GROUP).get("members").is_none());
}

#[test]
fn entra_renames_group() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" }]
    });
    let mut expected = entra_group();
    expected["displayName"] = json!("1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName");
    assert_eq!(ok(&entra_group(), body, &GROUP), expected);
}

#[test]
fn op_names_and_body_keys_ignore_case() {
    for op in ["Replace", "replace", "REPLACE", "rEpLaCe"] {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "operations": [{ "op": op, "path": "nickName", "value": "Babs" }]
        });
        assert_eq!(ok(&entra_user(), body, &USER)["nickName"], json!("Babs"));
    }
    let parsed = parse_patch(&ops(json!([{ "op": "Add", "value": { "nickName": "Babs" } }]))).unwrap();
    assert_eq!(parsed[0].op, PatchOp::Add);
    assert!(parsed[0].path.is_none());
}

#[test]
fn pathless_keys_get_canonical_casing() {
    let body = ops(json!([{
        "op": "replace",
        "value": { "Active": "false", "name.GivenName": "Babs", "NICKNAME": "B", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:Department": "Ops" }
    }]));
    let r = ok(&entra_user(), body, &USER);
    assert_eq!(r["active"], json!(false));
    assert!(r.get("Active").is_none());
    assert_eq!(r["name"]["givenName"], json!("Babs"));
    assert!(r["name"].get("GivenName").is_none());
    assert_eq!(r["nickName"], json!("B"));
    assert_eq!(r[EXT], json!({ "department": "Ops" }));
    // Stored keys in another case are renamed to the schema's spelling.
    let mut odd = entra_user();
    odd.as_object_mut().unwrap().insert("DisplayName".into(), json!("Old"));
    odd.as_object_mut().unwrap().remove("displayName");
    let r = ok(&odd, ops(json!([{ "op": "replace", "path": "displayname", "value": "New" }])), &USER);
    assert_eq!(r["displayName"], json!("New"));
    assert!(r.get("DisplayName").is_none());
}

#[test]
fn add_without_path_merges_complex_and_appends_multi_valued() {
    let body = ops(json!([{
        "op": "add",
        "value": {
            "name": { "middleName": "J" },
            "emails": [{ "value": "home@example.com", "type": "home" }],
            "phoneNumbers": { "value": "+1 555 0100", "type": "mobile" }
        }
    }]));
    let r = ok(&entra_user(), body, &USER);
    assert_eq!(
        r["name"],
        json!({ "formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName", "middleName": "J" })
    );
    assert_eq!(r["emails"].as_array().unwrap().len(), 2);
    assert_eq!(r["phoneNumbers"], json!([{ "value": "+1 555 0100", "type": "mobile" }]));
}

#[test]
fn whole_extension_object_as_key_or_path() {
    let value = json!({ "department": "Sales", "manager": { "value": "m-2" }, "employeeNumber": "42" });
    let by_key = ok(&entra_user(), ops(json!([{ "op": "add", "value": { EXT: value } }])), &USER);
    let by_path = ok(&entra_user(), ops(json!([{ "op": "add", "path": EXT, "value": value }])), &USER);
    assert_eq!(by_key, by_path);
    assert_eq!(by_key[EXT], value);
    assert_eq!(by_key["schemas"], json!([USER_SCHEMA, EXT]));
    let gone = ok(&by_key, ops(json!([{ "op": "remove", "path": EXT }])), &USER);
    assert_eq!(gone, entra_user());
    // A replacement carrying the extension's own `schemas` replaces all of the extension.
    let echoed = json!({ "schemas": [EXT], "costCenter": "7" });
    let replaced = ok(&by_key, ops(json!([{ "op": "replace", "path": EXT, "value": echoed }])), &USER);
    assert_eq!(replaced[EXT], json!({ "costCenter": "7" }));
}

#[test]
fn multi_valued_add_replace_remove() {
    let user = entra_user();
    let work = user["emails"][0].clone();
    // Exact duplicate skipped; a subset of an existing element is a duplicate too.
    let dup = ops(
        json!([{ "op": "add", "path": "emails", "value": [work.clone(), { "value": work["value"], "type": "work" }] }]),
    );
    assert_eq!(ok(&user, dup, &USER), user);
    // A new primary takes primary away from the old one.
    let add = ops(
        json!([{ "op": "add", "path": "emails", "value": { "value": "new@example.com", "type": "other", "primary": "True" } }]),
    );
    let r = ok(&user, add, &USER);
    assert_eq!(r["emails"][0]["primary"], json!(false));
    assert_eq!(r["emails"][1], json!({ "value": "new@example.com", "type": "other", "primary": true }));
    // Replace without a filter swaps all values.
    let rep = ops(json!([{ "op": "replace", "path": "emails", "value": [{ "value": "only@example.com" }] }]));
    assert_eq!(ok(&r, rep, &USER)["emails"], json!([{ "value": "only@example.com" }]));
    // Replace of matched elements without sub-attribute: whole element replaced.
    let rep = ops(
        json!([{ "op": "replace", "path": "emails[type eq \"other\"]", "value": { "value": "o@example.com", "type": "home" } }]),
    );
    assert_eq!(ok(&r, rep, &USER)["emails"][1], json!({ "value": "o@example.com", "type": "home" }));
    // Remove a sub-attribute of matched elements, then the whole attribute.
    let rm = ops(json!([{ "op": "remove", "path": "emails[type eq \"work\"].primary" }]));
    assert!(ok(&user, rm, &USER)["emails"][0].get("primary").is_none());
    let rm_all = ops(json!([{ "op": "remove", "path": "emails" }]));
    assert!(ok(&user, rm_all, &USER).get("emails").is_none());
    // Removing a missing attribute is a no-op.
    let rm_missing =
        ops(json!([{ "op": "remove", "path": "nickName" }, { "op": "remove", "path": "addresses[type eq \"work\"]" }]));
    assert_eq!(ok(&user, rm_missing, &USER), user);
    // primary given as a string in a filter path.
    let prim = ops(json!([{ "op": "replace", "path": "emails[type eq \"work\"].primary", "value": "false" }]));
    assert_eq!(ok(&user, prim, &USER)["emails"][0]["primary"], json!(false));
}

#[test]
fn null_value_clears_and_simple_replace_sets() {
    let r = ok(&entra_user(), ops(json!([{ "op": "replace", "path": "displayName", "value": null }])), &USER);
    assert!(r.get("displayName").is_none());
    let r = ok(&entra_user(), ops(json!([{ "op": "replace", "value": { "name": { "formatted": null } } }])), &USER);
    assert_eq!(r["name"], json!({ "familyName": "familyName", "givenName": "givenName" }));
}

#[test]
fn read_only_attributes_are_refused() {
    let u = entra_user();
    for (path, value) in [
        ("id", json!("other")),
        ("meta.lastModified", json!("2025-01-01T00:00:00Z")),
        ("meta", json!({ "version": "W/\"1\"" })),
        ("groups", json!([{ "value": "g1" }])),
        ("schemas", json!([USER_SCHEMA])),
    ] {
        let d = fails(&u, ops(json!([{ "op": "replace", "path": path, "value": value }])), &USER, ScimType::Mutability);
        assert!(d.contains(path.split('.').next().unwrap()), "{d}");
    }
    let d = fails(
        &u,
        ops(json!([{ "op": "add", "path": "groups", "value": [{ "value": "g1" }] }])),
        &USER,
        ScimType::Mutability,
    );
    assert!(d.contains("Group's members"), "{d}");
    fails(&u, ops(json!([{ "op": "remove", "path": "id" }])), &USER, ScimType::Mutability);
    fails(&u, ops(json!([{ "op": "replace", "value": { "id": "other" } }])), &USER, ScimType::Mutability);
    // Echoing the current id and meta in a path-less replace is tolerated.
    let echo = ops(
        json!([{ "op": "replace", "value": { "id": u["id"], "meta": { "version": "x" }, "schemas": [USER_SCHEMA], "nickName": "N" } }]),
    );
    assert_eq!(ok(&u, echo, &USER)["nickName"], json!("N"));
    // Member ids cannot be rewritten in place.
    let mut g = entra_group();
    g["members"] = json!([{ "value": "a" }]);
    fails(
        &g,
        ops(json!([{ "op": "replace", "path": "members[value eq \"a\"].value", "value": "b" }])),
        &GROUP,
        ScimType::Mutability,
    );
}

#[test]
fn unknown_attributes_are_invalid_paths() {
    let u = entra_user();
    let d = fails(
        &u,
        ops(json!([{ "op": "add", "path": "favoriteColor", "value": "blue" }])),
        &USER,
        ScimType::InvalidPath,
    );
    assert!(d.contains("favoriteColor"), "{d}");
    let d = fails(
        &u,
        ops(json!([{ "op": "replace", "value": { "favoriteColor": "blue" } }])),
        &USER,
        ScimType::InvalidPath,
    );
    assert!(d.contains("favoriteColor"), "{d}");
    let d = fails(
        &u,
        ops(json!([{ "op": "replace", "path": "name.nickname", "value": "x" }])),
        &USER,
        ScimType::InvalidPath,
    );
    assert!(d.contains("nickname") && d.contains("givenName"), "{d}");
    let d = fails(
        &u,
        ops(json!([{ "op": "add", "path": "emails", "value": { "value": "a@b", "kind": "x" } }])),
        &USER,
        ScimType::InvalidPath,
    );
    assert!(d.contains("kind"), "{d}");
    let d = fails(
        &entra_group(),
        ops(json!([{ "op": "add", "path": format!("{EXT}:department"), "value": "x" }])),
        &GROUP,
        ScimType::InvalidPath,
    );
    assert!(d.contains("not used by Group"), "{d}");
    let d = fails(&u, ops(json!([{ "op": "add", "path": "title.value", "value": "x" }])), &USER, ScimType::InvalidPath);
    assert!(d.contains("not complex"), "{d}");
}

#[test]
fn bad_values_are_invalid_values() {
    let u = entra_user();
    for bad in [json!("yes"), json!(1), json!({ "value": true }), json!([true])] {
        let d =
            fails(&u, ops(json!([{ "op": "replace", "path": "active", "value": bad }])), &USER, ScimType::InvalidValue);
        assert!(d.contains("\"active\" is a boolean"), "{d}");
    }
    let d = fails(
        &u,
        ops(json!([{ "op": "replace", "path": "emails[type eq \"work\"].primary", "value": "maybe" }])),
        &USER,
        ScimType::InvalidValue,
    );
    assert!(d.contains("emails.primary"), "{d}");
    fails(&u, ops(json!([{ "op": "replace", "path": "userName", "value": 7 }])), &USER, ScimType::InvalidValue);
    fails(&u, ops(json!([{ "op": "replace", "path": "name", "value": "Barbara" }])), &USER, ScimType::InvalidValue);
    let d = fails(&u, ops(json!([{ "op": "remove", "path": "userName" }])), &USER, ScimType::InvalidValue);
    assert!(d.contains("required"), "{d}");
    fails(&entra_group(), ops(json!([{ "op": "remove", "path": "displayName" }])), &GROUP, ScimType::InvalidValue);
}

#[test]
fn filters_on_single_valued_attributes_are_invalid() {
    let d = fails(
        &entra_user(),
        ops(json!([{ "op": "replace", "path": "name[givenName eq \"x\"].familyName", "value": "y" }])),
        &USER,
        ScimType::InvalidFilter,
    );
    assert!(d.contains("single-valued"), "{d}");
    let d = fails(
        &entra_user(),
        ops(json!([{ "op": "remove", "path": "emails[kind eq \"x\"]" }])),
        &USER,
        ScimType::InvalidFilter,
    );
    assert!(d.contains("kind"), "{d}");
}

#[test]
fn malformed_bodies() {
    let e = parse_patch(&json!({ "Operations": [{ "op": "add", "path": "nickName", "value": "x" }] })).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    assert!(e.detail.contains("PatchOp"), "{}", e.detail);
    let e = parse_patch(&json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"] })).unwrap_err();
    assert!(e.detail.contains("Operations"), "{}", e.detail);
    let e = parse_patch(&ops(json!([]))).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    let e =
        parse_patch(&ops(json!([{ "op": "add", "path": "nickName", "value": "x" }, { "op": "move", "path": "a" }])))
            .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    assert!(e.detail.starts_with("Operations[1]") && e.detail.contains("move"), "{}", e.detail);
    let e = parse_patch(&ops(json!([{ "op": "add", "path": "nickName" }]))).unwrap_err();
    assert!(e.detail.contains("needs a \"value\""), "{}", e.detail);
    let e = parse_patch(&ops(json!([{ "op": "replace", "value": "x" }]))).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    let e = parse_patch(&ops(json!([{ "op": "remove" }]))).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::NoTarget));
    let e = parse_patch(&ops(json!([{ "op": "remove", "path": "emails[type eq ]" }]))).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
    let e = parse_patch(&ops(json!([{ "op": "remove", "path": 5 }]))).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
    assert!(parse_patch(&json!([1, 2])).is_err());
}

#[test]
fn apply_rejects_pathless_remove() {
    let op = crossfed_scim::PatchOperation { op: PatchOp::Remove, path: None, value: None };
    let mut u = entra_user();
    let e = apply_patch(&mut u, &[op], &USER).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::NoTarget));
    assert_eq!(
        e.to_json(),
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "400",
            "scimType": "noTarget",
            "detail": e.detail,
        })
    );
}

#[test]
fn operations_apply_all_or_nothing() {
    let body = ops(json!([
        { "op": "replace", "path": "nickName", "value": "first" },
        { "op": "replace", "path": "id", "value": "second" }
    ]));
    let d = fails(&entra_user(), body, &USER, ScimType::Mutability);
    assert!(d.starts_with("Operations[1]"), "{d}");
}

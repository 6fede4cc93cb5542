#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! List queries, list responses, sorting and attribute projection.

use crossfed_scim::{
    AttrPath, ENTERPRISE_USER_SCHEMA, GROUP, ListQuery, ScimType, USER, USER_SCHEMA, list_response_json,
    parse_list_query, project, sort_resources,
};
use serde_json::{Value, json};

const EXT: &str = ENTERPRISE_USER_SCHEMA;

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn paths(list: &[&str]) -> Vec<AttrPath> {
    list.iter().map(|p| AttrPath::parse(p).unwrap()).collect()
}

fn user() -> Value {
    json!({
        "schemas": [USER_SCHEMA, EXT],
        "id": "u1",
        "externalId": "ext-1",
        "userName": "bjensen",
        "name": { "givenName": "Barbara", "familyName": "Jensen" },
        "password": "t1meMa$heen",
        "emails": [
            { "value": "bjensen@example.com", "type": "work", "primary": true },
            { "value": "babs@jensen.org", "type": "home" }
        ],
        "meta": { "resourceType": "User", "lastModified": "2011-05-13T04:42:34Z" },
        EXT: { "department": "Tours", "employeeNumber": "701984" }
    })
}

#[test]
fn parses_every_parameter_ignoring_name_case() {
    let q = parse_list_query(&params(&[
        ("FILTER", "userName eq \"bjensen\""),
        ("startindex", "11"),
        ("Count", "25"),
        ("SORTBY", "name.familyName"),
        ("sortOrder", "DESCENDING"),
        (
            "attributes",
            "userName, name.givenName,,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        ),
        ("excludedattributes", "emails"),
        ("aadOptscim062020", "true"),
    ]))
    .unwrap();
    assert!(q.filter.unwrap().matches(&user(), &USER));
    assert_eq!(q.start_index, 11);
    assert_eq!(q.count, Some(25));
    assert_eq!(q.sort_by, Some(AttrPath::sub("name", "familyName")));
    assert!(q.descending);
    assert_eq!(q.attributes.len(), 3);
    assert_eq!(q.attributes[2].schema.as_deref(), Some(EXT));
    assert_eq!(q.excluded_attributes, vec![AttrPath::new("emails")]);
}

#[test]
fn defaults_and_clamping() {
    assert_eq!(parse_list_query(&[]).unwrap(), ListQuery::default());
    let q = parse_list_query(&params(&[("startIndex", "0"), ("count", "-3"), ("filter", "  ")])).unwrap();
    assert_eq!(q.start_index, 1);
    assert_eq!(q.count, Some(0));
    assert!(q.filter.is_none());
    assert_eq!(parse_list_query(&params(&[("startIndex", "-99")])).unwrap().start_index, 1);
    assert!(!parse_list_query(&params(&[("sortOrder", "Ascending")])).unwrap().descending);
}

#[test]
fn bad_parameters_are_rejected() {
    let e = parse_list_query(&params(&[("startIndex", "first")])).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert!(e.detail.contains("startIndex") && e.detail.contains("whole number"), "{}", e.detail);
    let e = parse_list_query(&params(&[("count", "1.5")])).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    let e = parse_list_query(&params(&[("sortOrder", "up")])).unwrap_err();
    assert!(e.detail.contains("ascending or descending"), "{}", e.detail);
    let e = parse_list_query(&params(&[("filter", "userName eq")])).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
    let e = parse_list_query(&params(&[("filter", "title pr"), ("Filter", "userName pr")])).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    assert!(e.detail.contains("more than once"), "{}", e.detail);
    let e = parse_list_query(&params(&[("attributes", "name.given name")])).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
}

#[test]
fn list_response_shape() {
    let body = list_response_json(vec![json!({ "id": "a" }), json!({ "id": "b" })], 7, 3);
    assert_eq!(
        body,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 7,
            "itemsPerPage": 2,
            "startIndex": 3,
            "Resources": [{ "id": "a" }, { "id": "b" }]
        })
    );
    assert_eq!(list_response_json(vec![], 0, 1)["itemsPerPage"], json!(0));
}

#[test]
fn default_projection_drops_only_never_returned() {
    let mut expected = user();
    expected.as_object_mut().unwrap().remove("password");
    assert_eq!(project(&user(), &USER, &[], &[]), expected);
}

#[test]
fn attributes_select_and_keep_always_returned() {
    let r = project(&user(), &USER, &paths(&["userName"]), &[]);
    assert_eq!(r, json!({ "schemas": [USER_SCHEMA, EXT], "id": "u1", "userName": "bjensen" }));

    let r = project(&user(), &USER, &paths(&["name.givenName", "emails.value", "meta"]), &[]);
    assert_eq!(
        r,
        json!({
            "schemas": [USER_SCHEMA, EXT],
            "id": "u1",
            "name": { "givenName": "Barbara" },
            "emails": [{ "value": "bjensen@example.com" }, { "value": "babs@jensen.org" }],
            "meta": { "resourceType": "User", "lastModified": "2011-05-13T04:42:34Z" }
        })
    );

    // password is never returned, even on request; names ignore case.
    let r = project(&user(), &USER, &paths(&["PASSWORD", "USERNAME"]), &[]);
    assert_eq!(r, json!({ "schemas": [USER_SCHEMA, EXT], "id": "u1", "userName": "bjensen" }));
}

#[test]
fn attributes_reach_into_extensions() {
    let r = project(&user(), &USER, &paths(&[&format!("{EXT}:department")]), &[]);
    assert_eq!(r, json!({ "schemas": [USER_SCHEMA, EXT], "id": "u1", EXT: { "department": "Tours" } }));
    // Unqualified names mean core attributes only.
    let r = project(&user(), &USER, &paths(&["department"]), &[]);
    assert!(r.get(EXT).is_none());
    let r = project(&user(), &USER, &paths(&[EXT]), &[]);
    assert_eq!(r[EXT], json!({ "department": "Tours", "employeeNumber": "701984" }));
    assert!(r.get("userName").is_none());
}

#[test]
fn excluded_attributes_remove_defaults_but_not_always() {
    let r = project(
        &user(),
        &USER,
        &[],
        &paths(&["emails", "id", "schemas", "name.familyName", &format!("{EXT}:employeeNumber")]),
    );
    assert_eq!(
        r,
        json!({
            "schemas": [USER_SCHEMA, EXT],
            "id": "u1",
            "externalId": "ext-1",
            "userName": "bjensen",
            "name": { "givenName": "Barbara" },
            "meta": { "resourceType": "User", "lastModified": "2011-05-13T04:42:34Z" },
            EXT: { "department": "Tours" }
        })
    );
    let r = project(&user(), &USER, &[], &paths(&[EXT, "meta"]));
    assert!(r.get(EXT).is_none() && r.get("meta").is_none());
}

#[test]
fn group_projection() {
    let g = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "g1",
        "displayName": "Tour Guides",
        "members": [{ "value": "u1", "display": "Babs" }],
        "meta": { "resourceType": "Group" }
    });
    let r = project(&g, &GROUP, &[], &paths(&["members"]));
    assert!(r.get("members").is_none());
    assert_eq!(r["displayName"], json!("Tour Guides"));
    let r = project(&g, &GROUP, &paths(&["members.value"]), &[]);
    assert_eq!(r["members"], json!([{ "value": "u1" }]));
    assert!(r.get("displayName").is_none());
}

fn named(user_name: &str, modified: Option<&str>) -> Value {
    let mut u = json!({ "userName": user_name });
    if let Some(m) = modified {
        u["meta"] = json!({ "lastModified": m });
    }
    u
}

fn names(list: &[Value]) -> Vec<&str> {
    list.iter().map(|u| u["userName"].as_str().unwrap()).collect()
}

#[test]
fn sorting_ignores_case_and_puts_missing_last() {
    let mut list =
        vec![named("carol", None), json!({ "id": "x", "userName": null }), named("Alice", None), named("bob", None)];
    list[1]["userName"] = json!(null);
    let mut asc = list.clone();
    sort_resources(&mut asc, &USER, &AttrPath::new("userName"), false);
    assert_eq!(asc[3]["id"], json!("x"));
    asc.pop();
    assert_eq!(names(&asc), ["Alice", "bob", "carol"]);
    let mut desc = list;
    sort_resources(&mut desc, &USER, &AttrPath::new("USERNAME"), true);
    assert_eq!(desc[3]["id"], json!("x"));
    desc.pop();
    assert_eq!(names(&desc), ["carol", "bob", "Alice"]);
}

#[test]
fn sorting_by_datetime_and_primary_email() {
    let mut list = vec![
        named("a", Some("2011-05-13T05:00:00+02:00")), // 03:00Z
        named("b", Some("2011-05-13T04:00:00Z")),
        named("c", Some("2011-05-13T01:00:00-01:00")), // 02:00Z
    ];
    sort_resources(&mut list, &USER, &AttrPath::sub("meta", "lastModified"), false);
    assert_eq!(names(&list), ["c", "a", "b"]);

    let mut list = vec![
        json!({ "userName": "x", "emails": [{ "value": "z@example.com" }, { "value": "a@example.com", "primary": true }] }),
        json!({ "userName": "y", "emails": [{ "value": "m@example.com" }] }),
    ];
    sort_resources(&mut list, &USER, &AttrPath::new("emails"), false);
    assert_eq!(names(&list), ["x", "y"]);
}

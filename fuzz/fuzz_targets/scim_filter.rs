//! SCIM filters (RFC 7644 §3.4.2.2) from arbitrary text: parsing never panics; an accepted
//! filter validates against User and Group and evaluates against sample resources without
//! panicking, and prints back to text that parses to the same tree.
#![no_main]

use std::sync::OnceLock;

use crossfed_scim::{GROUP, USER, parse_filter};
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
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "bjensen",
            "userName": "bjensen@example.com",
            "name": { "formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara" },
            "displayName": "Babs Jensen",
            "title": "Tour Guide",
            "userType": "Employee",
            "active": true,
            "emails": [
                { "value": "bjensen@example.com", "type": "work", "primary": true },
                { "value": "babs@jensen.org", "type": "home" }
            ],
            "phoneNumbers": [{ "value": "555-555-8377", "type": "work" }],
            "addresses": [{ "streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "country": "US", "type": "work", "primary": true }],
            "groups": [{ "value": "e9e30dba-f08f-4109-8486-d5c6a331660a", "display": "Tour Guides", "type": "direct" }],
            "roles": [{ "value": "guide" }],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "employeeNumber": "701984",
                "department": "Tour Operations",
                "manager": { "value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith" }
            },
            "meta": {
                "resourceType": "User",
                "created": "2010-01-23T04:56:22Z",
                "lastModified": "2011-05-13T04:42:34Z",
                "version": "W/\"3694e05e9dff591\""
            }
        })
    })
}

fn group() -> &'static Value {
    static GROUP_JSON: OnceLock<Value> = OnceLock::new();
    GROUP_JSON.get_or_init(|| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "Tour Guides",
            "members": [
                { "value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen", "type": "User" },
                { "value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge", "type": "User" }
            ],
            "meta": { "resourceType": "Group", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z" }
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(filter) = parse_filter(&text) else { return };
    let _ = filter.validate(&USER);
    let _ = filter.validate(&GROUP);
    let _ = filter.matches(user(), &USER);
    let _ = filter.matches(group(), &GROUP);
    let printed = filter.to_string();
    // Printing may lengthen a filter (`-0` becomes `-0.0`); past the length limit, refusal is right.
    if printed.len() > crossfed_scim::MAX_FILTER_LEN {
        return;
    }
    match parse_filter(&printed) {
        Ok(again) => assert_eq!(again, filter, "{text:?} printed as {printed:?} parses to another filter"),
        Err(e) => panic!("{text:?} printed as {printed:?}, which does not parse: {e}"),
    }
});

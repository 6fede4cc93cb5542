#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Filter parsing and evaluation (RFC 7644 §3.4.2.2).

use crossfed_scim::{
    AttrPath, CompareOp, ENTERPRISE_USER_SCHEMA, Filter, GROUP, MAX_FILTER_DEPTH, MAX_FILTER_LEN, MAX_FILTER_TERMS,
    ScimType, USER, USER_SCHEMA, parse_filter,
};
use serde_json::{Value, json};

fn barbara() -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "bjensen-ext",
        "userName": "bjensen",
        "name": { "familyName": "Jensen", "givenName": "Barbara" },
        "title": "Tour Guide",
        "userType": "Employee",
        "active": true,
        "emails": [
            { "value": "bjensen@example.com", "type": "work", "primary": true },
            { "value": "babs@jensen.org", "type": "home" }
        ],
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z"
        },
        ENTERPRISE_USER_SCHEMA: {
            "employeeNumber": "701984",
            "department": "Tour Operations",
            "manager": { "value": "26118915-6090-4610-87e4-49d8ca9f808d" }
        }
    })
}

fn jo() -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "id": "c3a5e6f0-0000-4000-8000-000000000002",
        "userName": "JOMalley",
        "name": { "familyName": "O'Malley", "givenName": "Jo" },
        "userType": "Intern",
        "active": false,
        "emails": [{ "value": "jo@omalley.net", "type": "work" }],
        "meta": { "resourceType": "User", "lastModified": "2010-01-01T00:00:00Z" }
    })
}

fn eval(filter: &str, user: &Value) -> bool {
    parse_filter(filter).unwrap_or_else(|e| panic!("{filter}: {e}")).matches(user, &USER)
}

fn path(s: &str) -> AttrPath {
    AttrPath::parse(s).unwrap()
}

fn cmp(p: &str, op: CompareOp, v: Value) -> Filter {
    Filter::Compare { path: path(p), op, value: v }
}

fn pr(p: &str) -> Filter {
    Filter::Present(path(p))
}

fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(vec![a, b])
}

fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(vec![a, b])
}

/// Every example filter of RFC 7644 §3.4.2.2, with whether it matches Barbara and Jo.
const RFC_EXAMPLES: &[(&str, bool, bool)] = &[
    (r#"userName eq "bjensen""#, true, false),
    (r#"name.familyName co "O'Malley""#, false, true),
    (r#"userName sw "J""#, false, true),
    (r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#, false, true),
    ("title pr", true, false),
    (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false, false),
    (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true, false),
    (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, false, true),
    (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, true, true),
    (r#"title pr and userType eq "Employee""#, true, false),
    (r#"title pr or userType eq "Intern""#, true, true),
    (r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#, true, false),
    (r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#, true, false),
    (r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#, false, true),
    (r#"userType eq "Employee" and (emails.type eq "work")"#, true, false),
    (r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#, true, false),
    (
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        true,
        false,
    ),
];

#[test]
fn rfc_examples_parse_and_evaluate() {
    for &(text, on_barbara, on_jo) in RFC_EXAMPLES {
        assert_eq!(eval(text, &barbara()), on_barbara, "{text} on Barbara");
        assert_eq!(eval(text, &jo()), on_jo, "{text} on Jo");
        let f = parse_filter(text).unwrap();
        assert_eq!(parse_filter(&f.to_string()).unwrap(), f, "round trip of {text}");
    }
}

#[test]
fn rfc_examples_parse_to_the_expected_trees() {
    assert_eq!(parse_filter(r#"userName eq "bjensen""#).unwrap(), cmp("userName", CompareOp::Eq, json!("bjensen")));
    let core = parse_filter(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#).unwrap();
    let Filter::Compare { path: p, op: CompareOp::Sw, .. } = core else { panic!("{core:?}") };
    assert_eq!(p.schema.as_deref(), Some(USER_SCHEMA));
    assert_eq!(p.attr, "userName");
    assert_eq!(
        parse_filter(r#"title pr and userType eq "Employee""#).unwrap(),
        and(pr("title"), cmp("userType", CompareOp::Eq, json!("Employee")))
    );
    assert_eq!(
        parse_filter(r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#)
            .unwrap(),
        and(
            cmp("userType", CompareOp::Ne, json!("Employee")),
            Filter::Not(Box::new(or(
                cmp("emails", CompareOp::Co, json!("example.com")),
                cmp("emails.value", CompareOp::Co, json!("example.org"))
            )))
        )
    );
    assert_eq!(
        parse_filter(r#"emails[type eq "work" and value co "@example.com"]"#).unwrap(),
        Filter::ValuePath {
            path: path("emails"),
            filter: Box::new(and(
                cmp("type", CompareOp::Eq, json!("work")),
                cmp("value", CompareOp::Co, json!("@example.com"))
            )),
        }
    );
}

#[test]
fn precedence_is_not_then_and_then_or() {
    assert_eq!(parse_filter("a pr or b pr and c pr").unwrap(), or(pr("a"), and(pr("b"), pr("c"))));
    assert_eq!(parse_filter("a pr and b pr or c pr").unwrap(), or(and(pr("a"), pr("b")), pr("c")));
    assert_eq!(parse_filter("(a pr or b pr) and c pr").unwrap(), and(or(pr("a"), pr("b")), pr("c")));
    assert_eq!(parse_filter("not (a pr) and b pr").unwrap(), and(Filter::Not(Box::new(pr("a"))), pr("b")));
    // An and/or chain is one node with every term; parentheses around a part of the same kind
    // change nothing.
    assert_eq!(parse_filter("a pr and b pr and c pr").unwrap(), Filter::And(vec![pr("a"), pr("b"), pr("c")]));
    assert_eq!(parse_filter("(a pr or b pr) or c pr").unwrap(), Filter::Or(vec![pr("a"), pr("b"), pr("c")]));
    // Evaluation agrees: false or (true and false) is false; (false or true) and false too,
    // but (false or true) and true is true.
    let u = barbara();
    assert!(!eval(r#"nickName pr or title pr and nickName pr"#, &u));
    assert!(eval(r#"(nickName pr or title pr) and userName pr"#, &u));
    assert!(eval(r#"nickName pr or title pr and userName pr"#, &u));
}

#[test]
fn keywords_operators_and_names_ignore_case() {
    let f = parse_filter(r#"USERNAME EQ "bjensen" AND Title PR OR NOT (Active Eq FALSE)"#).unwrap();
    assert!(f.matches(&barbara(), &USER));
    assert!(eval(r#"userName eq "BJENSEN""#, &barbara()));
    assert!(eval(r#"name.GIVENNAME sw "barb""#, &barbara()));
    assert!(eval(r#"emails[TYPE eq "WORK"]"#, &barbara()));
    assert!(eval(
        r#"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:department co "operations""#,
        &barbara()
    ));
    // "not" without a parenthesis is an attribute name, not the operator.
    assert_eq!(parse_filter("not pr").unwrap(), pr("not"));
    // Literals true/false/null are ABNF strings, so they ignore case too.
    assert!(eval("active eq TRUE", &barbara()));
}

#[test]
fn string_literals_are_json_strings() {
    let f = parse_filter(r#"displayName eq "Caf\u00e9 \"Bar\" \\ x""#).unwrap();
    assert_eq!(f, cmp("displayName", CompareOp::Eq, json!("Café \"Bar\" \\ x")));
    let f = parse_filter(r#"title eq "Tour Guide""#).unwrap();
    assert!(f.matches(&barbara(), &USER));
    let f = parse_filter("x eq 42 or y eq -1.5e2 or z eq null").unwrap();
    assert_eq!(
        f,
        Filter::Or(vec![
            cmp("x", CompareOp::Eq, json!(42)),
            cmp("y", CompareOp::Eq, json!(-150.0)),
            cmp("z", CompareOp::Eq, Value::Null)
        ])
    );
}

fn err(text: &str) -> String {
    let e = parse_filter(text).unwrap_err();
    assert_eq!(e.status, 400, "{text}");
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{text}");
    e.detail
}

#[test]
fn errors_name_position_and_expectation() {
    let d = err(r#"userName equals "x""#);
    assert!(d.contains("character 10") && d.contains("expected an operator"), "{d}");
    let d = err("userName eq bjensen");
    assert!(d.contains("character 13") && d.contains("double quotes"), "{d}");
    let d = err("userName eq");
    assert!(d.contains("character 12") && d.contains("value"), "{d}");
    let d = err(r#"(userName eq "x""#);
    assert!(d.contains("character 17") && d.contains("')'") && d.contains("character 1"), "{d}");
    let d = err(r#"userName eq "x")"#);
    assert!(d.contains("character 16") && d.contains("no matching '('"), "{d}");
    let d = err(r#"emails[type eq "work""#);
    assert!(d.contains("']'") && d.contains("character 7"), "{d}");
    let d = err(r#"userName eq "unterminated"#);
    assert!(d.contains("character 13") && d.contains("not closed"), "{d}");
    let d = err(r#"userName eq "a" xor title pr"#);
    assert!(d.contains("character 17") && d.contains("'and', 'or'"), "{d}");
    let d = err("   ");
    assert!(d.contains("empty"), "{d}");
    let d = err(r#"userName eq "bad \q escape""#);
    assert!(d.contains("invalid string literal"), "{d}");
    let d = err(r#"emails[type eq "a" and x[y pr]]"#);
    assert!(d.contains("inside another"), "{d}");
    let d = err(r#"emails.value[type pr]"#);
    assert!(d.contains("not a sub-attribute"), "{d}");
    let d = err(r#"1abc eq "x""#);
    assert!(d.contains("character 1") && d.contains("must start with a letter"), "{d}");
    // Positions count characters, not bytes.
    let d = err(r#"title eq "é" zz"#);
    assert!(d.contains("character 14"), "{d}");
}

#[test]
fn length_and_depth_are_bounded() {
    let long = format!("userName eq \"{}\"", "a".repeat(MAX_FILTER_LEN));
    let d = err(&long);
    assert!(d.contains(&format!("the limit is {MAX_FILTER_LEN} bytes")), "{d}");
    let exactly = format!("userName eq \"{}\"", "a".repeat(MAX_FILTER_LEN - 14));
    assert_eq!(exactly.len(), MAX_FILTER_LEN);
    assert!(parse_filter(&exactly).is_ok());

    let nested = |n: usize| format!("{}title pr{}", "(".repeat(n), ")".repeat(n));
    assert!(parse_filter(&nested(MAX_FILTER_DEPTH)).is_ok());
    let d = err(&nested(MAX_FILTER_DEPTH + 1));
    assert!(d.contains("32 levels"), "{d}");
    let nots = format!("{}title pr{}", "not (".repeat(MAX_FILTER_DEPTH + 1), ")".repeat(MAX_FILTER_DEPTH + 1));
    assert!(err(&nots).contains("32 levels"));
    // As deep as the length limit allows: refused, not a stack overflow.
    assert!(err(&"(".repeat(MAX_FILTER_LEN)).contains("32 levels"));
    assert!(err(&"not (".repeat(800)).contains("32 levels"));
    // Long flat chains are fine: they are loops, not nesting.
    let chain = vec!["title pr"; 300].join(" and ");
    assert!(parse_filter(&chain).unwrap().matches(&barbara(), &USER));
}

/// Terms joined by `or` (or `and`) in one flat chain are not nesting: 66 or 1000 of them parse,
/// validate, evaluate and print as one node, without a recursion per term; past
/// MAX_FILTER_TERMS the filter is refused, naming the limit. Nesting is counted apart.
#[test]
fn flat_chains_are_bounded_by_terms_not_depth() {
    let chain = |n: usize, op: &str| {
        (0..n).map(|i| format!("userName eq \"user-{i:04}\"")).collect::<Vec<_>>().join(&format!(" {op} "))
    };
    for n in [66, 1000] {
        let f = parse_filter(&chain(n, "or")).unwrap_or_else(|e| panic!("{n} terms: {e}"));
        let Filter::Or(parts) = &f else { panic!("{n} terms: {f:?}") };
        assert_eq!(parts.len(), n);
        f.validate(&USER).unwrap();
        assert!(!f.matches(&barbara(), &USER));
        assert_eq!(parse_filter(&f.to_string()).unwrap(), f);
        let last = format!("{} or userName eq \"bjensen\"", chain(n - 1, "or"));
        assert!(parse_filter(&last).unwrap().matches(&barbara(), &USER));
        assert!(parse_filter(&chain(n, "and")).is_ok());
    }
    assert_eq!(MAX_FILTER_TERMS, 1000);
    let d = err(&chain(MAX_FILTER_TERMS + 1, "or"));
    assert!(d.contains("more than 1000 terms"), "{d}");
    // Terms inside value filters count too.
    let inside = format!("emails[{}]", vec!["type pr"; MAX_FILTER_TERMS + 1].join(" or "));
    assert!(err(&inside).contains("1000 terms"));
    // Nesting 65 deep is refused with the depth limit named, however few its terms.
    let deep = format!("{}title pr{}", "(".repeat(65), ")".repeat(65));
    assert!(err(&deep).contains(&format!("more than {MAX_FILTER_DEPTH} levels")));
    let deep_not = format!("{}title pr{}", "not (".repeat(65), ")".repeat(65));
    assert!(err(&deep_not).contains(&format!("more than {MAX_FILTER_DEPTH} levels")));
}

#[test]
fn multi_valued_and_value_paths() {
    let u = barbara();
    assert!(eval(r#"emails co "jensen.org""#, &u));
    assert!(eval(r#"emails eq "BJENSEN@example.com""#, &u));
    assert!(eval(r#"emails.type eq "home""#, &u));
    assert!(eval(r#"emails[type eq "work" and value co "@example.com"]"#, &u));
    assert!(!eval(r#"emails[type eq "home" and value co "@example.com"]"#, &u));
    assert!(eval(r#"emails[primary eq true and type eq "work"]"#, &u));
    assert!(!eval(r#"emails[primary eq true and type eq "home"]"#, &u));
    assert!(eval(r#"emails[not (primary pr)]"#, &u));
    assert!(eval("emails pr", &u));
    assert!(!eval("phoneNumbers pr", &u));
    assert!(!eval(r#"name[givenName eq "Nobody"]"#, &u));
}

#[test]
fn case_exactness_follows_the_schema() {
    let u = barbara();
    assert!(eval(r#"externalId eq "bjensen-ext""#, &u));
    assert!(!eval(r#"externalId eq "BJENSEN-EXT""#, &u), "externalId is caseExact");
    assert!(!eval(r#"id eq "2819C223-7F76-453A-919D-413861904646""#, &u), "id is caseExact");
    assert!(eval(r#"userName eq "BJensen""#, &u), "userName is not caseExact");
    assert!(eval(r#"title sw "TOUR" and title ew "guide""#, &u));
    assert!(eval(r#"userName lt "C""#, &u), "lexicographic ordering ignores case");
    assert!(eval(r#"userName gt "a" and userName le "bjensen""#, &u));
}

#[test]
fn datetimes_compare_chronologically() {
    let u = barbara();
    // Same instant written with an offset and fractional seconds.
    assert!(eval(r#"meta.lastModified eq "2011-05-13T06:42:34.000+02:00""#, &u));
    // Lexically "2011-05-13T05..." is greater than "2011-05-13T04...", but an hour
    // west of UTC it is earlier.
    assert!(eval(r#"meta.lastModified gt "2011-05-13T05:00:00+02:00""#, &u));
    assert!(!eval(r#"meta.lastModified gt "2011-05-13T04:00:00-01:00""#, &u));
    assert!(!eval(r#"meta.lastModified gt "yesterday""#, &u));
    assert!(eval(r#"meta.lastModified sw "2011-05""#, &u));
}

#[test]
fn type_mismatches_match_nothing() {
    let u = barbara();
    assert!(eval("active eq true", &u));
    assert!(!eval("active eq false", &u));
    assert!(eval("active ne false", &u));
    assert!(!eval(r#"active eq "true""#, &u));
    assert!(!eval("active gt false", &u));
    assert!(!eval(r#"name eq "Barbara""#, &u), "complex without sub-attribute");
    assert!(!eval(r#"name gt "a""#, &u));
    assert!(!eval("userName eq 5", &u));
    assert!(!eval(r#"nonexistent eq "x""#, &u));
    assert!(!eval("nonexistent pr", &u));
}

#[test]
fn ne_and_null_semantics() {
    assert!(eval(r#"title ne "Tour Guide""#, &jo()), "absent attribute is not equal");
    assert!(!eval(r#"title ne "Tour Guide""#, &barbara()));
    assert!(eval("title eq null", &jo()));
    assert!(!eval("title eq null", &barbara()));
    assert!(eval("title ne null", &barbara()));
    // ne on a multi-valued attribute: no value equals.
    assert!(!eval(r#"emails.type ne "home""#, &barbara()));
    assert!(eval(r#"emails.type ne "home""#, &jo()));
}

#[test]
fn extension_attributes_need_their_urn() {
    let u = barbara();
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert!(eval(&format!(r#"{ext}:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#), &u));
    assert!(eval(&format!(r#"{ext}:manager eq "26118915-6090-4610-87e4-49d8ca9f808d""#), &u));
    assert!(eval(&format!(r#"{ext}:employeeNumber eq "701984""#), &u));
    assert!(!eval(r#"department eq "Tour Operations""#, &u));
    assert!(!eval(&format!(r#"{ext}:department pr"#), &jo()));
}

#[test]
fn groups_filter_on_members_and_display_name() {
    let g = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Tour Guides",
        "members": [
            { "value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen" },
            { "value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge" }
        ]
    });
    let m = |f: &str| parse_filter(f).unwrap().matches(&g, &GROUP);
    assert!(m(r#"displayName eq "TOUR GUIDES""#));
    assert!(m(r#"members[value eq "902c246b-6245-4190-8e05-00816be7344a"]"#));
    assert!(m(r#"members.value eq "2819c223-7f76-453a-919d-413861904646""#));
    assert!(!m(r#"members.value eq "2819C223-7F76-453A-919D-413861904646""#), "member ids are caseExact");
    assert!(!m(r#"userName pr"#));
}

#[test]
fn validate_rejects_unknown_attributes() {
    for &(text, _, _) in RFC_EXAMPLES {
        let f = parse_filter(text).unwrap();
        let result = f.validate(&USER);
        if text.contains("ims[") {
            let e = result.unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
            assert!(e.detail.contains("\"ims\""), "{}", e.detail);
        } else {
            result.unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }
    let e = parse_filter(r#"emails[kind eq "work"]"#).unwrap().validate(&USER).unwrap_err();
    assert!(e.detail.contains("kind") && e.detail.contains("sub-attribute of emails"), "{}", e.detail);
    assert!(parse_filter("title[value pr]").unwrap().validate(&USER).is_err());
    assert!(parse_filter("userName pr").unwrap().validate(&GROUP).is_err());
    assert!(parse_filter(r#"members[value eq "x"]"#).unwrap().validate(&GROUP).is_ok());
}

/// Found by fuzzing: a decimal printed and parsed again must be the same number.
#[test]
fn decimals_survive_printing_and_parsing() {
    for text in ["x eq 2.5e33", "x gt 33333333333333333103333333310333", "x lt 0.1", "x eq -1.7976931348623157e308"] {
        let filter = parse_filter(text).unwrap();
        assert_eq!(parse_filter(&filter.to_string()).unwrap(), filter, "{text}");
    }
}

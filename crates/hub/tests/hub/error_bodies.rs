//! Every error answer of the hub carries the body its surface documents, whoever refused the
//! request — a handler, an extractor or the listener itself — against a real hub on a free port:
//! the admin API's `{"error": CODE, "message": TEXT}`, the SCIM error schema (RFC 7644 §3.12)
//! under `/scim/v2`, and the HTML error page everywhere else. For each surface: no route (404), a
//! method the route does not take (405, with `Allow`), a body too large (413), a URI too long
//! (414), a content type the route does not read (415), a body that does not deserialize (400,
//! never axum's 422), headers too large (431); then invalid query values, filters whose values do
//! not fit the attribute's type, and flat filter chains against deep nesting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::support::Running;
use crossfed_testkit::browser::unescape;
use serde_json::{Value, json};

const CONFIG: &str = r#"
[[users]]
user_name = "alice"
email = "alice@example.com"
password = "alice-password-1"
"#;

async fn start() -> Running {
    let data = crossfed_testkit::temp_dir().keep();
    let store = crossfed_testkit::test_store("error-bodies").await;
    crate::support::start_hub(CONFIG, &store, &data, crossfed_clock::Clock::system()).await
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    Answer { status, headers, text: response.text().await.unwrap() }
}

/// `method path` with the admin token, and `body` sent as `content_type` (none when empty).
async fn api(hub: &Running, method: &str, path: &str, body: Option<(&str, String)>) -> Answer {
    let mut request = client().request(method.parse().unwrap(), format!("{}{path}", hub.url)).bearer_auth(&hub.admin);
    if let Some((content_type, body)) = body {
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        request = request.body(body);
    }
    send(request).await
}

/// `method path` under `/scim/v2` with the SCIM token, and `body` sent as `content_type`.
async fn scim(hub: &Running, method: &str, path: &str, body: Option<(&str, String)>) -> Answer {
    let url = format!("{}/scim/v2{path}", hub.url);
    let mut request = client().request(method.parse().unwrap(), url).bearer_auth(&hub.scim);
    if let Some((content_type, body)) = body {
        request = request.header("content-type", content_type).body(body);
    }
    send(request).await
}

/// The admin API's error body, and nothing else: `{"error": code, "message": …}` as JSON.
fn assert_api_error(answer: &Answer, status: u16, code: &str, mentions: &[&str]) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.header("content-type"), "application/json", "{}", answer.text);
    let body: Value = serde_json::from_str(&answer.text).unwrap_or_else(|e| panic!("{e}: {:?}", answer.text));
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["error", "message"], "{body}");
    assert_eq!(body["error"], code, "{body}");
    let message = body["message"].as_str().unwrap();
    for m in mentions {
        assert!(message.contains(m), "{message:?} should mention {m:?}");
    }
}

/// The SCIM error body, and nothing else: schemas, status (a string), scimType when one applies,
/// detail; as `application/scim+json`.
fn assert_scim_error(answer: &Answer, status: u16, scim_type: Option<&str>, mentions: &[&str]) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.header("content-type"), "application/scim+json", "{}", answer.text);
    let body: Value = serde_json::from_str(&answer.text).unwrap_or_else(|e| panic!("{e}: {:?}", answer.text));
    let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let expected: &[&str] = if scim_type.is_some() {
        &["detail", "schemas", "scimType", "status"]
    } else {
        &["detail", "schemas", "status"]
    };
    assert_eq!(keys, expected, "{body}");
    assert_eq!(body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    assert_eq!(body["status"], status.to_string());
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
    let detail = body["detail"].as_str().unwrap();
    for m in mentions {
        assert!(detail.contains(m), "{detail:?} should mention {m:?}");
    }
}

/// The hub's HTML error page: the page shell with its security headers, a title and the message.
fn assert_page_error(answer: &Answer, status: u16, title: &str, mentions: &[&str]) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.header("content-type"), "text/html; charset=utf-8", "{}", answer.text);
    assert!(answer.header("content-security-policy").contains("default-src 'none'"));
    assert_eq!(answer.header("x-frame-options"), "DENY");
    assert!(answer.text.starts_with("<!DOCTYPE html>"), "{}", answer.text);
    assert!(answer.text.contains(&format!("<h1>{title}</h1>")), "{}", answer.text);
    let message = answer.text.split("id=\"message\">").nth(1).and_then(|m| m.split("</p>").next()).unwrap();
    let message = unescape(message);
    for m in mentions {
        assert!(message.contains(m), "{message:?} should mention {m:?}");
    }
}

fn big_json(bytes: usize) -> String {
    json!({"user_name": "x".repeat(bytes)}).to_string()
}

#[tokio::test]
async fn the_admin_api_answers_every_error_with_its_json_body() {
    let hub = start().await;
    let answer = api(&hub, "GET", "/api/v1/nope", None).await;
    assert_api_error(&answer, 404, "not_found", &["/api/v1/nope", "/api/v1/openapi.json"]);
    let answer = api(&hub, "GET", "/api", None).await;
    assert_api_error(&answer, 404, "not_found", &["/api"]);

    let answer = api(&hub, "DELETE", "/api/v1/users", None).await;
    assert_api_error(&answer, 405, "method_not_allowed", &["/api/v1/users does not take DELETE", "GET", "POST"]);
    assert_eq!(answer.header("allow"), "GET,HEAD,POST");

    let answer = api(&hub, "POST", "/api/v1/users", Some(("application/json", big_json(300 * 1024)))).await;
    assert_api_error(&answer, 413, "body_too_large", &["256 KiB"]);

    let long = format!("/api/v1/users?pad={}", "a".repeat(17 * 1024));
    assert_api_error(&api(&hub, "GET", &long, None).await, 414, "uri_too_long", &["16384", "request body"]);

    let body = json!({"user_name": "bob"}).to_string();
    let answer = api(&hub, "POST", "/api/v1/users", Some(("text/plain", body.clone()))).await;
    assert_api_error(&answer, 415, "unsupported_media_type", &["\"text/plain\"", "application/json"]);
    let answer = api(&hub, "POST", "/api/v1/users", Some(("", body))).await;
    assert_api_error(&answer, 415, "unsupported_media_type", &["missing", "application/json"]);
    let answer = api(&hub, "PUT", "/api/v1/identity-source/metadata", Some(("application/json", "{}".into()))).await;
    assert_api_error(&answer, 415, "unsupported_media_type", &["application/xml"]);

    // A body that does not deserialize is a 400 naming the field and what it takes, not a 422.
    let answer = api(&hub, "POST", "/api/v1/users", Some(("application/json", r#"{"user_name": 5}"#.into()))).await;
    assert_api_error(&answer, 400, "invalid_request", &["user_name", "expected a string"]);
    let wrong = json!({"user_name": "bob", "active": "yes"}).to_string();
    let answer = api(&hub, "POST", "/api/v1/users", Some(("application/json", wrong))).await;
    assert_api_error(&answer, 400, "invalid_request", &["field active", "string \"yes\"", "expected a boolean"]);
    let answer = api(&hub, "POST", "/api/v1/groups", Some(("application/json", "{\"display_name\": ".into()))).await;
    assert_api_error(&answer, 400, "invalid_request", &["the request body"]);
    let answer = api(&hub, "POST", "/api/v1/scim-tokens", Some(("application/json", String::new()))).await;
    assert_api_error(&answer, 400, "invalid_request", &["empty"]);

    let padded = client().get(format!("{}/api/v1/users", hub.url)).bearer_auth(&hub.admin);
    let answer = send(padded.header("x-padding", "b".repeat(40_000))).await;
    assert_api_error(&answer, 431, "headers_too_large", &["32768 bytes", "cookies"]);

    let answer = send(client().get(format!("{}/api/v1/users", hub.url))).await;
    assert_api_error(&answer, 401, "unauthorized", &["Authorization: Bearer"]);
}

#[tokio::test]
async fn admin_query_values_are_checked_not_clamped() {
    let hub = start().await;
    for (query, mentions) in [
        ("limit=-1", vec!["limit is \"-1\"", "from 1 to 1000"]),
        ("limit=0", vec!["limit is \"0\"", "from 1 to 1000"]),
        ("limit=1001", vec!["limit is \"1001\"", "from 1 to 1000"]),
        ("limit=ten", vec!["limit is \"ten\"", "whole number"]),
        ("offset=-1", vec!["offset is \"-1\"", "from 0 up"]),
        ("offset=1.5", vec!["offset is \"1.5\""]),
        ("page=2", vec!["unknown field `page`", "offset", "limit"]),
        ("limit=1&limit=2", vec!["duplicate field `limit`"]),
    ] {
        for route in ["/api/v1/users", "/api/v1/groups"] {
            let answer = api(&hub, "GET", &format!("{route}?{query}"), None).await;
            assert_api_error(&answer, 400, "invalid_request", &mentions);
        }
    }
    for (query, mentions) in [
        ("limit=0", vec!["limit is \"0\"", "from 1 to 10000"]),
        ("limit=-5", vec!["limit is \"-5\""]),
        ("since=yesterday", vec!["since is \"yesterday\""]),
        ("since=20&until=10", vec!["until is \"10\"", "at or after since (20)"]),
    ] {
        let answer = api(&hub, "GET", &format!("/api/v1/audit?{query}"), None).await;
        assert_api_error(&answer, 400, "invalid_request", &mentions);
    }
    let answer = api(&hub, "GET", "/api/v1/users?offset=0&limit=1", None).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let listing: Value = serde_json::from_str(&answer.text).unwrap();
    assert_eq!(listing["items"].as_array().unwrap().len(), 1);
    assert_eq!(api(&hub, "GET", "/api/v1/audit?limit=10000&since=0", None).await.status, 200);
}

#[tokio::test]
async fn scim_answers_every_error_with_the_scim_error_schema() {
    let hub = start().await;
    assert_scim_error(&scim(&hub, "GET", "/Nope", None).await, 404, None, &["no SCIM endpoint at /scim/v2/Nope"]);
    assert_scim_error(&scim(&hub, "GET", "", None).await, 404, None, &["/scim/v2"]);

    let answer = scim(&hub, "PUT", "/Users", None).await;
    assert_scim_error(&answer, 405, None, &["/scim/v2/Users does not take PUT", "GET, HEAD, POST"]);
    assert_eq!(answer.header("allow"), "GET,HEAD,POST");

    let answer = scim(&hub, "POST", "/Users", Some(("application/scim+json", big_json(300 * 1024)))).await;
    assert_scim_error(&answer, 413, None, &["256 KiB"]);

    let long = format!("/Users?filter={}", "a".repeat(17 * 1024));
    assert_scim_error(&scim(&hub, "GET", &long, None).await, 414, None, &["16384"]);

    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bob"}).to_string();
    let answer = scim(&hub, "POST", "/Users", Some(("text/plain", user.clone()))).await;
    assert_scim_error(&answer, 415, None, &["\"text/plain\"", "application/scim+json or application/json"]);
    let answer = scim(&hub, "POST", "/Users", Some(("application/json", user))).await;
    assert_eq!(answer.status, 201, "application/json is read too: {}", answer.text);
    let untyped = client().post(format!("{}/scim/v2/Groups", hub.url)).bearer_auth(&hub.scim);
    let answer = send(untyped.body(json!({"displayName": "Agents"}).to_string())).await;
    assert_eq!(answer.status, 201, "a body without a Content-Type is read as JSON: {}", answer.text);

    let answer = scim(&hub, "POST", "/Users", Some(("application/scim+json", "{\"userName\": ".into()))).await;
    assert_scim_error(&answer, 400, Some("invalidSyntax"), &["not valid JSON"]);
    let answer = scim(&hub, "POST", "/Users/.search", Some(("application/scim+json", r#"{"count": {}}"#.into()))).await;
    assert_scim_error(&answer, 400, Some("invalidSyntax"), &["\"count\" is {}"]);

    let padded = client().get(format!("{}/scim/v2/Users", hub.url)).bearer_auth(&hub.scim);
    let answer = send(padded.header("x-padding", "b".repeat(40_000))).await;
    assert_scim_error(&answer, 431, None, &["headers are too large"]);
}

fn filter_query(filter: &str) -> String {
    format!("/Users?filter={}", percent_encoding::utf8_percent_encode(filter, percent_encoding::NON_ALPHANUMERIC))
}

#[tokio::test]
async fn scim_filters_are_type_checked_and_paging_follows_the_rfc() {
    let hub = start().await;
    for (filter, mentions) in [
        (
            r#"meta.lastModified gt "not-a-date""#,
            vec!["\"meta.lastModified\" is a dateTime attribute", "RFC 3339", "found \"not-a-date\""],
        ),
        (r#"active eq "yes""#, vec!["\"active\" is a boolean attribute", "true or false", "found \"yes\""]),
        ("active gt true", vec!["'gt' does not apply", "eq, ne or pr"]),
        ("userName eq 5", vec!["\"userName\" is a string attribute", "found 5"]),
        (r#"name eq "Bob""#, vec!["complex attribute", "givenName"]),
    ] {
        let answer = scim(&hub, "GET", &filter_query(filter), None).await;
        assert_scim_error(&answer, 400, Some("invalidFilter"), &mentions);
    }
    let search = json!({"filter": r#"meta.created le "2024-13-45""#}).to_string();
    let answer = scim(&hub, "POST", "/.search", Some(("application/scim+json", search))).await;
    assert_scim_error(&answer, 400, Some("invalidFilter"), &["meta.created", "2024-13-45"]);

    // RFC 7644 §3.4.2.4: a negative count is read as 0, a startIndex below 1 as 1.
    let page: Value = serde_json::from_str(&scim(&hub, "GET", "/Users?count=-1", None).await.text).unwrap();
    assert_eq!((page["itemsPerPage"].as_i64(), page["totalResults"].as_i64()), (Some(0), Some(1)), "{page}");
    let page: Value = serde_json::from_str(&scim(&hub, "GET", "/Users?startIndex=-5", None).await.text).unwrap();
    assert_eq!((page["startIndex"].as_i64(), page["itemsPerPage"].as_i64()), (Some(1), Some(1)), "{page}");
    for (query, name) in [("count=ten", "count"), ("startIndex=1.5", "startIndex")] {
        let answer = scim(&hub, "GET", &format!("/Users?{query}"), None).await;
        assert_scim_error(&answer, 400, Some("invalidValue"), &[&format!("query parameter {name}"), "whole number"]);
    }
}

/// `userName eq "user-0000" or … or userName eq LAST`: `n` terms in one flat chain.
fn chain(n: usize, last: &str) -> String {
    let mut terms: Vec<String> = (0..n - 1).map(|i| format!(r#"userName eq "user-{i:04}""#)).collect();
    terms.push(format!(r#"userName eq "{last}""#));
    terms.join(" or ")
}

#[tokio::test]
async fn flat_filter_chains_are_not_nesting() {
    let hub = start().await;
    // 66 terms in a GET (the store once counted each `or` as a level and stopped at 64).
    let answer = scim(&hub, "GET", &filter_query(&chain(66, "alice")), None).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let found: Value = serde_json::from_str(&answer.text).unwrap();
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["userName"], "alice");
    // 1000 terms, in a search body, where a filter this long belongs.
    let search = json!({"filter": chain(1000, "ALICE")}).to_string();
    let answer = scim(&hub, "POST", "/Users/.search", Some(("application/scim+json", search))).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(serde_json::from_str::<Value>(&answer.text).unwrap()["totalResults"], 1);
    let groups = (0..1000).map(|i| format!(r#"displayName eq "g{i}""#)).collect::<Vec<_>>().join(" or ");
    let search = json!({"filter": groups}).to_string();
    let answer = scim(&hub, "POST", "/Groups/.search", Some(("application/scim+json", search))).await;
    assert_eq!(answer.status, 200, "{}", answer.text);

    // Nesting 65 deep is refused, naming the limit; so are 1001 terms.
    let deep = format!("{}userName pr{}", "(".repeat(65), ")".repeat(65));
    let answer = scim(&hub, "GET", &filter_query(&deep), None).await;
    assert_scim_error(&answer, 400, Some("invalidFilter"), &["nests more than 32 levels"]);
    let search = json!({"filter": chain(1001, "alice")}).to_string();
    let answer = scim(&hub, "POST", "/Users/.search", Some(("application/scim+json", search))).await;
    assert_scim_error(&answer, 400, Some("invalidFilter"), &["more than 1000 terms"]);
}

#[tokio::test]
async fn pages_answer_every_error_with_the_html_error_page() {
    let hub = start().await;
    let answer = send(client().get(format!("{}/nope", hub.url))).await;
    assert_page_error(&answer, 404, "Page not found", &["Nothing is served at /nope"]);
    let answer = send(client().get(format!("{}/admin/nope", hub.url))).await;
    assert_page_error(&answer, 404, "Page not found", &["/admin/nope"]);

    let answer = send(client().put(format!("{}/login", hub.url))).await;
    assert_page_error(&answer, 405, "Method not allowed", &["/login does not take PUT; it takes GET, HEAD, POST"]);
    assert_eq!(answer.header("allow"), "GET,HEAD,POST");
    let answer = send(client().delete(format!("{}/admin/users", hub.url))).await;
    assert_page_error(&answer, 405, "Method not allowed", &["/admin/users does not take DELETE"]);

    let big = "a".repeat(300 * 1024);
    let answer = send(client().post(format!("{}/login", hub.url)).form(&[("nonce", big.as_str())])).await;
    assert_page_error(&answer, 413, "Request too large", &["256 KiB"]);

    let long = format!("{}/login?next=/{}", hub.url, "a".repeat(17 * 1024));
    assert_page_error(&send(client().get(long)).await, 414, "Address too long", &["16384"]);

    let plain = client().post(format!("{}/login", hub.url)).header("content-type", "text/plain");
    let answer = send(plain.body("x")).await;
    assert_page_error(&answer, 415, "Unsupported form", &["\"text/plain\"", "application/x-www-form-urlencoded"]);
    let answer = send(client().post(format!("{}/saml/acs", hub.url)).body("SAMLResponse=x")).await;
    assert_page_error(&answer, 415, "Unsupported form", &["missing"]);

    // A form that does not deserialize is a 400 naming the field, not axum's 422.
    let answer = send(client().post(format!("{}/login", hub.url)).form(&[("nonce", "n")])).await;
    assert_page_error(&answer, 400, "Request refused", &["The request does not read", "user_name"]);

    let answer = send(client().get(format!("{}/login", hub.url)).header("x-padding", "b".repeat(40_000))).await;
    assert_page_error(&answer, 431, "Headers too large", &["clear this site's cookies"]);
}

//! Requests the emulated account refuses before a handler answers them get the error body AWS
//! writes on that side of the account, against a real listener on a free port: the query API's
//! XML `ErrorResponse` at `/` (STS, IAM), Connect's REST JSON error with `x-amzn-ErrorType`
//! elsewhere, and the console's HTML error page on its pages — for a body over the limit (413),
//! a URI too long (414), headers too large (431), and on the console's pages a method they do
//! not take (405, with `Allow`), a form of the wrong type (415) or that does not read (400).
//! Each request and refusal is measured at `/metrics`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use crossfed_cloud::{App, Settings};
use crossfed_store::{Store, new_id};
use serde_json::Value;

struct Cloud {
    base: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Cloud {
    let store = Store::connect(&format!("sqlite:file:refusals-{}?mode=memory&cache=shared", new_id())).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let settings = Settings::new("123456789012", "us-east-1", &base);
    let app = Arc::new(App::new(store, settings, "AKIAADMINEXAMPLE0001", "admin/secret/example"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(crossfed_cloud::serve(listener, app, async move {
        let _ = rx.await;
    }));
    Cloud { base, _shutdown: tx }
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

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    Answer { status, headers, text: response.text().await.unwrap() }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The query protocol's error document, with `code` and a message mentioning `mentions`.
fn assert_xml_error(answer: &Answer, status: u16, code: &str, mentions: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.header("content-type"), "text/xml");
    let text = &answer.text;
    assert!(text.starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"), "{text}");
    assert!(text.contains(&format!("<Type>Sender</Type><Code>{code}</Code><Message>")), "{text}");
    assert!(text.contains(mentions), "{text} should mention {mentions}");
    assert!(text.contains("</Error><RequestId>") && text.ends_with("</RequestId></ErrorResponse>"), "{text}");
}

/// Connect's REST JSON error: `{"Message": …}` and the code in `x-amzn-ErrorType`.
fn assert_json_error(answer: &Answer, status: u16, code: &str, mentions: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.header("content-type"), "application/json");
    assert_eq!(answer.header("x-amzn-ErrorType"), code);
    let body: Value = serde_json::from_str(&answer.text).unwrap();
    assert_eq!(body.as_object().unwrap().keys().collect::<Vec<_>>(), ["Message"], "{body}");
    assert!(body["Message"].as_str().unwrap().contains(mentions), "{body} should mention {mentions}");
}

/// The console's HTML error page.
fn assert_page_error(answer: &Answer, status: u16, title: &str, mentions: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.header("content-type"), "text/html; charset=utf-8");
    assert!(answer.header("content-security-policy").contains("frame-ancestors 'none'"));
    assert!(answer.text.contains(&format!("<h1>{title}</h1>")), "{}", answer.text);
    let message = answer.text.split("id=\"message\">").nth(1).and_then(|m| m.split("</p>").next()).unwrap();
    let message = crossfed_testkit::browser::unescape(message);
    assert!(message.contains(mentions), "{message:?} should mention {mentions:?}");
}

#[tokio::test]
async fn the_query_api_refuses_in_its_xml_error_document() {
    let cloud = start().await;
    let big = format!("Action=GetCallerIdentity&Pad={}", "a".repeat(1100 * 1024));
    let answer =
        send(client().post(&cloud.base).header("content-type", "application/x-www-form-urlencoded").body(big)).await;
    assert_xml_error(&answer, 413, "RequestEntityTooLarge", "larger than 1 MiB");
    let long = format!("{}/?Action=GetCallerIdentity&Pad={}", cloud.base, "a".repeat(17 * 1024));
    assert_xml_error(&send(client().get(long)).await, 414, "RequestURITooLong", "16384");
    let padded = client().get(format!("{}/?Action=GetCallerIdentity", cloud.base)).header("x-pad", "b".repeat(40_000));
    assert_xml_error(&send(padded).await, 431, "RequestHeaderFieldsTooLarge", "headers are too large");
}

#[tokio::test]
async fn connect_refuses_in_its_json_error() {
    let cloud = start().await;
    let big = format!("{{\"InstanceAlias\": \"{}\"}}", "a".repeat(1100 * 1024));
    let answer = send(client().put(format!("{}/instance", cloud.base)).body(big)).await;
    assert_json_error(&answer, 413, "RequestEntityTooLargeException", "larger than 1 MiB");
    let long = format!("{}/users-summary/x?maxResults={}", cloud.base, "1".repeat(17 * 1024));
    assert_json_error(&send(client().get(long)).await, 414, "RequestURITooLongException", "16384");
    let padded = client().get(format!("{}/instance", cloud.base)).header("x-pad", "b".repeat(40_000));
    assert_json_error(&send(padded).await, 431, "RequestHeaderFieldsTooLargeException", "headers are too large");
    // No operation at a path is Connect's own answer, unchanged.
    let answer = send(client().get(format!("{}/nope", cloud.base))).await;
    assert_json_error(&answer, 404, "UnknownOperationException", "No operation at GET /nope");
}

#[tokio::test]
async fn console_pages_refuse_with_the_html_error_page() {
    let cloud = start().await;
    let answer = send(client().get(format!("{}/saml", cloud.base))).await;
    assert_page_error(&answer, 405, "Method not allowed", "/saml does not take GET; it takes POST");
    assert_eq!(answer.header("allow"), "POST");
    let answer = send(client().post(format!("{}/console", cloud.base))).await;
    assert_page_error(&answer, 405, "Method not allowed", "it takes GET, HEAD");

    let plain = client().post(format!("{}/saml", cloud.base)).header("content-type", "text/plain");
    let answer = send(plain.body("SAMLResponse=x")).await;
    assert_page_error(&answer, 415, "Unsupported form", "\"text/plain\"");
    let answer = send(client().post(format!("{}/saml/role", cloud.base)).form(&[("choice", "c")])).await;
    assert_page_error(&answer, 400, "Request refused", "missing field `role`");
    let answer = send(client().post(format!("{}/saml/role", cloud.base)).form(&[("choice", "c"), ("role", "x")])).await;
    assert_page_error(&answer, 400, "Request refused", "role");

    let big = "a".repeat(1100 * 1024);
    let answer = send(client().post(format!("{}/saml", cloud.base)).form(&[("SAMLResponse", big.as_str())])).await;
    assert_page_error(&answer, 413, "Request too large", "larger than 1 MiB");
    let long = format!("{}/connect/federate/i?destination={}", cloud.base, "a".repeat(17 * 1024));
    assert_page_error(&send(client().get(long)).await, 414, "Address too long", "16384");
    let padded = client().get(format!("{}/console", cloud.base)).header("x-pad", "b".repeat(40_000));
    assert_page_error(&send(padded).await, 431, "Headers too large", "clear this site's cookies");
}

/// The account's health checks answer as the hub's do, and each answer carries its request ID.
#[tokio::test]
async fn health_checks_answer() {
    let cloud = start().await;
    let alive = reqwest::get(format!("{}/healthz", cloud.base)).await.unwrap();
    assert!(alive.headers().contains_key("x-request-id"));
    assert_eq!(alive.json::<Value>().await.unwrap(), serde_json::json!({"status": "ok"}));
    let ready = reqwest::get(format!("{}/readyz", cloud.base)).await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap(), serde_json::json!({"status": "ready"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_refusals_are_measured_at_metrics() {
    let cloud = start().await;
    let client = reqwest::Client::new();
    assert_eq!(send(client.get(format!("{}/healthz", cloud.base))).await.status, 200);
    assert_eq!(send(client.delete(format!("{}/console", cloud.base))).await.status, 405);
    let metrics = send(client.get(format!("{}/metrics", cloud.base))).await;
    assert_eq!(metrics.status, 200);
    assert_eq!(metrics.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    for line in [
        "crossfed_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\",status=\"2xx\"} 1",
        // A method the route does not take matched no route: the log line says so too.
        "crossfed_http_request_duration_seconds_count{method=\"DELETE\",route=\"(no route)\",status=\"4xx\"} 1",
        "crossfed_refusals_total{kind=\"method_not_allowed\"} 1",
    ] {
        assert!(metrics.text.lines().any(|l| l == line), "{line} in\n{}", metrics.text);
    }
}

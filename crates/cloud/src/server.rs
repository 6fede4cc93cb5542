//! The listener of the emulated account: routes, request limits, and the glue between HTTP and
//! the API modules. Only this file imports the handlers; they import the state ([`crate::state`]).
//! A request the listener refuses before a handler answers it (oversized headers or URI, a body
//! over the limit, no route, a method or form the console page does not take) gets the error
//! body of the side it was sent to, as AWS writes them ([`refused`]).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use crossfed_web::serving::ServeOptions;
use crossfed_web::{Guard, Refusal};
use tokio::net::TcpListener;

use crate::auth::SignedRequest;
use crate::error::AwsError;
use crate::iam_api::Params;
use crate::state::{App, MAX_BODY_BYTES};

/// The routes of the account.
pub fn router(app: Arc<App>) -> Router {
    let routes = Router::new()
        .route("/", any(query_endpoint))
        .route("/saml", post(crate::console::sign_in))
        .route("/saml/role", post(crate::console::choose_role))
        .route("/console", get(crate::console::console_home))
        .route("/connect/federate/{instance}", get(crate::console::federate_url))
        .route("/connect/{instance}/sign-in", get(crate::console::connect_sign_in))
        .route("/connect/{instance}/{*page}", get(crate::console::agent_workspace))
        .route("/healthz", get(crate::health::healthz))
        .route("/readyz", get(crate::health::readyz))
        .route("/metrics", get(metrics))
        .fallback(connect_endpoint)
        .layer(axum::middleware::from_fn(crossfed_web::log::note_route))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let (name, measures) = (app.settings.base_url.clone(), app.metrics.http.clone());
    let guarded =
        crossfed_web::guarded(routes.with_state(app), Guard { render: refused, max_body_bytes: MAX_BODY_BYTES });
    crossfed_web::log::logged_and_measured(crossfed_web::strict_transport(guarded, &name), &name, Some(measures))
}

/// `GET /metrics`: the listener's requests and refusals, for Prometheus.
async fn metrics(State(app): State<Arc<App>>) -> Response {
    match app.metrics.encode() {
        Ok(text) => crossfed_web::metrics::exposition(text),
        Err(e) => refused(
            "/metrics",
            Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, format!("the metrics could not be written: {e}")),
        ),
    }
}

/// Serves `app` on `listener` until `shutdown` completes, with the default connection limits.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, ServeOptions::default(), shutdown).await
}

/// Serves `app` on `listener` as `options` say (TLS, limits, trusted proxies) until `shutdown`
/// completes and the requests under way have finished.
pub async fn serve_with(
    listener: TcpListener,
    app: Arc<App>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crossfed_web::serving::serve(listener, router(app), options, shutdown).await
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect()
}

fn form_params(query: &str, body: &[u8]) -> Params {
    form_urlencoded::parse(query.as_bytes())
        .chain(form_urlencoded::parse(body))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn xml_response(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    response
}

async fn query_endpoint(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = uri.query().unwrap_or("");
    let params = form_params(query, if method == Method::POST { &body } else { &[] });
    let request = SignedRequest {
        method: method.as_str(),
        path: uri.path(),
        query,
        headers: header_pairs(&headers),
        body: &body,
    };
    let result = crate::query_api::handle(&app, &request, &params, app.now()).await;
    xml_response(result.status, result.body)
}

/// REST JSON errors: the code in `x-amzn-ErrorType`, the message in the body.
fn json_response(result: crate::connect_api::JsonResult) -> Response {
    let (status, body, error_type) = match result {
        Ok((status, body)) => (status, body, None),
        Err(e) => (e.status, serde_json::json!({"Message": e.message}), Some(e.code)),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(code) = error_type {
        response.headers_mut().insert("x-amzn-ErrorType", HeaderValue::from_static(code));
    }
    response
}

async fn connect_endpoint(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = SignedRequest {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: header_pairs(&headers),
        body: &body,
    };
    json_response(crate::connect_api::handle(&app, &request, app.now()).await)
}

/// Whether `path` is one of the console's HTML pages.
fn console_page(path: &str) -> bool {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    under("/saml") || under("/console") || path.starts_with("/connect/")
}

/// The AWS error code of a refusal: the query protocol's (`/`) and the REST JSON one's.
fn aws_codes(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("InvalidAction", "UnknownOperationException"),
        StatusCode::METHOD_NOT_ALLOWED => ("InvalidAction", "UnknownOperationException"),
        StatusCode::PAYLOAD_TOO_LARGE => ("RequestEntityTooLarge", "RequestEntityTooLargeException"),
        StatusCode::URI_TOO_LONG => ("RequestURITooLong", "RequestURITooLongException"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("UnsupportedMediaType", "UnsupportedMediaTypeException"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            ("RequestHeaderFieldsTooLarge", "RequestHeaderFieldsTooLargeException")
        }
        s if s.is_server_error() => ("InternalFailure", "InternalServerException"),
        _ => ("MalformedQueryString", "InvalidRequestException"),
    }
}

/// A request to `path` the listener refused, in the error body of that side of the account: the
/// query API's XML `ErrorResponse` at `/`, an HTML error page on the console's pages, and
/// Connect's REST JSON error (its code in `x-amzn-ErrorType`) everywhere else.
fn refused(path: &str, refusal: Refusal) -> Response {
    let (query_code, json_code) = aws_codes(refusal.status);
    if path == "/" {
        let error = AwsError::new(query_code, refusal.status.as_u16(), refusal.message);
        let body = crate::aws_xml::error(&error, crate::aws_xml::STS_NS, &crate::ids::uuid());
        return xml_response(error.status, body);
    }
    if console_page(path) {
        let fix = "Go back and start again at the identity provider.";
        return crate::pages::error_page(refusal.status, refusal.title(), &refusal.sentence(), fix);
    }
    json_response(Err(AwsError::new(json_code, refusal.status.as_u16(), refusal.message)))
}

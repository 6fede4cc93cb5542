//! The listener of the emulated account: routes, request limits, and the glue between HTTP and
//! the API modules. Only this file imports the handlers; they import the state ([`crate::state`]).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use tokio::net::TcpListener;

use crate::auth::SignedRequest;
use crate::iam_api::Params;
use crate::state::App;

/// The routes of the account.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", any(query_endpoint))
        .route("/saml", post(crate::console::sign_in))
        .route("/saml/role", post(crate::console::choose_role))
        .route("/console", get(crate::console::console_home))
        .route("/connect/federate/{instance}", get(crate::console::federate_url))
        .route("/connect/{instance}/sign-in", get(crate::console::connect_sign_in))
        .route("/connect/{instance}/{*page}", get(crate::console::agent_workspace))
        .fallback(connect_endpoint)
        .layer(DefaultBodyLimit::max(crate::state::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(crossfed_web::limit_headers))
        .with_state(app)
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app)).with_graceful_shutdown(shutdown).await
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

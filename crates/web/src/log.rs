//! One log line per request, and one per refusal. Each request gets an ID, returned as the
//! `x-request-id` header and written in its lines, so a person's report ("it said 403 at 10:02,
//! request 3f…") finds the server's side. A line names the route's template (`/apps/{id}/launch`),
//! never the path or query as sent: queries carry SAML messages, paths carry identifiers, and
//! neither belongs in a log. What a refusal was is its stable kind, set by whoever refused
//! ([`Refused`]) or, for the listener's own answers, the status's name.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::metrics::HttpMetrics;

/// The header carrying a request's ID back to the client.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request's ID, in its extensions for handlers that want to say it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A response's stable refusal kind (`invalid_request`, `saml.other_browser`…), set by the code
/// that refused: the request's log line says it.
#[derive(Debug, Clone, Copy)]
pub struct Refused(pub &'static str);

/// The route template that answered, carried from inside the router to the log line.
#[derive(Debug, Clone)]
struct Route(String);

/// `app` with a log line per request: the outermost layer, so the line has the status the client
/// got. `listener` names the server in the lines (its public URL: one process may run several,
/// as the demo does).
pub fn logged(app: Router, listener: &str) -> Router {
    logged_and_measured(app, listener, None)
}

/// [`logged`], each request also measured in `metrics` (its latency by route, its refusal by
/// kind): the same route and kind as the log line's.
pub fn logged_and_measured(app: Router, listener: &str, metrics: Option<HttpMetrics>) -> Router {
    let listener: Arc<str> = Arc::from(listener);
    app.layer(axum::middleware::from_fn(move |request: Request, next: Next| {
        log_request(listener.clone(), metrics.clone(), request, next)
    }))
    .layer(axum::middleware::from_fn(crate::client::note_peer))
}

/// Records the matched route's template in the response, for [`logged`]'s line. Added with
/// `Router::layer` inside the router, where the route is known.
pub async fn note_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| Route(p.as_str().to_string()));
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

async fn log_request(listener: Arc<str>, metrics: Option<HttpMetrics>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = crossfed_random::hex::<8>();
    request.extensions_mut().insert(RequestId(id.clone()));
    let method = request.method().clone();
    let client = crate::client::client_address(&request).map(|c| c.0.to_string()).unwrap_or_default();
    let mut response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    // Microseconds are enough, and keep the lines short.
    let latency_ms = (elapsed * 1_000_000.0).round() / 1000.0;
    let listener = &*listener;
    let status = response.status().as_u16();
    let route = response.extensions().get::<Route>().map_or("(no route)", |r| r.0.as_str()).to_string();
    tracing::info!(target: "crossfed::request", %listener, %client, %method, route = %route, status, latency_ms, request_id = %id);
    if let Some(metrics) = &metrics {
        metrics.answered(method.as_str(), &route, status, elapsed);
    }
    if status >= 400 {
        let kind = refusal_kind(&response);
        tracing::info!(target: "crossfed::refusal", %listener, %client, %method, route = %route, status, kind, request_id = %id);
        if let Some(metrics) = &metrics {
            metrics.refused(kind);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// The stable kind of `response`'s refusal: the one its refuser named, else what its status
/// says.
pub fn refusal_kind(response: &Response) -> &'static str {
    response.extensions().get::<Refused>().map_or_else(|| status_kind(response.status().as_u16()), |r| r.0)
}

/// The kind of a refusal nobody named: what its status says.
fn status_kind(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "body_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        429 => "too_many_requests",
        431 => "headers_too_large",
        503 => "unavailable",
        507 => "insufficient_storage",
        s if s >= 500 => "internal",
        _ => "refused",
    }
}

//! The answers of the health checks both listeners serve: `/healthz` (the process answers) and
//! `/readyz` (it can serve), as load balancers and orchestrators read them. Each listener decides
//! which checks fail; the answer names them and nothing more.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    /// The checks that fail, by name only.
    #[serde(skip_serializing_if = "<[&str]>::is_empty")]
    failing: &'a [&'static str],
}

/// `GET /healthz`: 200 `{"status":"ok"}`.
pub fn alive() -> Response {
    (StatusCode::OK, axum::Json(Health { status: "ok", failing: &[] })).into_response()
}

/// `GET /readyz`: 200 `{"status":"ready"}` when no check fails, else 503 naming the failing ones
/// (logged as a warning).
pub fn readiness(failing: &[&'static str]) -> Response {
    if failing.is_empty() {
        return (StatusCode::OK, axum::Json(Health { status: "ready", failing })).into_response();
    }
    tracing::warn!("not ready: {}", failing.join(", "));
    (StatusCode::SERVICE_UNAVAILABLE, axum::Json(Health { status: "not ready", failing })).into_response()
}

//! Health checks of the emulated account, as the hub has them: `/healthz` says the process
//! answers, `/readyz` whether its store does. Public, cheap, naming a failing check only.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::App;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Response {
    (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response()
}

/// `GET /readyz`: 200 when the store answers, else 503 naming it.
pub async fn readyz(State(app): State<Arc<App>>) -> Response {
    match app.resources.store.ping().await {
        Ok(()) => (StatusCode::OK, axum::Json(json!({"status": "ready"}))).into_response(),
        Err(e) => {
            tracing::warn!("not ready: the store does not answer: {e}");
            let body = json!({"status": "not ready", "failing": ["store"]});
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
        }
    }
}

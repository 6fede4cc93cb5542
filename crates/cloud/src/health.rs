//! Health checks of the emulated account, as the hub has them: `/healthz` says the process
//! answers, `/readyz` whether its store does.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;

use crate::state::App;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Response {
    crossfed_web::health::alive()
}

/// `GET /readyz`: 200 when the store answers, else 503 naming it.
pub async fn readyz(State(app): State<Arc<App>>) -> Response {
    let store = app.resources.store.ping().await;
    if let Err(e) = &store {
        tracing::warn!("the store does not answer: {e}");
    }
    crossfed_web::health::readiness(if store.is_ok() { &[] } else { &["store"] })
}

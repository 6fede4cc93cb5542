//! Health checks for load balancers and orchestrators: `/healthz` says the process answers,
//! `/readyz` whether it can serve sign-ins — its store answers, its signing certificate is
//! valid, and, with an identity source, the IdP's metadata is valid now. Both are public and
//! cheap, and say which check fails without saying why (the log and `crossfed check` do that).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use crate::state::Hub;

pub fn routes() -> Router<Arc<Hub>> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// `GET /healthz`: the process answers.
async fn healthz() -> Response {
    crossfed_web::health::alive()
}

/// `GET /readyz`: 200 when every check passes, else 503 naming the failing checks.
async fn readyz(State(hub): State<Arc<Hub>>) -> Response {
    crossfed_web::health::readiness(&hub.failing_checks().await)
}

//! The hub's listener: every route, the request limits, and serving. The only module that
//! imports the handler modules; they import the state ([`crate::state`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;

use crate::state::Hub;

/// Every route of the hub, with its request limits.
pub fn router(hub: Arc<Hub>) -> Router {
    Router::new()
        .merge(crate::portal::routes())
        .merge(crate::saml_idp::routes())
        .merge(crate::saml_sp::routes())
        .merge(crate::logout::routes())
        .merge(crate::admin::routes())
        .merge(crate::console::routes())
        .merge(crate::scim::routes())
        .layer(DefaultBodyLimit::max(256 * 1024))
        .layer(axum::middleware::from_fn(crossfed_web::limit_headers))
        .with_state(hub)
}

/// Serves `hub` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    hub: Arc<Hub>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(hub)).with_graceful_shutdown(shutdown).await
}

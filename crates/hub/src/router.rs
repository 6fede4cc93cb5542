//! The hub's listener: every route, the request limits, and serving. The only module that
//! imports the handler modules; they import the state ([`crate::state`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;

use crate::state::Hub;
use crate::web::refusal::{MAX_BODY_BYTES, guard};

/// Every route of the hub, with its request limits; a request no handler answers in full gets
/// the error body of the surface it was sent to ([`crate::web::refusal`]); every request is
/// logged ([`crossfed_web::log`]).
pub fn router(hub: Arc<Hub>) -> Router {
    let app = Router::new()
        .merge(crate::portal::routes())
        .merge(crate::saml_idp::routes())
        .merge(crate::saml_sp::routes())
        .merge(crate::logout::routes())
        .merge(crate::admin::routes())
        .merge(crate::console::routes())
        .merge(crate::scim::routes())
        .merge(crate::health::routes())
        .layer(axum::middleware::from_fn_with_state(hub.clone(), crate::web::refusal_audit::audit_refusals))
        .layer(axum::middleware::from_fn(crossfed_web::log::note_route))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let name = hub.base_url.clone();
    crossfed_web::log::logged(crossfed_web::guarded(app.with_state(hub), guard()), &name)
}

/// Serves `hub` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    hub: Arc<Hub>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(hub).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

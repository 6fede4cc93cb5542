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
    router_with(hub, MetricsAt::Here)
}

/// Where the hub answers `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsAt {
    /// On the hub's own listener.
    Here,
    /// On a listener of its own ([`metrics_router`]); the hub's answers 404.
    Elsewhere,
}

/// [`router`], with `/metrics` where `metrics` says. Every request is also measured.
pub fn router_with(hub: Arc<Hub>, metrics: MetricsAt) -> Router {
    let count_scim = axum::middleware::from_fn_with_state(hub.clone(), crate::scim::count_operation);
    let mut app = Router::new()
        .merge(crate::portal::routes())
        .merge(crate::saml_idp::routes())
        .merge(crate::saml_sp::routes())
        .merge(crate::logout::routes())
        .merge(crate::admin::routes())
        .merge(crate::console::routes())
        .merge(crate::scim::routes().route_layer(count_scim))
        .merge(crate::health::routes());
    if metrics == MetricsAt::Here {
        app = app.merge(crate::scrape::routes());
    }
    let app = app
        .layer(axum::middleware::from_fn_with_state(hub.clone(), crate::web::refusal_audit::audit_refusals))
        .layer(axum::middleware::from_fn(crossfed_web::log::note_route))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let (name, measures) = (hub.base_url.clone(), hub.metrics.http.clone());
    crossfed_web::log::logged_and_measured(crossfed_web::guarded(app.with_state(hub), guard()), &name, Some(measures))
}

/// The metrics listener's routes: `/metrics` alone, neither logged nor measured (a scrape a
/// second would drown the log).
pub fn metrics_router(hub: Arc<Hub>) -> Router {
    crossfed_web::guarded(crate::scrape::routes().with_state(hub), guard())
}

/// Serves `hub` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    hub: Arc<Hub>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_metrics(listener, None, hub, shutdown).await
}

/// Serves `hub` on `listener` until `shutdown` completes, and its `/metrics` on
/// `metrics_listener` when given (then not on `listener`).
pub async fn serve_with_metrics(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    hub: Arc<Hub>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let at = if metrics_listener.is_some() { MetricsAt::Elsewhere } else { MetricsAt::Here };
    let metrics = metrics_listener.map(|l| tokio::spawn(axum::serve(l, metrics_router(hub.clone())).into_future()));
    let served =
        axum::serve(listener, router_with(hub, at).into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    served
}

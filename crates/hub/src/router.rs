//! The hub's listener: every route, the request limits, and serving. The only module that
//! imports the handler modules; they import the state ([`crate::state`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use crossfed_web::serving::ServeOptions;
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
    let app = crossfed_web::strict_transport(crossfed_web::guarded(app.with_state(hub), guard()), &name);
    crossfed_web::log::logged_and_measured(app, &name, Some(measures))
}

/// The metrics listener's routes: `/metrics` alone, neither logged nor measured (a scrape a
/// second would drown the log).
pub fn metrics_router(hub: Arc<Hub>) -> Router {
    crossfed_web::guarded(crate::scrape::routes().with_state(hub), guard())
}

/// Serves `hub` on `listener` until `shutdown` completes, with the default connection limits.
pub async fn serve(
    listener: TcpListener,
    hub: Arc<Hub>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, None, hub, ServeOptions::default(), shutdown).await
}

/// Serves `hub` on `listener` as `options` say (TLS, limits, trusted proxies) until `shutdown`
/// completes and the requests under way have finished; and its `/metrics` on `metrics_listener`
/// when given (then not on `listener`), with the default limits and without TLS.
pub async fn serve_with(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    hub: Arc<Hub>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let at = if metrics_listener.is_some() { MetricsAt::Elsewhere } else { MetricsAt::Here };
    let metrics = metrics_listener.map(|l| {
        let router = metrics_router(hub.clone());
        tokio::spawn(crossfed_web::serving::serve(l, router, ServeOptions::default(), std::future::pending()))
    });
    let served = crossfed_web::serving::serve(listener, router_with(hub, at), options, shutdown).await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    served
}

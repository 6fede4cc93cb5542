//! `GET /metrics`: the hub's metrics in Prometheus's text format, on the hub's listener or on its
//! own (`crossfed serve --metrics-listen`). Counters and histograms are kept as things happen
//! ([`crate::metrics`]); the states — readiness, certificates, metadata and tokens that expire,
//! provisioning, the audit queue — are read here, at each scrape, with the hub's clock.
//! Unauthenticated, as health checks are: it says how the hub fares, not who uses it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use crossfed_store::{ProvisioningStore, StoreError, SyncState, TokenStore};
use crossfed_xmldsig::Certificate;

use crate::metrics::{CertificateExpiry, Snapshot};
use crate::state::Hub;
use crate::tokens;
use crate::web::pages::error_page;

/// How long a scrape waits for each read of the store; Prometheus's own timeout is 10 s.
const STORE_WAIT: Duration = Duration::from_secs(2);

const SYNC_STATES: [SyncState; 4] = [SyncState::InSync, SyncState::Pending, SyncState::Failed, SyncState::Removed];

pub fn routes() -> Router<Arc<Hub>> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(hub): State<Arc<Hub>>) -> Response {
    let snapshot = snapshot(&hub).await;
    match hub.metrics.render(&snapshot) {
        Ok(text) => crossfed_web::metrics::exposition(text),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, "Metrics unavailable", &e.to_string(), None),
    }
}

/// The hub's states now. What the store must say is left out when it does not answer in time
/// (the `store` readiness check says so).
async fn snapshot(hub: &Hub) -> Snapshot {
    let readiness = hub.readiness().await;
    let store_answers = readiness.iter().any(|(check, passes)| *check == "store" && *passes);
    let now = hub.clock.unix();
    let (tokens, provisioning) = if store_answers {
        (within(token_expiries(hub, now)).await, within(provisioning_counts(hub)).await)
    } else {
        (Vec::new(), Vec::new())
    };
    Snapshot {
        readiness,
        audit_queue_depth: hub.audit.queue().depth(),
        certificates: certificates(hub, now),
        identity_source_metadata: hub
            .identity_source
            .as_ref()
            .and_then(|source| source.idp().valid_until)
            .map(|until| until.unix() - now),
        tokens,
        provisioning,
    }
}

/// What `read` found, or nothing when the store failed or took longer than [`STORE_WAIT`].
async fn within<T>(read: impl Future<Output = Result<Vec<T>, StoreError>>) -> Vec<T> {
    match tokio::time::timeout(STORE_WAIT, read).await {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            tracing::warn!("metrics: the token and provisioning series are left out of this scrape: {e}");
            Vec::new()
        }
        Err(_) => {
            tracing::warn!(
                "metrics: the token and provisioning series are left out of this scrape: the store did not answer within {} s",
                STORE_WAIT.as_secs()
            );
            Vec::new()
        }
    }
}

/// The hub's signing certificates (the current one, a staged next one) and the identity
/// source's, with the seconds until each expires.
fn certificates(hub: &Hub, now: i64) -> Vec<CertificateExpiry> {
    let expiry = |certificate, c: &Certificate| CertificateExpiry {
        certificate,
        sha256: c.fingerprint_hex(),
        seconds: c.not_after() - now,
    };
    let mut list = Vec::new();
    for ring in hub.keys.rings() {
        let (keys, role) = (ring.current(), ring.role().name());
        list.push(expiry(role.clone(), keys.current.certificate()));
        list.extend(keys.next.iter().map(|k| expiry(format!("{role}_next"), k.certificate())));
    }
    if let Some(source) = &hub.identity_source
        && let Some(idp) = &source.idp().idp
    {
        list.extend(idp.signing_certificates.iter().map(|c| expiry("identity_source".to_string(), c)));
    }
    list
}

/// Seconds until each live admin or SCIM token that expires does, the soonest per name. A token
/// replaced by a rotation is left out: it ends by design, and its successor (same name) is the
/// one to watch, so an alert on the series clears once the token is rotated.
async fn token_expiries(hub: &Hub, now: i64) -> Result<Vec<(String, String, i64)>, StoreError> {
    let mut soonest: BTreeMap<(String, String), i64> = BTreeMap::new();
    for purpose in [tokens::ADMIN, tokens::SCIM] {
        for token in hub.store.list_tokens(purpose).await? {
            if let Some(expires) = token.expires_at.filter(|_| token.is_live(now) && token.replaced_by.is_none()) {
                let seconds = soonest.entry((token.purpose, token.name)).or_insert(expires - now);
                *seconds = (*seconds).min(expires - now);
            }
        }
    }
    Ok(soonest.into_iter().map(|((purpose, name), seconds)| (purpose, name, seconds)).collect())
}

/// Users and groups per connector and state; every state of each running connector, zeros too.
async fn provisioning_counts(hub: &Hub) -> Result<Vec<(String, &'static str, i64)>, StoreError> {
    let mut counts: BTreeMap<(String, &'static str), i64> = BTreeMap::new();
    for connector in hub.provisioning.connector_names().await {
        for state in SYNC_STATES {
            counts.insert((connector.clone(), state.as_str()), 0);
        }
    }
    for (connector, state, n) in hub.store.count_provisioning().await? {
        counts.insert((connector, state.as_str()), n);
    }
    Ok(counts.into_iter().map(|((connector, state), n)| (connector, state, n)).collect())
}

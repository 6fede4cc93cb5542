//! Ending the upstream IdP's session after the hub's: a signed LogoutRequest over the
//! HTTP-Redirect binding (when the IdP's metadata has a SingleLogoutService), kept server-side by
//! its ID so the IdP's answer can be matched to it once.

use crossfed_clock::Clock;
use crossfed_saml::{MessageKind, Timestamp, build_logout_request, ns, redirect_query};
use crossfed_store::{ObjectKey, Store};
use serde::{Deserialize, Serialize};

use super::IdentitySource;
use crate::keys::KeyRing;
use crate::records::kinds::PENDING_LOGOUT;
use crate::records::{PENDING_SECONDS, SCOPE, insert_json, take_json};
use crate::sessions::UpstreamLogin;

/// A LogoutRequest sent to the upstream IdP, found again by its ID when the answer comes.
#[derive(Serialize, Deserialize)]
struct PendingLogout {
    request_id: String,
    expires: i64,
}

/// Where to send a message for an endpoint, its query added.
pub fn with_query(url: &str, query: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

/// After the hub's session ended: the URL that asks the upstream IdP to end its session too, if
/// the IdP's metadata offers single logout over the Redirect binding. Failures are logged and
/// the person is only signed out of the hub.
pub async fn logout_url(
    source: &IdentitySource,
    store: &Store,
    keys: &KeyRing,
    clock: &Clock,
    upstream: &UpstreamLogin,
) -> Option<String> {
    let metadata = source.idp();
    let idp = metadata.require_idp().ok()?;
    let endpoint = idp.slo_service(ns::BINDING_HTTP_REDIRECT)?;
    let built = build_logout_request(
        &source.sp_entity_id,
        &endpoint.location,
        &upstream.name_id,
        upstream.session_index.as_deref(),
        Timestamp::from(clock.now()),
        None,
    );
    let (request_id, xml) = match built {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("building the LogoutRequest for the IdP: {e}");
            return None;
        }
    };
    let query = match redirect_query(MessageKind::Request, &xml, None, Some(&*keys.signing_key())) {
        Ok(q) => q,
        Err(e) => {
            tracing::warn!("signing the LogoutRequest for the IdP: {e}");
            return None;
        }
    };
    let now = clock.unix();
    let pending = PendingLogout { request_id: request_id.clone(), expires: now + PENDING_SECONDS };
    let key = ObjectKey { kind: PENDING_LOGOUT, scope: SCOPE, name_key: &request_id, id: &request_id };
    if let Err(e) = insert_json(store, key, &pending, now).await {
        tracing::warn!("keeping the pending logout: {e}");
        return None;
    }
    Some(with_query(&endpoint.location, &query))
}

/// Takes the pending logout `request_id` answers, once; false when there is none (never sent,
/// expired or already answered).
pub async fn take_pending(store: &Store, clock: &Clock, request_id: &str) -> bool {
    take_json::<PendingLogout>(store, PENDING_LOGOUT, request_id).await.is_some_and(|p| p.expires > clock.unix())
}

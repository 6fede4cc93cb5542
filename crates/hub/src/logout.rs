//! SAML single logout over the HTTP-Redirect binding, in both of the hub's roles, at
//! `/saml/slo`:
//! - as SP toward the upstream IdP: signing out of the hub sends a signed LogoutRequest to the
//!   IdP (when its metadata has a SingleLogoutService), and the IdP's signed LogoutResponse comes
//!   back here, matched to the request kept server-side; a LogoutRequest from the IdP ends the
//!   browser's session if it is that subject's;
//! - as IdP toward applications: a signed LogoutRequest from an application ends the browser's
//!   session here, and the signed answer goes to the application's logout endpoint.
//!
//! Front-channel only: the browser carries the hub's cookie through every redirect, so the
//! session ended is the one in that browser. Every message must carry a valid query signature
//! from the certificates configured for its issuer.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use crossfed_saml::{
    Instant, LogoutRequest, MessageKind, NameId, RedirectMessage, build_logout_request, build_logout_response,
    decode_redirect, ns, parse_logout_request, parse_logout_response, redirect_query,
};
use crossfed_store::{ObjectKey, ObjectStore, Outcome};
use crossfed_web::{escape, see_other, set_cookie};
use crossfed_xmldsig::{AlgorithmPolicy, Certificate};
use serde::{Deserialize, Serialize};

use crate::server::{Hub, SESSION_KIND, Session, audit, current_session, error_page, insert_json, now, page};

pub(crate) const PENDING_LOGOUT: &str = "hub-pending-logout";
const PENDING_SCOPE: &str = "hub";
/// How long the IdP may take to answer a logout.
pub(crate) const PENDING_LOGOUT_SECONDS: i64 = 600;

/// What the hub keeps of an upstream login, to end it at the IdP later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamLogin {
    pub name_id: NameId,
    pub session_index: Option<String>,
}

/// A LogoutRequest sent to the upstream IdP, found again by its ID when the answer comes.
#[derive(Serialize, Deserialize)]
struct PendingLogout {
    request_id: String,
    expires: i64,
}

fn slo_url(hub: &Hub) -> String {
    format!("{}/saml/slo", hub.base_url)
}

/// Where to send a message for an endpoint: its ResponseLocation for answers, when it has one.
fn with_query(url: &str, query: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

/// After the hub's session ended: the URL that asks the upstream IdP to end its session too, if
/// the IdP's metadata offers single logout over the Redirect binding. Failures are logged and
/// the person is only signed out of the hub.
pub(crate) async fn upstream_logout_url(hub: &Hub, upstream: &UpstreamLogin) -> Option<String> {
    let source = hub.identity_source.as_ref()?;
    let metadata = source.idp();
    let idp = metadata.require_idp().ok()?;
    let endpoint = idp.slo_service(ns::BINDING_HTTP_REDIRECT)?;
    let built = build_logout_request(
        &source.sp_entity_id,
        &endpoint.location,
        &upstream.name_id,
        upstream.session_index.as_deref(),
        Instant::now(),
        None,
    );
    let (request_id, xml) = match built {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("building the LogoutRequest for the IdP: {e}");
            return None;
        }
    };
    let query = match redirect_query(MessageKind::Request, &xml, None, Some(&*hub.keys.signing_key())) {
        Ok(q) => q,
        Err(e) => {
            tracing::warn!("signing the LogoutRequest for the IdP: {e}");
            return None;
        }
    };
    let pending = PendingLogout { request_id: request_id.clone(), expires: now() + PENDING_LOGOUT_SECONDS };
    let key = ObjectKey { kind: PENDING_LOGOUT, scope: PENDING_SCOPE, name_key: &request_id, id: &request_id };
    if let Err(e) = insert_json(&hub.store, key, &pending, now()).await {
        tracing::warn!("keeping the pending logout: {e}");
        return None;
    }
    Some(with_query(&endpoint.location, &query))
}

/// `GET /signed-out`: where a sign-out ends.
pub async fn signed_out() -> Response {
    signed_out_page("You are signed out of the hub.")
}

fn signed_out_page(message: &str) -> Response {
    page(
        StatusCode::OK,
        "Signed out",
        None,
        &format!(
            "<h1>Signed out</h1><p id=\"message\">{}</p><p><a href=\"/login\">Sign in again</a></p>",
            escape(message)
        ),
    )
}

fn refused(message: &str) -> Response {
    error_page(StatusCode::FORBIDDEN, "Logout refused", message, None)
}

/// `GET /saml/slo`: a LogoutResponse to the hub's own request, or a LogoutRequest from the
/// upstream IdP or from an application.
pub async fn slo(State(hub): State<Arc<Hub>>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let message = match decode_redirect(query.as_deref().unwrap_or("")) {
        Ok(m) => m,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, "Invalid logout message", &e.to_string(), None),
    };
    match message.kind {
        MessageKind::Response => logout_response(&hub, &message).await,
        MessageKind::Request => logout_request(&hub, &message, &headers).await,
    }
}

/// The upstream IdP's answer to the hub's LogoutRequest.
async fn logout_response(hub: &Hub, message: &RedirectMessage) -> Response {
    let Some(source) = hub.identity_source.as_ref() else {
        return refused("This hub has no upstream identity provider, so it expects no logout answer.");
    };
    let certificates = match source.idp_certificates(Instant::now()) {
        Ok(c) => c,
        Err(e) => {
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Identity source misconfigured",
                &e.to_string(),
                None,
            );
        }
    };
    if let Err(e) = message.verify(&certificates, &AlgorithmPolicy::default()) {
        return refused(&format!("The logout answer does not carry the identity provider's signature: {e}."));
    }
    let response = match parse_logout_response(&message.xml, None) {
        Ok(r) => r,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, "Invalid logout message", &e.to_string(), None),
    };
    let idp_entity_id = source.idp().entity_id.clone();
    if response.issuer != idp_entity_id {
        return refused(&format!("The logout answer comes from {:?}, not {idp_entity_id:?}.", response.issuer));
    }
    if let Some(destination) = &response.destination
        && *destination != slo_url(hub)
    {
        return refused(&format!("The logout answer is addressed to {destination:?}, not this hub."));
    }
    let Some(request_id) = response.in_response_to.as_deref() else {
        return refused("The logout answer does not say which request it answers.");
    };
    let pending = match hub.store.get_object(PENDING_LOGOUT, request_id).await {
        Ok(Some(o)) => serde_json::from_str::<PendingLogout>(&o.body).ok(),
        _ => None,
    };
    // Taken once: a replayed answer finds nothing.
    let taken = hub.store.delete_object(PENDING_LOGOUT, request_id).await.is_ok();
    match pending {
        Some(p) if taken && p.expires > now() => {}
        _ => return refused("The logout answer answers no logout this hub started, or one already answered."),
    }
    if response.is_success() {
        signed_out_page("You are signed out of the hub and of your organization's sign-in.")
    } else {
        signed_out_page(&format!(
            "You are signed out of the hub. Your organization's sign-in reported {:?}: your session there may still be open; close the browser to end it.",
            response.status
        ))
    }
}

/// Who sent a LogoutRequest, and how to answer.
struct Requester {
    /// The certificates its query signature must verify with.
    certificates: Vec<Certificate>,
    /// Where the answer goes (its SingleLogoutService), if it has one.
    answer_to: Option<String>,
    /// The hub's entity ID toward it (the answer's Issuer).
    our_entity_id: String,
    /// Which of the browser's sessions the request may end.
    matches: SessionMatch,
}

enum SessionMatch {
    /// From the upstream IdP: the session of the subject the IdP names.
    Upstream,
    /// From an application: the session whose NameID for that application is the one named.
    Application(String),
}

async fn requester(hub: &Hub, request: &LogoutRequest) -> Result<Requester, Response> {
    if let Some(source) = hub.identity_source.as_ref()
        && source.idp().entity_id == request.issuer
    {
        let certificates = source.idp_certificates(Instant::now()).map_err(|e| refused(&e.to_string()))?;
        let metadata = source.idp();
        let answer_to = metadata
            .require_idp()
            .ok()
            .and_then(|idp| idp.slo_service(ns::BINDING_HTTP_REDIRECT))
            .map(|e| e.response_location.clone().unwrap_or_else(|| e.location.clone()));
        return Ok(Requester {
            certificates,
            answer_to,
            our_entity_id: source.sp_entity_id.clone(),
            matches: SessionMatch::Upstream,
        });
    }
    let catalog = hub.catalog().await;
    let Some((app_id, entry)) = catalog.by_sp_entity_id(&request.issuer) else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "Unknown service provider",
            &format!("No application or identity provider {:?} is configured at this hub.", request.issuer),
            None,
        ));
    };
    if entry.app.requests.certificates.is_empty() {
        return Err(refused(&format!(
            "{} has no signing certificate in its metadata, so its logout requests cannot be trusted; import its current SP metadata.",
            entry.app.name
        )));
    }
    Ok(Requester {
        certificates: entry.app.requests.certificates.clone(),
        answer_to: entry.app.logout_url.clone(),
        our_entity_id: hub.app_entity_id(app_id),
        matches: SessionMatch::Application(app_id.clone()),
    })
}

/// Whether the browser's `session` is the one `request` names.
async fn names_session(hub: &Hub, matches: &SessionMatch, request: &LogoutRequest, session: &Session) -> bool {
    match matches {
        SessionMatch::Upstream => session.upstream.as_ref().is_some_and(|up| {
            up.name_id.value == request.name_id.value
                && (request.session_indexes.is_empty()
                    || up.session_index.as_ref().is_some_and(|i| request.session_indexes.contains(i)))
        }),
        SessionMatch::Application(app_id) => {
            let catalog = hub.catalog().await;
            let Some(entry) = catalog.get(app_id) else { return false };
            let Ok(Some(user)) = crossfed_store::UserStore::get_user(&hub.store, &session.user_id).await else {
                return false;
            };
            let Ok(values) = crate::server::user_values(hub, &user).await else { return false };
            entry.app.assertion_contents(&values).is_ok_and(|(name_id, _)| name_id.value == request.name_id.value)
        }
    }
}

async fn logout_request(hub: &Hub, message: &RedirectMessage, headers: &HeaderMap) -> Response {
    // The XML is read before its query signature is checked only to learn who claims to have
    // sent it: nothing acts on it until that sender's signature verifies.
    let request = match parse_logout_request(&message.xml, None) {
        Ok(r) => r,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, "Invalid logout message", &e.to_string(), None),
    };
    let requester = match requester(hub, &request).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    if let Err(e) = message.verify(&requester.certificates, &AlgorithmPolicy::default()) {
        return refused(&format!("The logout request does not carry {:?}'s signature: {e}.", request.issuer));
    }
    if let Some(destination) = &request.destination
        && *destination != slo_url(hub)
    {
        return refused(&format!("The logout request is addressed to {destination:?}, not this hub."));
    }
    let mut ended = false;
    if let Some(session) = current_session(hub, headers).await
        && names_session(hub, &requester.matches, &request, &session).await
    {
        let _ = hub.store.delete_object(SESSION_KIND, &session.id).await;
        let detail = format!("single logout requested by {}", request.issuer);
        audit(hub, &session.user_name, "logout", None, Outcome::Success, detail).await;
        ended = true;
    }
    let cleared = if ended { set_cookie(hub.cookie_name(), "", "/", 0, hub.secure()) } else { None };
    let Some(answer_to) = requester.answer_to else {
        return signed_out_page("You are signed out of the hub.");
    };
    // Success either way: after this, the subject has no session here.
    let built = build_logout_response(
        &requester.our_entity_id,
        &answer_to,
        &request.id,
        ns::STATUS_SUCCESS,
        Instant::now(),
        None,
    );
    let query = built.map_err(|e| e.to_string()).and_then(|(_, xml)| {
        redirect_query(MessageKind::Response, &xml, message.relay_state.as_deref(), Some(&*hub.keys.signing_key()))
            .map_err(|e| e.to_string())
    });
    match query {
        Ok(query) => see_other(&with_query(&answer_to, &query), cleared),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, "Cannot answer the logout", &e, None),
    }
}

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
//! from the certificates configured for its issuer, judged at the hub's clock.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use crossfed_saml::{
    LogoutRequest, MessageKind, RedirectMessage, build_logout_response, decode_redirect, ns, parse_logout_request,
    parse_logout_response, redirect_query,
};
use crossfed_web::see_other;
use crossfed_xmldsig::{AlgorithmPolicy, Certificate};

use crate::keys::KeyRing;
use crate::sessions::Session;
use crate::state::Hub;
use crate::upstream::logout::{take_pending, with_query};
use crate::web::extract::MaybeSignedIn;
use crate::web::pages::{error_page, signed_out_page};

pub fn routes() -> Router<Arc<Hub>> {
    Router::new().route("/signed-out", get(signed_out)).route("/saml/slo", get(slo))
}

fn slo_url(hub: &Hub) -> String {
    format!("{}/saml/slo", hub.base_url)
}

/// `GET /signed-out`: where a sign-out ends.
async fn signed_out() -> Response {
    signed_out_page("You are signed out of the hub.")
}

fn refused(message: &str) -> Response {
    error_page(StatusCode::FORBIDDEN, "Logout refused", message, None)
}

/// `GET /saml/slo`: a LogoutResponse to the hub's own request, or a LogoutRequest from the
/// upstream IdP or from an application.
async fn slo(State(hub): State<Arc<Hub>>, RawQuery(query): RawQuery, browser: MaybeSignedIn) -> Response {
    let message = match decode_redirect(query.as_deref().unwrap_or("")) {
        Ok(m) => m,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, "Invalid logout message", &e.to_string(), None),
    };
    match message.kind {
        MessageKind::Response => logout_response(&hub, &message).await,
        MessageKind::Request => logout_request(&hub, &message, browser).await,
    }
}

/// The upstream IdP's answer to the hub's LogoutRequest.
async fn logout_response(hub: &Hub, message: &RedirectMessage) -> Response {
    let Some(source) = hub.identity_source.as_ref() else {
        return refused("This hub has no upstream identity provider, so it expects no logout answer.");
    };
    let certificates = match source.idp_certificates(hub.saml_now()) {
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
    // Taken once: a replayed answer finds nothing.
    if !take_pending(&hub.store, &hub.clock, request_id).await {
        return refused("The logout answer answers no logout this hub started, or one already answered.");
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
    /// The keys the answer is signed with: the request keys toward the identity source, the
    /// application's toward an application.
    signer: Arc<KeyRing>,
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
        let certificates = source.idp_certificates(hub.saml_now()).map_err(|e| refused(&e.to_string()))?;
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
            signer: hub.keys.request.clone(),
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
        signer: hub.signer_for(app_id, &entry.app),
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
            let Ok(values) = hub.directory.user_values(&user).await else { return false };
            entry.app.assertion_contents(&values).is_ok_and(|(name_id, _)| name_id.value == request.name_id.value)
        }
    }
}

async fn logout_request(hub: &Hub, message: &RedirectMessage, MaybeSignedIn(session): MaybeSignedIn) -> Response {
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
    if let Some(session) = session
        && names_session(hub, &requester.matches, &request, &session).await
    {
        hub.sessions.end(&session, format!("single logout requested by {}", request.issuer)).await;
        ended = true;
    }
    let cleared = if ended { hub.sessions.cleared() } else { None };
    let Some(answer_to) = requester.answer_to else {
        return signed_out_page("You are signed out of the hub.");
    };
    // Success either way: after this, the subject has no session here.
    let built = build_logout_response(
        &requester.our_entity_id,
        &answer_to,
        &request.id,
        ns::STATUS_SUCCESS,
        hub.saml_now(),
        None,
    );
    let query = built.map_err(|e| e.to_string()).and_then(|(_, xml)| {
        redirect_query(
            MessageKind::Response,
            &xml,
            message.relay_state.as_deref(),
            Some(&*requester.signer.signing_key()),
        )
        .map_err(|e| e.to_string())
    });
    match query {
        Ok(query) => see_other(&with_query(&answer_to, &query), cleared),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, "Cannot answer the logout", &e, None),
    }
}

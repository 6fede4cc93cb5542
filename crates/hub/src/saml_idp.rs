//! The hub as SAML IdP toward applications that start the login (`/saml/sso`, both bindings):
//! the AuthnRequest is checked against the application's metadata (signature, ACS, destination)
//! and answered at once for a signed-in browser, or kept server-side, bound to the browser it
//! came in, while the person signs in (`/saml/sso/resume/{id}` answers it afterwards, in that
//! browser only).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use crossfed_saml::{AuthnRequest, RedirectMessage, decode_post, decode_redirect, parse_authn_request};
use crossfed_store::{ObjectKey, ObjectStore};
use crossfed_web::see_other;
use crossfed_xmldsig::AlgorithmPolicy;
use serde::{Deserialize, Serialize};

use crate::apps::model::Application;
use crate::browsers::is_bound_to;
use crate::records::kinds::PENDING_SSO;
use crate::records::{PENDING_SECONDS, SCOPE, insert_json, new_token, read_json};
use crate::sessions::Session;
use crate::state::Hub;
use crate::web::extract::{Browser, MaybeSignedIn};
use crate::web::pages::{error_page, launch_answer, post_response, refused_as};
use crate::web::refusal_audit::{RefusalSubject, refused_subject};

pub fn routes() -> Router<Arc<Hub>> {
    Router::new().route("/saml/sso", get(sso_redirect).post(sso_post)).route("/saml/sso/resume/{id}", get(sso_resume))
}

/// An application's AuthnRequest waiting for the person to sign in.
#[derive(Serialize, Deserialize)]
struct PendingSso {
    app_id: String,
    request_id: String,
    relay_state: Option<String>,
    expires: i64,
    /// ForceAuthn: only a sign-in after the request counts, not the session the browser had.
    #[serde(default)]
    force_authn: bool,
    /// The session the browser had when the request came (a new sign-in always gets a new one).
    #[serde(default)]
    earlier_session: Option<String>,
    /// The digest of the key of the browser the request came in; only that browser resumes it.
    #[serde(default)]
    browser: String,
}

/// A refused SAML request's page, of stable `kind` for the request's log line and its audit
/// record.
fn saml_error(status: StatusCode, kind: &'static str, title: &str, message: &str) -> Response {
    let subject = RefusalSubject { detail: message.to_string(), ..RefusalSubject::default() };
    refused_subject(refused_as(error_page(status, title, message, None), kind), subject)
}

/// `response` to a verified request of application `peer`, for its audit record (an unverified
/// request's claimed issuer is no peer to name).
fn from_peer(mut response: Response, peer: &str) -> Response {
    if let Some(subject) = response.extensions_mut().get_mut::<RefusalSubject>() {
        subject.target = Some(peer.to_string());
    }
    response
}

#[derive(Deserialize)]
struct PostedRequest {
    #[serde(rename = "SAMLRequest")]
    saml_request: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
    /// Set when the hub's own page posted the request again (see [`sso_post`]).
    reposted: Option<String>,
}

/// `GET /saml/sso?SAMLRequest=…` (HTTP-Redirect).
async fn sso_redirect(
    State(hub): State<Arc<Hub>>,
    RawQuery(query): RawQuery,
    signed_in: MaybeSignedIn,
    browser: Browser,
) -> Response {
    match decode_redirect(query.as_deref().unwrap_or("")) {
        Ok(message) => {
            let relay_state = message.relay_state.clone();
            handle_authn_request(&hub, &message.xml, Some(&message), relay_state, signed_in, browser).await
        }
        Err(e) => saml_error(StatusCode::BAD_REQUEST, "saml.request_invalid", "Invalid SAML request", &e.to_string()),
    }
}

/// `POST /saml/sso` (HTTP-POST). The application's page posts from another site, so the browser
/// sends none of the hub's SameSite=Lax cookies with it (neither its session nor its key): the
/// request is posted once more from the hub's own page, which sends them.
async fn sso_post(
    State(hub): State<Arc<Hub>>,
    signed_in: MaybeSignedIn,
    browser: Browser,
    Form(form): Form<PostedRequest>,
) -> Response {
    if browser.0.is_none() && form.reposted.is_none() {
        let mut fields = vec![("SAMLRequest", form.saml_request.as_str()), ("reposted", "1")];
        fields.extend(form.relay_state.as_deref().map(|relay| ("RelayState", relay)));
        return crossfed_web::repost_here("/saml/sso", &fields, &new_token());
    }
    match decode_post(&form.saml_request) {
        Ok(xml) => handle_authn_request(&hub, &xml, None, form.relay_state, signed_in, browser).await,
        Err(e) => saml_error(StatusCode::BAD_REQUEST, "saml.request_invalid", "Invalid SAML request", &e.to_string()),
    }
}

/// Checks an application's AuthnRequest signature: the Redirect query's (`redirect`), or the
/// enveloped one of a POSTed request, which is then re-read from the verified element. A signed
/// request is verified whenever the SP's certificates are known; an unsigned one is refused when
/// the application requires signing.
fn verified_request(
    app: &Application,
    xml: &[u8],
    redirect: Option<&RedirectMessage>,
    unverified: AuthnRequest,
) -> Result<AuthnRequest, SignatureRefused> {
    let trusted = &app.requests.certificates;
    let policy = AlgorithmPolicy::default();
    let signed = redirect.map_or(unverified.has_xml_signature, RedirectMessage::is_signed);
    let app_name = || app.name.clone();
    if !signed {
        return if app.requests.required { Err(SignatureRefused::Unsigned(app_name())) } else { Ok(unverified) };
    }
    if trusted.is_empty() {
        // An unverifiable signature proves nothing; the request counts as unsigned.
        return if app.requests.required { Err(SignatureRefused::NoCertificate(app_name())) } else { Ok(unverified) };
    }
    let refused =
        |e: &dyn std::fmt::Display| SignatureRefused::DoesNotVerify { app: app_name(), reason: e.to_string() };
    match redirect {
        Some(message) => message.verify(trusted, &policy).map(|_| unverified).map_err(|e| refused(&e)),
        None => {
            let verified = parse_authn_request(xml, Some(trusted)).map_err(|e| refused(&e))?;
            if verified.issuer != unverified.issuer {
                return Err(refused(&"the signed element names another issuer"));
            }
            Ok(verified)
        }
    }
}

/// Why an application's AuthnRequest was refused for its signature.
#[derive(Debug, thiserror::Error)]
enum SignatureRefused {
    #[error("{0} must sign its requests, and this one is unsigned.")]
    Unsigned(String),
    #[error("{0} must sign its requests, but no certificate of it is known.")]
    NoCertificate(String),
    #[error("The request's signature does not verify with {app}'s certificates from its metadata: {reason}")]
    DoesNotVerify { app: String, reason: String },
}

async fn handle_authn_request(
    hub: &Hub,
    xml: &[u8],
    redirect: Option<&RedirectMessage>,
    relay_state: Option<String>,
    MaybeSignedIn(session): MaybeSignedIn,
    browser: Browser,
) -> Response {
    let request = match parse_authn_request(xml, None) {
        Ok(r) => r,
        Err(e) => {
            return saml_error(StatusCode::BAD_REQUEST, "saml.request_invalid", "Invalid SAML request", &e.to_string());
        }
    };
    // The application is the one whose audience (SP entity ID) issued the request; the response
    // only ever goes to the ACS configured for it, whatever the request asks.
    // Only custom applications start logins: AWS sign-in never sends AuthnRequests, so a request
    // naming its audience is forged, and answering it would let its RelayState replace the
    // configured one.
    answer_authn_request(hub, xml, redirect, relay_state, session, browser, request).await
}

/// Answers `request`, parsed but not yet verified, of the SP it names as its issuer; only once
/// its signature is verified is that application named as the peer of a refusal.
async fn answer_authn_request(
    hub: &Hub,
    xml: &[u8],
    redirect: Option<&RedirectMessage>,
    relay_state: Option<String>,
    session: Option<Session>,
    browser: Browser,
    request: AuthnRequest,
) -> Response {
    let catalog = hub.catalog().await;
    let Some((app_id, entry)) = catalog.by_sp_entity_id(&request.issuer) else {
        return saml_error(
            StatusCode::BAD_REQUEST,
            "saml.unknown_sp",
            "Unknown service provider",
            &format!(
                "No application is configured for the service provider {:?}; add it to the hub first.",
                request.issuer
            ),
        );
    };
    let app = &entry.app;
    let request = match verified_request(app, xml, redirect, request) {
        Ok(r) => r,
        Err(refused) => {
            return saml_error(
                StatusCode::BAD_REQUEST,
                "saml.request_signature",
                "Request signature refused",
                &refused.to_string(),
            );
        }
    };
    if let Some(acs) = &request.acs_url
        && *acs != app.acs_url
    {
        let message = format!("The request asks for {acs:?}, but {} is configured with {:?}.", app.name, app.acs_url);
        let refused = saml_error(
            StatusCode::BAD_REQUEST,
            "saml.unexpected_acs",
            "Unexpected assertion consumer service",
            &message,
        );
        return from_peer(refused, app_id);
    }
    let sso_url = format!("{}/saml/sso", hub.base_url);
    if let Some(destination) = &request.destination
        && *destination != sso_url
    {
        let message = format!("The request is addressed to {destination:?}, not {sso_url:?}.");
        return from_peer(
            saml_error(StatusCode::BAD_REQUEST, "saml.wrong_destination", "Wrong destination", &message),
            app_id,
        );
    }
    if let Some(session) = &session
        && !request.force_authn
    {
        let answer = hub.launcher().respond(app_id, session, Some(&request.id), relay_state.as_deref()).await;
        return launch_answer(answer, app_id, session);
    }
    if request.is_passive {
        // The application asked that nobody be shown a sign-in page: answer at once.
        return passive_refusal(hub, app_id, app, &request.id, relay_state.as_deref()).await;
    }
    let now = hub.clock.unix();
    let (key, cookie) = browser.key_or_new(hub);
    let pending = PendingSso {
        app_id: app_id.clone(),
        request_id: request.id,
        relay_state,
        expires: now + PENDING_SECONDS,
        force_authn: request.force_authn,
        earlier_session: session.map(|s| s.id),
        browser: key.digest(),
    };
    let id = new_token();
    let key = ObjectKey { kind: PENDING_SSO, scope: SCOPE, name_key: &id, id: &id };
    if let Err(e) = insert_json(&hub.store, key, &pending, now).await {
        return saml_error(StatusCode::SERVICE_UNAVAILABLE, "store.unavailable", "Sign-in unavailable", &e.to_string());
    }
    see_other(&login_url(&id, pending.force_authn), cookie)
}

/// The sign-in that resumes pending request `id`; `force` asks the upstream IdP for a fresh
/// authentication too.
fn login_url(id: &str, force: bool) -> String {
    let force = if force { "&force=1" } else { "" };
    format!("/login?next=/saml/sso/resume/{id}{force}")
}

/// IsPassive and nobody (freshly) signed in: a signed Response with status NoPassive, posted to
/// the application's ACS, as SAML core §3.4.1 asks.
async fn passive_refusal(
    hub: &Hub,
    app_id: &str,
    app: &Application,
    request_id: &str,
    relay_state: Option<&str>,
) -> Response {
    let built = crossfed_saml::build_status_response(
        &hub.app_entity_id(app_id),
        &app.acs_url,
        Some(request_id),
        (crossfed_saml::ns::STATUS_RESPONDER, Some(crossfed_saml::ns::STATUS_NO_PASSIVE)),
        Some("Nobody is signed in at the hub, and the request asked not to show a sign-in page."),
        hub.saml_now(),
        &hub.signer_for(app_id, app).signing_key(),
    );
    let xml = match built {
        Ok((_, xml)) => xml,
        Err(e) => {
            return saml_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "saml.cannot_answer",
                "Cannot answer the request",
                &e.to_string(),
            );
        }
    };
    let detail = "IsPassive and nobody signed in: answered NoPassive".to_string();
    hub.audit.note("anonymous", "launch", Some(app_id), crossfed_store::Outcome::Failure, detail).await;
    post_response(&app.acs_url, &xml, relay_state)
}

/// `GET /saml/sso/resume/{id}`: answers the waiting request once the person has signed in.
async fn sso_resume(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    MaybeSignedIn(session): MaybeSignedIn,
    Browser(browser): Browser,
) -> Response {
    let pending = match read_json::<PendingSso>(&hub.store, PENDING_SSO, &id).await {
        Ok(pending) => pending,
        Err(e) => return crate::web::extract::store_unavailable(&e),
    };
    if let Some(p) = &pending
        && !is_bound_to(&p.browser, browser.as_ref())
    {
        let refused = saml_error(
            StatusCode::FORBIDDEN,
            "saml.other_browser",
            "Sign-in started in another browser",
            "This sign-in request was started in another browser, so it is not answered here. Open the application again in this browser.",
        );
        let actor = session.map(|s| s.user_name);
        let subject = RefusalSubject {
            actor,
            target: Some(p.app_id.clone()),
            detail: "a waiting AuthnRequest opened in another browser".to_string(),
        };
        return refused_subject(refused, subject);
    }
    let force = pending.as_ref().is_some_and(|p| p.force_authn);
    let Some(session) = session else {
        return see_other(&login_url(&id, force), None);
    };
    // ForceAuthn: the session the browser already had does not answer it, however it got here.
    if let Some(p) = &pending
        && p.force_authn
        && p.earlier_session.as_deref() == Some(session.id.as_str())
    {
        return see_other(&login_url(&id, true), None);
    }
    // One use: whoever deletes it answers it.
    let taken = hub.store.delete_object(PENDING_SSO, &id).await.is_ok();
    match pending {
        Some(p) if taken && p.expires > hub.clock.unix() => {
            let answer =
                hub.launcher().respond(&p.app_id, &session, Some(&p.request_id), p.relay_state.as_deref()).await;
            launch_answer(answer, &p.app_id, &session)
        }
        _ => saml_error(
            StatusCode::BAD_REQUEST,
            "saml.request_expired",
            "Sign-in expired",
            "This sign-in request expired or was already answered; open the application again.",
        ),
    }
}

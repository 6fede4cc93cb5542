//! SAML single sign-on routes, both directions: as IdP for applications that start the login
//! (`/saml/sso`), and as SP toward the upstream IdP (`/login` redirects there, `/saml/acs`
//! receives its answer). Pending requests are kept server-side, in the store: the IdP's
//! cross-site POST carries no SameSite=Lax cookie, so the ACS finds the request by its ID.

use std::sync::Arc;

use axum::extract::{Form, Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crossfed_saml::{
    AuthnRequest, DeferredReplayCheck, Instant, RedirectMessage, SpPolicy, decode_post, decode_redirect,
    parse_authn_request, validate_response,
};
use crossfed_store::{ObjectKey, ObjectStore, ReplayStore};
use crossfed_web::see_other;
use crossfed_xmldsig::AlgorithmPolicy;
use serde::{Deserialize, Serialize};

use crate::server::{
    Hub, current_session, error_page, insert_json, local_path, now, respond_to_application, start_session, token,
};
use crate::upstream::user_for_assertion;

pub(crate) const PENDING_SSO: &str = "hub-pending-sso";
pub(crate) const PENDING_LOGIN: &str = "hub-pending-login";
const PENDING_SCOPE: &str = "hub";
/// How long a login may take at the IdP or the login page.
pub(crate) const PENDING_SECONDS: i64 = 600;

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
}

/// A login sent to the upstream IdP, found again by its request ID.
#[derive(Serialize, Deserialize)]
struct PendingLogin {
    request_id: String,
    next: String,
    expires: i64,
    /// A test login from the admin console (by this actor): the answer is shown, not signed in.
    #[serde(default)]
    test_by: Option<String>,
}

fn saml_error(status: StatusCode, title: &str, message: &str) -> Response {
    error_page(status, title, message, None)
}

#[derive(Deserialize)]
pub struct PostedRequest {
    #[serde(rename = "SAMLRequest")]
    saml_request: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// `GET /saml/sso?SAMLRequest=…` (HTTP-Redirect).
pub async fn sso_redirect(State(hub): State<Arc<Hub>>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    match decode_redirect(query.as_deref().unwrap_or("")) {
        Ok(message) => {
            handle_authn_request(&hub, &message.xml, Some(&message), message.relay_state.clone(), &headers).await
        }
        Err(e) => saml_error(StatusCode::BAD_REQUEST, "Invalid SAML request", &e.to_string()),
    }
}

/// `POST /saml/sso` (HTTP-POST).
pub async fn sso_post(State(hub): State<Arc<Hub>>, headers: HeaderMap, Form(form): Form<PostedRequest>) -> Response {
    match decode_post(&form.saml_request) {
        Ok(xml) => handle_authn_request(&hub, &xml, None, form.relay_state, &headers).await,
        Err(e) => saml_error(StatusCode::BAD_REQUEST, "Invalid SAML request", &e.to_string()),
    }
}

/// Checks an application's AuthnRequest signature: the Redirect query's (`redirect`), or the
/// enveloped one of a POSTed request, which is then re-read from the verified element. A signed
/// request is verified whenever the SP's certificates are known; an unsigned one is refused when
/// the application requires signing.
fn verified_request(
    app: &crate::catalog::Application,
    xml: &[u8],
    redirect: Option<&RedirectMessage>,
    unverified: AuthnRequest,
) -> Result<AuthnRequest, String> {
    let trusted = &app.requests.certificates;
    let policy = AlgorithmPolicy::default();
    let signed = redirect.map_or(unverified.has_xml_signature, RedirectMessage::is_signed);
    if !signed {
        return if app.requests.required {
            Err(format!("{} must sign its requests, and this one is unsigned.", app.name))
        } else {
            Ok(unverified)
        };
    }
    if trusted.is_empty() {
        // An unverifiable signature proves nothing; the request counts as unsigned.
        return if app.requests.required {
            Err(format!("{} must sign its requests, but no certificate of it is known.", app.name))
        } else {
            Ok(unverified)
        };
    }
    let refused = |e: &dyn std::fmt::Display| {
        format!("The request's signature does not verify with {}'s certificates from its metadata: {e}", app.name)
    };
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

async fn handle_authn_request(
    hub: &Hub,
    xml: &[u8],
    redirect: Option<&RedirectMessage>,
    relay_state: Option<String>,
    headers: &HeaderMap,
) -> Response {
    let request = match parse_authn_request(xml, None) {
        Ok(r) => r,
        Err(e) => return saml_error(StatusCode::BAD_REQUEST, "Invalid SAML request", &e.to_string()),
    };
    // The application is the one whose audience (SP entity ID) issued the request; the response
    // only ever goes to the ACS configured for it, whatever the request asks.
    // Only custom applications start logins: AWS sign-in never sends AuthnRequests, so a request
    // naming its audience is forged, and answering it would let its RelayState replace the
    // configured one.
    let catalog = hub.catalog().await;
    let Some((app_id, crate::applications::CatalogEntry { app, .. })) = catalog.by_sp_entity_id(&request.issuer) else {
        return saml_error(
            StatusCode::BAD_REQUEST,
            "Unknown service provider",
            &format!(
                "No application is configured for the service provider {:?}; add it to the hub first.",
                request.issuer
            ),
        );
    };
    let request = match verified_request(app, xml, redirect, request) {
        Ok(r) => r,
        Err(message) => return saml_error(StatusCode::BAD_REQUEST, "Request signature refused", &message),
    };
    if let Some(acs) = &request.acs_url
        && *acs != app.acs_url
    {
        return saml_error(
            StatusCode::BAD_REQUEST,
            "Unexpected assertion consumer service",
            &format!("The request asks for {acs:?}, but {} is configured with {:?}.", app.name, app.acs_url),
        );
    }
    let sso_url = format!("{}/saml/sso", hub.base_url);
    if let Some(destination) = &request.destination
        && *destination != sso_url
    {
        return saml_error(
            StatusCode::BAD_REQUEST,
            "Wrong destination",
            &format!("The request is addressed to {destination:?}, not {sso_url:?}."),
        );
    }
    let session = current_session(hub, headers).await;
    if let Some(session) = &session
        && !request.force_authn
    {
        return respond_to_application(hub, app_id, session, Some(&request.id), relay_state.as_deref()).await;
    }
    if request.is_passive {
        // The application asked that nobody be shown a sign-in page: answer at once.
        return passive_refusal(hub, app_id, app, &request.id, relay_state.as_deref()).await;
    }
    let pending = PendingSso {
        app_id: app_id.clone(),
        request_id: request.id,
        relay_state,
        expires: now() + PENDING_SECONDS,
        force_authn: request.force_authn,
        earlier_session: session.map(|s| s.id),
    };
    let id = token();
    let key = ObjectKey { kind: PENDING_SSO, scope: PENDING_SCOPE, name_key: &id, id: &id };
    if let Err(e) = insert_json(&hub.store, key, &pending, now()).await {
        return saml_error(StatusCode::SERVICE_UNAVAILABLE, "Sign-in unavailable", &e);
    }
    see_other(&login_url(&id, pending.force_authn), None)
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
    app: &crate::catalog::Application,
    request_id: &str,
    relay_state: Option<&str>,
) -> Response {
    let built = crossfed_saml::build_status_response(
        &hub.app_entity_id(app_id),
        &app.acs_url,
        Some(request_id),
        (crossfed_saml::ns::STATUS_RESPONDER, Some(crossfed_saml::ns::STATUS_NO_PASSIVE)),
        Some("Nobody is signed in at the hub, and the request asked not to show a sign-in page."),
        Instant::now(),
        &hub.keys.signing_key(),
    );
    let xml = match built {
        Ok((_, xml)) => xml,
        Err(e) => return saml_error(StatusCode::INTERNAL_SERVER_ERROR, "Cannot answer the request", &e.to_string()),
    };
    crate::server::audit(
        hub,
        "anonymous",
        "launch",
        Some(app_id),
        crossfed_store::Outcome::Failure,
        "IsPassive and nobody signed in: answered NoPassive".to_string(),
    )
    .await;
    let nonce = token();
    let document =
        crossfed_saml::post_form(&app.acs_url, crossfed_saml::MessageKind::Response, &xml, relay_state, Some(&nonce));
    crossfed_web::html(StatusCode::OK, document, Some(&nonce), crossfed_web::FormTargets::Anywhere)
}

/// `GET /saml/sso/resume/{id}`: answers the waiting request once the person has signed in.
pub async fn sso_resume(State(hub): State<Arc<Hub>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let pending = match hub.store.get_object(PENDING_SSO, &id).await {
        Ok(Some(o)) => serde_json::from_str::<PendingSso>(&o.body).ok(),
        _ => None,
    };
    let force = pending.as_ref().is_some_and(|p| p.force_authn);
    let Some(session) = current_session(&hub, &headers).await else {
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
        Some(p) if taken && p.expires > now() => {
            respond_to_application(&hub, &p.app_id, &session, Some(&p.request_id), p.relay_state.as_deref()).await
        }
        _ => saml_error(
            StatusCode::BAD_REQUEST,
            "Sign-in expired",
            "This sign-in request expired or was already answered; open the application again.",
        ),
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    /// Set when an application asked for ForceAuthn: the IdP is asked for a fresh sign-in too.
    force: Option<String>,
}

/// With an upstream IdP, `/login` sends the browser there with a signed AuthnRequest.
pub async fn login_upstream(hub: &Hub, query: &NextQuery) -> Option<Response> {
    hub.identity_source.as_ref()?;
    let next = local_path(query.next.as_deref()).to_string();
    let force = query.force.as_deref() == Some("1");
    Some(match start_upstream_login(hub, next, force, None).await {
        Ok(url) => see_other(&url, None),
        Err(page) => page,
    })
}

/// A signed AuthnRequest to the upstream IdP, kept server-side by its ID with where to go after
/// (`next`) and, for a console test, who asked; returns the URL to send the browser to.
pub(crate) async fn start_upstream_login(
    hub: &Hub,
    next: String,
    force: bool,
    test_by: Option<String>,
) -> Result<String, Response> {
    let Some(source) = hub.identity_source.as_ref() else {
        return Err(saml_error(
            StatusCode::NOT_FOUND,
            "No identity source",
            "This hub has no upstream identity provider.",
        ));
    };
    let cannot = |e: String| saml_error(StatusCode::INTERNAL_SERVER_ERROR, "Cannot start the sign-in", &e);
    let request = source.login_request(force, Instant::now()).map_err(|e| cannot(e.to_string()))?;
    let key = hub.keys.signing_key();
    let (request_id, url) = crate::cpu_pool::signing()
        .run(move || request.sign(&key, None))
        .await
        .map_err(|e| cannot(e.to_string()))?
        .map_err(|e| cannot(e.to_string()))?;
    let pending = PendingLogin { request_id: request_id.clone(), next, expires: now() + PENDING_SECONDS, test_by };
    let key = ObjectKey { kind: PENDING_LOGIN, scope: PENDING_SCOPE, name_key: &request_id, id: &request_id };
    insert_json(&hub.store, key, &pending, now())
        .await
        .map_err(|e| saml_error(StatusCode::SERVICE_UNAVAILABLE, "Sign-in unavailable", &e))?;
    Ok(url)
}

pub async fn login_get(State(hub): State<Arc<Hub>>, Query(query): Query<NextQuery>) -> Response {
    match login_upstream(&hub, &query).await {
        Some(response) => response,
        None => crate::server::login_form_page(&hub, query.next.as_deref()),
    }
}

#[derive(Deserialize)]
pub struct PostedResponse {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
}

/// The unverified InResponseTo of a Response: only used to find the pending request, whose ID
/// validation then requires the signed assertion to answer.
fn in_response_to(xml: &[u8]) -> Option<String> {
    let doc = crossfed_xml::parse(xml).ok()?;
    doc.root_element().attr("InResponseTo").map(str::to_string)
}

/// `POST /saml/acs`: the upstream IdP's answer, judged at the hub's clock (the pending login's
/// own expiry is measured by the system clock that [`login_upstream`] wrote it with).
pub async fn acs(State(hub): State<Arc<Hub>>, headers: HeaderMap, Form(form): Form<PostedResponse>) -> Response {
    let Some(source) = hub.identity_source.as_ref() else {
        return saml_error(
            StatusCode::NOT_FOUND,
            "No identity source",
            "This hub has no upstream identity provider configured.",
        );
    };
    let xml = match decode_post(&form.saml_response) {
        Ok(xml) => xml,
        Err(e) => return saml_error(StatusCode::BAD_REQUEST, "Invalid SAML response", &e.to_string()),
    };
    let (request_id, next, test_by) = match in_response_to(&xml) {
        Some(id) => {
            let pending = match hub.store.get_object(PENDING_LOGIN, &id).await {
                Ok(Some(o)) => serde_json::from_str::<PendingLogin>(&o.body).ok(),
                _ => None,
            };
            let taken = hub.store.delete_object(PENDING_LOGIN, &id).await.is_ok();
            match pending {
                Some(p) if taken && p.expires > now() => (Some(p.request_id), p.next, p.test_by),
                _ => {
                    return saml_error(
                        StatusCode::FORBIDDEN,
                        "Sign-in expired",
                        "The identity provider answered a sign-in this hub did not start, or one that expired or was already completed. Sign in again.",
                    );
                }
            }
        }
        None => (None, "/portal".to_string(), None),
    };
    let saml_now = hub.clock.now();
    let certificates = match source.idp_certificates(saml_now) {
        Ok(c) => c,
        Err(e) => {
            return saml_error(StatusCode::INTERNAL_SERVER_ERROR, "Identity source misconfigured", &e.to_string());
        }
    };
    let idp_entity_id = source.idp().entity_id.clone();
    let mut policy = SpPolicy::new(&source.sp_entity_id, &source.acs_url, &idp_entity_id, &certificates);
    policy.allow_unsolicited = source.allow_idp_initiated;
    let replay = DeferredReplayCheck::default();
    let accepted = match validate_response(&xml, &policy, request_id.as_deref(), saml_now, &replay) {
        Ok(a) => a,
        Err(e) => {
            return saml_error(
                StatusCode::FORBIDDEN,
                "Sign-in refused",
                &format!("The identity provider's response was refused: {e}"),
            );
        }
    };
    if let Some((id, expires)) = replay.take() {
        // The entry's expiry comes from the assertion's times: compared at the same clock.
        match hub.store.record_once(&format!("{}:{id}", accepted.issuer), expires.unix(), saml_now.unix()).await {
            Ok(true) => {}
            Ok(false) => {
                return saml_error(
                    StatusCode::FORBIDDEN,
                    "Sign-in refused",
                    &format!("Assertion {id} was already used (replay)."),
                );
            }
            Err(e) => return saml_error(StatusCode::SERVICE_UNAVAILABLE, "Sign-in unavailable", &e.to_string()),
        }
    }
    if let Some(actor) = test_by {
        // A test from the console: show what arrived, sign nobody in.
        return crate::console::test_login_answer(&hub, &actor, &accepted).await;
    }
    let user = match user_for_assertion(&hub.store, source, &accepted, now()).await {
        Ok(u) => u,
        Err(e) => return saml_error(StatusCode::FORBIDDEN, "Sign-in refused", &e.to_string()),
    };
    let upstream = crate::logout::UpstreamLogin {
        name_id: accepted.name_id.clone(),
        session_index: accepted.session_index.clone(),
    };
    match start_session(&hub, &user, &headers, &format!("SAML from {}", accepted.issuer), Some(upstream)).await {
        Ok(cookie) => see_other(local_path(Some(&next)), cookie),
        Err(page) => page,
    }
}

/// `GET /saml/sp/metadata`: the hub's SP metadata, to upload to the upstream IdP.
pub async fn sp_metadata(State(hub): State<Arc<Hub>>) -> Response {
    let Some(source) = hub.identity_source.as_ref() else {
        return (StatusCode::NOT_FOUND, "this hub has no identity source").into_response();
    };
    let mut response = source.sp_metadata(&hub.keys.current().published()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
    response
}

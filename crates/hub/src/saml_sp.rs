//! The hub as SAML SP toward the upstream IdP: its SP metadata (`/saml/sp/metadata`) and the
//! assertion consumer service (`/saml/acs`) where the IdP's answer arrives — validated,
//! checked against replays, then a session for its user, or a console test's result shown.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crossfed_web::see_other;
use serde::Deserialize;

use crate::metrics::SignInMethod;
use crate::records::new_token;
use crate::sessions::UpstreamLogin;
use crate::state::Hub;
use crate::upstream::login::{AnswerRefused, Answered};
use crate::web::extract::{Browser, local_path};
use crate::web::pages::{error_page, refused_as};
use crate::web::refusal_audit::{RefusalSubject, audited_already, refused_subject};

pub fn routes() -> Router<Arc<Hub>> {
    Router::new().route("/saml/acs", post(acs)).route("/saml/sp/metadata", get(sp_metadata))
}

#[derive(Deserialize)]
struct PostedResponse {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    /// Set when the hub's own page posted the answer again (see [`acs`]).
    reposted: Option<String>,
}

fn refused_page(e: &AnswerRefused) -> Response {
    let (status, title, kind) = match e {
        AnswerRefused::Undecodable(_) => (StatusCode::BAD_REQUEST, "Invalid SAML response", "saml.undecodable"),
        AnswerRefused::NotPending => (StatusCode::FORBIDDEN, "Sign-in expired", "saml.not_pending"),
        AnswerRefused::OtherBrowser => {
            (StatusCode::FORBIDDEN, "Sign-in started in another browser", "saml.other_browser")
        }
        AnswerRefused::Misconfigured(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "Identity source misconfigured", "saml.misconfigured")
        }
        AnswerRefused::Invalid(_) => (StatusCode::FORBIDDEN, "Sign-in refused", "saml.invalid"),
        AnswerRefused::Replayed(_) => (StatusCode::FORBIDDEN, "Sign-in refused", "saml.replay"),
        AnswerRefused::User(_) => (StatusCode::FORBIDDEN, "Sign-in refused", "saml.user_refused"),
        AnswerRefused::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "Sign-in unavailable", "store.unavailable"),
        AnswerRefused::Unrecorded(_) => (StatusCode::SERVICE_UNAVAILABLE, "Audit log unavailable", "audit.unavailable"),
    };
    refused_as(error_page(status, title, &e.to_string(), None), kind)
}

/// `POST /saml/acs`: the upstream IdP's answer, judged at the hub's clock in the browser that
/// started the sign-in. The IdP's page posts from another site, so the browser sends no
/// SameSite=Lax cookie with it: an answer without the browser's key is posted once more from the
/// hub's own page, which sends it.
async fn acs(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Browser(browser): Browser,
    Form(form): Form<PostedResponse>,
) -> Response {
    if browser.is_none() && form.reposted.is_none() {
        let fields = [("SAMLResponse", form.saml_response.as_str()), ("reposted", "1")];
        return crossfed_web::repost_here("/saml/acs", &fields, &new_token());
    }
    let Some(logins) = hub.upstream_logins() else {
        return error_page(
            StatusCode::NOT_FOUND,
            "No identity source",
            "This hub has no upstream identity provider configured.",
            None,
        );
    };
    match logins.answer(&form.saml_response, browser.as_ref()).await {
        Ok(Answered::Tested { id }) => see_other(&format!("/admin/identity-source/test/{id}"), None),
        Ok(Answered::SignIn { user, accepted, next }) => {
            let upstream =
                UpstreamLogin { name_id: accepted.name_id.clone(), session_index: accepted.session_index.clone() };
            let method = format!("SAML from {}", accepted.issuer);
            let started = hub.sessions.start(&user, &headers, &method, Some(upstream)).await;
            hub.metrics.sign_in(SignInMethod::Saml, started.is_ok());
            match started {
                Ok(cookie) => see_other(local_path(Some(&next)), cookie),
                Err(e) => error_page(StatusCode::SERVICE_UNAVAILABLE, "Sign-in failed", &e.to_string(), None),
            }
        }
        Err(e) => {
            hub.metrics.sign_in(SignInMethod::Saml, false);
            let page = refused_page(&e);
            // A refused person is recorded by name where the answer was accepted (User); before
            // that nobody is known.
            if matches!(e, AnswerRefused::User(_)) {
                return audited_already(page);
            }
            let peer = hub.identity_source.as_ref().map(|s| s.idp().entity_id.clone());
            refused_subject(page, RefusalSubject { actor: None, target: peer, detail: e.to_string() })
        }
    }
}

/// `GET /saml/sp/metadata`: the hub's SP metadata, to upload to the upstream IdP.
async fn sp_metadata(State(hub): State<Arc<Hub>>) -> Response {
    let Some(source) = hub.identity_source.as_ref() else {
        let message = "this hub has no identity source: it signs people in with its built-in directory, so it has no SP side to register at an IdP";
        return error_page(StatusCode::NOT_FOUND, "No identity source", message, None);
    };
    let mut response = source.sp_metadata(&hub.keys.request.current().published()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
    response
}

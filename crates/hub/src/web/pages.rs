//! The portal side's pages (sign-in, portal, errors, signed out), from the templates in
//! `templates/portal/`, and the answer of a launch.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use crossfed_web::{FormTargets, render};

use crate::apps::launch::{LaunchRefused, Posted};
use crate::records::new_token;
use crate::sessions::Session;
use crate::web::refusal_audit::{RefusalSubject, audited_already, refused_subject};

fn page(status: StatusCode, template: &impl Template) -> Response {
    render(status, template, None, FormTargets::SameOrigin)
}

#[derive(Template)]
#[template(path = "portal/message.html")]
struct Message<'a> {
    title: &'a str,
    message: &'a str,
    session: Option<&'a Session>,
}

/// `response`, marked as a refusal of `kind` for the request's log line.
pub fn refused_as(mut response: Response, kind: &'static str) -> Response {
    response.extensions_mut().insert(crossfed_web::log::Refused(kind));
    response
}

/// A page saying what went wrong, with a link back to the portal.
pub fn error_page(status: StatusCode, title: &str, message: &str, session: Option<&Session>) -> Response {
    page(status, &Message { title, message, session })
}

#[derive(Template)]
#[template(path = "portal/signed_out.html")]
struct SignedOut<'a> {
    title: &'a str,
    message: &'a str,
    session: Option<&'a Session>,
}

/// A page about a signed-out state (sign-out, an expired or refused SAML exchange).
pub fn signed_out_page(message: &str) -> Response {
    page(StatusCode::OK, &SignedOut { title: "Signed out", message, session: None })
}

#[derive(Template)]
#[template(path = "portal/login.html")]
struct Login<'a> {
    title: &'a str,
    session: Option<&'a Session>,
    error: Option<&'a str>,
    nonce: &'a str,
    next: &'a str,
    user_name: &'a str,
}

/// The built-in directory's sign-in form, carrying `nonce` (login CSRF), going to `next`.
pub fn login_page(status: StatusCode, nonce: &str, next: &str, error: Option<&str>, user_name: &str) -> Response {
    page(status, &Login { title: "Sign in", session: None, error, nonce, next, user_name })
}

/// An application on the portal.
pub struct PortalApp<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

#[derive(Template)]
#[template(path = "portal/portal.html")]
struct Portal<'a> {
    title: &'a str,
    session: Option<&'a Session>,
    csrf: &'a str,
    apps: &'a [PortalApp<'a>],
}

/// The applications `session`'s user may open.
pub fn portal_page(session: &Session, apps: &[PortalApp<'_>]) -> Response {
    let portal = Portal { title: "Your applications", session: Some(session), csrf: &session.csrf, apps };
    page(StatusCode::OK, &portal)
}

/// A page that sends the browser on to `url` at another site, setting `cookies`: a form's
/// redirect there would be blocked by the form-action of the page that held the form.
pub fn leave_for(url: &str, title: &str, message: &str, cookies: impl IntoIterator<Item = HeaderValue>) -> Response {
    let mut response = crossfed_web::continue_to(title, message, url, &new_token());
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The signed Response as the auto-submitting form the browser posts to the application.
pub fn post_response(acs_url: &str, xml: &str, relay_state: Option<&str>) -> Response {
    crossfed_web::saml_post(acs_url, "SAMLResponse", xml, relay_state, &new_token())
}

/// A launch of application `app_id`'s answer: the auto-posting form, or the page saying why it
/// was refused (with what the refusal's audit record says).
pub fn launch_answer(result: Result<Posted, LaunchRefused>, app_id: &str, session: &Session) -> Response {
    match result {
        Ok(posted) => post_response(&posted.acs_url, &posted.xml, posted.relay_state.as_deref()),
        Err(refused) => {
            let (status, shown) = match &refused {
                LaunchRefused::NoSuchApplication(_) => (StatusCode::NOT_FOUND, Some(session)),
                LaunchRefused::AccountUnavailable => (StatusCode::FORBIDDEN, None),
                LaunchRefused::DirectoryUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, Some(session)),
                LaunchRefused::NotAssigned(_) => (StatusCode::FORBIDDEN, Some(session)),
                LaunchRefused::SharedIdentity(_) => (StatusCode::CONFLICT, Some(session)),
                LaunchRefused::CannotBuild(_) => (StatusCode::UNPROCESSABLE_ENTITY, Some(session)),
                LaunchRefused::Unrecorded(_) => (StatusCode::SERVICE_UNAVAILABLE, Some(session)),
            };
            let page = refused_as(error_page(status, refused.title(), &refused.to_string(), shown), refused.kind());
            let detail = match &refused {
                // Its service wrote the record, with the error's whole story.
                LaunchRefused::CannotBuild(_) => return audited_already(page),
                LaunchRefused::SharedIdentity(shared) => shared.audit_detail(),
                other => other.to_string(),
            };
            let subject =
                RefusalSubject { actor: Some(session.user_name.clone()), target: Some(app_id.to_string()), detail };
            refused_subject(page, subject)
        }
    }
}

//! The pages of the portal side of the hub (sign-in, portal, errors), in one layout.

use axum::http::StatusCode;
use axum::response::Response;
use crossfed_web::{FormTargets, escape, html};

use crate::apps::launch::{LaunchRefused, Posted};
use crate::sessions::Session;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f4f6fb;color:#1b1f2a}\
header{background:#1d3557;color:#fff;padding:12px 24px;font-weight:600;display:flex;justify-content:space-between}\
main{max-width:720px;margin:32px auto;background:#fff;padding:24px 32px;border-radius:8px;box-shadow:0 1px 3px #0002}\
h1{font-size:22px}.error{color:#b00020}label{display:block;margin:10px 0}input{font-size:15px;padding:6px;width:100%;box-sizing:border-box}\
button{background:#1d3557;color:#fff;border:0;padding:8px 16px;border-radius:4px;font-size:15px}.app{display:flex;justify-content:space-between;align-items:center;border:1px solid #dde;border-radius:6px;padding:12px;margin:8px 0}\
header form{margin:0}header button{background:#457b9d}";

pub fn page(status: StatusCode, title: &str, user: Option<&Session>, body: &str) -> Response {
    let account = match user {
        Some(s) => format!(
            "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">{} <button type=\"submit\">Sign out</button></form>",
            escape(&s.csrf),
            escape(&s.user_name)
        ),
        None => String::new(),
    };
    let document = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} - crossfed</title><style>{STYLE}</style></head>\
<body><header><span>crossfed</span>{account}</header><main>{body}</main></body></html>\n",
        escape(title)
    );
    html(status, document, None, FormTargets::SameOrigin)
}

pub fn error_page(status: StatusCode, title: &str, message: &str, user: Option<&Session>) -> Response {
    page(
        status,
        title,
        user,
        &format!(
            "<h1>{}</h1><p class=\"error\" id=\"message\">{}</p><p><a href=\"/portal\">Back to the portal</a></p>",
            escape(title),
            escape(message)
        ),
    )
}

/// A page about a signed-out state (sign-out, an expired or refused SAML exchange).
pub fn signed_out_page(message: &str) -> Response {
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

/// The signed Response as the auto-submitting form the browser posts to the application.
pub fn post_response(acs_url: &str, xml: &str, relay_state: Option<&str>) -> Response {
    let nonce = crate::records::new_token();
    let document =
        crossfed_saml::post_form(acs_url, crossfed_saml::MessageKind::Response, xml, relay_state, Some(&nonce));
    html(StatusCode::OK, document, Some(&nonce), FormTargets::Anywhere)
}

/// A launch's answer: the auto-posting form, or the page saying why it was refused.
pub fn launch_answer(result: Result<Posted, LaunchRefused>, session: &Session) -> Response {
    match result {
        Ok(posted) => post_response(&posted.acs_url, &posted.xml, posted.relay_state.as_deref()),
        Err(refused) => {
            let (status, shown) = match &refused {
                LaunchRefused::NoSuchApplication(_) => (StatusCode::NOT_FOUND, Some(session)),
                LaunchRefused::AccountUnavailable => (StatusCode::FORBIDDEN, None),
                LaunchRefused::DirectoryUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, Some(session)),
                LaunchRefused::NotAssigned(_) => (StatusCode::FORBIDDEN, Some(session)),
                LaunchRefused::CannotBuild(_) => (StatusCode::UNPROCESSABLE_ENTITY, Some(session)),
            };
            error_page(status, refused.title(), &refused.to_string(), shown)
        }
    }
}

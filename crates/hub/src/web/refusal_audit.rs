//! Every refused request on the audit log ([`crate::refusals`]), from one layer of the router:
//! a response that refuses (a 401, 403 or 429, or any 4xx of the SAML and launch kinds) is
//! recorded with its kind, the client address and the route — or, where the handler said so,
//! who was refused, the peer it concerned and why ([`RefusalSubject`]).

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use crate::refusals::Refusal;
use crate::state::Hub;

/// Who a refusal concerned, as the handler that refused knows it.
#[derive(Debug, Clone, Default)]
pub struct RefusalSubject {
    /// Who was refused (a user name), when known.
    pub actor: Option<String>,
    /// The peer the request concerned: an application, the identity source.
    pub target: Option<String>,
    /// Why, in words; never a secret, token or message body.
    pub detail: String,
}

/// Marks a refusal whose record its service wrote already (with more than this layer knows).
#[derive(Debug, Clone, Copy)]
pub struct AuditedAlready;

/// `response`, carrying who it refused for the refusal's record.
pub fn refused_subject(mut response: Response, subject: RefusalSubject) -> Response {
    response.extensions_mut().insert(subject);
    response
}

/// `response`, whose refusal is on the audit log already.
pub fn audited_already(mut response: Response) -> Response {
    response.extensions_mut().insert(AuditedAlready);
    response
}

/// The layer: answers, then records the answer if it refused.
pub async fn audit_refusals(State(hub): State<Arc<Hub>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let source = crossfed_web::client::client_address(&request).map(|c| c.0);
    let method = request.method().clone();
    let response = next.run(request).await;
    let kind = crossfed_web::log::refusal_kind(&response);
    if !is_audited_refusal(response.status(), kind) || response.extensions().get::<AuditedAlready>().is_some() {
        return response;
    }
    let subject = response.extensions().get::<RefusalSubject>().cloned().unwrap_or_default();
    let route = route.unwrap_or_else(|| "(no route)".to_string());
    let detail = if subject.detail.is_empty() {
        format!("{method} {route} answered {}", response.status().as_u16())
    } else {
        subject.detail
    };
    let target = subject.target.or(Some(route));
    hub.refusals.note(Refusal { kind, source, actor: subject.actor, target, detail }).await;
    response
}

/// Whether a response of `status` and `kind` is a refusal the audit log keeps: every refused
/// credential, permission or rate, and every refused SAML message or launch; not the listener's
/// own answers to requests no route takes, nor a refusal that is the hub's own failure (5xx).
fn is_audited_refusal(status: StatusCode, kind: &str) -> bool {
    let refused = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS);
    refused || (status.is_client_error() && (kind.starts_with("saml.") || kind.starts_with("launch.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_of_credentials_and_of_saml_are_audited_listener_answers_are_not() {
        assert!(is_audited_refusal(StatusCode::UNAUTHORIZED, "unauthorized"));
        assert!(is_audited_refusal(StatusCode::BAD_REQUEST, "saml.request_invalid"));
        assert!(is_audited_refusal(StatusCode::NOT_FOUND, "launch.no_such_application"));
        assert!(!is_audited_refusal(StatusCode::NOT_FOUND, "not_found"));
        assert!(!is_audited_refusal(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
        assert!(!is_audited_refusal(StatusCode::SERVICE_UNAVAILABLE, "saml.misconfigured"));
    }
}

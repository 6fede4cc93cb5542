//! The console's guards as extractors: a live console session for a page, and for a form also
//! the session's CSRF token and a request from this site. Without a session the browser goes to
//! the console's sign-in; a form that fails the checks is refused with a page saying so.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use crossfed_web::see_other;
use serde::de::DeserializeOwned;

use super::layout::{Notice, message_page};
use crate::sessions::ConsoleSession;
use crate::state::Hub;
use crate::web::extract::{carries_csrf, form_body, same_site_request};

/// The console session of a page request.
pub struct Console(pub ConsoleSession);

impl FromRequestParts<Arc<Hub>> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, Response> {
        match hub.sessions.console(&parts.headers).await {
            Ok(Some(session)) => Ok(Console(session)),
            Ok(None) => Err(see_other("/admin/login", None)),
            Err(e) => Err(crate::web::extract::store_unavailable(&e)),
        }
    }
}

/// A form posted from the console's own pages in a live console session.
pub struct ConsoleForm<T> {
    pub session: ConsoleSession,
    pub form: T,
}

fn refused(session: &ConsoleSession, status: StatusCode, text: &str) -> Response {
    message_page(status, "", "Request refused", Some(session), Notice::error(text))
}

impl<T: DeserializeOwned> FromRequest<Arc<Hub>> for ConsoleForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, hub: &Arc<Hub>) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let Console(session) = Console::from_request_parts(&mut parts, hub).await?;
        let body = Bytes::from_request(Request::from_parts(parts.clone(), body), hub)
            .await
            .map_err(IntoResponse::into_response)?;
        if !carries_csrf(&body, &session.csrf) || !same_site_request(&parts.headers, &hub.base_url) {
            let text = "This form did not come from the console; reload the page and try again.";
            return Err(refused(&session, StatusCode::FORBIDDEN, text));
        }
        let form = form_body(&body)
            .map_err(|e| refused(&session, StatusCode::BAD_REQUEST, &format!("The form does not read: {e}.")))?;
        Ok(ConsoleForm { session, form })
    }
}

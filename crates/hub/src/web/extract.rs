//! Request guards as axum extractors: a handler that takes one cannot run without what it
//! guards, so an unguarded handler is a type error rather than a review catch. Here the portal
//! side's: a signed-in browser, and a form posted by one from the hub's own pages. The admin
//! API's token, SCIM's token and the console's session are guarded beside their handlers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crossfed_store::StoreError;
use crossfed_web::see_other;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::browsers::BrowserKey;
use crate::sessions::Session;
use crate::state::Hub;
use crate::web::pages::error_page;

/// A cross-site request cannot carry a session's CSRF token; browsers that say where a request
/// comes from must also say it is from this site.
pub fn same_site_request(headers: &HeaderMap, base_url: &str) -> bool {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin" | "none") => true,
        Some(_) => false,
        None => headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).is_none_or(|o| o == base_url),
    }
}

/// Where to go after sign-in: only paths on this site.
pub fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(p)
            if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.chars().any(char::is_control) =>
        {
            p
        }
        _ => "/portal",
    }
}

/// The CSRF token every form carries.
#[derive(Deserialize)]
struct CsrfField {
    csrf: String,
}

/// Reads a urlencoded form body as `T`; the error says what does not read.
pub fn form_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_urlencoded::de::Error> {
    serde_urlencoded::from_bytes(body)
}

/// Whether `body` carries `csrf` as its CSRF token.
pub fn carries_csrf(body: &[u8], csrf: &str) -> bool {
    serde_urlencoded::from_bytes::<CsrfField>(body).is_ok_and(|f| f.csrf == csrf)
}

/// The live session of the browser; without one the browser is sent to sign in first.
pub struct SignedIn(pub Session);

impl FromRequestParts<Arc<Hub>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, Response> {
        match hub.sessions.current(&parts.headers).await {
            Ok(Some(session)) => Ok(SignedIn(session)),
            Ok(None) => Err(see_other("/login?next=/portal", None)),
            Err(e) => Err(store_unavailable(&e)),
        }
    }
}

/// The browser's live session, if it has one (a store that does not answer refuses the request:
/// not knowing is not "nobody is signed in").
pub struct MaybeSignedIn(pub Option<Session>);

impl FromRequestParts<Arc<Hub>> for MaybeSignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, Response> {
        hub.sessions.current(&parts.headers).await.map(MaybeSignedIn).map_err(|e| store_unavailable(&e))
    }
}

/// The page of a request the store could not answer: 503, quickly, saying why.
pub fn store_unavailable(e: &StoreError) -> Response {
    tracing::warn!("answered 503, the store did not answer: {e}");
    let message = format!("The hub cannot reach its database just now ({e}). Try again in a moment.");
    error_page(StatusCode::SERVICE_UNAVAILABLE, "Temporarily unavailable", &message, None)
}

/// The key of the browser making the request, if it has one ([`crate::browsers`]).
pub struct Browser(pub Option<BrowserKey>);

impl FromRequestParts<Arc<Hub>> for Browser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, Self::Rejection> {
        Ok(Browser(hub.sessions.browser_key(&parts.headers)))
    }
}

impl Browser {
    /// The browser's key, or a new one for a browser without: with the cookie that (re)sets it.
    pub fn key_or_new(self, hub: &Hub) -> (BrowserKey, Option<HeaderValue>) {
        let key = self.0.unwrap_or_else(BrowserKey::generate);
        let cookie = hub.sessions.browser_key_cookie(&key);
        (key, cookie)
    }
}

/// A form posted by a signed-in browser from the hub's own pages: it carries the session's CSRF
/// token and comes from this site. Otherwise the request is refused with a page saying so.
pub struct PortalForm<T> {
    pub session: Session,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<Arc<Hub>> for PortalForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, hub: &Arc<Hub>) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let SignedIn(session) = SignedIn::from_request_parts(&mut parts, hub).await?;
        let body = Bytes::from_request(Request::from_parts(parts.clone(), body), hub)
            .await
            .map_err(IntoResponse::into_response)?;
        if !carries_csrf(&body, &session.csrf) || !same_site_request(&parts.headers, &hub.base_url) {
            return Err(error_page(
                StatusCode::FORBIDDEN,
                "Request refused",
                "This request did not come from the hub's own pages; go back to the portal and try again.",
                Some(&session),
            ));
        }
        let form = form_body(&body).map_err(|e| {
            let message = format!("The form does not read: {e}.");
            error_page(StatusCode::BAD_REQUEST, "Request refused", &message, Some(&session))
        })?;
        Ok(PortalForm { session, form })
    }
}

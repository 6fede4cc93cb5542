//! The SCIM server's request bodies: JSON sent as `application/scim+json` or `application/json`
//! (RFC 7644 §3.1, §8.1), or without a `Content-Type` (§3.8 asks for one only of clients sending
//! another format than JSON), read before the handler runs. Another content type is a 415, a body
//! past the limit a 413, and one that is not JSON a 400 `invalidSyntax`, each in the SCIM error
//! body.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use crossfed_scim::{ScimError, ScimType};
use crossfed_web::{Refusal, media_type_is};
use serde_json::Value;

use crate::web::refusal::unread_body;
use crate::web::scim_error::Failure;

/// The media types a SCIM body may be sent as.
const MEDIA_TYPES: [&str; 2] = [crossfed_scim::MEDIA_TYPE, "application/json"];

/// A SCIM request body, read as JSON.
pub struct ScimJson(pub Value);

impl<S: Send + Sync> FromRequest<S> for ScimJson {
    type Rejection = Failure;

    async fn from_request(request: Request, state: &S) -> Result<Self, Failure> {
        let typed = request.headers().contains_key(header::CONTENT_TYPE);
        if typed && !media_type_is(request.headers(), &MEDIA_TYPES) {
            return Err(Refusal::unsupported_media_type(request.headers(), &MEDIA_TYPES).into());
        }
        let body = Bytes::from_request(request, state).await.map_err(|e| Failure::from(unread_body(&e)))?;
        serde_json::from_slice(&body).map(ScimJson).map_err(|e| {
            Failure(ScimError::bad_request(ScimType::InvalidSyntax, format!("the request body is not valid JSON: {e}")))
        })
    }
}

//! The SCIM server's errors on the wire: the RFC 7644 §3.12 error body
//! (`urn:ietf:params:scim:api:messages:2.0:Error`, with `status`, `scimType` where one applies and
//! `detail`) as `application/scim+json`, and the SCIM status every store, directory and listener
//! error gets.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crossfed_scim::{ScimError, ScimType};
use crossfed_store::StoreError;
use crossfed_web::Refusal;
use serde_json::Value;

use crate::directory::DirectoryError;

/// A SCIM error as a response.
pub struct Failure(pub ScimError);

impl From<ScimError> for Failure {
    fn from(e: ScimError) -> Self {
        Failure(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure(match &e {
            StoreError::NotFound { .. } => ScimError::not_found(e.to_string()),
            StoreError::Conflict { .. } => ScimError::conflict(e.to_string()),
            StoreError::Stale { .. } => ScimError::precondition_failed(e.to_string()),
            StoreError::Invalid(_) => ScimError::bad_request(ScimType::InvalidValue, e.to_string()),
            StoreError::Unavailable(_) => ScimError::new(503, None, e.to_string()),
            StoreError::DiskFull(_) => ScimError::new(507, None, e.to_string()),
            StoreError::Backend(_) => ScimError::internal(e.to_string()),
        })
    }
}

impl From<DirectoryError> for Failure {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Store(inner) => inner.into(),
            DirectoryError::Password(_) => Failure(ScimError::bad_request(ScimType::InvalidValue, e.to_string())),
            DirectoryError::NoSuchUser(_) | DirectoryError::NoSuchGroup(_) => {
                Failure(ScimError::not_found(e.to_string()))
            }
            DirectoryError::Unrecorded(_) => Failure(ScimError::new(503, None, e.to_string())),
            // 409 with scimType "uniqueness" (RFC 7644 §3.3, §3.5.1).
            DirectoryError::EmailTaken { .. } => Failure(ScimError::conflict(e.to_string())),
        }
    }
}

/// A request the listener refused: a 400 is a request that does not read (`invalidSyntax`);
/// the other statuses have no `scimType` (RFC 7644 §3.12 defines none for them).
impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        let scim_type = (r.status == StatusCode::BAD_REQUEST).then_some(ScimType::InvalidSyntax);
        Failure(ScimError::new(r.status.as_u16(), scim_type, r.message))
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = scim_body(status, &self.0.to_json());
        // Without a scimType, the status names the refusal (`unauthorized`, `not_found`…).
        if let Some(scim_type) = self.0.scim_type {
            response.extensions_mut().insert(crossfed_web::log::Refused(scim_type.as_str()));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// `value` as an `application/scim+json` answer with `status`.
pub fn scim_body(status: StatusCode, value: &Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(crossfed_scim::MEDIA_TYPE));
    response
}

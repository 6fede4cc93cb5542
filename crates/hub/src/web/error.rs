//! The admin API's errors: an HTTP status and a JSON body `{"error": CODE, "message": TEXT}`
//! whose message says what was wrong and what to do — and the status each domain error gets at
//! every door (the console shows the same status and message on its pages), and the code of
//! each request the listener refuses before a handler ([`crossfed_web::Refusal`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use crossfed_store::StoreError;
use crossfed_web::Refusal;

use crate::apps::changes::ChangeError;
use crate::apps::spec::SpecError;
use crate::directory::DirectoryError;
use crate::tokens::{RotateError, TokenRejection};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::BAD_REQUEST, code: "invalid_request", message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::NOT_FOUND, code: "not_found", message: message.into() }
    }

    /// What was done could not be audited, so it is not acknowledged (the audit log fails closed).
    pub fn unrecorded(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::SERVICE_UNAVAILABLE, code: "audit_unavailable", message: message.into() }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: message.into() }
    }

    fn conflict(code: &'static str, message: String) -> Self {
        ApiError { status: StatusCode::CONFLICT, code, message }
    }
}

/// The code of each status the listener refuses a request with.
impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        let code = match r.status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            StatusCode::URI_TOO_LONG => "uri_too_long",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
            StatusCode::UNAUTHORIZED => "unauthorized",
            s if s.is_server_error() => "internal",
            _ => "invalid_request",
        };
        ApiError { status: r.status, code, message: r.message }
    }
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Store(inner) => inner.into(),
            DirectoryError::Password(_) => ApiError::bad_request(e.to_string()),
            DirectoryError::NoSuchUser(_) | DirectoryError::NoSuchGroup(_) => ApiError::not_found(e.to_string()),
            DirectoryError::Unrecorded(_) => ApiError::unrecorded(e.to_string()),
            DirectoryError::EmailTaken { .. } => ApiError::conflict("conflict", e.to_string()),
        }
    }
}

impl From<SpecError> for ApiError {
    fn from(e: SpecError) -> Self {
        match e {
            SpecError::Encoding { .. } => ApiError::internal(e.to_string()),
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        let message = e.to_string();
        match e {
            ChangeError::Invalid(inner) => (*inner).into(),
            ChangeError::SameServiceProvider(_) => ApiError::conflict("conflict", message),
            ChangeError::ManagedByConfig(_) | ChangeError::AssignmentManagedByConfig { .. } => {
                ApiError::conflict("managed_by_config", message)
            }
            ChangeError::Broken { .. } => ApiError::conflict("broken", message),
            ChangeError::NoSuchApplication(_) | ChangeError::NothingToReplace(_) | ChangeError::NotAssigned { .. } => {
                ApiError::not_found(message)
            }
            ChangeError::Vanished(_) => ApiError::internal(message),
            ChangeError::Directory(inner) => inner.into(),
            ChangeError::Store(inner) => inner.into(),
            ChangeError::Unrecorded(_) => ApiError::unrecorded(message),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let (status, code) = match &e {
            StoreError::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found"),
            StoreError::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            StoreError::Stale { .. } => (StatusCode::CONFLICT, "stale"),
            StoreError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            StoreError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            StoreError::DiskFull(_) => (StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage"),
            StoreError::Backend(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError { status, code, message: e.to_string() }
    }
}

impl From<TokenRejection> for ApiError {
    fn from(e: TokenRejection) -> Self {
        match e {
            TokenRejection::Store(inner) => inner.into(),
            other => ApiError { status: StatusCode::UNAUTHORIZED, code: "unauthorized", message: other.to_string() },
        }
    }
}

impl From<RotateError> for ApiError {
    fn from(e: RotateError) -> Self {
        let message = e.to_string();
        match e {
            RotateError::Overlap(_) | RotateError::Lifetime(_) => ApiError::bad_request(message),
            RotateError::NoSuchToken { .. } => ApiError::not_found(message),
            RotateError::Revoked { .. } => ApiError::conflict("token_revoked", message),
            RotateError::Expired { .. } => ApiError::conflict("token_expired", message),
            RotateError::Replaced { .. } => ApiError::conflict("token_replaced", message),
            RotateError::Store(inner) => inner.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.code, "message": self.message});
        let mut response = (self.status, axum::Json(body)).into_response();
        response.extensions_mut().insert(crossfed_web::log::Refused(self.code));
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

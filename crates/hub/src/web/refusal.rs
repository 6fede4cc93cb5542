//! The hub's refusals of requests no handler answers in full — oversized headers and URIs, no
//! route, a method the route does not take, a body too large, of the wrong type or that does not
//! read ([`crossfed_web::guard`]) — each written in the error body of the surface the path
//! belongs to: the admin API's JSON error under `/api`, the SCIM error under `/scim`, the hub's
//! HTML error page everywhere else (portal, console, SAML endpoints).

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use crossfed_web::{Guard, Refusal};

use crate::web::error::ApiError;
use crate::web::pages::error_page;
use crate::web::scim_error::Failure;

/// The largest request body the hub reads.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Which error body a path's answers carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Api,
    Scim,
    Pages,
}

impl Surface {
    pub fn of(path: &str) -> Surface {
        let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
        if under("/api") {
            Surface::Api
        } else if under("/scim") {
            Surface::Scim
        } else {
            Surface::Pages
        }
    }
}

/// The hub's listener guard.
pub fn guard() -> Guard {
    Guard { render, max_body_bytes: MAX_BODY_BYTES }
}

/// `refusal` of a request to `path`, in that surface's error body.
fn render(path: &str, refusal: Refusal) -> Response {
    match Surface::of(path) {
        Surface::Api => {
            let mut error = ApiError::from(refusal);
            if error.status == StatusCode::NOT_FOUND {
                error.message.push_str(" (the routes are listed in /api/v1/openapi.json)");
            }
            error.into_response()
        }
        Surface::Scim => Failure::from(refusal).into_response(),
        Surface::Pages => error_page(refusal.status, refusal.title(), &refusal.sentence(), None),
    }
}

/// Why a body could not be read: over [`MAX_BODY_BYTES`] (413), or cut off (400).
pub fn unread_body(e: &BytesRejection) -> Refusal {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Refusal::body_too_large(MAX_BODY_BYTES)
    } else {
        Refusal::new(StatusCode::BAD_REQUEST, format!("the request body could not be read: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_belong_to_surfaces() {
        assert_eq!(Surface::of("/api/v1/users"), Surface::Api);
        assert_eq!(Surface::of("/api"), Surface::Api);
        assert_eq!(Surface::of("/scim/v2/Users"), Surface::Scim);
        assert_eq!(Surface::of("/scim"), Surface::Scim);
        assert_eq!(Surface::of("/apis"), Surface::Pages);
        assert_eq!(Surface::of("/admin/users"), Surface::Pages);
        assert_eq!(Surface::of("/"), Surface::Pages);
    }
}

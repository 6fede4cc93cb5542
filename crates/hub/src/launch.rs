//! Launching an application: the signed Response the hub posts to the application's ACS, built
//! from the application's mappings for one user. Time is passed in.

use crossfed_saml::{BuiltResponse, Instant, ResponseSpec, SignedParts, build_response, ns};
use crossfed_xmldsig::{DsigError, SigningKey};
use thiserror::Error;

use crate::catalog::{Application, Signing};
use crate::mapping::{MappingError, UserValues};

#[derive(Debug, Error)]
pub enum LaunchError {
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error("signing the response failed: {0}")]
    Signing(#[from] DsigError),
}

/// The hub's side of one login into an application.
#[derive(Debug, Clone)]
pub struct Launch<'a> {
    /// The hub's IdP entity ID for this application.
    pub issuer: &'a str,
    /// The AuthnRequest answered, for SP-initiated logins.
    pub in_response_to: Option<&'a str>,
    /// When and how the user authenticated (from the hub session).
    pub authn_instant: Instant,
    pub session_index: &'a str,
}

/// Builds and signs the Response for `user`.
pub fn build_launch_response(
    app: &Application,
    launch: &Launch<'_>,
    user: &UserValues,
    key: &SigningKey,
    now: Instant,
) -> Result<BuiltResponse, LaunchError> {
    let (name_id, attributes) = app.assertion_contents(user)?;
    let spec = ResponseSpec {
        issuer: launch.issuer.to_string(),
        destination: app.acs_url.clone(),
        audiences: vec![app.audience.clone()],
        in_response_to: launch.in_response_to.map(str::to_string),
        name_id,
        session_index: launch.session_index.to_string(),
        authn_instant: launch.authn_instant,
        authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.to_string(),
        attributes,
        lifetime_seconds: app.assertion_lifetime_seconds,
        not_before_skew_seconds: 0,
        session_not_on_or_after: None,
        signed_parts: match app.signing {
            Signing::Assertion => SignedParts::Assertion,
            Signing::Response => SignedParts::Response,
            Signing::Both => SignedParts::Both,
        },
    };
    Ok(build_response(&spec, now, key)?)
}

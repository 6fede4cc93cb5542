//! SAML 2.0 for crossfed: metadata, messages, bindings and SP-side validation. No HTTP, no
//! storage; the current time is an argument.

pub mod authn_request;
pub mod bindings;
pub mod clock;
pub mod id;
pub mod instant;
pub mod logout;
pub mod metadata;
pub mod ns;
mod protocol;
pub mod response;
pub mod validate;

pub use authn_request::{AuthnRequest, AuthnRequestSpec, build_authn_request, parse_authn_request};
pub use bindings::{
    BindingError, MessageKind, RedirectMessage, decode_post, decode_redirect, html_unescape, post_form, redirect_query,
};
pub use clock::Clock;
pub use instant::Instant;
pub use logout::{
    LogoutRequest, LogoutResponse, build_logout_request, build_logout_response, parse_logout_request,
    parse_logout_response,
};
pub use metadata::{
    ContactPerson, Endpoint, EntitiesDescriptor, EntityDescriptor, IdpSsoDescriptor, IndexedEndpoint, Localized,
    MetadataError, Organization, SpSsoDescriptor,
};
pub use protocol::RequestError;
pub use response::{
    Attribute, BuiltResponse, NameId, ResponseSpec, SignedParts, build_response, build_status_response,
};
pub use validate::{
    Accepted, Check, DeferredReplayCheck, MemoryReplayCache, ReplayCache, SignatureRequirement, SpPolicy,
    ValidationError, validate_response, validate_response_traced,
};

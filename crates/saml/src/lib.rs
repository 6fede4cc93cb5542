//! SAML 2.0 for crossfed: metadata, messages, bindings and SP-side validation. No HTTP, no
//! storage, no clock: the current time is an argument. The modules are private; what other
//! crates use is re-exported here, and the protocol's names (namespaces, bindings, formats,
//! statuses) are in [`ns`].

mod authn_request;
mod bindings;
mod id;
mod identity;
mod logout;
mod metadata;
pub mod ns;
mod protocol;
mod response;
mod schema;
mod timestamp;
mod validate;

pub use authn_request::{AuthnRequest, AuthnRequestSpec, build_authn_request, parse_authn_request};
pub use bindings::{
    BindingError, MAX_MESSAGE_BYTES, MessageKind, RedirectMessage, decode_post, decode_redirect, html_escape,
    html_unescape, inflate_bounded, redirect_query,
};
pub use id::new_id;
pub use identity::SurroundingWhitespace;
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
pub use schema::SchemaError;
pub use timestamp::Timestamp;
pub use validate::{
    Accepted, Check, DeferredReplayCheck, MemoryReplayCache, ReplayCache, SignatureRequirement, SpPolicy,
    ValidationError, validate_response, validate_response_traced,
};

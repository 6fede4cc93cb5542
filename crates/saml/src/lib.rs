//! SAML 2.0 for crossfed: metadata, messages, bindings and SP-side validation. No HTTP, no
//! storage; the current time is an argument.

pub mod id;
pub mod instant;
pub mod ns;

pub use instant::Instant;

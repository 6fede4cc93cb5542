//! The integration tests of crossfed-saml, in one binary: one module per area, sharing their setup;
//! the tests of every module run in parallel.

mod attacks;
mod bindings;
mod built_responses;
mod messages;
mod metadata;
mod pysaml2;
mod validate;

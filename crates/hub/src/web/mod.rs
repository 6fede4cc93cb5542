//! What the hub's handlers share about the web: the request guards as axum extractors
//! ([`extract`]: a browser session and a form checked against cross-site requests), the pages
//! they answer with ([`pages`]), the admin API's error body ([`error`]), the SCIM error body
//! ([`scim_error`]), and the refusals of requests no handler answers in full, in the body of the
//! surface they were sent to ([`refusal`]), and the layer putting refusals on the audit log
//! ([`refusal_audit`]).

pub mod error;
pub mod extract;
pub mod pages;
pub mod refusal;
pub mod refusal_audit;
pub mod scim_error;

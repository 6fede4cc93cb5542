//! AWS Signature Version 4, both sides: building the canonical request and string to sign,
//! signing (for crossfed's own API clients), and verifying received requests (for the emulated
//! target account) with a clock-skew check and a constant-time comparison. No HTTP types: a
//! request is its method, raw path and query, headers and body hash.

mod canonical;
mod error;
mod verify;

pub use canonical::{
    CanonicalRequest, EMPTY_SHA256, Request, canonical_request, hex_sha256, sign, signing_key, string_to_sign,
};
pub use error::SigV4Error;
pub use verify::{Authorization, MAX_CLOCK_SKEW_SECONDS, Verified, amz_date_to_unix, parse_authorization, verify};

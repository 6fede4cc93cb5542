//! XML signatures for SAML: enveloped RSA-SHA256 (RSA-SHA512, ECDSA-P256 optional) over exclusive
//! c14n. Verification follows the SAML profile strictly and hands back a view of the verified
//! element, so callers read fields only from what the signature covers.

mod algorithm;
mod error;
mod keys;
mod sign;
mod verify;

pub use algorithm::{
    AlgorithmPolicy, DSIG_NS, DigestAlgorithm, ECDSA_SHA256, ENVELOPED_SIGNATURE, RSA_SHA1, RSA_SHA256, RSA_SHA512,
    SHA1, SHA256, SHA512, SignatureAlgorithm,
};
pub use error::DsigError;
pub use keys::{Certificate, KeyKind, SigningKey, decode_base64};
pub use sign::{SignOptions, enveloped_signature, sign_enveloped};
pub use verify::{SignedView, VerifiedElement, VerifyOptions, check_unique_ids, verify_enveloped};

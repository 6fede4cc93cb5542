//! The algorithm URIs of XML-DSig and which of them are accepted.

use aws_lc_rs::digest;

pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
pub const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";
pub const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// Signature algorithms crossfed can sign with or verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    RsaSha256,
    RsaSha512,
    EcdsaP256Sha256,
    /// Verification only, and only when [`AlgorithmPolicy::allow_sha1`] is set.
    RsaSha1,
}

impl SignatureAlgorithm {
    pub fn uri(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaSha256 => RSA_SHA256,
            SignatureAlgorithm::RsaSha512 => RSA_SHA512,
            SignatureAlgorithm::EcdsaP256Sha256 => ECDSA_SHA256,
            SignatureAlgorithm::RsaSha1 => RSA_SHA1,
        }
    }

    pub fn is_rsa(self) -> bool {
        !matches!(self, SignatureAlgorithm::EcdsaP256Sha256)
    }
}

/// Digest algorithms of references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    Sha256,
    Sha512,
    /// Verification only, and only when [`AlgorithmPolicy::allow_sha1`] is set.
    Sha1,
}

impl DigestAlgorithm {
    pub fn uri(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => SHA256,
            DigestAlgorithm::Sha512 => SHA512,
            DigestAlgorithm::Sha1 => SHA1,
        }
    }

    pub fn digest(self, data: &[u8]) -> digest::Digest {
        let algorithm = match self {
            DigestAlgorithm::Sha256 => &digest::SHA256,
            DigestAlgorithm::Sha512 => &digest::SHA512,
            DigestAlgorithm::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        };
        digest::digest(algorithm, data)
    }
}

/// Which weak algorithms a verifier tolerates. Everything weak is off unless a deployment
/// must talk to a legacy peer and says so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlgorithmPolicy {
    pub allow_sha1: bool,
}

impl AlgorithmPolicy {
    pub fn signature_algorithm(&self, uri: &str) -> Result<SignatureAlgorithm, crate::DsigError> {
        match uri {
            RSA_SHA256 => Ok(SignatureAlgorithm::RsaSha256),
            RSA_SHA512 => Ok(SignatureAlgorithm::RsaSha512),
            ECDSA_SHA256 => Ok(SignatureAlgorithm::EcdsaP256Sha256),
            RSA_SHA1 if self.allow_sha1 => Ok(SignatureAlgorithm::RsaSha1),
            RSA_SHA1
            | "http://www.w3.org/2000/09/xmldsig#dsa-sha1"
            | "http://www.w3.org/2001/04/xmldsig-more#rsa-md5" => {
                Err(weak(uri, "SHA-1 and MD5 signatures are forgeable; enable SHA-1 explicitly only for a legacy peer"))
            }
            u if u.contains("hmac") => Err(weak(
                uri,
                "HMAC signatures use a shared secret, not the signer's certificate, and are never accepted",
            )),
            "" => Err(weak(uri, "a signature must name its algorithm")),
            _ => Err(crate::DsigError::UnsupportedAlgorithm(uri.to_string())),
        }
    }

    pub fn digest_algorithm(&self, uri: &str) -> Result<DigestAlgorithm, crate::DsigError> {
        match uri {
            SHA256 => Ok(DigestAlgorithm::Sha256),
            SHA512 => Ok(DigestAlgorithm::Sha512),
            SHA1 if self.allow_sha1 => Ok(DigestAlgorithm::Sha1),
            SHA1 | "http://www.w3.org/2001/04/xmldsig-more#md5" => {
                Err(weak(uri, "SHA-1 and MD5 digests allow collisions; enable SHA-1 explicitly only for a legacy peer"))
            }
            _ => Err(crate::DsigError::UnsupportedAlgorithm(uri.to_string())),
        }
    }
}

fn weak(uri: &str, reason: &str) -> crate::DsigError {
    crate::DsigError::WeakAlgorithm { uri: uri.to_string(), reason: reason.to_string() }
}

//! Certificates (the only source of verification keys) and signing keys.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, ParsedPublicKey, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::algorithm::SignatureAlgorithm;
use crate::error::DsigError;

/// The public-key type of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa { bits: usize },
    EcdsaP256,
}

/// A trusted X.509 certificate, parsed once: its public key is ready for verification.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    /// The DER in base64, as every signature's KeyInfo and the metadata carry it.
    base64: String,
    subject: String,
    not_before: i64,
    not_after: i64,
    kind: KeyKind,
    fingerprint: [u8; 32],
    rsa_sha256: Option<ParsedPublicKey>,
    rsa_sha512: Option<ParsedPublicKey>,
    rsa_sha1: Option<ParsedPublicKey>,
    ecdsa_sha256: Option<ParsedPublicKey>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate").field("subject", &self.subject).field("sha256", &self.fingerprint_hex()).finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Parses a DER certificate. RSA keys must have at least 2048 bits; ECDSA keys must be P-256.
    pub fn from_der(der: &[u8]) -> Result<Self, DsigError> {
        let (_, cert) = X509Certificate::from_der(der)
            .map_err(|e| DsigError::Certificate(format!("not a DER X.509 certificate: {e}")))?;
        let spki = cert.public_key();
        let key_bytes: &[u8] = spki.subject_public_key.data.as_ref();
        let parsed = spki.parsed().map_err(|e| DsigError::Certificate(format!("unreadable public key: {e}")))?;
        let mut c = Certificate {
            der: der.to_vec(),
            base64: STANDARD.encode(der),
            subject: cert.subject().to_string(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            kind: KeyKind::EcdsaP256,
            fingerprint: sha256(der),
            rsa_sha256: None,
            rsa_sha512: None,
            rsa_sha1: None,
            ecdsa_sha256: None,
        };
        match parsed {
            PublicKey::RSA(rsa) => {
                let bits = rsa.key_size();
                if bits < 2048 {
                    return Err(DsigError::Certificate(format!(
                        "the certificate's RSA key has {bits} bits; at least 2048 are required"
                    )));
                }
                let parse = |alg: &'static signature::RsaParameters| {
                    ParsedPublicKey::new(alg, key_bytes)
                        .map_err(|e| DsigError::Certificate(format!("RSA key rejected: {e}")))
                };
                c.kind = KeyKind::Rsa { bits };
                c.rsa_sha256 = Some(parse(&signature::RSA_PKCS1_2048_8192_SHA256)?);
                c.rsa_sha512 = Some(parse(&signature::RSA_PKCS1_2048_8192_SHA512)?);
                c.rsa_sha1 = Some(parse(&signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY)?);
            }
            PublicKey::EC(_) => {
                let key = ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, key_bytes).map_err(|e| {
                    DsigError::Certificate(format!("only P-256 elliptic-curve keys are supported: {e}"))
                })?;
                c.ecdsa_sha256 = Some(key);
            }
            _ => return Err(DsigError::Certificate("only RSA and ECDSA P-256 keys are supported".to_string())),
        }
        Ok(c)
    }

    /// Parses the base64 text of an `X509Certificate` element (whitespace allowed).
    pub fn from_base64(text: &str) -> Result<Self, DsigError> {
        let der = decode_base64(text).map_err(|_| DsigError::Base64("X509Certificate".to_string()))?;
        Certificate::from_der(&der)
    }

    /// Every `CERTIFICATE` block of a PEM file.
    pub fn all_from_pem(pem: &[u8]) -> Result<Vec<Self>, DsigError> {
        let mut certs = Vec::new();
        for block in x509_parser::pem::Pem::iter_from_buffer(pem) {
            let block = block.map_err(|e| DsigError::Certificate(format!("bad PEM: {e}")))?;
            if block.label == "CERTIFICATE" {
                certs.push(Certificate::from_der(&block.contents)?);
            }
        }
        if certs.is_empty() {
            return Err(DsigError::Certificate("no CERTIFICATE block in the PEM input".to_string()));
        }
        Ok(certs)
    }

    /// The first `CERTIFICATE` block of a PEM file.
    pub fn from_pem(pem: &[u8]) -> Result<Self, DsigError> {
        Certificate::all_from_pem(pem)?
            .into_iter()
            .next()
            .ok_or_else(|| DsigError::Certificate("no CERTIFICATE block in the PEM input".to_string()))
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn to_base64(&self) -> String {
        self.base64.clone()
    }

    /// The DER in base64, without a copy.
    pub fn base64(&self) -> &str {
        &self.base64
    }

    pub fn to_pem(&self) -> String {
        let b64 = self.to_base64();
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Validity bounds as Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    pub fn key_kind(&self) -> KeyKind {
        self.kind
    }

    /// SHA-256 of the DER encoding, as colon-free lowercase hex.
    pub fn fingerprint_hex(&self) -> String {
        self.fingerprint.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Checks `signature` over `message` with this certificate's key.
    pub fn verify(&self, algorithm: SignatureAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        let key = match algorithm {
            SignatureAlgorithm::RsaSha256 => &self.rsa_sha256,
            SignatureAlgorithm::RsaSha512 => &self.rsa_sha512,
            SignatureAlgorithm::RsaSha1 => &self.rsa_sha1,
            SignatureAlgorithm::EcdsaP256Sha256 => &self.ecdsa_sha256,
        };
        key.as_ref().is_some_and(|k| k.verify_sig(message, signature).is_ok())
    }
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Decodes base64 that may be wrapped or indented, as in XML element text.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    if text.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        STANDARD.decode(compact)
    } else {
        STANDARD.decode(text)
    }
}

enum PrivateKey {
    Rsa(RsaKeyPair),
    EcdsaP256(EcdsaKeyPair),
}

/// A private key with its certificate, ready to sign.
pub struct SigningKey {
    key: PrivateKey,
    algorithm: SignatureAlgorithm,
    certificate: Certificate,
    pkcs8: Vec<u8>,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("SigningKey").field("certificate", &self.certificate).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads a PEM private key (PKCS#8 `PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY` or SEC1
    /// `EC PRIVATE KEY`) and the PEM certificate it belongs to.
    pub fn from_pem(key_pem: &[u8], cert_pem: &[u8]) -> Result<Self, DsigError> {
        let certificate = Certificate::from_pem(cert_pem)?;
        let text =
            std::str::from_utf8(key_pem).map_err(|_| DsigError::Key("the key file is not PEM text".to_string()))?;
        // rcgen reads all three PEM forms and re-encodes them as PKCS#8.
        let pair =
            rcgen::KeyPair::from_pem(text).map_err(|e| DsigError::Key(format!("unreadable private key: {e}")))?;
        SigningKey::from_pkcs8(&pair.serialize_der(), certificate)
    }

    /// Builds a signing key from a PKCS#8 DER private key and its certificate, checking that
    /// they belong together.
    pub fn from_pkcs8(pkcs8: &[u8], certificate: Certificate) -> Result<Self, DsigError> {
        let (key, public, algorithm) = match certificate.key_kind() {
            KeyKind::Rsa { .. } => {
                let k =
                    RsaKeyPair::from_pkcs8(pkcs8).map_err(|e| DsigError::Key(format!("not an RSA PKCS#8 key: {e}")))?;
                let public = k.public_key().as_ref().to_vec();
                (PrivateKey::Rsa(k), public, SignatureAlgorithm::RsaSha256)
            }
            KeyKind::EcdsaP256 => {
                let k = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                    .map_err(|e| DsigError::Key(format!("not a P-256 PKCS#8 key: {e}")))?;
                let public = k.public_key().as_ref().to_vec();
                (PrivateKey::EcdsaP256(k), public, SignatureAlgorithm::EcdsaP256Sha256)
            }
        };
        let (_, parsed) = X509Certificate::from_der(certificate.der())
            .map_err(|e| DsigError::Certificate(format!("not a DER X.509 certificate: {e}")))?;
        let cert_public: &[u8] = parsed.public_key().subject_public_key.data.as_ref();
        if cert_public != public.as_slice() {
            return Err(DsigError::Key("the private key does not belong to the certificate".to_string()));
        }
        Ok(SigningKey { key, algorithm, certificate, pkcs8: pkcs8.to_vec(), rng: SystemRandom::new() })
    }

    /// A new RSA-2048 key with a self-signed certificate valid from `now` for `days` days, as SAML
    /// deployments use (the certificate only carries the key; nobody checks its chain).
    pub fn generate_rsa(common_name: &str, now: impl Into<time::OffsetDateTime>, days: i64) -> Result<Self, DsigError> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .map_err(|e| DsigError::Key(format!("RSA key generation failed: {e}")))?;
        SigningKey::self_signed(pair, common_name, now.into(), days)
    }

    /// A new ECDSA P-256 key with a self-signed certificate valid from `now` for `days`.
    pub fn generate_ecdsa_p256(
        common_name: &str,
        now: impl Into<time::OffsetDateTime>,
        days: i64,
    ) -> Result<Self, DsigError> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| DsigError::Key(format!("EC key generation failed: {e}")))?;
        SigningKey::self_signed(pair, common_name, now.into(), days)
    }

    fn self_signed(
        pair: rcgen::KeyPair,
        common_name: &str,
        now: time::OffsetDateTime,
        days: i64,
    ) -> Result<Self, DsigError> {
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
        params.not_before = now - time::Duration::minutes(5);
        params.not_after = now + time::Duration::days(days);
        let cert =
            params.self_signed(&pair).map_err(|e| DsigError::Key(format!("certificate creation failed: {e}")))?;
        let certificate = Certificate::from_der(cert.der())?;
        SigningKey::from_pkcs8(&pair.serialize_der(), certificate)
    }

    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The algorithm this key signs with (RSA-SHA256 or ECDSA-SHA256 by default).
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// Switches an RSA key to RSA-SHA512.
    pub fn with_rsa_sha512(mut self) -> Self {
        if matches!(self.key, PrivateKey::Rsa(_)) {
            self.algorithm = SignatureAlgorithm::RsaSha512;
        }
        self
    }

    /// The private key as PEM (PKCS#8), for writing a key file with restrictive permissions.
    pub fn private_key_pem(&self) -> String {
        let b64 = STANDARD.encode(&self.pkcs8);
        let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
            out.push('\n');
        }
        out.push_str("-----END PRIVATE KEY-----\n");
        out
    }

    /// Signs `message` with this key's algorithm.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, DsigError> {
        match (&self.key, self.algorithm) {
            (PrivateKey::Rsa(k), alg) => {
                let encoding = match alg {
                    SignatureAlgorithm::RsaSha512 => &signature::RSA_PKCS1_SHA512,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(encoding, &self.rng, message, &mut sig).map_err(|e| DsigError::Signing(e.to_string()))?;
                Ok(sig)
            }
            (PrivateKey::EcdsaP256(k), _) => {
                let sig = k.sign(&self.rng, message).map_err(|e| DsigError::Signing(e.to_string()))?;
                Ok(sig.as_ref().to_vec())
            }
        }
    }
}

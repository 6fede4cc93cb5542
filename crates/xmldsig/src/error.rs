use thiserror::Error;

/// Why a signature was refused or could not be made. Variants are specific so that tests, logs
/// and `crossfed saml verify` can say exactly which rule a document broke.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DsigError {
    #[error("<{element}> is not signed (it has no ds:Signature child)")]
    NotSigned { element: String },
    #[error("<{element}> has {count} ds:Signature children; exactly one is allowed")]
    MultipleSignatures { element: String, count: usize },
    #[error("<{element}> has no {attribute} attribute, so no signature can reference it")]
    MissingId { element: String, attribute: String },
    #[error(
        "the ID value \"{id}\" appears more than once in the document (signature-wrapping attempt or broken document)"
    )]
    DuplicateId { id: String },
    #[error("malformed signature: {0}")]
    Malformed(String),
    #[error(
        "the signature references \"{found}\" but the element it is attached to has ID \"{expected}\"; a signature must reference its own parent element"
    )]
    ReferenceMismatch { expected: String, found: String },
    #[error("signature transforms must be exactly enveloped-signature then exclusive c14n; found [{found}]")]
    DisallowedTransforms { found: String },
    #[error("canonicalization method {0} is not allowed; only exclusive c14n without comments is")]
    DisallowedCanonicalization(String),
    #[error("algorithm {uri} is refused: {reason}")]
    WeakAlgorithm { uri: String, reason: String },
    #[error("algorithm {0} is not supported")]
    UnsupportedAlgorithm(String),
    #[error(
        "the certificate in KeyInfo is not one of the configured certificates (keys are only taken from configuration, never from the message)"
    )]
    UntrustedCertificate,
    #[error("no trusted certificate is configured for this signer")]
    NoTrustedCertificates,
    #[error("digest mismatch: the signed element was changed after it was signed")]
    DigestMismatch,
    #[error("the signature value does not verify with any configured certificate")]
    BadSignature,
    #[error("invalid base64 in {0}")]
    Base64(String),
    #[error("key error: {0}")]
    Key(String),
    #[error("certificate error: {0}")]
    Certificate(String),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error(transparent)]
    Xml(#[from] crossfed_xml::XmlError),
}

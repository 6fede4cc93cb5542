use thiserror::Error;

/// Why a request's signature was refused. The variants follow the errors AWS returns, so the
/// emulated services can answer with the code a real client expects.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SigV4Error {
    #[error("the request is not signed: no Authorization header (MissingAuthenticationToken)")]
    Missing,
    #[error("malformed Authorization header: {0} (IncompleteSignature)")]
    Incomplete(String),
    #[error("the X-Amz-Date header is missing or not of the form YYYYMMDDTHHMMSSZ")]
    BadDate,
    #[error("the access key ID {0} is not known (InvalidClientTokenId / UnrecognizedClientException)")]
    UnknownAccessKey(String),
    #[error("the credential scope names {found}, expected {expected}")]
    WrongScope { expected: String, found: String },
    #[error(
        "the request was signed at {signed_at}, more than {max_skew_seconds} s from the server time {now} (RequestExpired)"
    )]
    Expired { signed_at: String, now: i64, max_skew_seconds: i64 },
    #[error("the signature does not match; check the secret access key and the signing method (SignatureDoesNotMatch)")]
    Mismatch,
    #[error("header {0} is signed but not present")]
    SignedHeaderMissing(String),
    #[error("the host header must be signed")]
    HostNotSigned,
}

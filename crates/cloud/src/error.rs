//! Errors in the shape AWS returns them: a code a client can branch on, an HTTP status, and a
//! message that says what was wrong.

use crossfed_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub code: &'static str,
    pub status: u16,
    pub message: String,
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AwsError {}

impl AwsError {
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        AwsError { code, status, message: message.into() }
    }
    pub fn validation(message: impl Into<String>) -> Self {
        AwsError::new("ValidationError", 400, message)
    }
    pub fn access_denied(message: impl Into<String>) -> Self {
        AwsError::new("AccessDenied", 403, message)
    }
    pub fn invalid_identity_token(message: impl Into<String>) -> Self {
        AwsError::new("InvalidIdentityToken", 400, message)
    }
    pub fn no_such_entity(message: impl Into<String>) -> Self {
        AwsError::new("NoSuchEntity", 404, message)
    }
    pub fn entity_exists(message: impl Into<String>) -> Self {
        AwsError::new("EntityAlreadyExists", 409, message)
    }
    pub fn malformed_policy(message: impl Into<String>) -> Self {
        AwsError::new("MalformedPolicyDocument", 400, message)
    }
    /// A quota of the account would be exceeded (IAM answers it with 409).
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        AwsError::new("LimitExceeded", 409, message)
    }
}

impl From<StoreError> for AwsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => AwsError::no_such_entity(e.to_string()),
            StoreError::Conflict { .. } => AwsError::entity_exists(e.to_string()),
            StoreError::Stale { .. } => AwsError::new("ConcurrentModification", 409, e.to_string()),
            StoreError::Invalid(_) => AwsError::validation(e.to_string()),
            StoreError::Unavailable(_) | StoreError::DiskFull(_) => {
                AwsError::new("ServiceUnavailable", 503, e.to_string())
            }
            StoreError::Backend(_) => AwsError::new("InternalFailure", 500, e.to_string()),
        }
    }
}

//! Passwords of the built-in directory: argon2id hashes (PHC strings), and the rules a new
//! password must follow. Hashing is deliberately slow: callers run it on the hashing threads
//! ([`crate::cpu_pool::hashing`]).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasswordError {
    #[error("the password must have at least {0} characters")]
    TooShort(usize),
    #[error("the password must have at most {0} bytes")]
    TooLong(usize),
    #[error("hashing failed: {0}")]
    Hashing(String),
}

pub const MIN_LENGTH: usize = 8;
/// Bounds the work an attacker can request with one login attempt.
pub const MAX_BYTES: usize = 1024;

/// argon2id with the OWASP-recommended minimum cost (19 MiB, 2 passes).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The rules a new password must follow.
pub fn check_strength(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(PasswordError::TooShort(MIN_LENGTH));
    }
    if password.len() > MAX_BYTES {
        return Err(PasswordError::TooLong(MAX_BYTES));
    }
    Ok(())
}

/// Checks the rules and hashes a new password.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    check_strength(password)?;
    let salt =
        SaltString::encode_b64(&crossfed_random::bytes::<16>()).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// [`hash_password`] on the hashing threads: hashing takes tens of milliseconds on purpose and
/// must not hold up the async runtime.
pub async fn hash_off_runtime(password: &str) -> Result<String, PasswordError> {
    check_strength(password)?;
    let password = password.to_string();
    crate::cpu_pool::hashing()
        .run(move || hash_password(&password))
        .await
        .map_err(|e| PasswordError::Hashing(e.to_string()))?
}

/// Whether `password` matches the stored hash (false for an unreadable hash, and for
/// over-long input, without hashing it).
pub fn verify_password(stored: &str, password: &str) -> bool {
    if password.len() > MAX_BYTES {
        return false;
    }
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when the user does not exist, so that an
/// unknown user name takes as long to refuse as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that nobody knows").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterY"));
        assert!(!verify_password("not a hash", "x"));
        assert_ne!(hash, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn rules() {
        assert_eq!(hash_password("short").unwrap_err(), PasswordError::TooShort(8));
        assert_eq!(hash_password(&"x".repeat(2000)).unwrap_err(), PasswordError::TooLong(1024));
        assert!(!verify_password(decoy_hash(), &"x".repeat(2000)));
    }
}

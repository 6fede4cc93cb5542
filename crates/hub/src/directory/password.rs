//! Passwords of the built-in directory: argon2id hashes (PHC strings), and the rules a new
//! password must follow. Hashing is deliberately slow: callers run it on the hashing threads
//! ([`crate::cpu_pool::hashing`]).

use std::cell::RefCell;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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

thread_local! {
    /// This thread's argon2 working memory (19 MiB), kept for the thread's lifetime. Allocating
    /// and freeing it per hash makes glibc raise its mmap threshold and then keep the freed
    /// blocks resident in every arena: measured, 135 MiB resident instead of 36 MiB after four
    /// sign-ins.
    static WORKING_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// argon2 of `password` with the raw `salt` into `out`, in this thread's working memory.
fn raw_hash(argon: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), argon2::Error> {
    let blocks = argon.params().block_count();
    WORKING_MEMORY.with(|memory| match memory.try_borrow_mut() {
        Ok(mut memory) => {
            if memory.len() < blocks {
                memory.resize(blocks, Block::default());
            }
            let memory = memory.get_mut(..blocks).ok_or(argon2::Error::MemoryTooLittle)?;
            argon.hash_password_into_with_memory(password, salt, out, memory)
        }
        // Only a hash inside a hash would get here; it gets memory of its own.
        Err(_) => argon.hash_password_into_with_memory(password, salt, out, vec![Block::default(); blocks]),
    })
}

fn hashing_error(e: impl std::fmt::Display) -> PasswordError {
    PasswordError::Hashing(e.to_string())
}

/// Checks the rules and hashes a new password (a PHC string).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    check_strength(password)?;
    let salt_bytes = crossfed_random::bytes::<16>();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(hashing_error)?;
    let argon = hasher();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    raw_hash(&argon, password.as_bytes(), &salt_bytes, &mut out).map_err(hashing_error)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(hashing_error)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(hashing_error)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` hashes to `hash`'s output with its algorithm, version, parameters and salt.
fn matches(hash: &PasswordHash<'_>, password: &str) -> Option<bool> {
    let expected = hash.hash?;
    let algorithm = Algorithm::try_from(hash.algorithm).ok()?;
    let version = hash.version.map(Version::try_from).transpose().ok()?.unwrap_or_default();
    let params = Params::try_from(hash).ok()?;
    let mut salt = [0u8; 64];
    let salt = hash.salt?.decode_b64(&mut salt).ok()?;
    let mut out = vec![0u8; expected.len()];
    raw_hash(&Argon2::new(algorithm, version, params), password.as_bytes(), salt, &mut out).ok()?;
    // Output's equality is constant-time.
    Some(Output::new(&out).ok()? == expected)
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
        Ok(parsed) => matches(&parsed, password).unwrap_or(false),
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
    fn hashes_read_both_ways_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Ours verified by the crate's own verifier…
        let ours = hash_password("correct horse battery").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(hasher().verify_password(b"correct horse battery", &parsed).is_ok());
        // …and the crate's (other parameters too) verified by ours.
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let params = Params::new(8 * 1024, 3, 1, None).unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"another password", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password(&theirs, "another password"));
        assert!(!verify_password(&theirs, "another passworD"));
    }

    #[test]
    fn rules() {
        assert_eq!(hash_password("short").unwrap_err(), PasswordError::TooShort(8));
        assert_eq!(hash_password(&"x".repeat(2000)).unwrap_err(), PasswordError::TooLong(1024));
        assert!(!verify_password(decoy_hash(), &"x".repeat(2000)));
    }
}

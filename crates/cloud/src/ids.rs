//! Identifiers in the shapes AWS uses, so clients and people recognise them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crossfed_random::bytes as random_bytes;

/// Upper-case letters and digits, as in AWS unique IDs.
fn alphanumeric(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    random_bytes::<32>()
        .iter()
        .take(n)
        .map(|b| char::from(ALPHABET.get(usize::from(b % 32)).copied().unwrap_or(b'A')))
        .collect()
}

/// A role's unique ID (`AROA` + 17 characters).
pub fn role_id() -> String {
    format!("AROA{}", alphanumeric(17))
}

/// A managed policy's unique ID (`ANPA` + 17 characters).
pub fn policy_id() -> String {
    format!("ANPA{}", alphanumeric(17))
}

/// A temporary access key ID (`ASIA` + 16 characters).
pub fn temporary_access_key_id() -> String {
    format!("ASIA{}", alphanumeric(16))
}

/// A secret access key: 40 base64 characters.
pub fn secret_access_key() -> String {
    STANDARD.encode(random_bytes::<30>())
}

/// A session token: opaque base64.
pub fn session_token() -> String {
    STANDARD.encode(random_bytes::<96>())
}

/// A UUID (version 4), as Connect uses for instances, users and profiles.
pub fn uuid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = crossfed_random::to_hex(&b);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// An unguessable token safe in URLs and cookies: 256 random bits as hex.
pub fn opaque_token() -> String {
    crossfed_random::hex::<32>()
}

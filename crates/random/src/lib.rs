//! Randomness from the operating system, for message IDs, store IDs, session and CSRF tokens,
//! salts and AWS-shaped credentials.
//!
//! Without a working randomness source every one of those would be guessable, and no caller
//! could do anything useful with an error. So the process stops instead, as aws-lc does inside
//! its own RNG and Go's crypto/rand does: there is no path on which a zero or predictable value
//! leaves this module.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// Fills `bytes` with random bytes from the operating system.
pub fn fill(bytes: &mut [u8]) {
    if SystemRandom::new().fill(bytes).is_err() {
        no_randomness();
    }
}

/// `N` random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill(&mut out);
    out
}

/// `N` random bytes as `2 * N` lowercase hex digits.
pub fn hex<const N: usize>() -> String {
    to_hex(&bytes::<N>())
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    let digit = |nibble: u8| char::from_digit(u32::from(nibble), 16).unwrap_or('0');
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(digit(b >> 4));
        out.push(digit(b & 0x0f));
    }
    out
}

#[cold]
fn no_randomness() -> ! {
    // Not a panic: a panic can be caught and the caller would go on without randomness.
    #[allow(clippy::print_stderr)]
    {
        eprintln!("crossfed: the operating system's random source failed; stopping");
    }
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_and_twice_as_long() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        let token = hex::<32>();
        assert_eq!(token.len(), 64);
        assert!(token.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    }

    #[test]
    fn draws_differ() {
        // 2^-128 chance of a false failure.
        assert_ne!(bytes::<16>(), bytes::<16>());
        assert_ne!(bytes::<16>(), [0u8; 16]);
    }
}

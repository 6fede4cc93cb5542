//! Time-based one-time passwords (RFC 6238, HMAC-SHA1, 6 digits, 30-second steps), the second
//! factor of the built-in directory. Secrets are base32, as authenticator apps expect.

use aws_lc_rs::hmac;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;

/// Decodes RFC 4648 base32 (upper or lower case, padding and spaces ignored).
pub fn decode_base32(text: &str) -> Option<Vec<u8>> {
    let mut bits: u64 = 0;
    let mut count = 0u32;
    let mut out = Vec::new();
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u64 - 'A' as u64,
            c @ '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => return None,
        };
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push(((bits >> count) & 0xff) as u8);
        }
    }
    Some(out)
}

/// Encodes bytes as unpadded base32.
pub fn encode_base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut bits: u64 = 0;
    let mut count = 0u32;
    for b in bytes {
        bits = (bits << 8) | u64::from(*b);
        count += 8;
        while count >= 5 {
            count -= 5;
            out.push(char::from(ALPHABET.get(((bits >> count) & 31) as usize).copied().unwrap_or(b'A')));
        }
    }
    if count > 0 {
        out.push(char::from(ALPHABET.get(((bits << (5 - count)) & 31) as usize).copied().unwrap_or(b'A')));
    }
    out
}

/// The code of time step `step` with `digits` digits (RFC 4226 dynamic truncation).
pub fn code_at_step(secret: &[u8], step: i64, digits: u32) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let bytes = tag.as_ref();
    let offset = usize::from(bytes.last().copied().unwrap_or(0) & 0x0f);
    let chunk: [u8; 4] = bytes.get(offset..offset + 4).and_then(|s| s.try_into().ok()).unwrap_or([0; 4]);
    (u32::from_be_bytes(chunk) & 0x7fff_ffff) % 10u32.pow(digits)
}

/// The time step of Unix time `now`.
pub fn step_of(now: i64) -> i64 {
    now.div_euclid(STEP_SECONDS)
}

/// The step whose code `code` is, among the current one and one on either side (clock drift),
/// or None. The caller must still refuse steps already used.
pub fn matching_step(secret: &[u8], code: &str, now: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let current = step_of(now);
    (current - 1..=current + 1).find(|s| {
        aws_lc_rs::constant_time::verify_slices_are_equal(
            &code_at_step(secret, *s, DIGITS).to_be_bytes(),
            &wanted.to_be_bytes(),
        )
        .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 rows: secret "12345678901234567890", 8 digits.
    const SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_vectors() {
        for (time, code) in [
            (59, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(code_at_step(SECRET, step_of(time), 8), code, "T={time}");
        }
    }

    #[test]
    fn matching_allows_one_step_of_drift() {
        let now = 1_700_000_000;
        let code = format!("{:06}", code_at_step(SECRET, step_of(now), 6));
        assert_eq!(matching_step(SECRET, &code, now), Some(step_of(now)));
        assert_eq!(matching_step(SECRET, &code, now + 30), Some(step_of(now)));
        assert_eq!(matching_step(SECRET, &code, now + 90), None);
        assert_eq!(matching_step(SECRET, "12345", now), None);
        assert_eq!(matching_step(SECRET, "abcdef", now), None);
    }

    #[test]
    fn base32_round_trip() {
        assert_eq!(decode_base32("JBSWY3DPEHPK3PXP").unwrap(), b"Hello!\xde\xad\xbe\xef");
        assert_eq!(encode_base32(b"Hello!\xde\xad\xbe\xef"), "JBSWY3DPEHPK3PXP");
        assert_eq!(decode_base32("jbsw y3dp"), decode_base32("JBSWY3DP"));
        assert!(decode_base32("not base32!").is_none());
    }
}

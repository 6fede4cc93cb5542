use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// A random 128-bit identifier as 32 lowercase hex digits.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    // Without an OS randomness source nothing else would work either; the zero ID then collides
    // on the primary key and the insert fails loudly.
    let _ = SystemRandom::new().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

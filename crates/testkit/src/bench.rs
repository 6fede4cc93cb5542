//! What the criterion benches share: the raw RSA-2048 reference every ratio is taken against,
//! and a plain rate measurement for the summary each bench prints after criterion's statistics.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};

/// Raw aws-lc-rs RSA-2048, PKCS#1 v1.5 with SHA-256 over 32 bytes. The public key is parsed
/// once, as crossfed's certificates hold theirs.
pub struct RawRsa {
    key: KeyPair,
    rng: SystemRandom,
    public: ParsedPublicKey,
    message: [u8; 32],
    signature: Vec<u8>,
}

impl RawRsa {
    /// A fresh key and one signature to verify.
    pub fn new() -> RawRsa {
        let key = KeyPair::generate(KeySize::Rsa2048).expect("an RSA-2048 key");
        let rng = SystemRandom::new();
        let public =
            ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key().as_ref()).expect("the public key");
        let message = [7u8; 32];
        let mut signature = vec![0u8; key.public_modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &rng, &message, &mut signature).expect("signing");
        RawRsa { key, rng, public, message, signature }
    }

    pub fn sign(&self) {
        let mut signature = [0u8; 256];
        self.key.sign(&RSA_PKCS1_SHA256, &self.rng, black_box(&self.message), &mut signature).expect("signing");
        black_box(signature);
    }

    pub fn verify(&self) {
        self.public.verify_sig(black_box(&self.message), black_box(&self.signature)).expect("verifying");
    }
}

impl Default for RawRsa {
    fn default() -> Self {
        RawRsa::new()
    }
}

/// How long each summary measurement runs: a second, or a quarter with `CROSSFED_BENCH_QUICK`
/// set (a quick check that a bench works, not figures to keep).
pub fn summary_window() -> Duration {
    Duration::from_millis(if std::env::var_os("CROSSFED_BENCH_QUICK").is_some() { 250 } else { 1000 })
}

/// Calls of `f` per second, measured for about `for_how_long` after a short warm-up.
pub fn rate(for_how_long: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..20 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < for_how_long {
        for _ in 0..16 {
            f();
        }
        n += 16;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

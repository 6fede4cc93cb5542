//! The reference every ratio is taken against: raw aws-lc-rs RSA-2048 signatures and
//! verifications per core, measured in the same run.
//!
//! The bound is taken with every core signing at once, as the servers' cores are under load: a
//! core alone can run faster (turbo, a quiet neighbour on the host), and that rate times the
//! cores is a machine nobody has. It is measured before the load and again after it, and the
//! bound uses their mean; the two are printed, so a machine whose speed drifted during the run
//! shows it. The rate of one core alone is printed beside them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use crossfed_xmldsig::SigningKey;
use serde_json::{Value, json};

/// Signatures and verifications per second per core.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rates {
    pub sign: f64,
    pub verify: f64,
}

pub(super) struct RsaReference {
    key: Arc<SigningKey>,
    cores: usize,
    one_core: Rates,
    before: Rates,
    after: Option<Rates>,
}

const SIGNING_TIME: Duration = Duration::from_millis(1200);
const VERIFYING_TIME: Duration = Duration::from_millis(400);

/// What `threads` threads reach together with one shared key (as the hub's signing threads share
/// theirs), per thread.
fn rates_on(key: &Arc<SigningKey>, threads: usize) -> Result<Rates> {
    let message = [7u8; 32];
    let signature = key.sign(&message).context("raw signing")?;
    let per_thread = |work: &(dyn Fn() -> Result<()> + Sync), time: Duration| -> Result<f64> {
        let counted = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| -> Result<(u64, f64)> {
                        let started = Instant::now();
                        let mut count = 0u64;
                        while started.elapsed() < time {
                            work()?;
                            count += 1;
                        }
                        Ok((count, started.elapsed().as_secs_f64()))
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().map_err(|_| anyhow::anyhow!("a reference thread stopped"))?)
                .collect::<Result<Vec<_>>>()
        })?;
        Ok(counted.iter().map(|(count, seconds)| *count as f64 / seconds).sum::<f64>() / threads as f64)
    };
    let sign = per_thread(&|| key.sign(&message).map(drop).context("raw signing"), SIGNING_TIME)?;
    let verify = per_thread(
        &|| {
            if key.certificate().verify(key.algorithm(), &message, &signature) {
                Ok(())
            } else {
                bail!("the reference signature does not verify")
            }
        },
        VERIFYING_TIME,
    )?;
    Ok(Rates { sign, verify })
}

impl RsaReference {
    /// Measures one core alone, then every core at once (a few seconds; blocks).
    pub fn measure() -> Result<RsaReference> {
        let key = Arc::new(
            SigningKey::generate_rsa("bench", crossfed_clock::Clock::system().now(), 1).context("a reference key")?,
        );
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let one_core = rates_on(&key, 1)?;
        let before = rates_on(&key, cores)?;
        Ok(RsaReference { key, cores, one_core, before, after: None })
    }

    /// Measures every core at once again, once the load is over.
    pub async fn measure_again(mut self) -> Result<RsaReference> {
        let (key, cores) = (self.key.clone(), self.cores);
        self.after = Some(tokio::task::spawn_blocking(move || rates_on(&key, cores)).await??);
        Ok(self)
    }

    pub fn cores(&self) -> usize {
        self.cores
    }

    /// Per core with every core busy: the mean of before and after the load.
    pub fn per_core(&self) -> Rates {
        match self.after {
            Some(after) => {
                Rates { sign: (self.before.sign + after.sign) / 2.0, verify: (self.before.verify + after.verify) / 2.0 }
            }
            None => self.before,
        }
    }

    /// Seconds of one core that `signs` signatures and `verifies` verifications take.
    pub fn seconds_for(&self, (signs, verifies): (f64, f64)) -> f64 {
        let rates = self.per_core();
        signs / rates.sign + verifies / rates.verify
    }

    /// Logins per second the whole machine could do if a login cost nothing but its RSA work.
    pub fn bound(&self, operations: (f64, f64)) -> f64 {
        self.cores as f64 / self.seconds_for(operations)
    }

    /// The figures for `--json`.
    pub fn json(&self) -> Vec<(&'static str, Value)> {
        let rates = self.per_core();
        vec![
            ("rsa_sign_per_core_per_s", json!(rates.sign)),
            ("rsa_verify_per_core_per_s", json!(rates.verify)),
            ("rsa_sign_per_core_per_s_before", json!(self.before.sign)),
            ("rsa_sign_per_core_per_s_after", json!(self.after.map(|a| a.sign))),
            ("rsa_sign_one_core_alone_per_s", json!(self.one_core.sign)),
            ("rsa_verify_one_core_alone_per_s", json!(self.one_core.verify)),
            ("cores", json!(self.cores)),
        ]
    }

    /// One line for the table.
    pub fn describe(&self) -> String {
        let rates = self.per_core();
        let after = self.after.map_or("-".to_string(), |a| format!("{:.0}", a.sign));
        format!(
            "raw RSA-2048 per core, all {} cores at once: {:.0} signs/s (before the load {:.0}, after {after}), {:.0} verifies/s; one core alone {:.0} signs/s",
            self.cores, rates.sign, self.before.sign, rates.verify, self.one_core.sign
        )
    }
}

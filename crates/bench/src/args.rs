//! What `crossfed bench` is asked: the scenario, how long, how many virtual users, and where.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

#[derive(Clone, Copy, ValueEnum)]
pub enum Scenario {
    /// Signed-in users launching an application from the portal (one signature each).
    Launch,
    /// Users signed in at corp signing in to the hub through its ACS.
    Acs,
    /// corp → hub ACS → Connect launch → sign-in endpoint → AssumeRoleWithSAML → GetFederationToken.
    Chain,
    /// SP → proxy → corp → proxy → SP, through the hub and then through SATOSA, compared.
    Proxy,
}

impl Scenario {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scenario::Launch => "launch",
            Scenario::Acs => "acs",
            Scenario::Chain => "chain",
            Scenario::Proxy => "proxy",
        }
    }

    /// RSA-2048 signatures and verifications one login costs, across every party.
    pub(crate) fn rsa_ops(self) -> (f64, f64) {
        match self {
            Scenario::Launch => (1.0, 0.0),
            Scenario::Acs => (2.0, 1.0),
            Scenario::Chain => (3.0, 2.0),
            // The proxy signs its AuthnRequest and its assertion, corp its assertion; corp, the
            // proxy and the SP each verify one signature.
            Scenario::Proxy => (3.0, 3.0),
        }
    }
}

#[derive(Args)]
pub struct BenchArgs {
    #[arg(long, value_enum, default_value_t = Scenario::Launch)]
    pub(crate) scenario: Scenario,
    /// How long to drive load, such as `10s` or `500ms`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub(crate) duration: Duration,
    /// Virtual users, each with its own session, sending one request after another.
    #[arg(long, default_value_t = 8)]
    pub(crate) concurrency: usize,
    /// Run the hub on this database (sqlite://… or postgres://…) instead of a temporary SQLite file.
    #[arg(long)]
    pub(crate) database_url: Option<String>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub(crate) json: bool,
    /// `--scenario proxy`: SATOSA's virtualenv, made by scripts/install-satosa (default:
    /// $CROSSFED_PEERS_DIR/satosa-venv, or ~/.cache/crossfed-peers/satosa-venv).
    #[arg(long)]
    pub(crate) satosa_venv: Option<PathBuf>,
    /// `--scenario proxy`: gunicorn workers serving SATOSA.
    #[arg(long, default_value_t = 2)]
    pub(crate) satosa_workers: usize,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.strip_suffix("ms") {
        Some(n) => (n, 0.001),
        None => match text.strip_suffix('s') {
            Some(n) => (n, 1.0),
            None => (text, 1.0),
        },
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("{text:?}: give a duration such as 10s or 500ms"))?;
    if !(value > 0.0 && value * unit <= 3600.0) {
        return Err(format!("{text:?}: give a duration between 1ms and 3600s"));
    }
    Ok(Duration::from_secs_f64(value * unit))
}

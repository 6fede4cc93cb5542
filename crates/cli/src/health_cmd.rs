//! `crossfed health`: asks a running hub or account whether it answers, exiting 0 or 1 — the
//! health check of a container image that has no curl.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use crate::process::say;

#[derive(Args)]
pub struct HealthArgs {
    /// The endpoint to ask: `/healthz` (alive) or `/readyz` (ready for traffic).
    #[arg(long, default_value = "http://127.0.0.1:8001/healthz")]
    url: String,
}

/// How long the answer may take before the process counts as not answering.
const PATIENCE: Duration = Duration::from_secs(5);

pub async fn run(args: HealthArgs) -> Result<ExitCode> {
    let client = reqwest::Client::builder().timeout(PATIENCE).build()?;
    match client.get(&args.url).send().await {
        Ok(answer) if answer.status().is_success() => {
            say(&format!("{}: {}", args.url, answer.status()));
            Ok(ExitCode::SUCCESS)
        }
        Ok(answer) => {
            eprintln!("{}: {}", args.url, answer.status());
            Ok(ExitCode::from(1))
        }
        Err(e) => {
            eprintln!("{}: no answer: {e}", args.url);
            Ok(ExitCode::from(1))
        }
    }
}

//! `crossfed bench`: load against real servers on loopback, reported against the RSA bound
//! measured in the same run (raw RSA-2048 signatures and verifications per core, times the
//! cores). The load generator runs in the same process and shares the machine's cores with the
//! servers, as a client on the same host would.
//! - `launch`: signed-in users open an application from the portal again and again; one
//!   signature per launch (the assertion).
//! - `acs`: users already signed in at corp sign in to the hub again and again: the hub signs its
//!   AuthnRequest, corp signs its Response, the hub's ACS verifies it and opens a session (two
//!   signatures, one verification).
//! - `chain`: the whole reference chain per login: `acs`, then the Connect launch (signed), the
//!   target account's sign-in endpoint (verified, AssumeRoleWithSAML), the federate URL
//!   (GetFederationToken) and the agent workspace (three signatures, two verifications).
//! - `proxy`: the hub as a SAML proxy beside SATOSA, one after the other in the same run: the
//!   bench's SP → proxy → corp → proxy → SP, the SP validating every Response (three signatures,
//!   three verifications across the parties); see `proxy`.

mod args;
mod chain;
mod child;
mod client;
mod launch;
mod lean_http;
mod measure;
mod print;
mod proxy;
mod reference;
mod satosa;

use std::process::ExitCode;

use anyhow::{Result, bail};

pub use args::{BenchArgs, Scenario};
use reference::RsaReference;

pub async fn run(args: BenchArgs) -> Result<ExitCode> {
    if args.concurrency == 0 || args.concurrency > 1000 {
        bail!("--concurrency: give 1 to 1000 virtual users");
    }
    let reference = tokio::task::spawn_blocking(RsaReference::measure).await??;
    match args.scenario {
        Scenario::Launch => launch::run(&args, reference).await,
        Scenario::Acs | Scenario::Chain => chain::run(&args, reference).await,
        Scenario::Proxy => proxy::run(&args, reference).await,
    }
}

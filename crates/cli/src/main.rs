//! The `crossfed` binary.

mod input;
mod keys_cmd;
mod saml_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "crossfed", version, about = "Cross-account identity federation hub")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode, verify, sign and validate SAML messages: the debugging tool.
    #[command(subcommand)]
    Saml(saml_cmd::SamlCommand),
    /// Create signing keys and certificates.
    #[command(subcommand)]
    Keys(keys_cmd::KeysCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Saml(c) => saml_cmd::run(c),
        Command::Keys(c) => keys_cmd::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

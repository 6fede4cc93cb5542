//! `crossfed keys`: signing keys and certificates.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use crossfed_xmldsig::SigningKey;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a private key and a self-signed certificate (the key file is created 0600).
    Generate {
        /// Common name of the certificate.
        #[arg(long, default_value = "crossfed")]
        cn: String,
        #[arg(long, value_enum, default_value_t = KeyType::Rsa2048)]
        r#type: KeyType,
        /// Validity in days.
        #[arg(long, default_value_t = 3650)]
        days: i64,
        #[arg(long)]
        key_out: PathBuf,
        #[arg(long)]
        cert_out: PathBuf,
    },
    /// Rotate a hub's signing key with overlap: first stage the next key (published in metadata
    /// from the hub's next start, beside the current one), then, once the service providers have
    /// imported the new metadata, activate it.
    Rotate {
        /// The hub's data dir (where `crossfed serve` keeps signing.key).
        #[arg(long, default_value = "crossfed-data/hub")]
        data_dir: PathBuf,
        /// Make the staged key the signing key (the old one is kept as signing-previous.*).
        #[arg(long)]
        activate: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum KeyType {
    Rsa2048,
    EcdsaP256,
}

pub fn run(command: KeysCommand) -> Result<ExitCode> {
    match command {
        KeysCommand::Generate { cn, r#type, days, key_out, cert_out } => {
            let key = match r#type {
                KeyType::Rsa2048 => SigningKey::generate_rsa(&cn, crate::process::clock().now(), days),
                KeyType::EcdsaP256 => SigningKey::generate_ecdsa_p256(&cn, crate::process::clock().now(), days),
            }
            .context("generating the key")?;
            write_private(&key_out, key.private_key_pem().as_bytes())?;
            std::fs::write(&cert_out, key.certificate().to_pem())
                .with_context(|| format!("writing {}", cert_out.display()))?;
            println!("key:         {}", key_out.display());
            println!("certificate: {} (sha256 {})", cert_out.display(), key.certificate().fingerprint_hex());
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Rotate { data_dir, activate: false } => {
            let next = crossfed_hub::keys::stage_next(&data_dir, "crossfed hub", crate::process::clock().now())?;
            println!("staged the next signing key (sha256 {})", next.fingerprint_hex());
            println!("restart the hub: its metadata then lists both certificates; once every service provider");
            println!("and the IdP have imported it, run `crossfed keys rotate --activate` and restart again");
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Rotate { data_dir, activate: true } => {
            let current = crossfed_hub::keys::activate_next(&data_dir)?;
            println!(
                "the signing key is now sha256 {} (the old one is kept as signing-previous.*)",
                current.fingerprint_hex()
            );
            println!("restart the hub to sign with it");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Creates a file readable by its owner only, refusing to overwrite an existing key.
pub fn write_private(path: &Path, content: &[u8]) -> Result<()> {
    crossfed_files::create_private(path, content)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))
}

//! `crossfed keys`: signing keys and certificates. `status` and `rollover` talk to a running hub
//! over its admin API (the hub asks its peers and updates the AWS accounts); `rotate` changes the
//! key files of a stopped hub directly; `generate` makes a key pair for anyone.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use crossfed_hub::keys::{KeyFiles, KeyRole};
use crossfed_xmldsig::SigningKey;
use serde_json::{Value, json};

use crate::admin_cmd::{HubTarget, text};
use crate::process::say;

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
    /// Each role's keys, where its rollover stands, and who trusts what (asked by the hub now).
    Status {
        #[command(flatten)]
        target: HubTarget,
    },
    /// Roll a role's key over, every step that is safe now: stage a next key, update each AWS
    /// account's SAML provider to trust it (checked with a real AssumeRoleWithSAML), activate
    /// it, wait for every instance to follow, then remove the old certificate and retire it.
    /// Stops, naming the peer, where a peer is not ready; run it again to resume.
    Rollover {
        /// `request` (toward the identity source), `assertion` (toward applications), or
        /// `assertion:APP` (an application with a key of its own).
        #[arg(long)]
        role: String,
        /// Only read, and say what would be done.
        #[arg(long)]
        dry_run: bool,
        /// Start another rollover although the role rolled over less than a day ago.
        #[arg(long)]
        again: bool,
        #[command(flatten)]
        target: HubTarget,
    },
    /// Change a stopped hub's key files directly, one step at a time (a running hub follows
    /// within 30 seconds, without asking any peer: prefer `rollover`).
    Rotate {
        /// The hub's data dir (where `crossfed serve` keeps its keys).
        #[arg(long, default_value = "crossfed-data/hub")]
        data_dir: PathBuf,
        #[arg(long, default_value = "assertion")]
        role: String,
        /// Make the staged key the signing key (the old one is kept as the previous key).
        #[arg(long, conflicts_with = "retire")]
        activate: bool,
        /// Stop publishing the previous key and delete it.
        #[arg(long)]
        retire: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum KeyType {
    Rsa2048,
    EcdsaP256,
}

pub async fn run(command: KeysCommand) -> Result<ExitCode> {
    match command {
        KeysCommand::Generate { cn, r#type, days, key_out, cert_out } => {
            generate(&cn, r#type, days, &key_out, &cert_out)
        }
        KeysCommand::Status { target } => status(&target).await,
        KeysCommand::Rollover { role, dry_run, again, target } => rollover(&target, &role, dry_run, again).await,
        KeysCommand::Rotate { data_dir, role, activate, retire } => rotate(&data_dir, &role, activate, retire),
    }
}

fn generate(cn: &str, kind: KeyType, days: i64, key_out: &Path, cert_out: &Path) -> Result<ExitCode> {
    let now = crate::process::clock().now();
    let key = match kind {
        KeyType::Rsa2048 => SigningKey::generate_rsa(cn, now, days),
        KeyType::EcdsaP256 => SigningKey::generate_ecdsa_p256(cn, now, days),
    }
    .context("generating the key")?;
    write_private(key_out, key.private_key_pem().as_bytes())?;
    std::fs::write(cert_out, key.certificate().to_pem()).with_context(|| format!("writing {}", cert_out.display()))?;
    say(&format!("key:         {}", key_out.display()));
    say(&format!("certificate: {} (sha256 {})", cert_out.display(), key.certificate().fingerprint_hex()));
    Ok(ExitCode::SUCCESS)
}

fn short(sha256: &str) -> &str {
    sha256.get(..16).unwrap_or(sha256)
}

fn certificate_line(slot: &str, c: &Value) -> String {
    format!(
        "  {slot:<9} {}  valid {} more days",
        short(text(c, "sha256")),
        c.get("days_left").and_then(Value::as_i64).unwrap_or_default()
    )
}

fn trust_text(t: &Value) -> String {
    match (text(t, "trust"), t.get("detail").and_then(Value::as_str)) {
        ("yes", _) => "trusts".to_string(),
        ("no", Some(why)) => format!("does NOT trust ({why})"),
        (_, Some(why)) => format!("cannot tell ({why})"),
        (other, None) => other.to_string(),
    }
}

async fn status(target: &HubTarget) -> Result<ExitCode> {
    let listing = target.call(reqwest::Method::GET, "/api/v1/keys", None).await?;
    let roles = listing.get("roles").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut broken = false;
    let mut shown = Vec::new();
    for role in &roles {
        let name = text(role, "role");
        let peers = target.call(reqwest::Method::GET, &format!("/api/v1/keys/{name}/peers"), None).await?;
        let list = peers.get("peers").and_then(Value::as_array).cloned().unwrap_or_default();
        broken |= list.iter().any(|p| {
            p.get("current").is_some_and(|t| text(t, "trust") == "no")
                || p.get("next").is_some_and(|t| text(t, "trust") == "no")
        });
        shown.push(json!({"role": role, "peers": list}));
    }
    target.print(&json!({"roles": shown}), |_| {
        for entry in &shown {
            let role = &entry["role"];
            say(&format!("{} — {}", text(role, "role"), text(role, "stage_text")));
            for slot in ["current", "next", "previous"] {
                if let Some(c) = role.get(slot).filter(|c| !c.is_null()) {
                    say(&certificate_line(slot, c));
                }
            }
            for peer in entry["peers"].as_array().into_iter().flatten() {
                let mut line = format!("  peer {}: current key {}", text(peer, "peer"), trust_text(&peer["current"]));
                if let Some(next) = peer.get("next").filter(|n| !n.is_null()) {
                    line.push_str(&format!("; next key {}", trust_text(next)));
                }
                say(&line);
            }
            say(&format!("  next: {}", text(role, "next_step")));
        }
    });
    Ok(if broken { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Calls the hub's rollover until it is done, blocked, or (dry run) has said what it would do;
/// waits in between while instances follow an activation.
async fn rollover(target: &HubTarget, role: &str, dry_run: bool, again: bool) -> Result<ExitCode> {
    let path = format!("/api/v1/keys/{role}/rollover");
    for round in 0..20 {
        // Only the first call may start a rollover; the later ones continue it.
        let body = json!({"dry_run": dry_run, "again": again && round == 0});
        let report = target.call(reqwest::Method::POST, &path, Some(body)).await?;
        target.print(&report, print_report);
        if let Some(blocked) = report.get("blocked").and_then(Value::as_str) {
            say(&format!("blocked: {blocked}"));
            say(&format!("fix that, then run `crossfed keys rollover --role {role}` again: it resumes"));
            return Ok(ExitCode::FAILURE);
        }
        if dry_run || report.get("done").and_then(Value::as_bool) == Some(true) {
            return Ok(ExitCode::SUCCESS);
        }
        let wait = report.get("wait_seconds").and_then(Value::as_i64).unwrap_or(0).max(1);
        if !target.json_output() {
            say(&format!("waiting {wait} s for every hub instance to sign with the new key"));
        }
        tokio::time::sleep(Duration::from_secs(wait.unsigned_abs())).await;
    }
    bail!("the rollover of {role} did not finish after 20 rounds; see `crossfed keys status`")
}

fn print_report(report: &Value) {
    let dry = report.get("dry_run").and_then(Value::as_bool) == Some(true);
    say(&format!("{} key{}: {}", text(report, "role"), if dry { " (dry run)" } else { "" }, text(report, "stage")));
    for step in report.get("steps").and_then(Value::as_array).into_iter().flatten() {
        say(&format!("  step: {}", step.as_str().unwrap_or("-")));
    }
    for account in report.get("accounts").and_then(Value::as_array).into_iter().flatten() {
        let verified = match account.get("verified") {
            Some(Value::Object(o)) if o.contains_key("Ok") => {
                format!(", verified: {}", o["Ok"].as_str().unwrap_or("-"))
            }
            Some(Value::Object(o)) if o.contains_key("Err") => {
                format!(", FAILED: {}", o["Err"].as_str().unwrap_or("-"))
            }
            _ => String::new(),
        };
        say(&format!(
            "  account {} provider {} (application {}): {}{verified}",
            text(account, "account"),
            text(account, "provider"),
            text(account, "application"),
            text(account, "action")
        ));
    }
    for warning in report.get("warnings").and_then(Value::as_array).into_iter().flatten() {
        say(&format!("  warning: {}", warning.as_str().unwrap_or("-")));
    }
    if report.get("done").and_then(Value::as_bool) == Some(true) {
        say("  done: one key, trusted by every peer the hub can ask");
    }
}

fn rotate(data_dir: &Path, role: &str, activate: bool, retire: bool) -> Result<ExitCode> {
    let role = KeyRole::parse(role)?;
    let files = KeyFiles::new(data_dir, &role.stem());
    let name = role.name();
    if retire {
        let old = files.retire_previous(&name, None)?;
        say(&format!("the previous {name} key (sha256 {}) is retired: no longer published", old.fingerprint_hex()));
    } else if activate {
        let now = crate::process::clock().unix();
        let current = files.activate_next(&name, now, None)?;
        say(&format!(
            "the {name} key is now sha256 {} (the old one is kept as the previous key)",
            current.fingerprint_hex()
        ));
    } else {
        let next = files.stage_next(&name, "crossfed hub", crate::process::clock().now())?;
        say(&format!("staged the next {name} key (sha256 {}); it is published from now on", next.fingerprint_hex()));
        say("once every peer has imported it, run this again with --activate");
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates a file readable by its owner only, refusing to overwrite an existing key.
pub fn write_private(path: &Path, content: &[u8]) -> Result<()> {
    crossfed_files::create_private(path, content)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))
}

//! Admin subcommands over the hub's admin API: SCIM and admin tokens (created, listed with their
//! expiry, revoked, rotated with an overlap) and provisioning status. They talk to a running hub,
//! with the admin token from `--token`, `CROSSFED_ADMIN_TOKEN`, or the file `crossfed serve`
//! wrote at first start.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::process::say;

#[derive(Args)]
pub struct HubTarget {
    /// The hub's URL.
    #[arg(long, default_value = "http://127.0.0.1:8001", global = true)]
    pub(crate) hub: String,
    /// An admin token (also read from CROSSFED_ADMIN_TOKEN).
    #[arg(long, env = "CROSSFED_ADMIN_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// A file holding the admin token (what `crossfed serve` writes at first start).
    #[arg(long, default_value = "crossfed-data/hub/admin-token", global = true)]
    token_file: PathBuf,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

/// What `crossfed scim-tokens` and `crossfed admin-tokens` do.
#[derive(Subcommand)]
pub enum TokensCommand {
    /// Create a token (shown once): for a SCIM client such as Entra ID, or for the admin API.
    Create {
        /// A label for the token, such as the client's name.
        name: String,
        /// Days until it stops working (default: until revoked).
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// List tokens (never their values) with their state, expiry and days left; those expiring
    /// within 30 days are marked with what to run.
    List,
    /// Revoke a token by ID: it stops working at once.
    Revoke { id: String },
    /// Replace a token by ID with a new one of the same name (shown once); the old one keeps
    /// working until the overlap ends, time to give the new one to its client.
    Rotate {
        id: String,
        /// Hours the old token keeps working beside the new one (default 24, 0 to 720).
        #[arg(long)]
        overlap_hours: Option<i64>,
        /// Days until the new token expires (default: the old token's lifetime; none if it had none).
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
}

#[derive(Subcommand)]
pub enum ProvisioningCommand {
    /// Per-user state of each outbound connector: in sync, pending, failed (with the reason), removed.
    Status {
        /// Only this connector (`connect:APP`, `scim:NAME`).
        #[arg(long)]
        connector: Option<String>,
    },
    /// Run every connector once now and show the result.
    Sync,
}

impl HubTarget {
    /// A hub at `url` with an admin token already known.
    pub(crate) fn new(url: &str, token: &str, json: bool) -> Self {
        HubTarget {
            hub: url.to_string(),
            token: Some(token.to_string()),
            token_file: PathBuf::from("admin-token"),
            json,
        }
    }

    pub(crate) fn json_output(&self) -> bool {
        self.json
    }

    fn token(&self) -> Result<String> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        let text = std::fs::read_to_string(&self.token_file).with_context(|| {
            format!(
                "reading the admin token from {} (give --token, CROSSFED_ADMIN_TOKEN or --token-file)",
                self.token_file.display()
            )
        })?;
        Ok(text.trim().to_string())
    }

    pub(crate) async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}{path}", self.hub.trim_end_matches('/'));
        let mut request = reqwest::Client::new().request(method, &url).bearer_auth(self.token()?);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.with_context(|| format!("reaching the hub at {url}"))?;
        let status = response.status();
        let text = response.text().await.context("reading the hub's answer")?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if !status.is_success() {
            let message =
                value.get("message").and_then(Value::as_str).map_or_else(|| value.to_string(), str::to_string);
            bail!("the hub answered {status}: {message}");
        }
        Ok(value)
    }

    pub(crate) fn print(&self, value: &Value, table: impl FnOnce(&Value)) {
        if self.json {
            say(&value.to_string());
        } else {
            table(value);
        }
    }
}

pub(crate) fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("-")
}

pub(crate) fn items(value: &Value) -> &[Value] {
    value.get("items").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// Runs `command` on the tokens of `purpose` (`scim` or `admin`).
pub async fn tokens(target: HubTarget, purpose: &str, command: TokensCommand) -> Result<ExitCode> {
    let (label, base) =
        if purpose == "admin" { ("admin", "/api/v1/admin-tokens") } else { ("SCIM", "/api/v1/scim-tokens") };
    match command {
        TokensCommand::Create { name, expires_in_days } => {
            let body = json!({"name": name, "expires_in_days": expires_in_days});
            let issued = target.call(reqwest::Method::POST, base, Some(body)).await?;
            target.print(&issued, |v| {
                say(&format!("{label} token {} ({}): {}", text(v, "name"), text(v, "id"), text(v, "token")));
                if purpose == "admin" {
                    say("the token is shown only now");
                } else {
                    say(&format!(
                        "SCIM base URL: {}/scim/v2 — the token is shown only now",
                        target.hub.trim_end_matches('/')
                    ));
                }
            });
        }
        TokensCommand::List => {
            let listing = target.call(reqwest::Method::GET, base, None).await?;
            target.print(&listing, |v| {
                for t in items(v) {
                    say(&token_line(t));
                    if let Some(warning) = t.get("warning").and_then(Value::as_str) {
                        say(&format!("    ! {warning}"));
                    }
                }
            });
        }
        TokensCommand::Revoke { id } => {
            let revoked = target.call(reqwest::Method::DELETE, &format!("{base}/{id}"), None).await?;
            target.print(&revoked, |v| say(&format!("revoked {label} token {} ({})", text(v, "name"), text(v, "id"))));
        }
        TokensCommand::Rotate { id, overlap_hours, expires_in_days } => {
            let body = json!({"overlap_hours": overlap_hours, "expires_in_days": expires_in_days});
            let rotated = target.call(reqwest::Method::POST, &format!("{base}/{id}/rotate"), Some(body)).await?;
            target.print(&rotated, |v| {
                say(&format!("new {label} token {} ({}): {}", text(v, "name"), text(v, "id"), text(v, "token")));
                say(&format!("  expires: {}", expiry(v)));
                let old = v.get("replaced").unwrap_or(&Value::Null);
                say(&format!(
                    "the old token ({}) keeps working until {}: give the new one to its client before then — it is shown only now",
                    text(old, "id"),
                    at(old, "expires_at")
                ));
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A token's line in a listing: ID, name, state, expiry and what replaced it.
fn token_line(t: &Value) -> String {
    let mut line = format!("{}  {:<24} {:<8} expires {}", text(t, "id"), text(t, "name"), text(t, "state"), expiry(t));
    if let Some(next) = t.get("replaced_by").and_then(Value::as_str) {
        line += &format!(", replaced by {next}");
    }
    if let Some(previous) = t.get("rotated_from").and_then(Value::as_str) {
        line += &format!(", rotated from {previous}");
    }
    line
}

/// The time at `key` (Unix seconds) as RFC 3339, or `never`.
fn at(value: &Value, key: &str) -> String {
    value.get(key).and_then(Value::as_i64).map_or_else(|| "never".to_string(), crossfed_hub::tokens::utc_text)
}

/// A token's expiry with the days it has left.
fn expiry(t: &Value) -> String {
    match t.get("days_left").and_then(Value::as_i64) {
        Some(1) => format!("{} (1 day left)", at(t, "expires_at")),
        Some(days) if days >= 0 => format!("{} ({days} days left)", at(t, "expires_at")),
        _ => at(t, "expires_at"),
    }
}

/// Prints the status table; exit status 1 when any record failed, so scripts can alert on it.
pub async fn provisioning(target: HubTarget, command: ProvisioningCommand) -> Result<ExitCode> {
    if let ProvisioningCommand::Sync = command {
        target.call(reqwest::Method::POST, "/api/v1/provisioning/sync", None).await?;
    }
    let path = match &command {
        ProvisioningCommand::Status { connector: Some(c) } => format!("/api/v1/provisioning?connector={c}"),
        _ => "/api/v1/provisioning".to_string(),
    };
    let listing = target.call(reqwest::Method::GET, &path, None).await?;
    let failed = items(&listing).iter().any(|r| text(r, "state") == "failed");
    target.print(&listing, |v| {
        if items(v).is_empty() {
            say("no provisioning records (no connector configured, or nothing provisioned yet)");
        }
        for r in items(v) {
            say(&format!(
                "{:<20} {:<28} {:<8} {}",
                text(r, "connector"),
                text(r, "subject_name"),
                text(r, "state"),
                text(r, "detail")
            ));
        }
    });
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

//! `crossfed check`: a doctor for the whole federation chain. It reads the hub through its admin
//! API and public metadata, the target account through the AWS APIs (IAM, STS, Amazon Connect,
//! SigV4-signed), and the upstream IdP through its metadata, and checks every link of the
//! reference chain, printing ✓ or ✗ with the fix. `--simulate USER` then walks one person through
//! the chain without a browser: a Response signed with the hub's key, posted to the sign-in
//! endpoint, followed to the Connect agent workspace.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use crossfed_hub::check::{self, HubView, ReadError, Report, TargetAccess};
use crossfed_hub::config::HubConfig;
use crossfed_hub::keys::{KeyFiles, KeyRole, Slot};
use crossfed_hub::views::{ApplicationView, IdentitySourceView, Listing, Preview, UserView};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::admin_cmd::HubTarget;
use crate::process::say;

#[derive(Args)]
pub struct CheckArgs {
    /// The data directory of a running `crossfed demo`: every party is found from it.
    #[arg(long)]
    demo_data_dir: Option<PathBuf>,
    #[command(flatten)]
    hub: HubTarget,
    /// A hub configuration file: its `[target_account]` and `[[target_accounts]]` are the
    /// accounts checked (each application against the one whose account it names), and its
    /// identity source's metadata URL is the IdP's unless --idp-metadata-url is given.
    #[arg(long, value_name = "FILE")]
    hub_config: Option<PathBuf>,
    /// The target account's API endpoint (the emulated account's URL). Without it, AWS's own
    /// endpoints are used.
    #[arg(long)]
    target: Option<String>,
    /// Keys allowed to read IAM roles, SAML providers and Connect users of the target account.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key_id: Option<String>,
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_access_key: Option<String>,
    /// Where the target account's sign-in accepts assertions (default: TARGET/saml, or AWS's).
    #[arg(long)]
    signin_url: Option<String>,
    /// The upstream IdP's metadata URL for the hub, compared with what the hub trusts.
    #[arg(long)]
    idp_metadata_url: Option<String>,
    /// Walk this user through the whole chain after the checks (needs the hub's signing key).
    #[arg(long)]
    simulate: Option<String>,
    /// The hub's data directory, for its signing key (--simulate).
    #[arg(long)]
    hub_data_dir: Option<PathBuf>,
}

/// Where everything is, once the arguments (or the demo's description) are read.
struct Parties {
    hub: RemoteHub,
    chain: check::Parties,
}

/// A hub read over its admin API and public metadata.
struct RemoteHub {
    api: HubTarget,
    /// Its data directory, for its signing key (--simulate).
    data_dir: Option<PathBuf>,
}

fn parties(args: CheckArgs) -> Result<Parties> {
    let Some(dir) = args.demo_data_dir else {
        let mut targets = Vec::new();
        let mut idp_metadata_url = args.idp_metadata_url;
        if let Some(file) = &args.hub_config {
            let config = HubConfig::load(file)?;
            targets = config.target_accesses()?;
            if targets.is_empty() {
                bail!("{} configures no target account ([target_account] or [[target_accounts]])", file.display());
            }
            idp_metadata_url =
                idp_metadata_url.or_else(|| config.identity_source.and_then(|source| source.metadata_url));
        }
        match (args.access_key_id, args.secret_access_key) {
            (Some(access_key_id), Some(secret_access_key)) => targets.push(TargetAccess {
                account_id: None,
                endpoint: args.target,
                access_key_id,
                secret_access_key,
                signin_url: args.signin_url,
            }),
            _ if !targets.is_empty() => {}
            _ => bail!(
                "give the target account's keys (--access-key-id and --secret-access-key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), a hub configuration naming them (--hub-config), or --demo-data-dir"
            ),
        }
        return Ok(Parties {
            hub: RemoteHub { api: args.hub, data_dir: args.hub_data_dir },
            chain: check::Parties { targets, idp_metadata_url },
        });
    };
    let file = dir.join("demo.json");
    let text = std::fs::read_to_string(&file).with_context(|| {
        format!("reading {} (is `crossfed demo --data-dir {}` running?)", file.display(), dir.display())
    })?;
    let demo: Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", file.display()))?;
    let field = |name: &str| -> Result<String> {
        demo.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .with_context(|| format!("{}: no {name}", file.display()))
    };
    let token = std::fs::read_to_string(dir.join(field("hub_admin_token_file")?))
        .context("reading the demo hub's admin token")?
        .trim()
        .to_string();
    let corp = field("corp_url")?;
    Ok(Parties {
        hub: RemoteHub {
            api: HubTarget::new(&field("hub_url")?, &token, args.hub.json_output()),
            data_dir: Some(dir.join(field("hub_data_dir")?)),
        },
        chain: check::Parties {
            targets: vec![TargetAccess {
                account_id: None,
                endpoint: Some(field("cloud_url")?),
                access_key_id: field("access_key_id")?,
                secret_access_key: field("secret_access_key")?,
                signin_url: None,
            }],
            idp_metadata_url: Some(format!("{corp}/saml/apps/{}/metadata", field("corp_application")?)),
        },
    })
}

fn segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl RemoteHub {
    /// The answer to `method path` (with `body`), read as `T`.
    async fn read<T: DeserializeOwned>(&self, method: Method, path: &str, body: Option<Value>) -> Result<T, ReadError> {
        let answer = self.api.call(method, path, body).await.map_err(|e| ReadError(format!("{e:#}")))?;
        serde_json::from_value(answer).map_err(|e| ReadError(format!("{path} answered something unexpected: {e}")))
    }
}

impl HubView for RemoteHub {
    async fn applications(&self) -> Result<Vec<ApplicationView>, ReadError> {
        Ok(self.read::<Listing<ApplicationView>>(Method::GET, "/api/v1/applications", None).await?.items)
    }

    async fn users(&self) -> Result<Vec<UserView>, ReadError> {
        Ok(self.read::<Listing<UserView>>(Method::GET, "/api/v1/users?limit=1000", None).await?.items)
    }

    async fn user(&self, name: &str) -> Result<UserView, ReadError> {
        self.read(Method::GET, &format!("/api/v1/users/{}", segment(name)), None).await
    }

    async fn preview(&self, app: &str, user: &str) -> Result<Preview, ReadError> {
        let path = format!("/api/v1/applications/{}/preview", segment(app));
        self.read(Method::POST, &path, Some(json!({"user": user}))).await
    }

    async fn identity_source(&self) -> Result<Option<IdentitySourceView>, ReadError> {
        // A hub with the built-in directory answers 404: no identity source to check.
        Ok(self.read(Method::GET, "/api/v1/identity-source", None).await.ok())
    }

    async fn application_metadata(&self, view: &ApplicationView) -> Result<(String, Option<i64>), ReadError> {
        check::fetch(&view.metadata_url).await
    }

    async fn keys(&self) -> Result<Vec<crossfed_hub::rollover::RoleTrust>, ReadError> {
        let listing: Value = self.read(Method::GET, "/api/v1/keys", None).await?;
        let mut list = Vec::new();
        for role in listing.get("roles").and_then(Value::as_array).into_iter().flatten() {
            let name = role.get("role").and_then(Value::as_str).unwrap_or_default();
            list.push(self.read(Method::GET, &format!("/api/v1/keys/{name}/peers"), None).await?);
        }
        Ok(list)
    }

    async fn token_warnings(&self) -> Result<Vec<(String, String)>, ReadError> {
        let mut list = Vec::new();
        for purpose in ["admin", "scim"] {
            let listing: Value = self.read(Method::GET, &format!("/api/v1/{purpose}-tokens"), None).await?;
            for token in listing.get("items").and_then(Value::as_array).into_iter().flatten() {
                if let Some(warning) = token.get("warning").and_then(Value::as_str) {
                    let name = token.get("name").and_then(Value::as_str).unwrap_or("-");
                    list.push((format!("{purpose} token {name}"), warning.to_string()));
                }
            }
        }
        Ok(list)
    }

    fn signing_key(&self, app: &ApplicationView) -> Result<std::sync::Arc<crossfed_xmldsig::SigningKey>, ReadError> {
        let Some(dir) = &self.data_dir else {
            return Err(ReadError(
                "the hub's signing key is needed: give --hub-data-dir (or --demo-data-dir)".to_string(),
            ));
        };
        let role = match app.definition.own_signing_key {
            true => KeyRole::Application(app.id.clone()),
            false => KeyRole::Assertion,
        };
        let files = KeyFiles::new(dir, &role.stem());
        match files.load(Slot::Current) {
            Ok(Some(key)) => Ok(std::sync::Arc::new(key)),
            Ok(None) => Err(ReadError(format!("no {role} key in {}", dir.display()))),
            Err(e) => Err(ReadError(e.to_string())),
        }
    }
}

fn print(report: &Report, json_output: bool) {
    if json_output {
        say(&json!({"ok": !report.failed(), "findings": report.findings}).to_string());
        return;
    }
    for f in &report.findings {
        let mark = if f.ok { "✓" } else { "✗" };
        say(&format!("{mark} {:<20} {:<28} {}", f.link, f.subject, f.detail));
        if let Some(fix) = &f.fix {
            say(&format!("  {:<20} fix: {fix}", ""));
        }
    }
    say(&format!("{} links checked, {} broken", report.findings.len(), report.broken()));
}

pub async fn run(args: CheckArgs) -> Result<ExitCode> {
    let simulate = args.simulate.clone();
    let parties = parties(args)?;
    // An unreachable hub or wrong token is an error of the command, not a finding.
    parties.hub.api.call(Method::GET, "/api/v1/applications", None).await?;
    let clock = crate::process::clock();
    let mut report = check::check_chain(&parties.hub, &parties.chain, &clock).await;
    let mut failed = report.failed();
    if let Some(user) = simulate {
        failed |= !check::simulate(&parties.hub, &user, &clock, &mut report).await;
    }
    print(&report, parties.hub.api.json_output());
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

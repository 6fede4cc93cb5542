//! `crossfed serve`: the hub.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use crossfed_hub::config::HubConfig;
use crossfed_store::Store;
use crossfed_web::forwarded::TrustedProxies;

use crate::listener_args::{ListenerArgs, public_url};
use crate::process::{clock, say, shutdown_signal};

#[derive(Args)]
pub struct ServeArgs {
    /// The hub's configuration (TOML).
    #[arg(long)]
    config: PathBuf,
    /// Address to listen on; port 0 picks a free port (the URL is printed).
    #[arg(long, default_value = "127.0.0.1:8001")]
    listen: SocketAddr,
    /// Where the hub keeps its state (SQLite) and signing key.
    #[arg(long, default_value = "crossfed-data/hub")]
    data_dir: PathBuf,
    /// sqlite://… or postgres://… instead of the data dir's SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Serve /metrics (Prometheus) on this address instead of on --listen: keep it where only
    /// the monitoring can reach it.
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    #[command(flatten)]
    listener: ListenerArgs,
    /// Check the configuration (and the secrets, templates and metadata files it names), print
    /// `configuration OK` or each problem, and exit (0 or 2) without listening or touching the
    /// data dir.
    #[arg(long)]
    check_config: bool,
}

/// How long a stopping hub waits for its last audit records to be written.
const AUDIT_FLUSH_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

pub async fn run(args: ServeArgs) -> Result<ExitCode> {
    if args.check_config {
        return Ok(check_config(&args.config).await);
    }
    let config = HubConfig::load(&args.config)?;
    crate::process::data_dir(&args.data_dir)?;
    // Held while serving: `crossfed restore` refuses a folder a hub serves from.
    let _in_use = crate::process::in_use(&args.data_dir)?;
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", crate::process::hub_database(&args.data_dir).display()));
    let store = Store::connect(&url).await.with_context(|| format!("opening the store at {url}"))?;
    let listener =
        tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    let base_url = match &config.hub.public_url {
        Some(url) => public_url(url, "[hub] public_url")?,
        None => format!("{}://{address}", args.listener.scheme()),
    };
    let trusted = TrustedProxies { ranges: config.hub.trusted_proxies.clone(), headers: config.hub.proxy_headers };
    let options = args.listener.options(trusted)?;
    let (hub, changes) = crossfed_hub::build_hub(&config, store.clone(), &args.data_dir, &base_url, clock())
        .await
        .context("applying the configuration")?;
    for change in &changes {
        say(&format!("config: {change}"));
    }
    if let Some(path) = crossfed_hub::tokens::ensure_admin_token(&store, &args.data_dir, clock().unix())
        .await
        .context("creating the first admin token")?
    {
        say(&format!("admin API token written to {} (admin API at {base_url}/api/v1)", path.display()));
    }
    for id in hub.applications.snapshot().entries.keys() {
        say(&format!("application {id}: IdP metadata at {base_url}/saml/apps/{id}/metadata"));
    }
    for connector in hub.provisioning.connector_names().await {
        say(&format!("provisioning: {connector}"));
    }
    let metrics_listener = match args.metrics_listen {
        Some(address) => {
            let bound = tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("listening for metrics on {address}"))?;
            say(&format!("metrics at http://{}/metrics", bound.local_addr()?));
            Some(bound)
        }
        None => None,
    };
    say(&format!("crossfed hub listening on {base_url}"));
    let hub = Arc::new(hub);
    let tasks = crossfed_hub::tasks::spawn_all(&hub);
    crossfed_hub::serve_with(listener, metrics_listener, hub.clone(), options, shutdown_signal())
        .await
        .context("serving")?;
    for task in tasks {
        task.abort();
    }
    hub.refusals.flush().await;
    if !hub.audit.queue().flush(AUDIT_FLUSH_LIMIT).await {
        tracing::warn!(
            "audit records were still being written {} s after the listener stopped",
            AUDIT_FLUSH_LIMIT.as_secs()
        );
    }
    store.close().await;
    say("crossfed hub: stopped");
    Ok(ExitCode::SUCCESS)
}

/// `--check-config`: each problem on standard error, what was not checked on standard output.
async fn check_config(path: &std::path::Path) -> ExitCode {
    let config = match HubConfig::load(path) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let check = crossfed_hub::config_check::check_config(&config).await;
    for note in &check.notes {
        say(&format!("note: {note}"));
    }
    if check.problems.is_empty() {
        say("configuration OK");
        return ExitCode::SUCCESS;
    }
    for problem in &check.problems {
        eprintln!("error: {problem}");
    }
    ExitCode::from(2)
}

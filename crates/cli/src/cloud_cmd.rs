//! `crossfed cloud`: the emulated target account on its own listener.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use crossfed_cloud::{App, CloudConfig, Settings};
use crossfed_store::Store;
use crossfed_web::forwarded::TrustedProxies;

use crate::listener_args::{ListenerArgs, public_url};
use crate::process::say;

#[derive(Args)]
pub struct CloudArgs {
    /// Declarative description of the account (TOML), applied at start.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port (the URL is printed).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Where the account's state is kept (SQLite), unless --database-url is given.
    #[arg(long, default_value = "crossfed-data/cloud")]
    data_dir: PathBuf,
    /// sqlite://… or postgres://… instead of the data dir.
    #[arg(long)]
    database_url: Option<String>,
    /// URL browsers and clients use to reach this listener (default: http://LISTEN).
    #[arg(long)]
    base_url: Option<String>,
    #[arg(long, requires = "admin_secret_access_key")]
    admin_access_key_id: Option<String>,
    #[arg(long, requires = "admin_access_key_id")]
    admin_secret_access_key: Option<String>,
    /// A reverse proxy (address range, such as 10.0.0.0/8) whose forwarded client address is
    /// believed; repeat for several. None by default.
    #[arg(long = "trusted-proxy")]
    trusted_proxies: Vec<crossfed_web::forwarded::Cidr>,
    /// The header trusted proxies write the client's address in: xforwarded (X-Forwarded-For)
    /// or forwarded (RFC 7239).
    #[arg(long, default_value = "xforwarded")]
    proxy_headers: crossfed_web::forwarded::ProxyHeaders,
    #[command(flatten)]
    listener: ListenerArgs,
}

/// The administrator's keys: from the flags, the configuration, or generated once and kept in
/// the data dir (readable by the owner only) so restarts keep them.
fn administrator_keys(args: &CloudArgs, config: &CloudConfig) -> Result<(String, String)> {
    if let (Some(id), Some(secret)) = (&args.admin_access_key_id, &args.admin_secret_access_key) {
        return Ok((id.clone(), secret.clone()));
    }
    if let Some(admin) = &config.admin {
        return Ok((admin.access_key_id.clone(), admin.secret_access_key.clone()));
    }
    let file = args.data_dir.join("admin-keys.json");
    if let Ok(text) = std::fs::read_to_string(&file) {
        let keys: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("reading {}", file.display()))?;
        let field = |name: &str| keys.get(name).and_then(serde_json::Value::as_str);
        if let (Some(id), Some(secret)) = (field("access_key_id"), field("secret_access_key")) {
            return Ok((id.to_string(), secret.to_string()));
        }
        bail!("{} is not a key file; remove it to generate new keys", file.display());
    }
    let id = format!("AKIA{}", &crossfed_cloud::ids::opaque_token()[..16].to_uppercase());
    let secret = crossfed_cloud::ids::secret_access_key();
    let content = serde_json::json!({"access_key_id": id, "secret_access_key": secret}).to_string();
    crate::keys_cmd::write_private(&file, content.as_bytes())?;
    Ok((id, secret))
}

pub async fn run(args: CloudArgs) -> Result<ExitCode> {
    let mut config = match &args.config {
        Some(path) => CloudConfig::load(path).map_err(anyhow::Error::msg)?,
        None => CloudConfig::default(),
    };
    config.fetch_metadata().await.map_err(anyhow::Error::msg)?;
    crate::process::data_dir(&args.data_dir)?;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", args.data_dir.join("cloud.db").display()),
    };
    let store = Store::connect(&url).await.with_context(|| format!("opening the store at {url}"))?;
    let (key_id, secret) = administrator_keys(&args, &config)?;

    let listener =
        tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    let base_url = match &args.base_url {
        Some(url) => public_url(url, "--base-url")?,
        None => format!("{}://{address}", args.listener.scheme()),
    };
    let trusted = TrustedProxies { ranges: args.trusted_proxies.clone(), headers: args.proxy_headers };
    let options = args.listener.options(trusted)?;
    let settings = Settings::new(&config.account.id, &config.account.region, &base_url);
    let app = Arc::new(App::new(store.clone(), settings, &key_id, &secret));
    let changes = crossfed_cloud::config::apply(&app, &config, crate::process::now())
        .await
        .context("applying the configuration")?;
    for change in &changes {
        say(&format!("config: {change}"));
    }
    say(&format!(
        "crossfed cloud: account {}{} ({}) listening on {base_url}",
        config.account.id,
        config.account.name.as_deref().map(|n| format!(" \"{n}\"")).unwrap_or_default(),
        config.account.region
    ));
    say(&format!("sign-in endpoint: {base_url}/saml"));
    say(&format!("administrator access key id: {key_id}"));
    crossfed_cloud::serve_with(listener, app, options, crate::process::shutdown_signal()).await.context("serving")?;
    store.close().await;
    say("crossfed cloud: stopped");
    Ok(ExitCode::SUCCESS)
}

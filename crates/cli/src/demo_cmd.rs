//! `crossfed demo`: the reference chain on one machine ([`crossfed_demo`]) — corp (playing Entra
//! ID), the hub, and the target account "internal-services" with Amazon Connect — for people to
//! sign in to, with what `crossfed check --demo-data-dir` needs to find the parties again.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use crossfed_demo::{ACCOUNT, ADMIN_ACCESS_KEY, Chain, start_chain};
use crossfed_store::ProvisioningStore;
use tokio::net::TcpListener;

use crate::process::say;

#[derive(Args)]
pub struct DemoArgs {
    /// Where the three parties keep their data (kept across runs).
    #[arg(long, default_value = "crossfed-demo-data")]
    data_dir: PathBuf,
    /// corp listens on this port, the hub on the next, the target account on the one after.
    #[arg(long, default_value_t = 8400)]
    base_port: u16,
    /// Password of the demo users alice, bob and carol (generated and kept in the data dir
    /// otherwise).
    #[arg(long)]
    demo_password: Option<String>,
    /// The hub provisions Amazon Connect users for its assigned users (without it bob has none,
    /// as in the reference setup).
    #[arg(long)]
    provision_connect: bool,
    /// The SCIM token corp uses to provision the hub (generated and kept in the data dir
    /// otherwise); at least 24 characters.
    #[arg(long)]
    scim_token: Option<String>,
}

async fn bind(port: u16, who: &str) -> Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("{who} cannot listen on 127.0.0.1:{port}; choose other ports with --base-port"))
}

/// The hub's SCIM token: given, or generated once and kept (0600) in the data dir.
fn scim_token(args: &DemoArgs) -> Result<String> {
    if let Some(token) = &args.scim_token {
        return Ok(token.clone());
    }
    let file = args.data_dir.join("hub-scim-token.txt");
    if let Ok(token) = std::fs::read_to_string(&file) {
        return Ok(token.trim().to_string());
    }
    let token = format!("cfscim_{}", crossfed_random::hex::<32>());
    crossfed_files::create_private(&file, token.as_bytes()).with_context(|| format!("writing {}", file.display()))?;
    Ok(token)
}

/// The demo users' password: given, or generated once and kept (0600) in the data dir.
fn demo_password(args: &DemoArgs) -> Result<String> {
    if let Some(p) = &args.demo_password {
        return Ok(p.clone());
    }
    let file = args.data_dir.join("demo-password.txt");
    if let Ok(p) = std::fs::read_to_string(&file) {
        return Ok(p.trim().to_string());
    }
    let password = crossfed_cloud::ids::opaque_token().chars().take(16).collect::<String>();
    crossfed_files::create_private(&file, password.as_bytes())
        .with_context(|| format!("writing {}", file.display()))?;
    Ok(password)
}

pub async fn run(args: DemoArgs) -> Result<ExitCode> {
    let Some(last_port) = args.base_port.checked_add(2) else {
        bail!("--base-port {} leaves no room for three ports", args.base_port);
    };
    crate::process::data_dir(&args.data_dir)?;
    let password = demo_password(&args)?;
    let scim_token = scim_token(&args)?;
    let listeners = [
        bind(args.base_port, "corp").await?,
        bind(args.base_port + 1, "the hub").await?,
        bind(last_port, "the target account").await?,
    ];
    let chain = start_chain(&args.data_dir, listeners, &password, &scim_token, args.provision_connect).await?;
    let Chain { corp_url, hub_url, cloud_url, instance, hub_store, corp_store, .. } = &chain;
    let now = crate::process::now();
    let failures: Vec<String> = hub_store
        .list_provisioning(None)
        .await?
        .into_iter()
        .chain(corp_store.list_provisioning(None).await?)
        .filter(|r| r.state == crossfed_store::SyncState::Failed)
        .map(|r| format!("{} {}: {}", r.connector, r.subject_name, r.detail))
        .collect();
    for failure in &failures {
        say(&format!("  provisioning failed: {failure}"));
    }

    // What `crossfed check --demo-data-dir` needs to find the parties again.
    crossfed_hub::tokens::ensure_admin_token(hub_store, &args.data_dir.join("hub"), now)
        .await
        .map_err(anyhow::Error::msg)
        .context("the hub's admin token")?;
    let description = serde_json::json!({
        "corp_url": corp_url, "hub_url": hub_url, "cloud_url": cloud_url,
        "account_id": ACCOUNT, "region": "us-east-1", "instance_id": instance,
        "access_key_id": ADMIN_ACCESS_KEY, "secret_access_key": password,
        "hub_admin_token_file": "hub/admin-token", "hub_data_dir": "hub", "corp_application": "hub",
    });
    // It holds the target account's admin secret: private, like the password file.
    let _ = std::fs::remove_file(args.data_dir.join("demo.json"));
    crossfed_files::create_private(&args.data_dir.join("demo.json"), &serde_json::to_vec_pretty(&description)?)
        .context("writing demo.json")?;

    say("crossfed demo: the reference chain is running");
    say(&format!("  corp (plays Entra ID)           {corp_url}"));
    say(&format!("  hub  (plays IAM Identity Center) {hub_url}/portal   <- start here"));
    say(&format!("  target account internal-services {cloud_url}  (account {ACCOUNT}, Connect instance {instance})"));
    say(&format!("  users alice, bob, carol; password: {password}"));
    if args.provision_connect {
        say(
            "  alice and bob reach the Connect agent workspace (the hub created bob's Connect user); carol is not assigned",
        );
    } else {
        say(
            "  alice reaches the Connect agent workspace; bob is assigned but has no Connect user; carol is not assigned",
        );
        say("  (run with --provision-connect and the hub creates bob's Connect user)");
    }
    say(&format!("  corp provisions the hub by SCIM: {hub_url}/scim/v2  token {scim_token}"));
    say(&format!(
        "  AWS API: --endpoint-url {cloud_url} with access key AKIADEMOADMIN0000001 and the password as secret"
    ));
    say(&format!("  data kept in {}; Ctrl-C stops", args.data_dir.display()));
    say("crossfed demo: ready");

    crate::process::shutdown_signal().await;
    chain.stop().await;
    say("crossfed demo: stopped");
    Ok(ExitCode::SUCCESS)
}

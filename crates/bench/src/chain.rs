//! The `acs` and `chain` scenarios, on the demo's three parties started in this process: people
//! signed in at corp sign in to the hub through its ACS again and again, and for `chain` go on
//! through the Connect launch to the agent workspace.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::args::{BenchArgs, Scenario};
use crate::client::{PASSWORD, field, page_text, submit_saml_form};
use crate::measure::{drive, report};
use crate::reference::RsaReference;

/// One login through the chain for a person signed in at corp: the hub's sign-in through corp
/// and its ACS, and for `chain` the Connect launch through to the agent workspace.
async fn chain_login(client: &reqwest::Client, hub: &str, whole_chain: bool) -> Result<(), String> {
    // hub /login → corp's SSO with the hub's signed AuthnRequest → corp's signed Response form.
    let answer = page_text(client.get(format!("{hub}/login")).send().await, "the hub's /login").await?;
    let portal = page_text(Ok(submit_saml_form(client, &answer).await?), "the hub's ACS").await?;
    if !portal.contains("id=\"app-connect\"") {
        return Err("the portal does not list the Connect application".to_string());
    }
    if !whole_chain {
        return Ok(());
    }
    let csrf = field(&portal, "csrf").ok_or("the portal has no CSRF token")?;
    let launch = client
        .post(format!("{hub}/apps/connect/launch"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await;
    let launch = page_text(launch, "the Connect launch").await?;
    let landed = page_text(Ok(submit_saml_form(client, &launch).await?), "the sign-in endpoint").await?;
    if landed.contains("Agent workspace") {
        Ok(())
    } else {
        Err(format!("did not reach the agent workspace: {}", landed.chars().take(300).collect::<String>()))
    }
}

/// The `acs` and `chain` scenarios, on the demo's three parties started in this process.
pub(crate) async fn run(args: &BenchArgs, reference: RsaReference) -> Result<ExitCode> {
    if args.database_url.is_some() {
        bail!("--database-url applies to --scenario launch; acs and chain run the demo's parties on SQLite");
    }
    let dir = tempfile::tempdir().context("a temporary data dir")?;
    let listeners = [
        tokio::net::TcpListener::bind("127.0.0.1:0").await?,
        tokio::net::TcpListener::bind("127.0.0.1:0").await?,
        tokio::net::TcpListener::bind("127.0.0.1:0").await?,
    ];
    let token = format!("cfscim_{}", crossfed_random::hex::<32>());
    // With Connect provisioning, alice and bob both reach the agent workspace.
    let chain = crossfed_demo::start_chain(dir.path(), listeners, PASSWORD, &token, true).await?;
    let hub_url = chain.hub_url.clone();

    // Each virtual user signs in at corp once (a password, so argon2), as alice or bob.
    let mut users = Vec::with_capacity(args.concurrency);
    for i in 0..args.concurrency {
        let client = reqwest::Client::builder().cookie_store(true).build()?;
        let person = if i % 2 == 0 { "alice" } else { "bob" };
        let form = client.get(format!("{}/login", chain.corp_url)).send().await?.text().await?;
        let nonce = field(&form, "nonce").context("corp's sign-in form has no nonce")?;
        let signed_in = client
            .post(format!("{}/login", chain.corp_url))
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[
                ("nonce", nonce.as_str()),
                ("next", "/portal"),
                ("user_name", person),
                ("password", PASSWORD),
                ("totp", ""),
            ])
            .send()
            .await?;
        if !signed_in.status().is_success() {
            bail!("{person} could not sign in at corp: {}", signed_in.status());
        }
        users.push(client);
    }
    let whole_chain = matches!(args.scenario, Scenario::Chain);
    let hub = Arc::new(hub_url);
    let measured = drive(users, args.duration, move |client: Arc<reqwest::Client>| {
        let hub = hub.clone();
        async move {
            match chain_login(&client, &hub, whole_chain).await {
                Ok(()) => true,
                Err(e) => {
                    eprintln!("a login failed: {e}");
                    false
                }
            }
        }
    })
    .await?;
    chain.stop().await;
    Ok(report(args, &measured, &reference.measure_again().await?))
}

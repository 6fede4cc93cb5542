//! The `launch` scenario: the hub as `crossfed serve` runs it, in its own process (so its CPU
//! and memory are its own), and signed-in users opening an application again and again.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::args::BenchArgs;
use crate::client::{PASSWORD, launch_request};
use crate::measure::{drive, report};
use crate::reference::RsaReference;
use crate::{child, lean_http};

pub(crate) async fn run(args: &BenchArgs, reference: RsaReference) -> Result<ExitCode> {
    // The hub, as `crossfed serve` runs it in its own process (so its CPU and memory are its
    // own), with one application and one user per virtual user.
    let dir = tempfile::tempdir().context("a temporary data dir")?;
    let mut config = String::new();
    for i in 0..args.concurrency {
        config.push_str(&format!(
            "[[users]]\nuser_name = \"bench-{i}\"\nemail = \"bench-{i}@example.com\"\npassword = \"{PASSWORD}\"\n"
        ));
    }
    let assigned: Vec<String> = (0..args.concurrency).map(|i| format!("\"bench-{i}\"")).collect();
    config.push_str(&format!(
        "[[applications]]\nid = \"bench\"\nname = \"Bench\"\nassigned_users = [{}]\n[applications.custom]\n\
         acs_url = \"https://sp.example.com/acs\"\naudience = \"https://sp.example.com\"\n",
        assigned.join(", ")
    ));
    let config_file = dir.path().join("hub.toml");
    std::fs::write(&config_file, config).context("writing the hub's configuration")?;
    let address = format!("127.0.0.1:{}", child::free_port()?);
    let hub_url = format!("http://{address}");
    let mut serve = std::process::Command::new(std::env::current_exe().context("locating this binary")?);
    serve.arg("serve").arg("--config").arg(&config_file).arg("--listen").arg(&address);
    // A line per request would be measured too: the bench compares the signing path alone.
    serve.arg("--log-level").arg("warn");
    serve.arg("--data-dir").arg(dir.path().join("hub"));
    if let Some(url) = &args.database_url {
        serve.arg("--database-url").arg(url);
    }
    let mut hub = child::Server::start("the crossfed hub", serve, &dir.path().join("hub.log"))?;
    hub.wait_until_serving(&format!("{hub_url}/saml/apps/bench/metadata")).await?;

    let hub_base = reqwest::Url::parse(&hub_url)?;
    let mut users = Vec::with_capacity(args.concurrency);
    for i in 0..args.concurrency {
        let request = launch_request(&hub_base, &format!("bench-{i}"), "bench").await?;
        users.push(tokio::sync::Mutex::new((lean_http::Connection::new(&address), request)));
    }

    // Load: every virtual user launches, waits for the answer, and launches again.
    let cpu_before = hub.cpu_seconds();
    let measured = drive(users, args.duration, |user: Arc<tokio::sync::Mutex<_>>| async move {
        let mut user = user.lock().await;
        let (connection, request) = &mut *user;
        match connection.exchange(request).await {
            Ok(answer) => answer.status == 200 && memchr::memmem::find(answer.body, b"SAMLResponse").is_some(),
            Err(_) => false,
        }
    })
    .await;
    let hub_cpu = hub.cpu_seconds();
    let mut measured = measured.map_err(|e| anyhow::anyhow!("{e:#}\nthe hub's log:\n{}", hub.log_tail()))?;
    measured.hub = Some((hub_cpu.zip(cpu_before).map(|(after, before)| after - before), hub.peak_rss_mb()));
    Ok(report(args, &measured, &reference.measure_again().await?))
}

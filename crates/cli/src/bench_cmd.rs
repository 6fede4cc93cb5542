//! `crossfed bench`: load against real servers on loopback, reported against the RSA bound
//! measured in the same run. Scenario `launch`: signed-in users open an application from the
//! portal again and again; each launch costs one RSA-2048 signature (the assertion), so the bound
//! is the raw signing rate per core times the cores. The load generator runs in the same process
//! and shares the machine's cores with the hub, as a client on the same host would.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use crossfed_hub::config::HubConfig;
use crossfed_store::Store;
use serde_json::json;

use crate::say;

#[derive(Clone, Copy, ValueEnum)]
pub enum Scenario {
    /// Signed-in users launching an application from the portal (one signature each).
    Launch,
}

#[derive(Args)]
pub struct BenchArgs {
    #[arg(long, value_enum, default_value_t = Scenario::Launch)]
    scenario: Scenario,
    /// How long to drive load, such as `10s` or `500ms`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Virtual users, each with its own session, sending one request after another.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Run the hub on this database (sqlite://… or postgres://…) instead of a temporary SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.strip_suffix("ms") {
        Some(n) => (n, 0.001),
        None => match text.strip_suffix('s') {
            Some(n) => (n, 1.0),
            None => (text, 1.0),
        },
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("{text:?}: give a duration such as 10s or 500ms"))?;
    if !(value > 0.0 && value * unit <= 3600.0) {
        return Err(format!("{text:?}: give a duration between 1ms and 3600s"));
    }
    Ok(Duration::from_secs_f64(value * unit))
}

/// Raw RSA-2048 signatures per second on one core, measured now.
fn raw_sign_rate() -> Result<f64> {
    let key = crossfed_xmldsig::SigningKey::generate_rsa("bench", 1).context("a reference key")?;
    let message = [7u8; 32];
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < Duration::from_millis(1500) {
        key.sign(&message).context("raw signing")?;
        count += 1;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// CPU seconds this process has used (user + system), from /proc; `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    // Linux reports clock ticks of 1/100 s on every architecture crossfed builds for.
    Some((user + system) / 100.0)
}

/// The process's peak resident memory in MiB, from /proc; `None` elsewhere.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index.min(sorted.len() - 1)).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

const PASSWORD: &str = "bench-password-1";

fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    Some(html.split(&marker).nth(1)?.split('"').next()?.to_string())
}

/// A virtual user signed in at the hub, with the CSRF token its portal forms carry.
async fn signed_in(hub: &str, user: &str) -> Result<(reqwest::Client, String)> {
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let form = client.get(format!("{hub}/login")).send().await?.text().await?;
    let nonce = field(&form, "nonce").context("the sign-in form has no nonce")?;
    let portal = client
        .post(format!("{hub}/login"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[
            ("nonce", nonce.as_str()),
            ("next", "/portal"),
            ("user_name", user),
            ("password", PASSWORD),
            ("totp", ""),
        ])
        .send()
        .await?
        .text()
        .await?;
    let csrf = field(&portal, "csrf").with_context(|| format!("{user} did not reach the portal"))?;
    Ok((client, csrf))
}

pub async fn run(args: BenchArgs) -> Result<ExitCode> {
    if args.concurrency == 0 || args.concurrency > 1000 {
        bail!("--concurrency: give 1 to 1000 virtual users");
    }
    let rsa_per_core = tokio::task::spawn_blocking(raw_sign_rate).await??;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    // The hub, with one application and one user per virtual user.
    let dir = tempfile::tempdir().context("a temporary data dir")?;
    let url = args.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", dir.path().join("hub.db").display()));
    let store = Store::connect(&url).await.with_context(|| format!("opening {url}"))?;
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
    let config: HubConfig = toml::from_str(&config).context("the bench configuration")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hub_url = format!("http://{}", listener.local_addr()?);
    let (hub, _) = crossfed_hub::bootstrap::build_hub(&config, store.clone(), dir.path(), &hub_url, crate::now())
        .await
        .map_err(anyhow::Error::msg)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crossfed_hub::server::serve(listener, Arc::new(hub), async move {
        let _ = stopped.await;
    }));

    let mut users = Vec::with_capacity(args.concurrency);
    for i in 0..args.concurrency {
        users.push(signed_in(&hub_url, &format!("bench-{i}")).await?);
    }

    // Load: every virtual user launches, waits for the answer, and launches again.
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let deadline = started + args.duration;
    let mut tasks = Vec::new();
    for (client, csrf) in users {
        let launch = format!("{hub_url}/apps/bench/launch");
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let answer = client
                    .post(&launch)
                    .header("Sec-Fetch-Site", "same-origin")
                    .form(&[("csrf", csrf.as_str())])
                    .send()
                    .await;
                let ok = match answer {
                    Ok(response) if response.status().is_success() => {
                        response.text().await.is_ok_and(|page| page.contains("SAMLResponse"))
                    }
                    _ => false,
                };
                if ok {
                    latencies.push(sent.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(cpu_seconds()).map(|(a, b)| b - a);
    let _ = stop.send(());
    let _ = server.await;
    store.close().await;

    latencies.sort();
    let launches = latencies.len() as f64;
    let per_second = launches / elapsed;
    let rsa_ops_per_login = 1.0;
    let bound = rsa_per_core * cores as f64 / rsa_ops_per_login;
    let report = json!({
        "scenario": "launch",
        "duration_s": elapsed,
        "concurrency": args.concurrency,
        "logins": latencies.len(),
        "logins_per_s": per_second,
        "p50_ms": percentile(&latencies, 0.50),
        "p95_ms": percentile(&latencies, 0.95),
        "p99_ms": percentile(&latencies, 0.99),
        "errors": errors,
        "cpu_seconds_per_login": cpu.map(|c| if launches > 0.0 { c / launches } else { 0.0 }),
        "peak_rss_mb": peak_rss_mb(),
        "rsa_ops_per_login": rsa_ops_per_login,
        "rsa_sign_per_core_per_s": rsa_per_core,
        "cores": cores,
        "ratio_to_rsa_bound": per_second / bound,
    });
    if args.json {
        say(&report.to_string());
    } else {
        say(&format!("scenario launch: {} virtual users for {elapsed:.1} s on {cores} cores", args.concurrency));
        say(&format!("  launches/s        {per_second:>9.0}   (errors: {errors})"));
        say(&format!(
            "  latency ms        p50 {:.2}  p95 {:.2}  p99 {:.2}",
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.95),
            percentile(&latencies, 0.99)
        ));
        if let Some(cpu) = cpu.filter(|_| launches > 0.0) {
            say(&format!("  CPU per launch    {:>9.3} ms (hub and load generator together)", cpu / launches * 1000.0));
        }
        if let Some(rss) = peak_rss_mb() {
            say(&format!("  peak RSS          {rss:>9.1} MiB"));
        }
        say(&format!("  raw RSA-2048 sign {rsa_per_core:>9.0}/s per core; bound {bound:.0}/s on {cores} cores"));
        say(&format!("  ratio to the RSA bound {:.2}", per_second / bound));
    }
    Ok(if errors == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

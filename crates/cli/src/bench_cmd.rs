//! `crossfed bench`: load against real servers on loopback, reported against the RSA bound
//! measured in the same run (raw RSA-2048 signatures and verifications per core, times the
//! cores). The load generator runs in the same process and shares the machine's cores with the
//! servers, as a client on the same host would.
//! - `launch`: signed-in users open an application from the portal again and again; one
//!   signature per launch (the assertion).
//! - `acs`: users already signed in at corp sign in to the hub again and again: the hub signs its
//!   AuthnRequest, corp signs its Response, the hub's ACS verifies it and opens a session (two
//!   signatures, one verification).
//! - `chain`: the whole reference chain per login: `acs`, then the Connect launch (signed), the
//!   target account's sign-in endpoint (verified, AssumeRoleWithSAML), the federate URL
//!   (GetFederationToken) and the agent workspace (three signatures, two verifications).
//! - `proxy`: the hub as a SAML proxy beside SATOSA, one after the other in the same run: the
//!   bench's SP → proxy → corp → proxy → SP, the SP validating every Response (three signatures,
//!   three verifications across the parties); see [`proxy`].

mod child;
mod lean_http;
mod proxy;
mod reference;
mod satosa;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde_json::json;

use self::reference::RsaReference;
use crate::process::say;

#[derive(Clone, Copy, ValueEnum)]
pub enum Scenario {
    /// Signed-in users launching an application from the portal (one signature each).
    Launch,
    /// Users signed in at corp signing in to the hub through its ACS.
    Acs,
    /// corp → hub ACS → Connect launch → sign-in endpoint → AssumeRoleWithSAML → GetFederationToken.
    Chain,
    /// SP → proxy → corp → proxy → SP, through the hub and then through SATOSA, compared.
    Proxy,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Launch => "launch",
            Scenario::Acs => "acs",
            Scenario::Chain => "chain",
            Scenario::Proxy => "proxy",
        }
    }

    /// RSA-2048 signatures and verifications one login costs, across every party.
    fn rsa_ops(self) -> (f64, f64) {
        match self {
            Scenario::Launch => (1.0, 0.0),
            Scenario::Acs => (2.0, 1.0),
            Scenario::Chain => (3.0, 2.0),
            // The proxy signs its AuthnRequest and its assertion, corp its assertion; corp, the
            // proxy and the SP each verify one signature.
            Scenario::Proxy => (3.0, 3.0),
        }
    }
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
    /// `--scenario proxy`: SATOSA's virtualenv, made by scripts/install-satosa (default:
    /// $CROSSFED_PEERS_DIR/satosa-venv, or ~/.cache/crossfed-peers/satosa-venv).
    #[arg(long)]
    satosa_venv: Option<PathBuf>,
    /// `--scenario proxy`: gunicorn workers serving SATOSA.
    #[arg(long, default_value_t = 2)]
    satosa_workers: usize,
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

pub(crate) const PASSWORD: &str = "bench-password-1";

fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    Some(html.split(&marker).nth(1)?.split('"').next()?.to_string())
}

/// Signs `user` in with the bench's password at the directory-mode hub at `base`.
async fn sign_in(client: &reqwest::Client, base: &str, user: &str) -> Result<reqwest::Response> {
    let form = client.get(format!("{base}/login")).send().await?.text().await?;
    let nonce = field(&form, "nonce").with_context(|| format!("the sign-in form at {base} has no nonce"))?;
    let fields =
        [("nonce", nonce.as_str()), ("next", "/portal"), ("user_name", user), ("password", PASSWORD), ("totp", "")];
    let request = client.post(format!("{base}/login")).header("Sec-Fetch-Site", "same-origin").form(&fields);
    Ok(request.send().await?)
}

/// A virtual user signed in at the hub: its launch request, with the session cookie and the
/// CSRF token its portal forms carry.
async fn launch_request(hub: &reqwest::Url, user: &str, app: &str) -> Result<lean_http::PreparedRequest> {
    use reqwest::cookie::CookieStore;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder().cookie_provider(jar.clone()).build()?;
    let base = hub.as_str().trim_end_matches('/');
    let portal = sign_in(&client, base, user).await?.text().await?;
    let csrf = field(&portal, "csrf").with_context(|| format!("{user} did not reach the portal"))?;
    let cookie = jar.cookies(hub).with_context(|| format!("{user} has no session cookie"))?;
    let host = hub.host_str().zip(hub.port()).map(|(h, p)| format!("{h}:{p}")).context("the hub's address")?;
    let body = format!("csrf={}", percent_encoding::utf8_percent_encode(&csrf, percent_encoding::NON_ALPHANUMERIC));
    let headers = [("Cookie", cookie.to_str()?), ("Sec-Fetch-Site", "same-origin")];
    Ok(lean_http::PreparedRequest::form_post(&host, &format!("/apps/{app}/launch"), &headers, &body))
}

pub async fn run(args: BenchArgs) -> Result<ExitCode> {
    if args.concurrency == 0 || args.concurrency > 1000 {
        bail!("--concurrency: give 1 to 1000 virtual users");
    }
    let reference = tokio::task::spawn_blocking(RsaReference::measure).await??;
    match args.scenario {
        Scenario::Launch => launch(&args, reference).await,
        Scenario::Acs | Scenario::Chain => chain(&args, reference).await,
        Scenario::Proxy => proxy::run(&args, reference).await,
    }
}

/// What one run measured.
struct Measured {
    latencies: Vec<Duration>,
    errors: u64,
    elapsed: f64,
    cpu: Option<f64>,
    /// The hub's own process, when it runs as one: CPU seconds during the load, peak RSS in MiB.
    hub: Option<(Option<f64>, Option<f64>)>,
}

/// Runs every virtual user's loop until `duration` is over; `one` does one login and says
/// whether it succeeded.
async fn drive<U, F, Fut>(users: Vec<U>, duration: Duration, one: F) -> Result<Measured>
where
    U: Send + Sync + 'static,
    F: Fn(Arc<U>) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = bool> + Send,
{
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for user in users {
        let user = Arc::new(user);
        let one = one.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                if one(user.clone()).await {
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
    latencies.sort();
    Ok(Measured { latencies, errors, elapsed, cpu, hub: None })
}

/// Prints the figures; exit status 1 when any login failed.
fn report(args: &BenchArgs, measured: &Measured, reference: &RsaReference) -> ExitCode {
    let cores = reference.cores();
    let Measured { latencies, errors, elapsed, cpu, hub } = measured;
    let (signs, verifies) = args.scenario.rsa_ops();
    let logins = latencies.len() as f64;
    let per_second = logins / elapsed;
    // The RSA work of one login on one core, in seconds; the bound is the cores divided by it.
    let rsa_seconds = reference.seconds_for((signs, verifies));
    let bound = reference.bound((signs, verifies));
    let scenario = args.scenario.name();
    let (p50, p95, p99) = (percentile(latencies, 0.50), percentile(latencies, 0.95), percentile(latencies, 0.99));
    let mut figures = json!({
        "scenario": scenario,
        "duration_s": elapsed,
        "concurrency": args.concurrency,
        "logins": latencies.len(),
        "logins_per_s": per_second,
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "errors": errors,
        "cpu_seconds_per_login": cpu.map(|c| if logins > 0.0 { c / logins } else { 0.0 }),
        "peak_rss_mb": peak_rss_mb(),
        "rsa_ops_per_login": signs + verifies,
        "rsa_signs_per_login": signs,
        "rsa_verifies_per_login": verifies,
        "ratio_to_rsa_bound": per_second / bound,
    });
    // With the hub in its own process: its CPU per login, and its ratio to the bound on the cores
    // it used (its CPU seconds over the elapsed time), which is the share of its CPU that RSA
    // takes: the ratio the hub would reach on cores of its own, with the load generator elsewhere.
    let hub_cpu = hub.and_then(|(cpu, _)| cpu).filter(|_| logins > 0.0).map(|c| c / logins);
    let hub_rss = hub.and_then(|(_, rss)| rss);
    if let Some(object) = figures.as_object_mut() {
        for (key, value) in reference.json() {
            object.insert(key.into(), value);
        }
        if hub.is_some() {
            object.insert("hub_cpu_ms_per_login".into(), json!(hub_cpu.map(|c| c * 1000.0)));
            object.insert("hub_cores_used".into(), json!(hub_cpu.map(|c| c * per_second)));
            object.insert("hub_ratio_to_rsa_bound".into(), json!(hub_cpu.map(|c| rsa_seconds / c)));
            object.insert("hub_peak_rss_mb".into(), json!(hub_rss));
            // The memory asked about is the server's: the load generator's is reported beside it.
            object.insert("peak_rss_mb".into(), json!(hub_rss));
            object.insert("load_generator_peak_rss_mb".into(), json!(peak_rss_mb()));
            // CPU per login stays the whole machine's work: the hub's and the load generator's.
            let client = cpu.filter(|_| logins > 0.0).map(|c| c / logins);
            object.insert("cpu_seconds_per_login".into(), json!(hub_cpu.zip(client).map(|(h, c)| h + c)));
        }
    }
    if args.json {
        say(&figures.to_string());
    } else {
        say(&format!("scenario {scenario}: {} virtual users for {elapsed:.1} s on {cores} cores", args.concurrency));
        say(&format!("  logins/s          {per_second:>9.0}   (errors: {errors})"));
        say(&format!("  latency ms        p50 {p50:.2}  p95 {p95:.2}  p99 {p99:.2}"));
        if let Some(cpu) = cpu.filter(|_| logins > 0.0) {
            let whose = if hub.is_some() { "the load generator" } else { "servers and load generator together" };
            say(&format!("  CPU per login     {:>9.3} ms ({whose})", cpu / logins * 1000.0));
        }
        if let Some(rss) = peak_rss_mb() {
            say(&format!("  peak RSS          {rss:>9.1} MiB (this process)"));
        }
        if let Some(cpu) = hub_cpu {
            say(&format!(
                "  hub process       {:.3} ms CPU per login on {:.2} cores, of which RSA {:.3} ms",
                cpu * 1000.0,
                cpu * per_second,
                rsa_seconds * 1000.0,
            ));
        }
        if let Some(rss) = hub_rss {
            say(&format!("  hub peak RSS      {rss:>9.1} MiB"));
        }
        say(&format!("  {}", reference.describe()));
        say(&format!(
            "  {signs} signs + {verifies} verifies per login: bound {bound:.0}/s on {cores} cores; ratio to the RSA bound {:.2}",
            per_second / bound
        ));
        if let Some(cpu) = hub_cpu {
            say(&format!("  the hub's ratio to the RSA bound on the cores it used {:.2}", rsa_seconds / cpu));
        }
    }
    if *errors == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

async fn launch(args: &BenchArgs, reference: RsaReference) -> Result<ExitCode> {
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

/// Posts the auto-submitting SAML form of `page` as the browser's script would.
async fn submit_saml_form(client: &reqwest::Client, page: &str) -> Result<reqwest::Response, String> {
    let no_form = || format!("expected a SAML form, got: {}", page.chars().take(300).collect::<String>());
    let action = crossfed_saml::html_unescape(
        page.split("action=\"").nth(1).and_then(|a| a.split('"').next()).ok_or_else(no_form)?,
    );
    let mut form = vec![("SAMLResponse".to_string(), field(page, "SAMLResponse").ok_or_else(no_form)?)];
    if let Some(relay) = field(page, "RelayState") {
        form.push(("RelayState".to_string(), crossfed_saml::html_unescape(&relay)));
    }
    client.post(&action).form(&form).send().await.map_err(|e| format!("posting to {action}: {e}"))
}

/// A page's text, or why there is none.
async fn page_text(response: Result<reqwest::Response, reqwest::Error>, what: &str) -> Result<String, String> {
    let response = response.map_err(|e| format!("{what}: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("{what}: {e}"))?;
    if !status.is_success() {
        let message = text.split("id=\"message\">").nth(1).and_then(|m| m.split('<').next()).unwrap_or(&text);
        return Err(format!("{what}: HTTP {status}: {}", message.chars().take(300).collect::<String>()));
    }
    Ok(text)
}

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
async fn chain(args: &BenchArgs, reference: RsaReference) -> Result<ExitCode> {
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
    let chain = crate::demo_cmd::start_chain(dir.path(), listeners, PASSWORD, &token, true).await?;
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

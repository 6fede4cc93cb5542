//! What a run measures — every login's latency, the errors, this process's CPU and memory, the
//! hub's when it runs in its own process — and the report of it against the RSA bound.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::args::BenchArgs;
use crate::print::say;
use crate::reference::RsaReference;

/// CPU seconds this process has used (user + system), from /proc; `None` elsewhere.
pub(crate) fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    // Linux reports clock ticks of 1/100 s on every architecture crossfed builds for.
    Some((user + system) / 100.0)
}

/// The process's peak resident memory in MiB, from /proc; `None` elsewhere.
pub(crate) fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index.min(sorted.len() - 1)).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// What one run measured.
pub(crate) struct Measured {
    pub(crate) latencies: Vec<Duration>,
    pub(crate) errors: u64,
    pub(crate) elapsed: f64,
    pub(crate) cpu: Option<f64>,
    /// The hub's own process, when it runs as one: CPU seconds during the load, peak RSS in MiB.
    pub(crate) hub: Option<(Option<f64>, Option<f64>)>,
}

/// Runs every virtual user's loop until `duration` is over; `one` does one login and says
/// whether it succeeded.
pub(crate) async fn drive<U, F, Fut>(users: Vec<U>, duration: Duration, one: F) -> Result<Measured>
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
pub(crate) fn report(args: &BenchArgs, measured: &Measured, reference: &RsaReference) -> ExitCode {
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

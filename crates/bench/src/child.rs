//! A server the bench runs as its own process (the crossfed hub under `crossfed serve`, SATOSA
//! under gunicorn): started with its output in a log file, waited for, measured through /proc,
//! and stopped with SIGTERM when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub(super) struct Server {
    name: &'static str,
    child: Child,
    log_path: PathBuf,
    exited: bool,
}

/// `/proc/PID/stat` fields after the command name: state is 0, ppid 1, utime 11, stime 12,
/// cutime 13, cstime 14.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(stat.rsplit_once(')')?.1.split_whitespace().map(str::to_string).collect())
}

impl Server {
    /// Starts `command` with standard output and error going to `log_path`.
    pub fn start(name: &'static str, mut command: Command, log_path: &Path) -> Result<Server> {
        let log = std::fs::File::create(log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Server { name, child, log_path: log_path.to_path_buf(), exited: false })
    }

    /// Waits until `url` answers 200 (60 s at most); a server that stopped is an error with the
    /// end of its log.
    pub async fn wait_until_serving(&mut self, url: &str) -> Result<()> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exited = true;
                bail!("{} stopped ({status}) before it answered:\n{}", self.name, self.log_tail());
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("{} did not answer at {url} within 60 s:\n{}", self.name, self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The process and its children (gunicorn's workers).
    fn processes(&self) -> Vec<u32> {
        let main = self.child.id();
        let mut pids = vec![main];
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
                let parent = stat_fields(pid).and_then(|f| f.get(1).and_then(|p| p.parse::<u32>().ok()));
                if parent == Some(main) {
                    pids.push(pid);
                }
            }
        }
        pids
    }

    /// CPU seconds used so far by the process and its children, with the children they waited
    /// for (pysaml2's xmlsec1 runs); Linux, clock ticks of 1/100 s.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let mut ticks = 0.0;
        for pid in self.processes() {
            let fields = stat_fields(pid)?;
            for index in 11..=14 {
                ticks += fields.get(index)?.parse::<f64>().ok()?;
            }
        }
        Some(ticks / 100.0)
    }

    /// The peak resident memory of the process and its children together, in MiB.
    pub fn peak_rss_mb(&self) -> Option<f64> {
        let mut kib = 0.0;
        for pid in self.processes() {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            kib += line.split_whitespace().nth(1)?.parse::<f64>().ok()?;
        }
        Some(kib / 1024.0)
    }

    /// The last 30 lines of the log, to explain a failure.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines.iter().skip(lines.len().saturating_sub(30)).copied().collect::<Vec<_>>().join("\n")
    }

    /// Lines of the log at level ERROR or above (SATOSA logs one for each failed login).
    pub fn logged_errors(&self) -> usize {
        std::fs::read_to_string(&self.log_path)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(" ERROR ") || l.contains(" CRITICAL "))
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited {
            return;
        }
        // Both servers stop gracefully on SIGTERM (gunicorn stopping its workers first).
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on right now, for a server to bind.
pub(super) fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

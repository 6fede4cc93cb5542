//! A real Prometheus server (Debian's `prometheus`) scrapes `crossfed serve --metrics-listen`:
//! after a person launches an application three times, a PromQL query over Prometheus's HTTP API
//! returns three launches, and the hub is an `up` target.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crossfed_testkit::browser::field;
use serde_json::Value;

const LAUNCHES: usize = 3;

/// A child process, ended when dropped (a failing test leaves nothing running).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `crossfed serve` with alice and the wiki, metrics on their own listener: the hub's URL and
/// the metrics address.
fn start_hub(dir: &Path) -> (Running, String, String) {
    let config = dir.join("hub.toml");
    std::fs::write(
        &config,
        "[[users]]\nuser_name = \"alice\"\nemail = \"alice@example.com\"\npassword = \"alice-password-1\"\n\
         [[applications]]\nid = \"wiki\"\nname = \"Wiki\"\nassigned_users = [\"alice\"]\n\
         [applications.custom]\nacs_url = \"https://wiki.example.com/saml/acs\"\naudience = \"https://wiki.example.com\"\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--log-level", "warn"])
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut metrics = None;
    let url = loop {
        let line = lines.next().expect("crossfed serve exited early").unwrap();
        if let Some(at) = line.strip_prefix("metrics at http://") {
            metrics = Some(at.trim_end_matches("/metrics").to_string());
        }
        if let Some(url) = line.strip_prefix("crossfed hub listening on ") {
            break url.to_string();
        }
    };
    (Running(child), url, metrics.expect("the metrics address is printed before the hub's"))
}

/// Prometheus scraping `target` every second, its data and log in `dir`; its URL.
fn start_prometheus(dir: &Path, target: &str) -> (Running, String) {
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: crossfed\n    \
             static_configs:\n      - targets: [\"{target}\"]\n"
        ),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(crossfed_testkit::prometheus())
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
        .spawn()
        .unwrap();
    (Running(child), format!("http://127.0.0.1:{port}"))
}

/// Signs alice in and launches the wiki `LAUNCHES` times, each answered with a signed Response.
async fn launch_the_wiki(url: &str) {
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let form = client.get(format!("{url}/login")).send().await.unwrap().text().await.unwrap();
    let nonce = field(&form, "nonce").to_string();
    let portal = client
        .post(format!("{url}/login"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[
            ("nonce", nonce.as_str()),
            ("next", "/portal"),
            ("user_name", "alice"),
            ("password", "alice-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(portal.status(), 200);
    let csrf = field(&portal.text().await.unwrap(), "csrf").to_string();
    for _ in 0..LAUNCHES {
        let launched = client
            .post(format!("{url}/apps/wiki/launch"))
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(launched.status(), 200);
        assert!(launched.text().await.unwrap().contains("SAMLResponse"));
    }
}

/// Asks Prometheus `query` until `accept` takes its answer's `data`, for a minute at most.
async fn poll(prometheus: &str, path: &str, query: &[(&str, &str)], accept: impl Fn(&Value) -> bool, dir: &Path) {
    let client = reqwest::Client::new();
    let address = reqwest::Url::parse_with_params(&format!("{prometheus}{path}"), query).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = Value::Null;
    while Instant::now() < deadline {
        if let Ok(answer) = client.get(address.clone()).send().await
            && let Ok(body) = answer.json::<Value>().await
        {
            if body["status"] == "success" && accept(&body["data"]) {
                return;
            }
            last = body;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let log = std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default();
    panic!("Prometheus never answered {path} {query:?} as expected; last: {last}\nits log:\n{log}");
}

#[test]
fn prometheus_scrapes_the_hub_and_counts_its_launches() {
    let dir = tempfile::tempdir().unwrap();
    let (_hub, url, metrics) = start_hub(dir.path());
    let (_prometheus, prometheus) = start_prometheus(dir.path(), &metrics);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        launch_the_wiki(&url).await;
        let launches = |data: &Value| data["result"][0]["value"][1] == LAUNCHES.to_string().as_str();
        poll(&prometheus, "/api/v1/query", &[("query", "sum(crossfed_launches_total)")], launches, dir.path()).await;
        let success = "crossfed_launches_total{application=\"wiki\",outcome=\"success\"}";
        poll(&prometheus, "/api/v1/query", &[("query", success)], launches, dir.path()).await;
        let up = |data: &Value| data["activeTargets"][0]["health"] == "up";
        poll(&prometheus, "/api/v1/targets", &[], up, dir.path()).await;
        let target = |data: &Value| data["result"][0]["metric"]["instance"] == metrics.as_str();
        poll(&prometheus, "/api/v1/query", &[("query", "up{job=\"crossfed\"} == 1")], target, dir.path()).await;
    });
}

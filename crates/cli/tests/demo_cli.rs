//! `crossfed demo` as a newcomer runs it: the real binary on free ports, then alice, bob and carol
//! through the chain with a browser-like client; Ctrl-C stops it, and a second run on the same
//! data works again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crossfed_testkit::browser::{Landing, reference_chain_journey};

struct Demo {
    child: Child,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three consecutive ports free right now.
fn free_base_port() -> u16 {
    for _ in 0..50 {
        let base = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if base > 65_000 {
            continue;
        }
        let all_free = (0..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok());
        if all_free {
            return base;
        }
    }
    panic!("no three consecutive free ports");
}

fn start(data: &std::path::Path, base: u16) -> (Demo, Vec<String>) {
    start_with(data, base, &[])
}

fn start_with(data: &std::path::Path, base: u16, extra: &[&str]) -> (Demo, Vec<String>) {
    let child = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["demo", "--base-port", &base.to_string(), "--demo-password", "demo-password-1", "--data-dir"])
        .arg(data)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut demo = Demo { child };
    let mut lines = BufReader::new(demo.child.stdout.take().unwrap()).lines();
    let mut output = Vec::new();
    let started = std::time::Instant::now();
    loop {
        let line = lines.next().expect("crossfed demo exited before it was ready").unwrap();
        output.push(line.clone());
        if line == "crossfed demo: ready" {
            assert!(started.elapsed().as_secs() < 20, "the demo took {:?} to start", started.elapsed());
            std::thread::spawn(move || lines.for_each(drop));
            return (demo, output);
        }
    }
}

fn interrupt(mut demo: Demo) {
    Command::new("kill").arg("-INT").arg(demo.child.id().to_string()).status().unwrap();
    assert!(demo.child.wait().unwrap().success(), "crossfed demo did not stop cleanly");
}

#[test]
fn the_demo_runs_the_reference_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo-data");
    let base = free_base_port();
    let (demo, output) = start(&data, base);
    assert!(output.iter().any(|l| l.contains("users alice, bob, carol; password: demo-password-1")), "{output:?}");
    assert!(!output.iter().any(|l| l.contains("provisioning failed")), "{output:?}");
    let hub = format!("http://127.0.0.1:{}", base + 1);
    // corp provisioned the hub by SCIM, with the token the demo printed.
    let scim_line = output.iter().find(|l| l.contains("provisions the hub by SCIM")).expect("SCIM line");
    let token = scim_line.rsplit(' ').next().unwrap().to_string();
    assert!(scim_line.contains(&format!("{hub}/scim/v2")), "{scim_line}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let users: serde_json::Value = reqwest::Client::new()
            .get(format!("{hub}/scim/v2/Users?filter=userName%20ew%20%22%40example.com%22"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(users["totalResults"], 3, "{users}");
        match reference_chain_journey(&hub, "connect", "alice", "demo-password-1").await {
            Landing::Page(200, page) => {
                assert!(page.contains("Agent workspace") && page.contains("alice@example.com"), "{page}")
            }
            other => panic!("alice: {other:?}"),
        }
        match reference_chain_journey(&hub, "connect", "bob", "demo-password-1").await {
            Landing::Page(403, page) => {
                assert!(page.contains("No Amazon Connect user named &quot;bob@example.com&quot;"), "{page}")
            }
            other => panic!("bob: {other:?}"),
        }
        assert!(matches!(
            reference_chain_journey(&hub, "connect", "carol", "demo-password-1").await,
            Landing::NotListed(_)
        ));
    });
    interrupt(demo);

    // The data is kept; a second run starts on it and alice still gets through.
    let (demo, _) = start(&data, base);
    runtime.block_on(async {
        assert!(matches!(
            reference_chain_journey(&hub, "connect", "alice", "demo-password-1").await,
            Landing::Page(200, _)
        ));
    });
    interrupt(demo);
}

#[test]
fn the_demo_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_base_port();
    let (demo, _) = start(&dir.path().join("demo-data"), base);
    // Screenshots are test output, kept under the build folder for people to look at.
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = crossfed_testkit::peer_script("demo_browser.mjs");
    let out = Command::new("node")
        .arg(&script)
        .arg(format!("http://127.0.0.1:{}", base + 1))
        .arg("demo-password-1")
        .arg(&shots)
        .env("CROSSFED_NODE_PEERS", crossfed_testkit::node_peers_dir())
        // A fresh profile: Chromium's (and Playwright's) per-user folders go to a temporary home.
        .env("XDG_CONFIG_HOME", dir.path().join("xdg-config"))
        .env("XDG_CACHE_HOME", dir.path().join("xdg-cache"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "browser journeys failed: {report}\n{}", String::from_utf8_lossy(&out.stderr));
    for shot in [
        "1-corp-sign-in.png",
        "2-hub-portal.png",
        "3-agent-workspace.png",
        "4-bob-no-connect-user.png",
        "5-carol-no-applications.png",
    ] {
        assert!(shots.join(shot).exists(), "missing screenshot {shot}");
    }
    interrupt(demo);
}

#[test]
fn the_demo_provisions_connect_users_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_base_port();
    let (demo, output) = start_with(
        &dir.path().join("demo-data"),
        base,
        &["--provision-connect", "--scim-token", "a-chosen-scim-token-of-32-chars!"],
    );
    assert!(output.iter().any(|l| l.contains("the hub created bob's Connect user")), "{output:?}");
    assert!(output.iter().any(|l| l.ends_with("token a-chosen-scim-token-of-32-chars!")), "{output:?}");
    let hub = format!("http://127.0.0.1:{}", base + 1);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        match reference_chain_journey(&hub, "connect", "bob", "demo-password-1").await {
            Landing::Page(200, page) => {
                assert!(page.contains("Agent workspace") && page.contains("bob@example.com"), "{page}")
            }
            other => panic!("bob: {other:?}"),
        }
        assert!(matches!(
            reference_chain_journey(&hub, "connect", "carol", "demo-password-1").await,
            Landing::NotListed(_)
        ));
    });
    interrupt(demo);
}

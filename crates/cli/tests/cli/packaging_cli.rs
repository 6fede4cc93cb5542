//! What a packaged hub relies on: `crossfed health`, the container image's health check, exits 0
//! while the hub answers and 1 once it does not.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::process::Command;

use crate::admin_cli::serve_with;

fn health(url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_crossfed")).args(["health", "--url", url]).output().unwrap()
}

#[test]
fn health_says_whether_the_hub_answers() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, "[[users]]\nuser_name = \"alice\"\n").unwrap();
    let served = serve_with(&config, &dir.path().join("data"));
    let url = served.url.clone();
    for endpoint in ["healthz", "readyz"] {
        let answered = health(&format!("{url}/{endpoint}"));
        assert!(answered.status.success(), "{endpoint}: {}", String::from_utf8_lossy(&answered.stderr));
    }
    let missing = health(&format!("{url}/no-such-endpoint"));
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404"), "{missing:?}");
    drop(served);
    let stopped = health(&format!("{url}/healthz"));
    assert_eq!(stopped.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stopped.stderr).contains("no answer"), "{stopped:?}");
}

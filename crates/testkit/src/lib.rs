//! Test support shared by the crates' test suites: where the independent peers live and how to
//! run them. Failing loudly is the point here, so this crate may panic.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

pub mod bench;
#[cfg(feature = "http")]
pub mod browser;
#[cfg(feature = "store")]
pub mod postgres_server;
pub mod proxy;
#[cfg(feature = "store")]
mod stores;
#[cfg(feature = "store")]
pub use stores::{TestDatabase, drop_postgres_database, postgres_admin_url, postgres_test_database, test_store};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The folder `scripts/install-peers` installs into.
pub fn peers_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CROSSFED_PEERS_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache").join("crossfed-peers")
}

/// The Python interpreter of the peers' virtualenv (pysaml2, lxml).
pub fn python() -> PathBuf {
    let python = peers_dir().join("venv").join("bin").join("python");
    if !python.exists() {
        panic!("the Python peers are not installed ({} missing): run scripts/install-peers", python.display());
    }
    python
}

/// The xmlsec1 binary.
pub fn xmlsec1() -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("xmlsec1"))
        .find(|p| p.exists());
    found.unwrap_or_else(|| panic!("xmlsec1 is not installed: run scripts/install-peers"))
}

/// The Prometheus server (Debian's `prometheus` package).
pub fn prometheus() -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("prometheus"))
        .find(|p| p.exists());
    found.unwrap_or_else(|| panic!("prometheus is not installed: run scripts/install-peers"))
}

/// `xmlsec1 --verify` of the document in `file` against the certificate in `cert_pem`, with
/// same-document references only and `ID` as the ID attribute of each element in `id_nodes`
/// (`namespace:LocalName`).
pub fn xmlsec1_verify(cert_pem: &Path, id_nodes: &[&str], file: &Path) -> Output {
    let mut command = Command::new(xmlsec1());
    command.arg("--verify").args(["--enabled-reference-uris", "same-doc"]).arg("--pubkey-cert-pem").arg(cert_pem);
    for node in id_nodes {
        command.args(["--id-attr:ID", node]);
    }
    run(command.arg(file))
}

/// A Python helper script in this crate's `peers` folder.
pub fn peer_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers").join(name)
}

/// Runs a command, returning its output; panics only if it cannot start.
pub fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

/// A temporary folder removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary folder")
}

/// Runs a Python peer script with `input` as JSON on stdin and parses its JSON stdout.
pub fn run_peer_json(script: &str, input: &serde_json::Value) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new(python())
        .arg(peer_script(script))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {script}: {e}"));
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{script} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{script} printed no JSON ({e})"))
}

/// The AWS CLI installed with the Python peers.
pub fn aws_cli() -> PathBuf {
    let aws = peers_dir().join("venv").join("bin").join("aws");
    if !aws.exists() {
        panic!("the AWS CLI is not installed ({} missing): run scripts/install-peers", aws.display());
    }
    aws
}

/// The `scim2` compliance checker (scim2-cli), in its own virtualenv.
pub fn scim2_cli() -> PathBuf {
    let scim2 = peers_dir().join("scim-venv").join("bin").join("scim2");
    if !scim2.exists() {
        panic!("scim2-cli is not installed ({} missing): run scripts/install-peers", scim2.display());
    }
    scim2
}

/// The folder holding the Node peers (playwright-core).
pub fn node_peers_dir() -> PathBuf {
    let dir = peers_dir().join("node");
    if !dir.join("node_modules").join("playwright-core").exists() {
        panic!("playwright-core is not installed in {}: run scripts/install-peers", dir.display());
    }
    dir
}

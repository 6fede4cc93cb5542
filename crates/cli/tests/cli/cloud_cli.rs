//! `crossfed cloud` as a user runs it: a configuration file applied at start, real AWS clients
//! against the printed URL, and a restart that keeps the data and changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crossfed_saml::{Endpoint, EntityDescriptor};
use crossfed_testkit::run_peer_json;
use crossfed_xmldsig::SigningKey;
use serde_json::json;

const ADMIN_KEY: &str = "AKIAEXAMPLEADMIN0001";
const ADMIN_SECRET: &str = "example/admin/secret/for/the/cli/test";

struct Running {
    child: Child,
    url: String,
    output: Vec<String>,
}

impl Drop for Running {
    /// A failing test must not leave the server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free right now, so that two runs can use the same URL (it is part of the trust policy).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(config: &std::path::Path, data_dir: &std::path::Path, port: u16) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["cloud", "--listen", &format!("127.0.0.1:{port}"), "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // Owned by `Running` from here, so it is reaped whatever happens below.
    let mut running = Running { child, url: String::new(), output: Vec::new() };
    let mut lines = BufReader::new(running.child.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("crossfed cloud exited before listening").unwrap();
        running.output.push(line.clone());
        if let Some(url) = line.split("listening on ").nth(1) {
            running.url = url.trim().to_string();
            // Keep draining the output, as a terminal would.
            std::thread::spawn(move || lines.for_each(drop));
            return running;
        }
    }
}

fn stop(mut running: Running) {
    Command::new("kill").arg("-TERM").arg(running.child.id().to_string()).status().unwrap();
    let status = running.child.wait().unwrap();
    assert!(status.success(), "crossfed cloud did not stop cleanly: {status}");
}

#[test]
fn configuration_is_applied_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate_rsa("hub", crossfed_clock::Clock::system().now(), 30).unwrap();
    let metadata = EntityDescriptor::idp(
        "https://hub.example.com/saml/idp/connect",
        vec![key.certificate().clone()],
        vec![Endpoint::post("https://hub.example.com/saml/sso")],
    )
    .to_xml();
    std::fs::write(dir.path().join("hub-metadata.xml"), metadata).unwrap();
    // The metadata is also published over HTTP, as the hub publishes it.
    let metadata_port = free_port();
    let mut metadata_server = Command::new("python3")
        .args(["-m", "http.server", &metadata_port.to_string(), "--bind", "127.0.0.1", "--directory"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(metadata_port);
    let config = dir.path().join("cloud.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[account]
id = "123456789012"
name = "internal-services"

[admin]
access_key_id = "{ADMIN_KEY}"
secret_access_key = "{ADMIN_SECRET}"

[[saml_providers]]
name = "Hub"
metadata_file = "hub-metadata.xml"

[[saml_providers]]
name = "HubByUrl"
metadata_url = "http://127.0.0.1:{metadata_port}/hub-metadata.xml"

[[connect_instances]]
alias = "internal-services"
identity_management = "SAML"

[[connect_instances.users]]
username = "alice@example.com"
first_name = "Alice"

[[connect_instances.users]]
username = "carol@example.com"

[[roles]]
name = "ConnectAgent"
max_session_duration = 43200
trust_saml_provider = "Hub"
connect_federation = ["internal-services"]
"#
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let port = free_port();

    let first = start(&config, &data, port);
    assert!(
        first.output.iter().any(|l| l.contains("created Connect instance internal-services")),
        "{:?}",
        first.output
    );
    let check = |url: &str| {
        run_peer_json(
            "boto3_calls.py",
            &json!({
                "endpoint": url, "admin": {"access_key_id": ADMIN_KEY, "secret_access_key": ADMIN_SECRET},
                "calls": [
                    {"service": "connect", "operation": "list_instances"},
                    {"service": "iam", "operation": "get_role", "params": {"RoleName": "ConnectAgent"}},
                    {"service": "iam", "operation": "get_role_policy", "params": {"RoleName": "ConnectAgent", "PolicyName": "connect-federation-internal-services"}},
                    {"service": "iam", "operation": "list_saml_providers"},
                ]
            }),
        )
    };
    let results = check(&first.url);
    let instances = results[0]["result"]["InstanceSummaryList"].as_array().unwrap().clone();
    assert_eq!(instances.len(), 1, "{results}");
    assert_eq!(instances[0]["InstanceAlias"], "internal-services");
    assert_eq!(results[1]["result"]["Role"]["MaxSessionDuration"], 43200);
    let policy = results[2]["result"]["PolicyDocument"].to_string();
    assert!(
        policy.contains(&format!("instance/{}/user/${{aws:userid}}", instances[0]["Id"].as_str().unwrap())),
        "{policy}"
    );
    let role_id = results[1]["result"]["Role"]["RoleId"].clone();
    let providers = results[3]["result"]["SAMLProviderList"].as_array().unwrap();
    assert_eq!(providers.len(), 2, "{results}");

    // The AWS CLI works against the same endpoint.
    let aws = |args: &[&str]| {
        let out = Command::new(crossfed_testkit::aws_cli())
            .args(["--endpoint-url", &first.url, "--region", "us-east-1", "--output", "json"])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", ADMIN_KEY)
            .env("AWS_SECRET_ACCESS_KEY", ADMIN_SECRET)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .unwrap();
        assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(aws(&["sts", "get-caller-identity"])["Arn"], "arn:aws:iam::123456789012:root");
    let listed = aws(&["connect", "list-users", "--instance-id", instances[0]["Id"].as_str().unwrap()]);
    let mut usernames: Vec<&str> =
        listed["UserSummaryList"].as_array().unwrap().iter().map(|u| u["Username"].as_str().unwrap()).collect();
    usernames.sort();
    assert_eq!(usernames, ["alice@example.com", "carol@example.com"]);
    stop(first);

    // Again, on the same data: nothing to change, nothing lost.
    let second = start(&config, &data, port);
    assert!(!second.output.iter().any(|l| l.starts_with("config:")), "{:?}", second.output);
    let results = check(&second.url);
    assert_eq!(results[0]["result"]["InstanceSummaryList"].as_array().unwrap().len(), 1);
    assert_eq!(results[1]["result"]["Role"]["RoleId"], role_id);
    stop(second);
    metadata_server.kill().unwrap();
    metadata_server.wait().unwrap();
}

fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("nothing listens on port {port}");
}

#[test]
fn configuration_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cloud.toml");
    std::fs::write(
        &config,
        "[[roles]]\nname = \"R\"\nconnect_federation = [\"missing\"]\ntrust_saml_provider = \"Hub\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["cloud", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("connect_federation names \"missing\""), "{stderr}");

    std::fs::write(&config, "[account]\nid = \"123\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_crossfed")).args(["cloud", "--config"]).arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("must be 12 digits"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    std::fs::write(&config, "[account]\nid = \"123456789012\"\nbogus = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_crossfed")).args(["cloud", "--config"]).arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bogus"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn unreachable_metadata_url_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cloud.toml");
    let port = free_port();
    std::fs::write(
        &config,
        format!("[[saml_providers]]\nname = \"Hub\"\nmetadata_url = \"http://127.0.0.1:{port}/metadata\"\n"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["cloud", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("cannot fetch metadata from http://127.0.0.1:{port}/metadata")), "{stderr}");
}

//! The admin subcommands against a real `crossfed serve`: SCIM tokens created, listed and
//! revoked; provisioning status showing a failing connector with its reason (and exit status 1),
//! and clear errors without a token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

pub(crate) struct Served {
    child: Child,
    pub(crate) url: String,
    pub(crate) token_file: std::path::PathBuf,
    /// The first lines the hub printed, up to the one saying where it listens.
    pub(crate) said: Vec<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `crossfed serve` with the configuration `config` and its data in `data`, until dropped.
pub(crate) fn serve_with(config: &std::path::Path, data: &std::path::Path) -> Served {
    let child = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Owned by the guard from here on, so the process is reaped whatever happens.
    let token_file = data.join("admin-token");
    let mut served = Served { child, url: String::new(), token_file, said: Vec::new() };
    let mut lines = BufReader::new(served.child.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("crossfed serve exited early").unwrap();
        served.said.push(line.clone());
        if let Some(url) = line.strip_prefix("crossfed hub listening on ") {
            served.url = url.to_string();
            std::thread::spawn(move || lines.for_each(drop));
            return served;
        }
    }
}

fn serve() -> (Served, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    // A SCIM target nobody listens on: its connector fails, with the reason recorded.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(
        &config,
        format!(
            "[provisioning]\nretry_base_seconds = 60\n[[provisioning.scim]]\nname = \"downstream\"\nurl = \"http://{dead}/scim/v2\"\ntoken = \"t\"\n\n[[users]]\nuser_name = \"alice\"\nemail = \"alice@example.com\"\n"
        ),
    )
    .unwrap();
    (serve_with(&config, &dir.path().join("data")), dir)
}

fn crossfed(served: &Served, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(args)
        .args(["--hub", &served.url, "--token-file"])
        .arg(&served.token_file)
        .env_remove("CROSSFED_ADMIN_TOKEN")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn scim_tokens_round_trip_through_the_cli() {
    let (served, _dir) = serve();
    let created = crossfed(&served, &["scim-tokens", "create", "entra", "--expires-in-days", "30", "--json"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let issued: serde_json::Value = serde_json::from_str(&stdout(&created)).unwrap();
    let token = issued["token"].as_str().unwrap();
    assert!(token.starts_with("cfscim_"));
    // The token opens the SCIM server.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{}/scim/v2/Users", served.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    let listed = stdout(&crossfed(&served, &["scim-tokens", "list"]));
    assert!(listed.contains("entra") && listed.contains("live") && !listed.contains(token), "{listed}");
    let id = issued["id"].as_str().unwrap();
    let revoked = crossfed(&served, &["scim-tokens", "revoke", id]);
    assert!(stdout(&revoked).contains("revoked SCIM token entra"));
    assert!(stdout(&crossfed(&served, &["scim-tokens", "list"])).contains("revoked"));
    // Without a token the command says where it looked.
    let missing = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["scim-tokens", "list", "--hub", &served.url, "--token-file", "/nonexistent/admin-token"])
        .env_remove("CROSSFED_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--token, CROSSFED_ADMIN_TOKEN or --token-file"));
    let wrong = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["scim-tokens", "list", "--hub", &served.url, "--token", "cfadm_wrong"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("401"), "{}", String::from_utf8_lossy(&wrong.stderr));
}

#[test]
fn provisioning_status_names_the_failing_connector_and_its_reason() {
    let (served, _dir) = serve();
    let synced = crossfed(&served, &["provisioning", "sync"]);
    assert_eq!(synced.status.code(), Some(1), "a failed record makes the exit status 1");
    let table = stdout(&synced);
    assert!(table.contains("scim:downstream") && table.contains("alice") && table.contains("failed"), "{table}");
    assert!(table.contains("unreachable"), "{table}");
    let status = crossfed(&served, &["provisioning", "status", "--connector", "scim:downstream", "--json"]);
    let listing: serde_json::Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(listing["items"][0]["state"], "failed");
    assert!(listing["items"][0]["next_attempt_at"].as_i64().unwrap() > 0);
}

#[test]
fn keys_rotate_stages_then_activates() {
    let (served, _dir) = serve();
    let data = served.token_file.parent().unwrap().to_path_buf();
    let rotate = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_crossfed"))
            .args(["keys", "rotate", "--data-dir"])
            .arg(&data)
            .args(args)
            .output()
            .unwrap()
    };
    let early = rotate(&["--activate"]);
    assert!(!early.status.success());
    assert!(String::from_utf8_lossy(&early.stderr).contains("no next key is staged"));
    let staged = rotate(&[]);
    assert!(staged.status.success(), "{}", String::from_utf8_lossy(&staged.stderr));
    assert!(stdout(&staged).contains("staged the next assertion key"), "{}", stdout(&staged));
    assert!(data.join("signing-next.crt").exists());
    let activated = rotate(&["--activate"]);
    assert!(stdout(&activated).contains("the assertion key is now sha256"), "{}", stdout(&activated));
    assert!(data.join("signing-previous.key").exists() && !data.join("signing-next.key").exists());
    let retired = rotate(&["--retire"]);
    assert!(stdout(&retired).contains("is retired"), "{}", stdout(&retired));
    assert!(!data.join("signing-previous.key").exists() && data.join("signing.key").exists());

    // The request key is a role of its own: rotating it leaves the assertion key alone.
    let assertion = std::fs::read(data.join("signing.crt")).unwrap();
    let staged = rotate(&["--role", "request"]);
    assert!(stdout(&staged).contains("staged the next request key"), "{}", String::from_utf8_lossy(&staged.stderr));
    assert!(data.join("request-next.crt").exists());
    assert_eq!(std::fs::read(data.join("signing.crt")).unwrap(), assertion);
    let unknown = rotate(&["--role", "decryption"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown key role \"decryption\""));
}

fn crossfed_with_stdin(served: &Served, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(args)
        .args(["--hub", &served.url, "--token-file"])
        .arg(&served.token_file)
        .env_remove("CROSSFED_ADMIN_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The day-to-day commands: a Connect application from its template, a user with a password
/// from standard input, a group, assignments, a preview naming the Connect user, the metadata
/// for the target account's IAM SAML provider, and refusals that say what to fix.
#[test]
fn apps_users_groups_assignments_and_metadata_from_the_command_line() {
    let (served, _dir) = serve();
    let ok = |output: Output| {
        assert!(output.status.success(), "{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr));
        stdout(&output)
    };
    let added = ok(crossfed(
        &served,
        &[
            "apps",
            "add",
            "--template",
            "amazon-connect",
            "--id",
            "connect",
            "--name",
            "Contact center",
            "--account-id",
            "222222222222",
            "--region",
            "eu-west-2",
            "--instance-id",
            "11111111-2222-3333-4444-555555555555",
            "--role-name",
            "ConnectAgents",
            "--provider-name",
            "crossfed",
        ],
    ));
    assert!(added.contains("added application connect (amazon-connect)"), "{added}");
    let refused = crossfed(&served, &["apps", "add", "--template", "amazon-connect", "--id", "x", "--name", "X"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("needs --account-id"));
    let bad = crossfed(
        &served,
        &[
            "apps",
            "add",
            "--template",
            "custom",
            "--id",
            "crm",
            "--name",
            "CRM",
            "--acs-url",
            "https://crm.example.com/acs",
        ],
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("give acs_url and audience"), "{bad:?}");

    let user = crossfed_with_stdin(
        &served,
        &["users", "add", "bob@example.com", "--email", "bob@example.com", "--password-stdin"],
        "bob-password-123\n",
    );
    assert!(user.status.success(), "{user:?}");
    ok(crossfed(&served, &["groups", "add", "Agents", "--member", "bob@example.com"]));
    let listed = ok(crossfed(&served, &["users", "list"]));
    assert!(listed.contains("bob@example.com") && listed.contains("Agents"), "{listed}");

    let preview = crossfed(&served, &["apps", "preview", "connect", "--user", "bob@example.com"]);
    assert_eq!(preview.status.code(), Some(1), "not assigned yet: {}", stdout(&preview));
    assert!(stdout(&preview).contains("is not assigned to connect"));
    ok(crossfed(&served, &["assign", "connect", "--group", "Agents"]));
    let preview = ok(crossfed(&served, &["apps", "preview", "connect", "--user", "bob@example.com"]));
    assert!(preview.contains("RoleSessionName = bob@example.com"), "{preview}");
    assert!(preview.contains("arn:aws:iam::222222222222:role/ConnectAgents"), "{preview}");
    let list = ok(crossfed(&served, &["apps", "list"]));
    assert!(list.contains("connect") && list.contains("group:Agents"), "{list}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("idp.xml");
    ok(crossfed(&served, &["metadata", "app", "connect", "--out", file.to_str().unwrap()]));
    let xml = std::fs::read_to_string(&file).unwrap();
    assert!(xml.contains(&format!("entityID=\"{}/saml/apps/connect\"", served.url)), "{xml}");
    // This hub signs people in itself, so it has no SP side to register anywhere.
    let sp = crossfed(&served, &["metadata", "sp"]);
    assert!(String::from_utf8_lossy(&sp.stderr).contains("this hub has no identity source"), "{sp:?}");
    let missing = crossfed(&served, &["metadata", "app", "nope"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404"));

    ok(crossfed(&served, &["unassign", "connect", "--group", "Agents"]));
    let again = crossfed(&served, &["unassign", "connect", "--group", "Agents"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not assigned"), "{again:?}");
    ok(crossfed(&served, &["users", "disable", "bob@example.com"]));
    assert!(ok(crossfed(&served, &["users", "list"])).contains("disabled"));
    ok(crossfed(&served, &["apps", "remove", "connect"]));
    assert!(!ok(crossfed(&served, &["apps", "list"])).contains("connect"));
}

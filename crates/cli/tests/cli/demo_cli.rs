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
                assert!(
                    crossfed_testkit::browser::unescape(&page)
                        .contains("No Amazon Connect user named \"bob@example.com\""),
                    "{page}"
                )
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
    let base_url = format!("http://127.0.0.1:{}", base + 1);
    let shots = run_browser_script(dir.path(), "demo_browser.mjs", "demo-screenshots", &[&base_url, "demo-password-1"]);
    for shot in [
        "1-corp-sign-in.png",
        "2-hub-portal.png",
        "3-agent-workspace.png",
        "4-bob-no-connect-user.png",
        "5-carol-no-applications.png",
        "6-signed-out.png",
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

/// Runs a Playwright script of the test peers in headless Chromium with `args` and then the
/// screenshot folder; the script must succeed. Returns the folder with the screenshots, kept
/// under the build folder for people to look at.
fn run_browser_script(home: &std::path::Path, script: &str, shots_name: &str, args: &[&str]) -> std::path::PathBuf {
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(shots_name);
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(crossfed_testkit::peer_script(script))
        .args(args)
        .arg(&shots)
        .env("CROSSFED_NODE_PEERS", crossfed_testkit::node_peers_dir())
        // A fresh profile: Chromium's (and Playwright's) per-user folders go to a temporary home.
        .env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .env("XDG_CACHE_HOME", home.join("xdg-cache"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script} failed: {report}\n{}", String::from_utf8_lossy(&out.stderr));
    shots
}

/// The links `crossfed check --demo-data-dir` reports broken, as (link, subject).
fn broken_links(data: &std::path::Path) -> Vec<(String, String)> {
    let output = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["check", "--json", "--demo-data-dir"])
        .arg(data)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
    });
    assert_eq!(output.status.success(), report["ok"] == true, "exit status follows the findings");
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["ok"] == false)
        .map(|f| (f["link"].as_str().unwrap().to_string(), f["subject"].as_str().unwrap().to_string()))
        .collect()
}

/// A console session at the demo's hub (signed in with the admin token the demo wrote).
async fn console_session(hub: &str, data: &std::path::Path) -> reqwest::Client {
    let token = std::fs::read_to_string(data.join("hub/admin-token")).unwrap();
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let signed_in = client
        .post(format!("{hub}/admin/login"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("token", token.trim())])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.url().path(), "/admin");
    client
}

/// The (link, subject) rows a console page's findings table marks broken.
fn broken_rows(page: &str) -> Vec<(String, String)> {
    page.split("<tr class=\"finding\"")
        .skip(1)
        .filter(|row| row.contains("data-ok=\"false\""))
        .map(|row| {
            let cells: Vec<&str> = row.split("<td>").skip(1).map(|c| c.split('<').next().unwrap_or("")).collect();
            (cells[0].to_string(), cells[1].to_string())
        })
        .collect()
}

/// The links the console's Checks page reports broken.
async fn console_broken(client: &reqwest::Client, hub: &str) -> Vec<(String, String)> {
    let page = client.get(format!("{hub}/admin/checks")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"summary\""), "{page}");
    broken_rows(&page)
}

fn link(name: &str, subject: &str) -> Vec<(String, String)> {
    vec![(name.to_string(), subject.to_string())]
}

/// `crossfed check` against the running demo: the deliberate gap (bob has no Connect user) is
/// exactly the link reported; once bob's user exists everything passes; then each link of the
/// target account is broken in turn, through the AWS APIs, and named alone, and `--simulate`
/// walks alice to the agent workspace.
#[test]
fn check_names_exactly_the_broken_link_of_the_demo_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo-data");
    let base = free_base_port();
    let (demo, _) = start(&data, base);
    assert_eq!(broken_links(&data), link("connect-user", "bob@example.com"));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // The console's Checks page runs the same checks from inside the hub.
    let hub = format!("http://127.0.0.1:{}", base + 1);
    let console = runtime.block_on(console_session(&hub, &data));
    assert_eq!(runtime.block_on(console_broken(&console, &hub)), link("connect-user", "bob@example.com"));

    let cloud = format!("http://127.0.0.1:{}", base + 2);
    let description: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("demo.json")).unwrap()).unwrap();
    let instance = description["instance_id"].as_str().unwrap().to_string();
    let iam = crossfed_hub::aws::query::QueryClient::new(
        &cloud,
        "us-east-1",
        "AKIADEMOADMIN0000001",
        "demo-password-1",
        crossfed_clock::Clock::system(),
    )
    .unwrap();
    let connect = crossfed_hub::aws::connect::ConnectClient::new(
        crossfed_hub::aws::connect::ConnectEndpoint {
            base_url: cloud.clone(),
            region: "us-east-1".into(),
            access_key_id: "AKIADEMOADMIN0000001".into(),
            secret_access_key: "demo-password-1".into(),
        },
        crossfed_clock::Clock::system(),
    )
    .unwrap();
    runtime.block_on(async {
        let profiles = connect.security_profile_ids(&instance, &["Agent".to_string()]).await.unwrap();
        let routing = connect.routing_profile_id(&instance, "Basic Routing Profile").await.unwrap();
        let bob = crossfed_hub::aws::connect::NewConnectUser {
            username: "bob@example.com",
            first_name: Some("Bob"),
            last_name: Some("Example"),
            email: None,
            security_profile_ids: &profiles,
            routing_profile_id: &routing,
        };
        connect.create_user(&instance, &bob).await.unwrap();
    });
    assert_eq!(broken_links(&data), vec![], "every link holds once bob has his Connect user");

    // The accounts named by a hub configuration: the entry for the application's account is
    // used, not the first one listed.
    let hub_config = dir.path().join("accounts.toml");
    let entry = |account: &str| {
        format!(
            "[[target_accounts]]\naccount_id = \"{account}\"\nendpoint = \"{cloud}\"\naccess_key_id = \"AKIADEMOADMIN0000001\"\nsecret_access_key = \"demo-password-1\"\n"
        )
    };
    std::fs::write(&hub_config, entry("999999999999") + &entry("123456789012")).unwrap();
    let checked = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["check", "--json", "--hub", &hub, "--token-file"])
        .arg(data.join("hub/admin-token"))
        .arg("--hub-config")
        .arg(&hub_config)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{said}{}", String::from_utf8_lossy(&checked.stderr));
    assert!(said.contains("keys reach account 123456789012"), "{said}");

    let provider = "arn:aws:iam::123456789012:saml-provider/CrossfedHub";
    let call = |action: &str, params: &[(&str, &str)]| runtime.block_on(iam.call("iam", action, params)).unwrap();
    let hub_metadata = runtime.block_on(iam.saml_provider_metadata(provider)).unwrap();

    // The provider trusts another certificate (the hub's key was replaced, say).
    let stranger =
        crossfed_xmldsig::SigningKey::generate_rsa("stranger", crossfed_clock::Clock::system().now(), 30).unwrap();
    let entity = crossfed_saml::EntityDescriptor::parse(hub_metadata.as_bytes()).unwrap();
    let forged = crossfed_saml::EntityDescriptor::idp(
        &entity.entity_id,
        vec![stranger.certificate().clone()],
        vec![crossfed_saml::Endpoint::redirect("https://example.com/sso")],
    )
    .to_xml();
    call("UpdateSAMLProvider", &[("SAMLProviderArn", provider), ("SAMLMetadataDocument", &forged)]);
    assert_eq!(broken_links(&data), link("provider-certificate", "connect"));
    call("UpdateSAMLProvider", &[("SAMLProviderArn", provider), ("SAMLMetadataDocument", &hub_metadata)]);

    // The role trusts the provider for another sign-in URL (SAML:aud).
    let role = runtime.block_on(iam.role("ConnectAgent")).unwrap();
    let other_aud = role.trust_policy.replace(&format!("{cloud}/saml"), "https://signin.aws.amazon.com/saml");
    assert_ne!(other_aud, role.trust_policy);
    call("UpdateAssumeRolePolicy", &[("RoleName", "ConnectAgent"), ("PolicyDocument", &other_aud)]);
    assert_eq!(broken_links(&data), link("role-trust", "connect"));
    call("UpdateAssumeRolePolicy", &[("RoleName", "ConnectAgent"), ("PolicyDocument", &role.trust_policy)]);

    // The role loses the policy allowing GetFederationToken.
    let policies = runtime.block_on(iam.inline_policies("ConnectAgent")).unwrap();
    for (name, _) in &policies {
        call("DeleteRolePolicy", &[("RoleName", "ConnectAgent"), ("PolicyName", name)]);
    }
    assert_eq!(broken_links(&data), link("federation-policy", "connect"));
    for (name, document) in &policies {
        call("PutRolePolicy", &[("RoleName", "ConnectAgent"), ("PolicyName", name), ("PolicyDocument", document)]);
    }
    assert_eq!(broken_links(&data), vec![]);
    assert_eq!(runtime.block_on(console_broken(&console, &hub)), vec![]);

    // The hub's side: an application sending assertions to another sign-in URL, and one whose
    // relay state names an instance the account does not have. They are added through the admin
    // API beside the demo's own, which belongs to its configuration file; each application is its
    // own issuer, so each gets its own SAML provider, trusted by the role like the demo's.
    let token = std::fs::read_to_string(data.join("hub/admin-token")).unwrap().trim().to_string();
    let api = reqwest::Client::new();
    let definition: serde_json::Value = runtime.block_on(async {
        let r = api.get(format!("{hub}/api/v1/applications/connect")).bearer_auth(&token).send().await.unwrap();
        r.json::<serde_json::Value>().await.unwrap()["definition"]["amazon_connect"].clone()
    });
    for (id, field, value, broken) in [
        ("connect-signin", "signin_url", format!("{cloud}/saml-elsewhere"), "signin-url"),
        ("connect-relay", "instance_id", "00000000-0000-4000-8000-000000000000".to_string(), "relay-state"),
    ] {
        let provider_name = format!("Crossfed-{id}");
        let mut connect = definition.clone();
        connect[field] = serde_json::Value::String(value);
        connect["provider_name"] = serde_json::Value::String(provider_name.clone());
        let metadata = runtime.block_on(async {
            let app = serde_json::json!({"id": id, "name": id, "amazon_connect": connect});
            let created = api.post(format!("{hub}/api/v1/applications")).bearer_auth(&token).json(&app).send();
            assert_eq!(created.await.unwrap().status(), 201);
            let path = format!("{hub}/api/v1/applications/{id}/assignments/users/alice@example.com");
            assert!(api.put(path).bearer_auth(&token).send().await.unwrap().status().is_success());
            api.get(format!("{hub}/saml/apps/{id}/metadata")).send().await.unwrap().text().await.unwrap()
        });
        call("CreateSAMLProvider", &[("Name", &provider_name), ("SAMLMetadataDocument", &metadata)]);
        let arn = format!("arn:aws:iam::123456789012:saml-provider/{provider_name}");
        let mut trust: serde_json::Value = serde_json::from_str(&role.trust_policy).unwrap();
        let federated = trust["Statement"][0]["Principal"]["Federated"].clone();
        trust["Statement"][0]["Principal"]["Federated"] = serde_json::json!([federated, arn]);
        call("UpdateAssumeRolePolicy", &[("RoleName", "ConnectAgent"), ("PolicyDocument", &trust.to_string())]);

        assert_eq!(broken_links(&data), link(broken, id));
        assert_eq!(runtime.block_on(console_broken(&console, &hub)), link(broken, id));

        runtime.block_on(async {
            let deleted = api.delete(format!("{hub}/api/v1/applications/{id}")).bearer_auth(&token).send();
            assert!(deleted.await.unwrap().status().is_success());
        });
        call("UpdateAssumeRolePolicy", &[("RoleName", "ConnectAgent"), ("PolicyDocument", &role.trust_policy)]);
        call("DeleteSAMLProvider", &[("SAMLProviderArn", &arn)]);
    }
    assert_eq!(broken_links(&data), vec![]);

    // The console walks alice through the chain too.
    let page = runtime.block_on(async {
        let checks = console.get(format!("{hub}/admin/checks")).send().await.unwrap().text().await.unwrap();
        let csrf = crossfed_testkit::browser::field(&checks, "csrf").to_string();
        let walked = console
            .post(format!("{hub}/admin/checks/simulate"))
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[("csrf", csrf.as_str()), ("user", "alice@example.com")])
            .send();
        walked.await.unwrap().text().await.unwrap()
    });
    assert!(
        page.contains("Simulated sign-in of alice@example.com") && page.contains("federated into Connect"),
        "{page}"
    );

    let walked = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["check", "--simulate", "alice@example.com", "--demo-data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&walked.stdout);
    assert!(walked.status.success(), "{text}");
    assert!(text.contains("federated into Connect, landed on") && text.contains("/agent-app-v2"), "{text}");
    interrupt(demo);
}

/// The admin console in headless Chromium against the running demo, signed in with the token the
/// demo wrote: every page, a preview, an assignment, a custom application added from the catalog
/// and its mappings edited, rotation, the checks, and the error states; screenshots kept.
#[test]
fn the_admin_console_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo-data");
    let base = free_base_port();
    let (demo, _) = start(&data, base);
    let token = std::fs::read_to_string(data.join("hub/admin-token")).unwrap();
    let base_url = format!("http://127.0.0.1:{}", base + 1);
    let shots = run_browser_script(
        dir.path(),
        "console_browser.mjs",
        "console-screenshots",
        &[&base_url, token.trim(), "demo-password-1"],
    );
    for shot in [
        "console-0-wrong-token.png",
        "console-1-overview.png",
        "console-3-preview.png",
        "console-8-keys.png",
        "console-10-test-sign-in.png",
        "console-12-checks.png",
        "console-14-mapping-draft.png",
        "console-16-checks-after-staging.png",
    ] {
        assert!(shots.join(shot).exists(), "missing screenshot {shot}");
    }
    interrupt(demo);
}

/// `crossfed keys` from a shell against the demo: the status names every role and corp as the
/// request key's peer; a dry run changes nothing; the rollover of the assertion key updates the
/// account's SAML provider, verifies it, activates, waits for the hub to follow and retires, and
/// the checks then find nothing broken but the demo's deliberate gap.
#[test]
fn keys_roll_over_from_the_shell_against_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo-data");
    let base = free_base_port();
    let (demo, _) = start(&data, base);
    let hub = format!("http://127.0.0.1:{}", base + 1);
    let keys = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_crossfed"))
            .arg("keys")
            .args(args)
            .args(["--hub", &hub, "--token-file"])
            .arg(data.join("hub/admin-token"))
            .env_remove("CROSSFED_ADMIN_TOKEN")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        (out.status.code(), said + &String::from_utf8_lossy(&out.stderr))
    };

    let (code, status) = keys(&["status"]);
    assert_eq!(code, Some(0), "{status}");
    assert!(
        status.contains("request — one key, signing") && status.contains("assertion — one key, signing"),
        "{status}"
    );
    assert!(status.contains("peer identity source") && status.contains("current key trusts"), "{status}");
    assert!(
        status.contains("peer account 123456789012 provider CrossfedHub (application connect): current key trusts"),
        "{status}"
    );

    let (code, dry) = keys(&["rollover", "--role", "assertion", "--dry-run"]);
    assert_eq!(code, Some(0), "{dry}");
    assert!(dry.contains("assertion key (dry run): steady") && dry.contains("would stage a next key"), "{dry}");

    let (code, rolled) = keys(&["rollover", "--role", "assertion"]);
    assert_eq!(code, Some(0), "{rolled}");
    assert!(rolled.contains("step: staged the next key") && rolled.contains("step: activated the key"), "{rolled}");
    assert!(rolled.contains("account 123456789012 provider CrossfedHub (application connect): now lists"), "{rolled}");
    assert!(
        rolled.contains("verified: arn:aws:sts::123456789012:assumed-role/ConnectAgent/crossfed-key-check"),
        "{rolled}"
    );
    assert!(rolled.contains("waiting") && rolled.contains("step: retired the previous key"), "{rolled}");
    assert!(rolled.contains("done: one key, trusted by every peer the hub can ask"), "{rolled}");

    // The chain is whole again with the new key: only the deliberate gap remains, and alice
    // still reaches the agent workspace.
    assert_eq!(broken_links(&data), link("connect-user", "bob@example.com"));
    let landing = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(crossfed_testkit::browser::reference_chain_journey(&hub, "connect", "alice", "demo-password-1"));
    assert!(
        matches!(&landing, crossfed_testkit::browser::Landing::Page(200, page) if page.contains("Agent workspace")),
        "{landing:?}"
    );
    interrupt(demo);
}

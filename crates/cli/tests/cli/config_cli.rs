//! `crossfed serve --check-config` checks a configuration without listening or touching the data
//! folder: secrets from files and environment variables, unknown keys named with their table and
//! line, every problem said at once; a start reads secrets from the environment the same way and
//! never says them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;
use std::process::{Command, Output};

fn check(config: &Path, data: &Path, listen: &str, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_crossfed"));
    command.args(["serve", "--check-config", "--listen", listen, "--config"]).arg(config).arg("--data-dir").arg(data);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

const GOOD: &str = r#"[hub]
session_idle_minutes = 30

[[users]]
user_name = "alice"
email = "alice@example.com"
password_env = "CROSSFED_TEST_ALICE_PASSWORD"

[provisioning]
[[provisioning.scim]]
name = "downstream"
url = "https://downstream.example.com/scim/v2"
token_file = "TOKEN_FILE"

[target_account]
access_key_id = "AKIAEXAMPLE"
secret_access_key_env = "CROSSFED_TEST_TARGET_SECRET"

[[applications]]
id = "wiki"
name = "Team wiki"
[applications.custom]
acs_url = "https://wiki.example.com/saml/acs"
audience = "https://wiki.example.com"
"#;

#[test]
fn a_good_configuration_is_ok_without_listening_or_touching_the_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("scim-token");
    std::fs::write(&token_file, "scim-secret-value\n").unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, GOOD.replace("TOKEN_FILE", token_file.to_str().unwrap())).unwrap();
    let data = dir.path().join("data");
    // The port is taken: a check that tried to listen would fail.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let env = [
        ("CROSSFED_TEST_ALICE_PASSWORD", "alice-secret-value"),
        ("CROSSFED_TEST_TARGET_SECRET", "target-secret-value"),
    ];
    let checked = check(&config, &data, &listen, &env);
    assert!(checked.status.success(), "{}", text(&checked));
    assert_eq!(String::from_utf8_lossy(&checked.stdout).trim(), "configuration OK");
    assert!(!data.exists(), "the check created the data folder");

    // Without the environment variables, each is named, and no secret value is said.
    let checked = check(&config, &data, &listen, &[]);
    let said = text(&checked);
    assert_eq!(checked.status.code(), Some(2), "{said}");
    assert!(
        said.contains(
            "user alice: password_env names the environment variable CROSSFED_TEST_ALICE_PASSWORD, which is not set"
        ),
        "{said}"
    );
    assert!(
        said.contains(
            "target_account: secret_access_key_env names the environment variable CROSSFED_TEST_TARGET_SECRET"
        ),
        "{said}"
    );
    assert!(!said.contains("secret-value") && !said.contains("configuration OK"), "{said}");
}

#[test]
fn every_problem_is_said_and_unknown_keys_are_named_with_their_table_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("hub.toml");
    let unknown = GOOD.replace(
        "audience = \"https://wiki.example.com\"",
        "audience = \"https://wiki.example.com\"\nacs_urll = \"x\"",
    );
    std::fs::write(&config, &unknown).unwrap();
    let checked = check(&config, &data, "127.0.0.1:0", &[]);
    let said = text(&checked);
    assert_eq!(checked.status.code(), Some(2), "{said}");
    let line = unknown[..unknown.find("acs_urll").unwrap()].matches('\n').count() + 1;
    assert!(said.contains(&format!("line {line}: unknown key `acs_urll` in table `applications[0].custom`")), "{said}");

    std::fs::write(&config, GOOD.replace("[hub]\n", "[hub]\nbase_url = \"https://hub.example.com\"\nlisten = \"x\"\n"))
        .unwrap();
    let said = text(&check(&config, &data, "127.0.0.1:0", &[]));
    assert!(said.contains("line 3: unknown key `listen` in table `hub`"), "{said}");
    std::fs::write(&config, format!("colour = \"blue\"\n{GOOD}")).unwrap();
    let said = text(&check(&config, &data, "127.0.0.1:0", &[]));
    assert!(said.contains("line 1: unknown key `colour` in the top level"), "{said}");

    let broken = GOOD
        .replace("session_idle_minutes = 30", "session_idle_minutes = 0")
        .replace("token_file = \"TOKEN_FILE\"", "token = \"t\"\nuser_name = \"${user:nosuch}\"")
        .replace(
            "audience = \"https://wiki.example.com\"",
            "audience = \"https://wiki.example.com\"\nname_id = \"${user:\"",
        )
        .replace(
            "secret_access_key_env = \"CROSSFED_TEST_TARGET_SECRET\"",
            "secret_access_key = \"k\"\nsecret_access_key_env = \"V\"",
        );
    std::fs::write(&config, broken).unwrap();
    let checked = check(&config, &data, "127.0.0.1:0", &[("CROSSFED_TEST_ALICE_PASSWORD", "p")]);
    let said = text(&checked);
    assert_eq!(checked.status.code(), Some(2), "{said}");
    let problems: Vec<&str> = said.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(problems.len(), 4, "each problem on a line of its own: {said}");
    assert!(said.contains("hub.session_idle_minutes is 0: give 1 to 10080 minutes"), "{said}");
    assert!(said.contains("provisioning target downstream: user_name"), "{said}");
    assert!(said.contains("target_account: give one of secret_access_key, secret_access_key_file or secret_access_key_env, not several"), "{said}");
    assert!(said.contains("application wiki"), "{said}");
    assert!(!data.exists());
}

#[test]
fn a_start_reads_a_secret_from_the_environment_and_names_a_missing_variable() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(
        &config,
        "[[users]]\nuser_name = \"alice\"\nemail = \"alice@example.com\"\npassword_env = \"CROSSFED_TEST_ALICE_PASSWORD\"\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let refused = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .env_remove("CROSSFED_TEST_ALICE_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused).contains("CROSSFED_TEST_ALICE_PASSWORD, which is not set"), "{}", text(&refused));

    let mut child = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .env("CROSSFED_TEST_ALICE_PASSWORD", "alice-secret-value")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let mut said = Vec::new();
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let listening = line.starts_with("crossfed hub listening on ");
        said.push(line);
        if listening {
            break;
        }
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let all = format!("{}{}", said.join("\n"), String::from_utf8_lossy(&output.stderr));
    assert!(all.contains("set the password of alice"), "{all}");
    assert!(!all.contains("alice-secret-value"), "the password is said: {all}");
}

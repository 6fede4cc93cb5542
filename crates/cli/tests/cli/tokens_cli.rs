//! Token rotation from the command line against a real `crossfed serve`: `scim-tokens rotate`
//! prints the new token once and when the old one stops, both work during the overlap, a second
//! rotation of the same token is refused; `admin-tokens` creates, lists and rotates with no
//! overlap; and a restarted hub logs a WARN line naming a token that expires within 30 days and
//! the command that rotates it. On PostgreSQL when `CROSSFED_TEST_DATABASE=postgres`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Served {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log has a line containing every one of `words`, and returns it.
    fn wait_for_line(&self, words: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|l| words.iter().all(|w| l.contains(w))) {
                return line.to_string();
            }
            assert!(Instant::now() < deadline, "no log line with {words:?}: {log}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `crossfed serve` on `dir`'s configuration and data (and `database`, if given), its log in
/// `dir/NAME.log`, once it listens.
fn serve(dir: &Path, name: &str, database: Option<&str>) -> Served {
    let log = dir.join(format!("{name}.log"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_crossfed"));
    command.args(["serve", "--listen", "127.0.0.1:0", "--config"]).arg(dir.join("hub.toml"));
    command.arg("--data-dir").arg(dir.join("data"));
    if let Some(url) = database {
        command.args(["--database-url", url]);
    }
    let file = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
    let child = command.stdout(Stdio::piped()).stderr(file).spawn().unwrap();
    let mut served = Served { child, url: String::new(), log };
    let mut lines = BufReader::new(served.child.stdout.take().unwrap()).lines();
    loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("crossfed serve exited before it listened: {}", served.log());
        };
        if let Some(url) = line.strip_prefix("crossfed hub listening on ") {
            served.url = url.to_string();
            std::thread::spawn(move || lines.for_each(drop));
            return served;
        }
    }
}

fn crossfed(served: &Served, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(args)
        .args(["--hub", &served.url, "--token-file"])
        .arg(dir.join("data/admin-token"))
        .env_remove("CROSSFED_ADMIN_TOKEN")
        .output()
        .unwrap()
}

/// The command's standard output; it must have succeeded.
fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// The status of `GET path` at the hub with `token`.
fn status(served: &Served, path: &str, token: &str) -> u16 {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let answer =
            reqwest::Client::new().get(format!("{}{path}", served.url)).bearer_auth(token).send().await.unwrap();
        answer.status().as_u16()
    })
}

/// The token a `create` or `rotate` printed on its first line (after the last `: `).
fn printed_token(out: &str) -> String {
    out.lines().next().unwrap().rsplit_once(": ").unwrap().1.to_string()
}

#[test]
fn tokens_rotate_from_the_command_line_and_a_restarted_hub_warns_of_one_expiring_soon() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hub.toml"), "").unwrap();
    let database = (std::env::var("CROSSFED_TEST_DATABASE").as_deref() == Ok("postgres")).then(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(crossfed_testkit::postgres_test_database("tokens_cli"))
    });
    let served = serve(dir.path(), "first", database.as_deref());
    let d = dir.path();

    // A SCIM token expiring in 10 days is marked in the listing, with the command to run.
    let created = crossfed(&served, d, &["scim-tokens", "create", "entra-prov", "--expires-in-days", "10", "--json"]);
    let issued: serde_json::Value = serde_json::from_str(&succeeded(&created)).unwrap();
    let (old, id) = (issued["token"].as_str().unwrap().to_string(), issued["id"].as_str().unwrap().to_string());
    let listed = succeeded(&crossfed(&served, d, &["scim-tokens", "list"]));
    assert!(listed.contains(&format!("{id}  entra-prov")) && listed.contains("days left)"), "{listed}");
    let rotate_command = format!("crossfed scim-tokens rotate {id} --hub {}", served.url);
    assert!(listed.contains("    ! SCIM token \"entra-prov\"") && listed.contains(&rotate_command), "{listed}");

    // Rotated for a year with an hour of overlap: the new token once, and when the old one stops.
    let rotate = ["scim-tokens", "rotate", &id, "--overlap-hours", "1", "--expires-in-days", "365"];
    let out = succeeded(&crossfed(&served, d, &rotate));
    assert!(out.starts_with("new SCIM token entra-prov ("), "{out}");
    let new = printed_token(&out);
    assert!(new.starts_with("cfscim_") && new != old, "{out}");
    assert!(out.contains("\n  expires: 20"), "{out}");
    assert!(out.contains(&format!("the old token ({id}) keeps working until 20")), "{out}");
    assert_eq!(status(&served, "/scim/v2/Users", &old), 200, "the old token, during the overlap");
    assert_eq!(status(&served, "/scim/v2/Users", &new), 200);
    let listed = succeeded(&crossfed(&served, d, &["scim-tokens", "list"]));
    assert!(listed.contains("rotated") && listed.contains(&format!("rotated from {id}")), "{listed}");
    assert!(!listed.contains('!'), "no warning once rotated: {listed}");

    // The same token again: refused, saying which token replaced it.
    let again = crossfed(&served, d, &["scim-tokens", "rotate", &id]);
    assert!(!again.status.success());
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("409") && said.contains("rotated already"), "{said}");

    // Admin tokens: created, listed, rotated without overlap (the old one stops at once).
    let created = crossfed(&served, d, &["admin-tokens", "create", "ci", "--expires-in-days", "5"]);
    let ci = printed_token(&succeeded(&created));
    let listed = succeeded(&crossfed(&served, d, &["admin-tokens", "list"]));
    let ci_id = listed.lines().find(|l| l.contains(" ci ")).unwrap().split_whitespace().next().unwrap().to_string();
    assert!(listed.contains("bootstrap") && listed.contains("expires never"), "{listed}");
    let out = succeeded(&crossfed(&served, d, &["admin-tokens", "rotate", &ci_id, "--overlap-hours", "0"]));
    let ci_next = printed_token(&out);
    assert!(ci_next.starts_with("cfadm_"), "{out}");
    assert_eq!(status(&served, "/api/v1/users", &ci), 401, "no overlap: the old one stopped");
    assert_eq!(status(&served, "/api/v1/users", &ci_next), 200);
    let listed = succeeded(&crossfed(&served, d, &["admin-tokens", "list"]));
    let successor = listed.lines().find(|l| l.contains(&format!("rotated from {ci_id}"))).unwrap();
    let successor_id = successor.split_whitespace().next().unwrap();

    // Restarted, the hub warns of the admin token that expires in 5 days (the old one's lifetime,
    // kept), naming the command that rotates it; not of the SCIM token rotated for a year.
    drop(served);
    let served = serve(dir.path(), "second", database.as_deref());
    let line = served.wait_for_line(&["WARN", "admin token \"ci\""]);
    let command = format!("`crossfed admin-tokens rotate {successor_id} --hub {}`", served.url);
    // Whole days left: 5 within the second of the rotation, 4 after it.
    let days = line.contains("expires in 5 days") || line.contains("expires in 4 days");
    assert!(line.contains(successor_id) && days && line.contains(&command), "{line}");
    assert!(!served.log().contains("entra-prov"), "{}", served.log());

    // `crossfed check` names the same token, with the command.
    let check =
        ["check", "--target", "http://127.0.0.1:9", "--access-key-id", "AKIAEXAMPLE", "--secret-access-key", "x"];
    let checked = crossfed(&served, d, &check);
    let said = String::from_utf8_lossy(&checked.stdout);
    let named = said.lines().find(|l| l.contains("token-expiry")).unwrap_or_else(|| panic!("{said}"));
    assert!(named.starts_with("✗") && named.contains("admin token ci") && said.contains(successor_id), "{said}");
    assert!(!said.contains("scim token entra-prov"), "the rotated SCIM token is not named: {said}");
}

//! `crossfed backup` and `crossfed restore` against a real hub: a backup taken while clients
//! create users holds every user acknowledged before it started, and a hub started on the
//! restored folder signs with the same certificate and takes the same admin token; a restore
//! refuses a folder a hub serves from, a folder that holds files, and a damaged archive, changing
//! nothing; a PostgreSQL store is pointed to pg_dump.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::admin_cli::serve_with;

const CONFIG: &str = r#"[[users]]
user_name = "alice"
email = "alice@example.com"

[[applications]]
id = "wiki"
name = "Team wiki"
assigned_users = ["alice"]
[applications.custom]
acs_url = "https://wiki.example.com/saml/acs"
audience = "https://wiki.example.com"
"#;

const CLIENTS: usize = 4;

/// Names recorded by the load's clients as they go.
type Names = Arc<Mutex<Vec<String>>>;

fn crossfed(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crossfed")).args(args).output().unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The certificate the hub publishes in the wiki's IdP metadata.
async fn signing_certificate(url: &str) -> String {
    let xml = reqwest::get(format!("{url}/saml/apps/wiki/metadata")).await.unwrap().text().await.unwrap();
    let start = xml.find("<ds:X509Certificate>").expect("a certificate in the metadata") + "<ds:X509Certificate>".len();
    let end = xml[start..].find("</ds:X509Certificate>").unwrap() + start;
    xml[start..end].to_string()
}

/// Every user name of the hub at `url`, page by page.
async fn user_names(url: &str, token: &str) -> BTreeSet<String> {
    let client = reqwest::Client::new();
    let mut names = BTreeSet::new();
    loop {
        let page: serde_json::Value = client
            .get(format!("{url}/api/v1/users?limit=1000&offset={}", names.len()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap();
        names.extend(items.iter().map(|i| i["user_name"].as_str().unwrap().to_string()));
        if items.is_empty() || names.len() as u64 >= page["total"].as_u64().unwrap() {
            return names;
        }
    }
}

/// Users created again and again through the admin API until `stop`: each acknowledged (201)
/// name is recorded the moment its answer came, any other answer is a failure.
fn start_load(
    runtime: &tokio::runtime::Runtime,
    url: &str,
    token: &str,
    stop: &Arc<AtomicBool>,
) -> (Names, Names, Vec<tokio::task::JoinHandle<()>>) {
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let client = reqwest::Client::new();
    let tasks = (0..CLIENTS)
        .map(|c| {
            let (client, url, token, stop) = (client.clone(), url.to_string(), token.to_string(), stop.clone());
            let (acknowledged, failures) = (acknowledged.clone(), failures.clone());
            runtime.spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let name = format!("load-{c}-{n:05}");
                    n += 1;
                    let answer = crate::admin_api::create_user(&client, &url, &token, &name).await;
                    match answer {
                        Ok(r) if r.status() == 201 => acknowledged.lock().unwrap().push(name),
                        Ok(r) => failures.lock().unwrap().push(format!("{name}: HTTP {}", r.status())),
                        Err(e) => failures.lock().unwrap().push(format!("{name}: {e}")),
                    }
                }
            })
        })
        .collect();
    (acknowledged, failures, tasks)
}

/// Waits (polling, generous deadline) until `list` holds at least `count` names.
fn wait_for(list: &Mutex<Vec<String>>, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while list.lock().unwrap().len() < count {
        assert!(Instant::now() < deadline, "the load made {} users, wanted {count}", list.lock().unwrap().len());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_backup_taken_under_load_restores_every_acknowledged_user_and_the_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let data = dir.path().join("data");
    let served = serve_with(&config, &data);
    let token = std::fs::read_to_string(&served.token_file).unwrap().trim().to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let certificate = runtime.block_on(signing_certificate(&served.url));

    let stop = Arc::new(AtomicBool::new(false));
    let (acknowledged, failures, tasks) = start_load(&runtime, &served.url, &token, &stop);
    wait_for(&acknowledged, 200);
    let before: BTreeSet<String> = acknowledged.lock().unwrap().iter().cloned().collect();
    let archive = dir.path().join("backup.tar");
    let backed_up = crossfed(&["backup", "--data-dir", path(&data), "--to", path(&archive)]);
    let during = acknowledged.lock().unwrap().len() - before.len();
    assert!(backed_up.status.success(), "{}", String::from_utf8_lossy(&backed_up.stderr));
    // The load goes on after the backup: the hub kept writing around it.
    wait_for(&acknowledged, before.len() + during + 100);
    stop.store(true, Ordering::SeqCst);
    runtime.block_on(async {
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(failures.lock().unwrap().clone(), Vec::<String>::new(), "every creation under load succeeds");
    let total = acknowledged.lock().unwrap().len();
    eprintln!("{} users acknowledged before the backup, {during} while it ran, {total} in all", before.len());
    drop(served);
    assert_eq!(mode(&archive), 0o600, "the archive holds keys");
    let said = String::from_utf8_lossy(&backed_up.stdout);
    for name in ["hub.db", "signing.key", "signing.crt", "admin-token"] {
        assert!(said.contains(name), "{name} is not in the backup: {said}");
    }

    let restored = dir.path().join("restored");
    let restore = crossfed(&["restore", "--from", path(&archive), "--data-dir", path(&restored)]);
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    assert_eq!(
        (mode(&restored), mode(&restored.join("hub.db")), mode(&restored.join("signing.key"))),
        (0o700, 0o600, 0o600)
    );
    assert_eq!(mode(&restored.join("signing.crt")), 0o644);

    let again = crossfed(&["restore", "--from", path(&archive), "--data-dir", path(&restored)]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds"), "{again:?}");

    let served = serve_with(&config, &restored);
    assert!(
        !served.said.iter().any(|l| l.contains("admin API token written")),
        "the admin token came back: {:?}",
        served.said
    );
    let (names, restored_certificate) =
        runtime.block_on(async { (user_names(&served.url, &token).await, signing_certificate(&served.url).await) });
    let lost: Vec<&String> = before.difference(&names).collect();
    assert!(lost.is_empty(), "{} acknowledged users are missing after the restore: {lost:?}", lost.len());
    assert!(names.contains("alice"));
    assert!(names.len() <= total + 1 + CLIENTS, "the restore holds users nobody made");
    assert_eq!(restored_certificate, certificate, "the restored hub signs with the same key");
}

#[test]
fn a_restore_refuses_a_served_folder_and_a_damaged_archive_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let data = dir.path().join("data");
    let served = serve_with(&config, &data);
    let archive = dir.path().join("backup.tar");
    let backed_up = crossfed(&["backup", "--data-dir", path(&data), "--to", path(&archive)]);
    assert!(backed_up.status.success(), "{}", String::from_utf8_lossy(&backed_up.stderr));

    // Even told to replace, a folder a hub serves from is refused.
    let busy = crossfed(&["restore", "--from", path(&archive), "--data-dir", path(&data), "--replace"]);
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("a hub is serving from"), "{busy:?}");
    drop(served);

    // Cut short, or a byte changed inside the database: refused, and the target stays empty.
    let bytes = std::fs::read(&archive).unwrap();
    let cut = dir.path().join("cut.tar");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let flipped = dir.path().join("flipped.tar");
    let mut changed = bytes.clone();
    let middle = 4096 + (bytes.len() - 8192) / 2;
    changed[middle] ^= 0x01;
    std::fs::write(&flipped, &changed).unwrap();
    for (damaged, says) in [(&cut, "damaged"), (&flipped, "checksum"), (&config, "not a crossfed backup")] {
        let target = dir.path().join("target");
        let refused = crossfed(&["restore", "--from", path(damaged), "--data-dir", path(&target)]);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success() && stderr.contains(says), "{}: {stderr}", damaged.display());
        let left: Vec<String> = std::fs::read_dir(&target)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| !n.ends_with(".lock"))
            .collect();
        assert!(left.is_empty(), "a refused restore wrote {left:?}");
    }

    // With --replace, a stopped hub's folder is restored over: an old write-ahead log is dropped.
    std::fs::write(data.join("hub.db-wal"), b"not a log of this database").unwrap();
    let replaced = crossfed(&["restore", "--from", path(&archive), "--data-dir", path(&data), "--replace"]);
    assert!(replaced.status.success(), "{}", String::from_utf8_lossy(&replaced.stderr));
    assert!(!data.join("hub.db-wal").exists());
    let served = serve_with(&config, &data);
    drop(served);

    let postgres = crossfed(&[
        "backup",
        "--data-dir",
        path(&data),
        "--to",
        path(&dir.path().join("pg.tar")),
        "--database-url",
        "postgres://crossfed:secret-password@127.0.0.1/hub",
    ]);
    let stderr = String::from_utf8_lossy(&postgres.stderr);
    assert!(!postgres.status.success() && stderr.contains("pg_dump") && stderr.contains("--keys-only"), "{stderr}");
    assert!(!stderr.contains("secret-password"), "the password is never said: {stderr}");
    let keys =
        crossfed(&["backup", "--data-dir", path(&data), "--to", path(&dir.path().join("keys.tar")), "--keys-only"]);
    let said = String::from_utf8_lossy(&keys.stdout);
    assert!(keys.status.success() && said.contains("signing.key") && !said.contains("hub.db"), "{said}");
}

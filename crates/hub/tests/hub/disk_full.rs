//! A full disk, for real: the hub's SQLite database and data folder on a small tmpfs (mounting
//! one needs root, as in CI; elsewhere the test says it was skipped). While the disk is full no
//! assertion is answered without its audit record and no write is acknowledged; answers say
//! why (503/507 with the documented body, never 500); once space is freed everything works again
//! without a restart; a first start on the full disk says so and leaves no half-written key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use crossfed_hub::config::HubConfig;
use crossfed_store::{AuditLog, AuditQuery, Store};
use crossfed_testkit::browser::{field, hidden_fields};
use serde_json::json;

use crate::support::{listener, serve, sign_in};

/// A tmpfs of `size` mounted on a fresh folder, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let uid = Command::new("id").arg("-u").output().ok()?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            eprintln!("disk_full: skipped, mounting a tmpfs needs root (CI runs as root)");
            return None;
        }
        let dir = crossfed_testkit::temp_dir().keep();
        let option = format!("size={size}");
        let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", &option, "tmpfs"]).arg(&dir).status();
        assert!(mounted.unwrap().success(), "mount -t tmpfs failed as root");
        Some(SmallDisk(dir))
    }

    /// Fills what is left of the disk; returns the filler, whose removal frees it again.
    fn fill(&self) -> PathBuf {
        let filler = self.0.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if let Err(e) = file.write_all(&chunk).and_then(|()| file.sync_all()) {
                assert!(crossfed_files::is_disk_full(&e), "{e}");
                break;
            }
        }
        // The last bytes too: whatever a partial chunk could still take.
        while file.write_all(&[0u8; 512]).and_then(|()| file.sync_all()).is_ok() {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// A launch of the wiki from `client`'s session: the status, and whether it carried an assertion.
async fn launch(client: &reqwest::Client, hub: &str, csrf: &str) -> (u16, bool, String) {
    let answer = client
        .post(format!("{hub}/apps/wiki/launch"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let page = answer.text().await.unwrap();
    let assertion = hidden_fields(&page).iter().any(|(name, _)| name == "SAMLResponse");
    (status, assertion, page)
}

async fn launches_recorded(store: &Store) -> usize {
    let query = AuditQuery { action: Some("launch".to_string()), limit: Some(10_000), ..AuditQuery::default() };
    let events = store.query(&query).await.unwrap();
    events.iter().filter(|e| e.outcome == crossfed_store::Outcome::Success).count()
}

/// Creates user `name` through the admin API: the status and the body.
async fn create_user(hub: &str, token: &str, name: &str, padding: usize) -> (u16, serde_json::Value) {
    let body = json!({
        "user_name": name,
        "email": format!("{name}@example.com"),
        "attributes": { "padding": "x".repeat(padding) },
    });
    let answer =
        reqwest::Client::new().post(format!("{hub}/api/v1/users")).bearer_auth(token).json(&body).send().await.unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_what_it_cannot_record_and_recovers_when_space_is_freed() {
    let Some(disk) = SmallDisk::mount("6m") else { return };
    let data = disk.0.join("data");
    crossfed_files::private_dir(&data).unwrap();
    let store = Store::connect(&format!("sqlite://{}", data.join("hub.db").display())).await.unwrap();
    let config: HubConfig = toml::from_str(crate::support::ALICE_AND_WIKI).unwrap();
    let (tcp, url) = listener().await;
    let hub = crate::support::build(&config, &store, &data, &url).await;
    let _stop = serve(tcp, Arc::new(hub));
    let token = crate::support::admin_token(&store, &data).await;

    let alice = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let portal = sign_in(&alice, &url, "alice", "alice-password-1").await.text().await.unwrap();
    let csrf = field(&portal, "csrf").to_string();
    let (status, assertion, page) = launch(&alice, &url, &csrf).await;
    assert_eq!((status, assertion), (200, true), "{page}");

    let filler = disk.fill();
    // Writes take what room the database's files still had, then are refused as a full disk.
    let mut refused_writes = 0;
    for n in 0..200 {
        let (status, body) = create_user(&url, &token, &format!("user{n}"), 16 * 1024).await;
        match status {
            201 => continue,
            507 | 503 => {
                assert!(
                    ["insufficient_storage", "audit_unavailable"].contains(&body["error"].as_str().unwrap()),
                    "{body}"
                );
                assert!(body["message"].as_str().unwrap().contains("full"), "{body}");
                refused_writes += 1;
                if refused_writes == 3 {
                    break;
                }
            }
            other => panic!("a write on a full disk answered {other}: {body}"),
        }
    }
    assert_eq!(refused_writes, 3, "the disk never filled up");

    // Every launch is classified: an assertion only with its record stored, else 503 saying why.
    let recorded_before = launches_recorded(&store).await;
    let (mut answered, mut refused) = (0, 0);
    for _ in 0..20 {
        let (status, assertion, page) = launch(&alice, &url, &csrf).await;
        match (status, assertion) {
            (200, true) => answered += 1,
            (503, false) => {
                assert!(page.contains("Audit log unavailable") && page.contains("no assertion was issued"), "{page}");
                refused += 1;
            }
            other => panic!("a launch on a full disk answered {other:?}: {page}"),
        }
    }
    assert!(refused > 0, "no launch met the full disk");
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(launches_recorded(&store).await - recorded_before, answered, "an assertion without its record");

    // Space is back: writes and launches work again without a restart.
    let (status, body) = create_user(&url, &token, "after", 10).await;
    assert_eq!(status, 201, "{body}");
    let group = reqwest::Client::new()
        .post(format!("{url}/api/v1/groups"))
        .bearer_auth(&token)
        .json(&json!({ "display_name": "After the disk filled" }))
        .send()
        .await
        .unwrap();
    assert_eq!(group.status(), 201);
    let (status, assertion, page) = launch(&alice, &url, &csrf).await;
    assert_eq!((status, assertion), (200, true), "{page}");
}

#[tokio::test]
async fn a_first_start_on_a_full_disk_says_so_and_leaves_no_half_written_key() {
    let Some(disk) = SmallDisk::mount("1m") else { return };
    let filler = disk.fill();
    let data = disk.0.join("fresh");
    let store = Store::connect(&format!("sqlite://{}", disk.0.join("hub.db").display())).await.unwrap_err();
    assert!(store.to_string().contains("disk is full") || store.to_string().contains("No space left"), "{store}");
    let _ = std::fs::create_dir(&data);
    let key = crossfed_hub::keys::load_or_create(&data, "hub", crossfed_clock::Clock::system().now()).unwrap_err();
    assert!(key.to_string().contains("No space left on device"), "{key}");
    assert!(!data.join("signing.key").exists() && !data.join("signing.crt").exists(), "nothing half-written");
    // With space again, the same folder starts.
    std::fs::remove_file(&filler).unwrap();
    crossfed_hub::keys::load_or_create(&data, "hub", crossfed_clock::Clock::system().now()).unwrap();
    assert!(complete(&data.join("signing.key")) && complete(&data.join("signing.crt")));
}

fn complete(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}

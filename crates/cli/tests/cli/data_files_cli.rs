//! Files that hold secrets or session material are private: `crossfed serve` creates its data
//! folder for its owner only and every file holding keys, tokens or sessions readable by its
//! owner only, and makes an existing data folder and database private at start, saying so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::admin_cli::serve_with;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[test]
fn the_data_folder_and_every_secret_in_it_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, "[[users]]\nuser_name = \"alice\"\nemail = \"alice@example.com\"\n").unwrap();
    let data = dir.path().join("data");
    let served = serve_with(&config, &data);
    // A write through the admin API, so the database's write-ahead log is in use.
    let added = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["users", "add", "bob", "--email", "bob@example.com", "--hub", &served.url, "--token-file"])
        .arg(&served.token_file)
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert_eq!(mode(&data), 0o700);
    for private in ["hub.db", "hub.db-wal", "hub.db-shm", "signing.key", "admin-token"] {
        assert_eq!(mode(&data.join(private)), 0o600, "{private}");
    }
    assert_eq!(mode(&data.join("signing.crt")), 0o644, "a certificate is public");
    let leftovers: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    drop(served);

    // An older data folder that others could read is made private at the next start.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(data.join("hub.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let served = serve_with(&config, &data);
    assert_eq!((mode(&data), mode(&data.join("hub.db"))), (0o700, 0o600));
    assert!(served.said.iter().any(|l| l.contains("it is now private")), "{:?}", served.said);
}

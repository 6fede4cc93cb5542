//! Snapshots of a SQLite store for backups: taken while writers go on, they hold every write
//! committed before them and pass SQLite's integrity check; a damaged file, a file that is not a
//! crossfed database and a schema newer than this binary's are refused, each said.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crossfed_store::{
    NewUser, SnapshotError, Store, UserStore, check_sqlite_snapshot, new_id, newest_sqlite_schema, snapshot_sqlite,
};

fn scratch() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("crossfed-snapshot-{}", new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn user(name: &str) -> NewUser {
    NewUser { user_name: name.to_string(), active: true, ..NewUser::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_taken_while_writers_go_on_holds_every_earlier_write() {
    let dir = scratch();
    let database = dir.join("hub.db");
    let store = Store::connect(&format!("sqlite://{}", database.display())).await.unwrap();
    for i in 0..50 {
        store.create_user(&user(&format!("before-{i}")), 1).await.unwrap();
    }
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..200 {
                store.create_user(&user(&format!("during-{i}")), 1).await.unwrap();
            }
        })
    };
    let copy = dir.join("copy.db");
    let (from, to) = (database.clone(), copy.clone());
    let info = tokio::task::spawn_blocking(move || snapshot_sqlite(&from, &to)).await.unwrap().unwrap();
    writer.await.unwrap();
    assert_eq!(info.schema_version, newest_sqlite_schema());
    store.close().await;

    let restored = Store::connect(&format!("sqlite://{}", copy.display())).await.unwrap();
    for i in 0..50 {
        let name = format!("before-{i}");
        assert!(restored.find_user_by_name(&name).await.unwrap().is_some(), "{name} is missing");
    }
    restored.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn damaged_foreign_and_newer_files_are_refused() {
    let dir = scratch();
    let database = dir.join("hub.db");
    let store = Store::connect(&format!("sqlite://{}", database.display())).await.unwrap();
    store.close().await;

    let missing = snapshot_sqlite(&dir.join("none.db"), &dir.join("x.db")).unwrap_err();
    assert!(matches!(missing, SnapshotError::NoDatabase { .. }), "{missing}");

    let newer = dir.join("newer.db");
    snapshot_sqlite(&database, &newer).unwrap();
    let connection = rusqlite::Connection::open(&newer).unwrap();
    connection
        .execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (?1, 'later', 1, x'00', 0)",
            [newest_sqlite_schema() + 1],
        )
        .unwrap();
    drop(connection);
    let refused = check_sqlite_snapshot(&newer).unwrap_err();
    assert!(matches!(refused, SnapshotError::Newer { .. }), "{refused}");
    assert!(refused.to_string().contains(&format!("schema version {}", newest_sqlite_schema() + 1)), "{refused}");

    let foreign = dir.join("foreign.db");
    rusqlite::Connection::open(&foreign).unwrap().execute("CREATE TABLE t (x)", []).unwrap();
    let refused = check_sqlite_snapshot(&foreign).unwrap_err();
    assert!(matches!(refused, SnapshotError::NotCrossfed { .. }), "{refused}");

    // Garbage over the middle of the file: a page SQLite can no longer read.
    let damaged = dir.join("damaged.db");
    snapshot_sqlite(&database, &damaged).unwrap();
    let mut bytes = std::fs::read(&damaged).unwrap();
    let page = 4096;
    for byte in &mut bytes[page..page * 3] {
        *byte = 0x5a;
    }
    std::fs::write(&damaged, &bytes).unwrap();
    let refused = check_sqlite_snapshot(&damaged).unwrap_err();
    assert!(
        matches!(refused, SnapshotError::Damaged { .. } | SnapshotError::Sqlite { .. }),
        "a damaged file must be refused: {refused}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

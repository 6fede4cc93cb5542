//! The store test suite: every test runs against a SQLite file (as the hub uses it, so reads take
//! the direct path) and a fresh PostgreSQL database (`CROSSFED_TEST_POSTGRES_URL`, default the
//! local server), so both backends keep behaving the same.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use crossfed_store::{
    AssignmentStore, AuditEvent, AuditLog, AuditQuery, Backend, Comparison, Condition, CredentialStore, Email,
    GroupField, GroupStore, NewToken, NewUser, ObjectKey, ObjectStore, Outcome, Page, ProvisioningRecord,
    ProvisioningStore, ReplayStore, Rotation, Store, StoreError, SyncState, ThrottlePolicy, TokenStore, UserField,
    UserStore, Value, new_id,
};

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A store on each backend; PostgreSQL databases are dropped when the guard goes.
struct Backends {
    stores: Vec<Store>,
    /// Each store's URL, for a second connection to the same database.
    urls: Vec<String>,
    postgres_database: String,
    sqlite_dir: std::path::PathBuf,
}

/// A fresh directory for a SQLite file.
fn sqlite_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("crossfed-store-{}", new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Backends {
    async fn new() -> Self {
        let sqlite_dir = sqlite_dir();
        let sqlite_url = format!("sqlite://{}", sqlite_dir.join("crossfed.db").display());
        let sqlite = Store::connect(&sqlite_url).await.unwrap();
        let admin_url = std::env::var("CROSSFED_TEST_POSTGRES_URL").unwrap_or_else(|_| ADMIN_URL.to_string());
        let database = format!("crossfed_test_{}", new_id());
        let admin = sqlx_admin(&admin_url).await;
        sqlx::query(&format!("CREATE DATABASE {database}")).execute(&admin).await.unwrap_or_else(|e| {
            panic!("cannot create a PostgreSQL test database at {admin_url}: {e} (scripts/test starts PostgreSQL)")
        });
        admin.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{database}"),
            None => panic!("CROSSFED_TEST_POSTGRES_URL must end in /DATABASE"),
        };
        let postgres = Store::connect(&url).await.unwrap();
        assert_eq!(sqlite.backend(), Backend::Sqlite);
        assert_eq!(postgres.backend(), Backend::Postgres);
        Backends {
            stores: vec![sqlite, postgres],
            urls: vec![sqlite_url, url],
            postgres_database: database,
            sqlite_dir,
        }
    }

    async fn finish(self) {
        for store in &self.stores {
            store.close().await;
        }
        let admin_url = std::env::var("CROSSFED_TEST_POSTGRES_URL").unwrap_or_else(|_| ADMIN_URL.to_string());
        let admin = sqlx_admin(&admin_url).await;
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.postgres_database))
            .execute(&admin)
            .await;
        admin.close().await;
        let _ = std::fs::remove_dir_all(&self.sqlite_dir);
    }
}

async fn sqlx_admin(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is not reachable at {url}: {e} (scripts/test starts it; or set CROSSFED_TEST_POSTGRES_URL)")
    })
}

fn alice() -> NewUser {
    NewUser {
        user_name: "alice@example.com".into(),
        external_id: Some("ext-alice".into()),
        emails: vec![Email::work("alice@example.com")],
        given_name: Some("Alice".into()),
        family_name: Some("Example".into()),
        display_name: Some("Alice Example".into()),
        active: true,
        attributes: BTreeMap::from([("costCenter".to_string(), "42".to_string())]),
    }
}

#[tokio::test]
async fn users_are_unique_case_insensitively_and_round_trip() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        let created = store.create_user(&alice(), 1000).await.unwrap();
        let read = store.get_user(&created.id).await.unwrap().unwrap();
        assert_eq!(read, created, "{:?}", store.backend());
        assert_eq!(read.email(), Some("alice@example.com"));
        assert_eq!(store.find_user_by_name("ALICE@example.COM").await.unwrap().unwrap().id, created.id);
        assert_eq!(store.find_user_by_external_id("ext-alice").await.unwrap().unwrap().id, created.id);

        let mut twin = alice();
        twin.user_name = "Alice@Example.com".into();
        twin.external_id = None;
        assert_eq!(
            store.create_user(&twin, 1001).await.unwrap_err(),
            StoreError::Conflict { what: "user", field: "user_name".into(), value: "Alice@Example.com".into() },
            "{:?}",
            store.backend()
        );
        let mut same_external = alice();
        same_external.user_name = "other".into();
        assert!(matches!(
            store.create_user(&same_external, 1001).await.unwrap_err(),
            StoreError::Conflict { field, .. } if field == "external_id"
        ));
        assert!(matches!(store.create_user(&NewUser::default(), 1).await.unwrap_err(), StoreError::Invalid(_)));
    }
    backends.finish().await;
}

#[tokio::test]
async fn updates_are_versioned() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        let created = store.create_user(&alice(), 1000).await.unwrap();
        let mut changed = created.clone();
        changed.active = false;
        changed.given_name = Some("Alicia".into());
        let saved = store.update_user(&changed, 2000).await.unwrap();
        assert_eq!(saved.version, 2);
        assert_eq!(store.get_user(&created.id).await.unwrap().unwrap(), saved);
        // The copy read before the change is stale now.
        assert_eq!(
            store.update_user(&changed, 3000).await.unwrap_err(),
            StoreError::Stale { what: "user", key: created.id.clone() }
        );
        store.delete_user(&created.id).await.unwrap();
        assert!(matches!(store.update_user(&saved, 4000).await.unwrap_err(), StoreError::NotFound { .. }));
        assert!(matches!(store.delete_user(&created.id).await.unwrap_err(), StoreError::NotFound { .. }));
    }
    backends.finish().await;
}

#[tokio::test]
async fn listing_is_ordered_and_paged() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        for name in ["carol", "alice", "Bob"] {
            store
                .create_user(&NewUser { user_name: name.into(), active: true, ..NewUser::default() }, 1)
                .await
                .unwrap();
        }
        let (page, total) = store.list_users(Page { offset: 1, limit: 1 }).await.unwrap();
        assert_eq!(total, 3);
        assert_eq!(page.iter().map(|u| u.user_name.as_str()).collect::<Vec<_>>(), ["Bob"]);
        let (all, _) = store.list_users(Page::default()).await.unwrap();
        assert_eq!(all.iter().map(|u| u.user_name.as_str()).collect::<Vec<_>>(), ["alice", "Bob", "carol"]);
    }
    backends.finish().await;
}

#[tokio::test]
async fn groups_and_memberships() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        let user = store.create_user(&alice(), 1).await.unwrap();
        let agents = store.create_group("Agents", Some("g-1"), 1).await.unwrap();
        let admins = store.create_group("Admins", None, 1).await.unwrap();
        assert!(matches!(store.create_group("agents", None, 1).await.unwrap_err(), StoreError::Conflict { .. }));
        store.add_member(&agents.id, &user.id).await.unwrap();
        store.add_member(&agents.id, &user.id).await.unwrap();
        store.add_member(&admins.id, &user.id).await.unwrap();
        assert_eq!(store.members(&agents.id).await.unwrap(), std::slice::from_ref(&user.id));
        let names: Vec<String> = store.groups_of(&user.id).await.unwrap().into_iter().map(|g| g.display_name).collect();
        assert_eq!(names, ["Admins", "Agents"]);
        let all = store.group_names_by_user().await.unwrap();
        assert_eq!(all, [(user.id.clone(), "Admins".to_string()), (user.id.clone(), "Agents".to_string())]);
        assert!(matches!(
            store.add_member(&agents.id, "nobody").await.unwrap_err(),
            StoreError::NotFound { what: "user", .. }
        ));
        store.remove_member(&admins.id, &user.id).await.unwrap();
        // Deleting the user removes its memberships.
        store.delete_user(&user.id).await.unwrap();
        assert!(store.members(&agents.id).await.unwrap().is_empty());
        assert_eq!(store.find_group_by_name("AGENTS").await.unwrap().unwrap().id, agents.id);
        store.delete_group(&agents.id).await.unwrap();
        assert!(store.get_group(&agents.id).await.unwrap().is_none());
    }
    backends.finish().await;
}

#[tokio::test]
async fn replay_cache_accepts_each_id_once_until_it_expires() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        assert!(store.record_once("_a1", 1300, 1000).await.unwrap());
        assert!(!store.record_once("_a1", 1300, 1100).await.unwrap(), "{:?}", store.backend());
        // After expiry the ID may be recorded again (its assertion is expired anyway).
        assert!(store.record_once("_a1", 1700, 1400).await.unwrap());
        assert!(!store.record_once("_a1", 1700, 1500).await.unwrap());
    }
    backends.finish().await;
}

#[tokio::test]
async fn replay_cache_has_one_winner_under_concurrency() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        let attempts: Vec<_> = (0..16)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.record_once("_race", 5000, 1000).await.unwrap() })
            })
            .collect();
        let mut winners = 0;
        for a in attempts {
            winners += usize::from(a.await.unwrap());
        }
        assert_eq!(winners, 1, "{:?}", store.backend());
    }
    backends.finish().await;
}

#[tokio::test]
async fn audit_log_filters_newest_first() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        for (at, actor, action, outcome) in [
            (10, "alice", "login", Outcome::Success),
            (20, "bob", "login", Outcome::Failure),
            (30, "alice", "launch", Outcome::Success),
        ] {
            let mut event = AuditEvent::new(at, actor, action, outcome);
            event.source = Some("127.0.0.1".into());
            event.detail = format!("{action} by {actor}");
            store.append(&event).await.unwrap();
        }
        // Two events in the same second still read newest first.
        store.append(&AuditEvent::new(30, "alice", "logout", Outcome::Success)).await.unwrap();
        let alice = store.query(&AuditQuery { actor: Some("alice".into()), ..AuditQuery::default() }).await.unwrap();
        assert_eq!(alice.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["logout", "launch", "login"]);
        let logins = store
            .query(&AuditQuery { action: Some("login".into()), since: Some(15), ..AuditQuery::default() })
            .await
            .unwrap();
        assert_eq!(logins.len(), 1);
        assert_eq!(logins[0].outcome, Outcome::Failure);
        assert_eq!(logins[0].source.as_deref(), Some("127.0.0.1"));

        // Several events in one statement: all stored, or (one ID taken) none.
        let batch: Vec<AuditEvent> =
            (0..3).map(|i| AuditEvent::new(40 + i, "carol", "launch", Outcome::Success)).collect();
        store.append_many(&batch).await.unwrap();
        let mut again = vec![AuditEvent::new(50, "carol", "launch", Outcome::Success)];
        again.push(batch[0].clone());
        assert!(store.append_many(&again).await.is_err());
        let carol = store.query(&AuditQuery { actor: Some("carol".into()), ..AuditQuery::default() }).await.unwrap();
        assert_eq!(carol.iter().map(|e| e.at).collect::<Vec<_>>(), [42, 41, 40]);
    }
    backends.finish().await;
}

/// The audit writer stores a batch on the calling thread on a SQLite file (all of it or, one ID
/// being taken, none), and says "not here" on PostgreSQL, whose batches go through sqlx.
#[tokio::test]
async fn the_audit_writer_stores_batches_on_its_own_thread_where_it_can() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        let batch: Vec<AuditEvent> =
            (0..3).map(|i| AuditEvent::new(60 + i, "dave", "launch", Outcome::Success)).collect();
        let writer_store = store.clone();
        let events = batch.clone();
        let here = tokio::task::spawn_blocking(move || {
            let writer = writer_store.audit_writer();
            let first = writer.append_many_here(&events);
            let again = vec![AuditEvent::new(70, "dave", "launch", Outcome::Success), events[1].clone()];
            (first, writer.append_many_here(&again))
        })
        .await
        .unwrap();
        match store.backend() {
            Backend::Sqlite => {
                assert_eq!(here.0, Some(Ok(())));
                assert!(matches!(here.1, Some(Err(StoreError::Conflict { .. }))), "{:?}", here.1);
            }
            Backend::Postgres => {
                assert_eq!(here, (None, None));
                store.audit_writer().append_many(&batch).await.unwrap();
            }
        }
        let dave = store.query(&AuditQuery { actor: Some("dave".into()), ..AuditQuery::default() }).await.unwrap();
        assert_eq!(dave.iter().map(|e| e.at).collect::<Vec<_>>(), [62, 61, 60]);
    }
    backends.finish().await;
}

#[tokio::test]
async fn data_survives_reopening_a_sqlite_file() {
    let dir = sqlite_dir();
    let url = format!("sqlite://{}", dir.join("crossfed.db").display());
    let store = Store::connect(&url).await.unwrap();
    let created = store.create_user(&alice(), 1).await.unwrap();
    assert_eq!(store.get_user(&created.id).await.unwrap().unwrap(), created);
    store.close().await;
    // Closed means closed, also for reads that skip sqlx; and the write-ahead log is folded
    // back into the file, which alone then holds everything.
    assert!(store.get_user(&created.id).await.is_err());
    // (sqlx closes each connection on its own thread, just after `close` returns.)
    let wal = dir.join("crossfed.db-wal");
    for _ in 0..100 {
        if !wal.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!wal.exists(), "the WAL file outlived the store");
    let reopened = Store::connect(&url).await.unwrap();
    assert_eq!(reopened.get_user(&created.id).await.unwrap().unwrap(), created);
    reopened.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn bad_urls_say_what_to_use() {
    let err = Store::connect("mysql://localhost/x").await.unwrap_err();
    assert!(err.to_string().contains("sqlite://PATH or postgres://"), "{err}");
}

#[tokio::test]
async fn objects_are_unique_by_name_within_their_scope() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        let role = ObjectKey { kind: "iam-role", scope: "123456789012", name_key: "connectagent", id: "AROA1" };
        store.insert_object(role, r#"{"RoleName":"ConnectAgent"}"#, 10).await.unwrap();
        let same_name = ObjectKey { id: "AROA2", ..role };
        assert_eq!(
            store.insert_object(same_name, "{}", 11).await.unwrap_err(),
            StoreError::Conflict { what: "role", field: "name".into(), value: "connectagent".into() },
            "{:?}",
            store.backend()
        );
        // The same name in another account is another role.
        store.insert_object(ObjectKey { scope: "210987654321", ..same_name }, "{}", 11).await.unwrap();

        let found = store.find_object("iam-role", "123456789012", "connectagent").await.unwrap().unwrap();
        assert_eq!(found.id, "AROA1");
        assert_eq!(store.get_object("iam-role", "AROA1").await.unwrap().unwrap(), found);
        assert_eq!(store.list_objects("iam-role", "123456789012").await.unwrap().len(), 1);

        let version = store
            .update_object("iam-role", "AROA1", r#"{"RoleName":"ConnectAgent","Max":3600}"#, found.version, 20)
            .await
            .unwrap();
        assert_eq!(version, 2);
        assert!(matches!(
            store.update_object("iam-role", "AROA1", "{}", 1, 21).await.unwrap_err(),
            StoreError::Stale { .. }
        ));
        store.delete_object("iam-role", "AROA1").await.unwrap();
        assert!(matches!(
            store.delete_object("iam-role", "AROA1").await.unwrap_err(),
            StoreError::NotFound { what: "role", .. }
        ));
    }
    backends.finish().await;
}

#[tokio::test]
async fn credentials_and_totp_steps() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        let user = store.create_user(&alice(), 1).await.unwrap();
        assert_eq!(store.credentials(&user.id).await.unwrap().password_hash, None);
        store.set_password_hash(&user.id, "$argon2id$v=19$m=19456,t=2,p=1$salt$hash", 2).await.unwrap();
        store.set_totp_secret(&user.id, Some("JBSWY3DPEHPK3PXP"), 3).await.unwrap();
        let creds = store.credentials(&user.id).await.unwrap();
        assert_eq!(creds.password_hash.as_deref(), Some("$argon2id$v=19$m=19456,t=2,p=1$salt$hash"));
        assert_eq!(creds.totp_secret.as_deref(), Some("JBSWY3DPEHPK3PXP"));
        assert!(store.use_totp_step(&user.id, 100).await.unwrap());
        assert!(!store.use_totp_step(&user.id, 100).await.unwrap(), "{:?}", store.backend());
        assert!(!store.use_totp_step(&user.id, 99).await.unwrap());
        assert!(store.use_totp_step(&user.id, 101).await.unwrap());
        assert!(matches!(
            store.set_password_hash("nobody", "x", 1).await.unwrap_err(),
            StoreError::NotFound { what: "user", .. }
        ));
        // Deleting the user deletes the secrets.
        store.delete_user(&user.id).await.unwrap();
        assert_eq!(store.credentials(&user.id).await.unwrap().password_hash, None);
    }
    backends.finish().await;
}

#[tokio::test]
async fn throttling_locks_after_repeated_failures_and_expires() {
    let backends = Backends::new().await;
    let policy = ThrottlePolicy { max_failures: 3, window_seconds: 600, lock_seconds: 900 };
    for store in &backends.stores {
        assert_eq!(store.record_failure("user:alice", &policy, 1000).await.unwrap(), 0);
        assert_eq!(store.record_failure("user:alice", &policy, 1001).await.unwrap(), 0);
        assert_eq!(store.record_failure("user:alice", &policy, 1002).await.unwrap(), 1902, "{:?}", store.backend());
        assert_eq!(store.locked_until("user:alice", 1500).await.unwrap(), 1902);
        assert_eq!(store.locked_until("user:alice", 1902).await.unwrap(), 0);
        // Failures spread beyond the window do not add up.
        assert_eq!(store.record_failure("user:bob", &policy, 1000).await.unwrap(), 0);
        assert_eq!(store.record_failure("user:bob", &policy, 1700).await.unwrap(), 0);
        assert_eq!(store.record_failure("user:bob", &policy, 1701).await.unwrap(), 0);
        store.clear_failures("user:bob").await.unwrap();
        assert_eq!(store.record_failure("user:bob", &policy, 1702).await.unwrap(), 0);
    }
    backends.finish().await;
}

fn named(user_name: &str, external_id: Option<&str>, display: &str, active: bool) -> NewUser {
    NewUser {
        user_name: user_name.into(),
        external_id: external_id.map(str::to_string),
        display_name: Some(display.into()),
        active,
        ..NewUser::default()
    }
}

#[tokio::test]
async fn searches_compile_to_the_same_answers_on_both_backends() {
    use Comparison::*;
    let backends = Backends::new().await;
    for store in &backends.stores {
        store.create_user(&named("Alice@Example.com", Some("EXT-1"), "Alice 100% Real", true), 10).await.unwrap();
        store.create_user(&named("bob@example.com", Some("ext-2"), "Bob_B", false), 20).await.unwrap();
        store.create_user(&named("carol@other.org", None, "Carol", true), 30).await.unwrap();
        let names = |users: Vec<crossfed_store::User>| users.into_iter().map(|u| u.user_name).collect::<Vec<_>>();
        let search = |c: Condition<UserField>| async move {
            let (users, total) = store.search_users(&c, Page::default()).await.unwrap();
            assert_eq!(users.len() as i64, total);
            names(users)
        };
        let text = |s: &str| Value::Text(s.to_string());
        // userName is case-insensitive; externalId is case-exact.
        assert_eq!(
            search(Condition::Compare(UserField::UserName, Eq, text("ALICE@example.COM"))).await,
            ["Alice@Example.com"]
        );
        assert!(search(Condition::Compare(UserField::ExternalId, Eq, text("ext-1"))).await.is_empty());
        assert_eq!(
            search(Condition::Compare(UserField::ExternalId, StartsWith, text("ext"))).await,
            ["bob@example.com"]
        );
        assert_eq!(
            search(Condition::Compare(UserField::ExternalId, EndsWith, text("-1"))).await,
            ["Alice@Example.com"]
        );
        assert_eq!(
            search(Condition::Compare(UserField::ExternalId, Contains, text("XT"))).await,
            ["Alice@Example.com"]
        );
        // LIKE wildcards in values are literal.
        assert_eq!(
            search(Condition::Compare(UserField::DisplayName, Contains, text("100%"))).await,
            ["Alice@Example.com"]
        );
        assert_eq!(search(Condition::Compare(UserField::DisplayName, Contains, text("_"))).await, ["bob@example.com"]);
        assert_eq!(search(Condition::Compare(UserField::UserName, EndsWith, text("@EXAMPLE.com"))).await.len(), 2);
        assert_eq!(
            search(Condition::And(vec![
                Condition::Compare(UserField::Active, Eq, Value::Bool(true)),
                Condition::Not(Box::new(Condition::Present(UserField::ExternalId))),
            ]))
            .await,
            ["carol@other.org"]
        );
        assert_eq!(
            search(Condition::Or(vec![
                Condition::Compare(UserField::CreatedAt, Gt, Value::Int(25)),
                Condition::Compare(UserField::UserName, StartsWith, text("bob")),
            ]))
            .await,
            ["bob@example.com", "carol@other.org"]
        );
        // Paging reports the full count.
        let (page, total) = store.search_users(&Condition::And(vec![]), Page { offset: 1, limit: 1 }).await.unwrap();
        assert_eq!((names(page), total), (vec!["bob@example.com".to_string()], 3));
        // A comparison that makes no sense is refused, not run.
        assert!(matches!(
            store.search_users(&Condition::Compare(UserField::Active, Gt, Value::Bool(true)), Page::default()).await,
            Err(StoreError::Invalid(_))
        ));
        let group = store.create_group("Agents", Some("G-1"), 1).await.unwrap();
        let (groups, _) = store
            .search_groups(&Condition::Compare(GroupField::DisplayName, Eq, text("agents")), Page::default())
            .await
            .unwrap();
        assert_eq!(groups, vec![group]);
    }
    backends.finish().await;
}

#[tokio::test]
async fn group_renames_are_versioned_and_member_replacement_is_all_or_nothing() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        let a = store.create_user(&named("a", None, "A", true), 1).await.unwrap();
        let b = store.create_user(&named("b", None, "B", true), 1).await.unwrap();
        let group = store.create_group("Agents", None, 1).await.unwrap();
        store.create_group("Managers", None, 1).await.unwrap();
        let renamed = store
            .update_group(&crossfed_store::Group { display_name: "Tier 1".into(), ..group.clone() }, 2)
            .await
            .unwrap();
        assert_eq!((renamed.display_name.as_str(), renamed.version), ("Tier 1", 2));
        assert!(matches!(store.update_group(&group, 3).await, Err(StoreError::Stale { .. })));
        let clash = crossfed_store::Group { display_name: "managers".into(), ..renamed.clone() };
        assert!(matches!(store.update_group(&clash, 3).await, Err(StoreError::Conflict { .. })));
        store.replace_members(&group.id, std::slice::from_ref(&a.id)).await.unwrap();
        let err = store.replace_members(&group.id, &[b.id.clone(), "nobody".into()]).await.unwrap_err();
        assert_eq!(err, StoreError::NotFound { what: "user", key: "nobody".into() });
        assert_eq!(store.members(&group.id).await.unwrap(), vec![a.id.clone()], "{:?}", store.backend());
        // A rename with an unknown member changes neither the name nor the members.
        let current = store.get_group(&group.id).await.unwrap().unwrap();
        let renamed_again = crossfed_store::Group { display_name: "Tier 2".into(), ..current.clone() };
        let err = store.save_group(&renamed_again, Some(&["ghost".to_string()]), 9).await.unwrap_err();
        assert_eq!(err, StoreError::NotFound { what: "user", key: "ghost".into() });
        assert_eq!(store.get_group(&group.id).await.unwrap().unwrap(), current);
        let err = store.create_group_with_members("Ghosts", None, &["ghost".to_string()], 9).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { what: "user", .. }));
        assert!(store.find_group_by_name("Ghosts").await.unwrap().is_none(), "{:?}", store.backend());
        // A user and its password are written together or not at all.
        let taken = NewUser { user_name: "A".into(), ..NewUser::default() };
        assert!(store.create_user_with_password(&taken, Some("hash"), 9).await.is_err());
        let fresh = store
            .create_user_with_password(&NewUser { user_name: "c".into(), ..NewUser::default() }, Some("h1"), 9)
            .await
            .unwrap();
        assert_eq!(store.credentials(&fresh.id).await.unwrap().password_hash.as_deref(), Some("h1"));
        store.update_user_with_password(&fresh, Some("h2"), 10).await.unwrap();
        assert!(store.update_user_with_password(&fresh, Some("h3"), 11).await.is_err(), "stale version");
        assert_eq!(store.credentials(&fresh.id).await.unwrap().password_hash.as_deref(), Some("h2"));
        store.replace_members(&group.id, &[b.id.clone(), a.id.clone(), b.id.clone()]).await.unwrap();
        let mut expected = vec![a.id.clone(), b.id.clone()];
        expected.sort();
        assert_eq!(store.members(&group.id).await.unwrap(), expected);
    }
    backends.finish().await;
}

#[tokio::test]
async fn tokens_are_found_by_digest_expire_and_revoke() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        let new = NewToken { purpose: "scim", name: "entra", digest: "d1", expires_at: Some(2000) };
        let token = store.create_token(new, 1000).await.unwrap();
        assert!(token.is_live(1999) && !token.is_live(2000));
        assert_eq!(store.find_token("d1").await.unwrap(), Some(token.clone()));
        assert_eq!(store.find_token("d2").await.unwrap(), None);
        assert!(matches!(
            store.create_token(NewToken { digest: "d1", ..new }, 1000).await,
            Err(StoreError::Conflict { .. })
        ));
        assert!(matches!(
            store.create_token(NewToken { digest: "d3", expires_at: Some(5), ..new }, 1000).await,
            Err(StoreError::Invalid(_))
        ));
        store.touch_token(&token.id, 1100).await.unwrap();
        store.touch_token(&token.id, 1120).await.unwrap();
        assert_eq!(store.find_token("d1").await.unwrap().unwrap().last_used_at, Some(1100));
        // A token of another purpose cannot be revoked through this one's listing.
        assert!(matches!(store.revoke_token("admin", &token.id, 1200).await, Err(StoreError::NotFound { .. })));
        let revoked = store.revoke_token("scim", &token.id, 1200).await.unwrap();
        assert!(!revoked.is_live(1201));
        assert_eq!(store.revoke_token("scim", &token.id, 1300).await.unwrap().revoked_at, Some(1200));
        assert_eq!(store.list_tokens("scim").await.unwrap().len(), 1);
        assert!(store.list_tokens("admin").await.unwrap().is_empty());
    }
    backends.finish().await;
}

#[tokio::test]
async fn a_rotation_issues_the_successor_and_bounds_the_old_token_together() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        let new = NewToken { purpose: "scim", name: "entra", digest: "r1", expires_at: Some(100_000) };
        let old = store.create_token(new, 1000).await.unwrap();
        let successor = NewToken { digest: "r2", expires_at: Some(200_000), ..new };
        let Rotation::Rotated { old: bounded, new: next } =
            store.rotate_token("scim", &old.id, successor, 5000, 1000).await.unwrap()
        else {
            panic!("a live token rotates");
        };
        assert_eq!(bounded.expires_at, Some(5000), "shortened to the overlap");
        assert_eq!(bounded.replaced_by.as_deref(), Some(next.id.as_str()));
        assert_eq!(next.rotated_from.as_deref(), Some(old.id.as_str()));
        assert_eq!((next.name.as_str(), next.expires_at), ("entra", Some(200_000)));
        assert_eq!(store.find_token("r1").await.unwrap(), Some(bounded.clone()));
        assert_eq!(store.find_token("r2").await.unwrap(), Some(next.clone()));
        // Already replaced: refused as found, nothing written (the digest r3 stays unknown).
        let again = store.rotate_token("scim", &old.id, NewToken { digest: "r3", ..successor }, 9000, 1001).await;
        assert_eq!(again.unwrap(), Rotation::Refused(bounded.clone()));
        assert_eq!(store.find_token("r3").await.unwrap(), None);
        // The successor rotates in turn; an expiry earlier than the overlap is never lengthened.
        let third = NewToken { digest: "r4", expires_at: None, ..new };
        let Rotation::Rotated { old: second, .. } =
            store.rotate_token("scim", &next.id, third, 900_000, 1002).await.unwrap()
        else {
            panic!("the successor rotates");
        };
        assert_eq!(second.expires_at, Some(200_000));
        // Revoked, expired, of another purpose, unknown.
        let revoked = store.create_token(NewToken { digest: "r5", ..new }, 1000).await.unwrap();
        store.revoke_token("scim", &revoked.id, 1100).await.unwrap();
        let refused = store.rotate_token("scim", &revoked.id, NewToken { digest: "r6", ..new }, 5000, 1200).await;
        assert!(matches!(refused, Ok(Rotation::Refused(t)) if t.revoked_at == Some(1100)));
        let expired = store.rotate_token("scim", &old.id, NewToken { digest: "r7", ..new }, 9000, 6000).await;
        assert!(matches!(expired, Ok(Rotation::Refused(_))));
        let other = store.rotate_token("admin", &next.id, NewToken { digest: "r8", ..new }, 5000, 1200).await;
        assert!(matches!(other, Err(StoreError::NotFound { .. })));
        // A successor that cannot be recorded (its digest is taken) leaves the old token as it was.
        let live = store.create_token(NewToken { digest: "r9", ..new }, 1000).await.unwrap();
        let clash = store.rotate_token("scim", &live.id, NewToken { digest: "r1", ..new }, 5000, 1200).await;
        assert!(matches!(clash, Err(StoreError::Conflict { .. })), "{clash:?}");
        assert_eq!(store.find_token("r9").await.unwrap(), Some(live));
    }
    backends.finish().await;
}

#[tokio::test]
async fn provisioning_records_are_upserted_per_connector_and_subject() {
    let backends = Backends::new().await;
    for store in &backends.stores {
        let mut record = ProvisioningRecord {
            connector: "connect:agents".into(),
            subject_id: "u1".into(),
            subject_name: "bob".into(),
            remote_id: None,
            state: SyncState::Failed,
            detail: "target unreachable".into(),
            attempts: 1,
            next_attempt_at: 1030,
            updated_at: 1000,
        };
        store.save_provisioning(&record).await.unwrap();
        record.state = SyncState::InSync;
        record.remote_id = Some("r-1".into());
        record.attempts = 0;
        store.save_provisioning(&record).await.unwrap();
        store.save_provisioning(&ProvisioningRecord { connector: "scim:hub".into(), ..record.clone() }).await.unwrap();
        assert_eq!(store.provisioning("connect:agents", "u1").await.unwrap(), Some(record.clone()));
        assert_eq!(store.list_provisioning(Some("connect:agents")).await.unwrap(), vec![record.clone()]);
        assert_eq!(store.list_provisioning(None).await.unwrap().len(), 2);
        store.delete_provisioning("connect:agents", "u1").await.unwrap();
        assert_eq!(store.provisioning("connect:agents", "u1").await.unwrap(), None);
    }
    backends.finish().await;
}

#[tokio::test]
async fn applications_and_assignments_follow_renames_and_bump_the_generation() {
    use crossfed_store::{ApplicationStore, Assignment, ManagedBy, PrincipalKind, PutOutcome, StoredApplication, User};
    let backends = Backends::new().await;
    for store in &backends.stores {
        let app = StoredApplication {
            id: "connect".into(),
            name: "Amazon Connect".into(),
            template: "amazon-connect".into(),
            definition: r#"{"region":"eu-west-1"}"#.into(),
            managed_by: ManagedBy::Config,
            created_at: 0,
            updated_at: 0,
            version: 0,
        };
        let g0 = store.catalog_generation().await.unwrap();
        assert_eq!(store.put_application(&app, 10).await.unwrap(), PutOutcome::Created);
        assert_eq!(store.put_application(&app, 11).await.unwrap(), PutOutcome::Unchanged);
        let g1 = store.catalog_generation().await.unwrap();
        assert!(g1 > g0, "{:?}", store.backend());
        assert!(matches!(
            store.create_application(&app, 12).await.unwrap_err(),
            StoreError::Conflict { what: "application", .. }
        ));
        let changed = StoredApplication { definition: r#"{"region":"us-east-1"}"#.into(), ..app.clone() };
        assert_eq!(store.put_application(&changed, 13).await.unwrap(), PutOutcome::Updated);
        let stored = store.get_application("connect").await.unwrap().unwrap();
        assert_eq!((stored.version, stored.created_at, stored.updated_at), (2, 10, 13));
        // A copy read before the change is stale.
        assert!(matches!(store.update_application(&app, 14).await.unwrap_err(), StoreError::Stale { .. }));

        // Config-owned assignments are replaced as a set; API-owned ones are left alone.
        let bob = store.create_user(&NewUser { user_name: "Bob".into(), active: true, ..NewUser::default() }, 1).await;
        let bob = bob.unwrap();
        let api = Assignment {
            application_id: "connect".into(),
            kind: PrincipalKind::User,
            name: "carol".into(),
            managed_by: ManagedBy::Api,
            created_at: 20,
        };
        assert!(store.assign(&api).await.unwrap());
        assert!(!store.assign(&api).await.unwrap(), "a second assign changes nothing");
        let wanted = vec![(PrincipalKind::User, "bob".to_string()), (PrincipalKind::Group, "agents".to_string())];
        assert_eq!(store.replace_assignments("connect", ManagedBy::Config, &wanted, 21).await.unwrap(), (2, 0));
        assert_eq!(store.replace_assignments("connect", ManagedBy::Config, &wanted, 22).await.unwrap(), (0, 0));
        let only_group = vec![(PrincipalKind::Group, "Agents".to_string())];
        assert_eq!(store.replace_assignments("connect", ManagedBy::Config, &only_group, 23).await.unwrap(), (0, 1));
        let names = |list: Vec<Assignment>| list.into_iter().map(|a| (a.kind, a.name)).collect::<Vec<_>>();
        assert_eq!(
            names(store.list_assignments(Some("connect")).await.unwrap()),
            vec![(PrincipalKind::Group, "agents".to_string()), (PrincipalKind::User, "carol".to_string())]
        );
        assert!(matches!(
            store.assign(&Assignment { application_id: "nope".into(), ..api.clone() }).await.unwrap_err(),
            StoreError::NotFound { what: "application", .. }
        ));

        // A rename carries the user's assignments; a deletion drops them.
        assert!(store.assign(&Assignment { name: "bob".into(), ..api.clone() }).await.unwrap());
        let before = store.catalog_generation().await.unwrap();
        let renamed = store.update_user(&User { user_name: "robert".into(), ..bob.clone() }, 30).await.unwrap();
        assert!(store.catalog_generation().await.unwrap() > before);
        let users: Vec<String> = store
            .list_assignments(Some("connect"))
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.kind == PrincipalKind::User)
            .map(|a| a.name)
            .collect();
        assert_eq!(users, vec!["carol".to_string(), "robert".to_string()], "{:?}", store.backend());
        store.delete_user(&renamed.id).await.unwrap();
        assert!(store.unassign("connect", PrincipalKind::User, "CAROL").await.unwrap());
        assert!(!store.unassign("connect", PrincipalKind::User, "robert").await.unwrap(), "gone with the user");

        store.delete_application("connect").await.unwrap();
        assert!(store.list_assignments(None).await.unwrap().is_empty());
        assert!(matches!(store.delete_application("connect").await.unwrap_err(), StoreError::NotFound { .. }));
    }
    backends.finish().await;
}

#[tokio::test]
async fn leases_have_one_holder_until_released_or_expired() {
    use crossfed_store::{Lease, LeaseStore};
    let backends = Backends::new().await;
    for store in &backends.stores {
        let backend = store.backend();
        assert!(store.try_acquire_lease("provisioning:scim:hub", "a", 1000, 60).await.unwrap());
        assert!(!store.try_acquire_lease("provisioning:scim:hub", "b", 1010, 60).await.unwrap(), "{backend:?}");
        // Other names are independent.
        assert!(store.try_acquire_lease("provisioning:connect:connect", "b", 1010, 60).await.unwrap());
        // The holder renews it: the expiry moves, the time it was taken stays.
        assert!(store.try_acquire_lease("provisioning:scim:hub", "a", 1050, 60).await.unwrap());
        let expected =
            Lease { name: "provisioning:scim:hub".into(), holder: "a".into(), acquired_at: 1000, expires_at: 1110 };
        assert_eq!(store.current_lease("provisioning:scim:hub", 1100).await.unwrap(), Some(expected), "{backend:?}");
        assert!(!store.try_acquire_lease("provisioning:scim:hub", "b", 1109, 60).await.unwrap(), "{backend:?}");
        // Once expired (a holder that died), another takes it over, and the old holder cannot
        // renew or release what is no longer its.
        assert_eq!(store.current_lease("provisioning:scim:hub", 1110).await.unwrap(), None);
        assert!(store.try_acquire_lease("provisioning:scim:hub", "b", 1110, 60).await.unwrap(), "{backend:?}");
        let taken = store.current_lease("provisioning:scim:hub", 1111).await.unwrap().unwrap();
        assert_eq!((taken.holder.as_str(), taken.acquired_at, taken.expires_at), ("b", 1110, 1170));
        assert!(!store.try_acquire_lease("provisioning:scim:hub", "a", 1120, 60).await.unwrap());
        assert!(!store.release_lease("provisioning:scim:hub", "a").await.unwrap(), "{backend:?}");
        // Released, it is free at once.
        assert!(store.release_lease("provisioning:scim:hub", "b").await.unwrap());
        assert!(!store.release_lease("provisioning:scim:hub", "b").await.unwrap());
        assert!(store.try_acquire_lease("provisioning:scim:hub", "a", 1121, 60).await.unwrap(), "{backend:?}");
        for (name, holder, ttl) in [("", "a", 60), ("n", "", 60), ("n", "a", 0), ("n\n", "a", 60)] {
            assert!(
                matches!(store.try_acquire_lease(name, holder, 1000, ttl).await.unwrap_err(), StoreError::Invalid(_)),
                "{name:?} {holder:?} {ttl}"
            );
        }
    }
    backends.finish().await;
}

#[tokio::test]
async fn leases_have_one_winner_under_concurrency() {
    use crossfed_store::LeaseStore;
    let backends = Backends::new().await;
    for store in &backends.stores {
        // Free, then expired: both ways exactly one of the racing holders gets it.
        for now in [1000, 2000] {
            let attempts: Vec<_> = (0..16)
                .map(|i| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store.try_acquire_lease("race", &format!("holder-{now}-{i}"), now, 60).await.unwrap()
                    })
                })
                .collect();
            let mut winners = 0;
            for a in attempts {
                winners += usize::from(a.await.unwrap());
            }
            assert_eq!(winners, 1, "{:?} at {now}", store.backend());
        }
    }
    backends.finish().await;
}

/// Transactions that read before they write (renaming a group, replacing its members) wait
/// their turn beside a writer committing all the time (the hub's audit writer under load), on
/// both backends: none is refused because another connection wrote meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_then_write_transactions_wait_for_a_busy_writer() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let backends = Backends::new().await;
    for store in &backends.stores {
        let member = store.create_user(&alice(), 1).await.unwrap();
        let mut group = store.create_group("Agents", None, 1).await.unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let appended = {
            let (store, stop) = (store.clone(), stop.clone());
            let runtime = tokio::runtime::Handle::current();
            std::thread::spawn(move || {
                let _context = runtime.enter();
                let mut writer = store.audit_writer();
                let mut written = 0u32;
                while !stop.load(Ordering::SeqCst) {
                    let event = [AuditEvent::new(1, "load", "launch", Outcome::Success)];
                    let result = match writer.append_many_here(&event) {
                        Some(result) => result,
                        None => runtime.block_on(writer.append_many(&event)),
                    };
                    result.unwrap();
                    written += 1;
                }
                writer.release();
                written
            })
        };
        for i in 0..60 {
            let renamed = crossfed_store::Group { display_name: format!("Agents {i}"), ..group.clone() };
            let members = if i % 2 == 0 { vec![member.id.clone()] } else { Vec::new() };
            group = store
                .save_group(&renamed, Some(&members), 2 + i)
                .await
                .unwrap_or_else(|e| panic!("{:?}: save {i} refused beside the busy writer: {e}", store.backend()));
        }
        stop.store(true, Ordering::SeqCst);
        assert!(appended.join().unwrap() > 0);
    }
    backends.finish().await;
}

/// A user named `name` with the e-mail addresses `emails` (the first primary).
fn with_emails(name: &str, emails: &[&str]) -> NewUser {
    let emails = emails.iter().enumerate().map(|(i, e)| Email { primary: i == 0, ..Email::work(e) }).collect();
    NewUser { user_name: name.into(), emails, active: true, ..NewUser::default() }
}

fn email_taken(value: &str) -> StoreError {
    StoreError::Conflict { what: "user", field: "email".into(), value: value.into() }
}

/// Every e-mail address of a user is that user's alone, compared as names are (case, Unicode
/// normalization, surrounding blanks); a refused write leaves nothing of itself behind.
#[tokio::test]
async fn an_email_address_belongs_to_one_user() {
    use crossfed_store::User;
    let backends = Backends::new().await;
    for store in &backends.stores {
        let backend = store.backend();
        let alice = store.create_user(&alice(), 1).await.unwrap();
        let refused = store.create_user(&with_emails("bob", &["ALICE@Example.COM"]), 2).await.unwrap_err();
        assert_eq!(refused, email_taken("ALICE@Example.COM"), "{backend:?}");
        // Any address counts, not only the primary one.
        let refused = store.create_user(&with_emails("bob", &["bob@example.com", " alice@example.com "]), 2).await;
        assert_eq!(refused.unwrap_err(), email_taken(" alice@example.com "));
        assert!(store.find_user_by_name("bob").await.unwrap().is_none(), "a refused user leaves nothing");
        assert!(store.find_user_by_email("bob@example.com").await.unwrap().is_none(), "nor its addresses");
        // A composed and a decomposed é are one letter.
        let jose = store.create_user(&with_emails("jose", &["jos\u{e9}@example.com"]), 3).await.unwrap();
        let refused = store.create_user(&with_emails("jose2", &["JOSE\u{301}@example.com"]), 3).await.unwrap_err();
        assert_eq!(refused, email_taken("JOSE\u{301}@example.com"), "{backend:?}");
        assert_eq!(store.find_user_by_email("Jose\u{301}@EXAMPLE.com").await.unwrap().unwrap().id, jose.id);
        assert_eq!(store.find_user_by_email("ALICE@example.com").await.unwrap().unwrap().id, alice.id);
        assert!(store.find_user_by_email("nobody@example.com").await.unwrap().is_none());
        assert!(store.find_user_by_email("  ").await.unwrap().is_none());
        // One user may list an address twice (as work and home).
        let bob = store.create_user(&with_emails("bob", &["bob@example.com", "Bob@example.com"]), 4).await.unwrap();
        // An update taking another's address is refused and changes nothing.
        let mut taking = bob.clone();
        taking.emails.push(Email::work("alice@EXAMPLE.com"));
        taking.given_name = Some("Bobby".into());
        assert_eq!(store.update_user(&taking, 5).await.unwrap_err(), email_taken("alice@EXAMPLE.com"));
        assert_eq!(store.get_user(&bob.id).await.unwrap().unwrap(), bob, "{backend:?}");
        // An address given up is free for another user; so are a deleted user's.
        let moved = User { emails: vec![Email::work("alice@work.example.com")], ..alice.clone() };
        let moved = store.update_user(&moved, 6).await.unwrap();
        store.update_user(&User { emails: vec![Email::work("Alice@example.com")], ..bob.clone() }, 7).await.unwrap();
        assert_eq!(store.find_user_by_email("alice@example.com").await.unwrap().unwrap().id, bob.id);
        assert!(store.find_user_by_email("bob@example.com").await.unwrap().is_none(), "{backend:?}");
        store.delete_user(&moved.id).await.unwrap();
        store.create_user(&with_emails("carol", &["alice@work.example.com"]), 8).await.unwrap();
        assert!(store.shared_values().await.unwrap().is_empty());
    }
    backends.finish().await;
}

/// A database written before e-mail addresses were indexed and before names were normalized
/// opens: each address goes to the first user who had it, names and their assignments are
/// re-keyed, and what several users still share is listed rather than stopping the store.
#[tokio::test]
async fn a_store_from_before_the_index_opens_and_lists_what_users_share() {
    use crossfed_store::{ApplicationStore, Assignment, AssignmentStore, ManagedBy, PrincipalKind, SharedValue};
    let backends = Backends::new().await;
    for (store, url) in backends.stores.iter().zip(&backends.urls) {
        let backend = store.backend();
        let alice = store.create_user(&with_emails("alice", &["alice@example.com"]), 1).await.unwrap();
        let bob = store.create_user(&with_emails("bob", &["bob@example.com"]), 2).await.unwrap();
        let decomposed = store.create_user(&with_emails("JOSE\u{301}", &[]), 3).await.unwrap();
        let rene = store.create_user(&with_emails("RENE\u{301}", &[]), 4).await.unwrap();
        let app = crossfed_store::StoredApplication {
            id: "wiki".into(),
            name: "Wiki".into(),
            template: "custom-saml".into(),
            definition: "{}".into(),
            managed_by: ManagedBy::Api,
            created_at: 0,
            updated_at: 0,
            version: 0,
        };
        store.put_application(&app, 1).await.unwrap();
        for name in ["RENE\u{301}", "ZOE\u{308}"] {
            let assignment = Assignment {
                application_id: "wiki".into(),
                kind: PrincipalKind::User,
                name: name.into(),
                managed_by: ManagedBy::Api,
                created_at: 1,
            };
            store.assign(&assignment).await.unwrap();
        }
        // What an older version wrote: no index, bob with alice's address, keys lower-cased only.
        let raw = sqlx_admin(url).await;
        let statements = [
            (
                "UPDATE users SET emails = (SELECT emails FROM users WHERE id = $1) WHERE id = $2",
                alice.id.as_str(),
                bob.id.as_str(),
            ),
            ("UPDATE users SET user_name_key = $1 WHERE id = $2", "jose\u{301}", decomposed.id.as_str()),
            ("UPDATE users SET user_name_key = $1 WHERE id = $2", "rene\u{301}", rene.id.as_str()),
            ("UPDATE app_assignments SET principal_key = $1 WHERE principal_name = $2", "rene\u{301}", "RENE\u{301}"),
            ("UPDATE app_assignments SET principal_key = $1 WHERE principal_name = $2", "zoe\u{308}", "ZOE\u{308}"),
        ];
        sqlx::query("DELETE FROM user_emails").execute(&raw).await.unwrap();
        for (sql, first, second) in statements {
            sqlx::query(sql).bind(first).bind(second).execute(&raw).await.unwrap();
        }
        raw.close().await;
        // Told apart by the old key, the same name by the new one.
        let composed = store.create_user(&with_emails("jos\u{e9}", &[]), 5).await.unwrap();

        let reopened = Store::connect(url).await.unwrap();
        assert_eq!(reopened.find_user_by_email("alice@example.com").await.unwrap().unwrap().id, alice.id);
        assert!(reopened.find_user_by_email("bob@example.com").await.unwrap().is_none(), "{backend:?}");
        assert_eq!(reopened.find_user_by_name("ren\u{e9}").await.unwrap().unwrap().id, rene.id);
        assert_eq!(reopened.find_user_by_name("Jos\u{e9}").await.unwrap().unwrap().id, composed.id);
        assert!(reopened.unassign("wiki", PrincipalKind::User, "ren\u{e9}").await.unwrap(), "{backend:?}");
        assert!(reopened.unassign("wiki", PrincipalKind::User, "zo\u{eb}").await.unwrap(), "{backend:?}");
        let shared = reopened.shared_values().await.unwrap();
        assert_eq!(
            shared,
            vec![
                SharedValue {
                    field: "email",
                    value: "alice@example.com".into(),
                    holder: Some("alice".into()),
                    users: vec!["alice".into(), "bob".into()],
                },
                SharedValue {
                    field: "userName",
                    value: "JOSE\u{301}".into(),
                    holder: Some("jos\u{e9}".into()),
                    users: vec!["JOSE\u{301}".into(), "jos\u{e9}".into()],
                },
            ],
            "{backend:?}"
        );
        // bob keeps the address only until his record is written: then it must be his own.
        let bob = reopened.get_user(&bob.id).await.unwrap().unwrap();
        let renamed = crossfed_store::User { given_name: Some("Bob".into()), ..bob.clone() };
        assert_eq!(reopened.update_user(&renamed, 9).await.unwrap_err(), email_taken("alice@example.com"));
        let own = crossfed_store::User { emails: vec![Email::work("bob@example.com")], ..bob };
        reopened.update_user(&own, 9).await.unwrap();
        assert_eq!(reopened.shared_values().await.unwrap().len(), 1, "{backend:?}");
        reopened.close().await;
        // Opening again changes nothing more.
        let again = Store::connect(url).await.unwrap();
        assert_eq!(again.shared_values().await.unwrap().len(), 1);
        assert_eq!(again.find_user_by_email("bob@example.com").await.unwrap().unwrap().user_name, "bob");
        again.close().await;
    }
    backends.finish().await;
}

/// The configuration file's assignments and users are matched by the name the file gave them:
/// after a rename the file finds them under the new name (nothing added or removed), still
/// removes an assignment it no longer declares, and a deleted user is the file's no more.
#[tokio::test]
async fn the_configuration_files_names_follow_renames() {
    use crossfed_store::{
        ApplicationStore, Assignment, AssignmentStore, ConfigUserStore, ManagedBy, PrincipalKind, StoredApplication,
        User,
    };
    let backends = Backends::new().await;
    for store in &backends.stores {
        let backend = store.backend();
        let app = StoredApplication {
            id: "wiki".into(),
            name: "Wiki".into(),
            template: "custom-saml".into(),
            definition: "{}".into(),
            managed_by: ManagedBy::Config,
            created_at: 0,
            updated_at: 0,
            version: 0,
        };
        store.put_application(&app, 1).await.unwrap();
        let alice = store.create_user(&with_emails("alice", &[]), 1).await.unwrap();
        store.bind_config_user("alice", &alice.id).await.unwrap();
        let group = store.create_group("Agents", None, 1).await.unwrap();
        let wanted = vec![(PrincipalKind::User, "alice".to_string()), (PrincipalKind::Group, "Agents".to_string())];
        assert_eq!(store.replace_assignments("wiki", ManagedBy::Config, &wanted, 2).await.unwrap(), (2, 0));

        let alice = store.update_user(&User { user_name: "alice2".into(), ..alice }, 3).await.unwrap();
        let group = crossfed_store::Group { display_name: "Agents2".into(), ..group };
        store.update_group(&group, 3).await.unwrap();
        let names = |list: Vec<Assignment>| list.into_iter().map(|a| a.name).collect::<Vec<_>>();
        assert_eq!(names(store.list_assignments(Some("wiki")).await.unwrap()), ["Agents2", "alice2"], "{backend:?}");
        assert_eq!(store.replace_assignments("wiki", ManagedBy::Config, &wanted, 4).await.unwrap(), (0, 0));
        assert_eq!(names(store.list_assignments(Some("wiki")).await.unwrap()), ["Agents2", "alice2"], "{backend:?}");
        assert_eq!(store.config_user("ALICE").await.unwrap().unwrap().id, alice.id, "the file's alice is alice2");
        assert!(store.config_user("alice2").await.unwrap().is_none(), "the file never named alice2");

        // The file drops alice: her assignment goes, under her new name too.
        let only_group = vec![(PrincipalKind::Group, "agents".to_string())];
        assert_eq!(store.replace_assignments("wiki", ManagedBy::Config, &only_group, 5).await.unwrap(), (0, 1));
        assert_eq!(names(store.list_assignments(Some("wiki")).await.unwrap()), ["Agents2"], "{backend:?}");
        store.delete_user(&alice.id).await.unwrap();
        assert!(store.config_user("alice").await.unwrap().is_none(), "{backend:?}");
        assert!(matches!(
            store.bind_config_user("alice", &alice.id).await.unwrap_err(),
            StoreError::NotFound { what: "user", .. }
        ));
    }
    backends.finish().await;
}

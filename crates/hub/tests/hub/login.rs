//! Signing in to the built-in directory against a real store (in-memory SQLite): passwords,
//! TOTP with replay refusal, throttling, disabled accounts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crossfed_hub::directory::login::{LoginError, authenticate};
use crossfed_hub::directory::password::hash_password;
use crossfed_hub::directory::totp;
use crossfed_store::{CredentialStore, NewUser, Store, ThrottlePolicy, UserStore};

async fn store_with_alice() -> (Store, String) {
    let store = crossfed_testkit::test_store("login").await;
    let user =
        store.create_user(&NewUser { user_name: "alice".into(), active: true, ..NewUser::default() }, 1).await.unwrap();
    store.set_password_hash(&user.id, &hash_password("correct horse battery").unwrap(), 1).await.unwrap();
    (store, user.id)
}

const POLICY: ThrottlePolicy = ThrottlePolicy { max_failures: 3, window_seconds: 600, lock_seconds: 900 };

#[tokio::test]
async fn password_sign_in_and_refusals() {
    let (store, _) = store_with_alice().await;
    let user = authenticate(&store, "Alice", "correct horse battery", None, &POLICY, 1000).await.unwrap();
    assert_eq!(user.user_name, "alice");
    let wrong = authenticate(&store, "alice", "wrong", None, &POLICY, 1001).await.unwrap_err();
    assert_eq!(wrong, LoginError::Invalid { reason: "wrong password" });
    let unknown = authenticate(&store, "mallory", "whatever1", None, &POLICY, 1001).await.unwrap_err();
    assert_eq!(unknown, LoginError::Invalid { reason: "unknown user" });
    // People see the same sentence for both.
    assert_eq!(wrong.to_string(), unknown.to_string());
}

#[tokio::test]
async fn throttling_locks_the_user_even_for_the_right_password() {
    let (store, _) = store_with_alice().await;
    for t in 0..2 {
        assert!(matches!(
            authenticate(&store, "alice", "nope", None, &POLICY, 1000 + t).await.unwrap_err(),
            LoginError::Invalid { .. }
        ));
    }
    assert_eq!(
        authenticate(&store, "alice", "nope", None, &POLICY, 1002).await.unwrap_err(),
        LoginError::Locked { minutes: 15 }
    );
    assert_eq!(
        authenticate(&store, "alice", "correct horse battery", None, &POLICY, 1003).await.unwrap_err(),
        LoginError::Locked { minutes: 15 }
    );
    assert!(authenticate(&store, "alice", "correct horse battery", None, &POLICY, 1002 + 900).await.is_ok());
}

#[tokio::test]
async fn totp_second_factor_refuses_reuse() {
    let (store, id) = store_with_alice().await;
    let secret = b"twenty byte secret!!";
    store.set_totp_secret(&id, Some(&totp::encode_base32(secret)), 1).await.unwrap();
    let now = 1_700_000_000;
    assert_eq!(
        authenticate(&store, "alice", "correct horse battery", None, &POLICY, now).await.unwrap_err(),
        LoginError::TotpRequired
    );
    let code = format!("{:06}", totp::code_at_step(secret, totp::step_of(now), 6));
    assert!(authenticate(&store, "alice", "correct horse battery", Some(&code), &POLICY, now).await.is_ok());
    assert_eq!(
        authenticate(&store, "alice", "correct horse battery", Some(&code), &POLICY, now + 1).await.unwrap_err(),
        LoginError::TotpInvalid
    );
    assert_eq!(
        authenticate(&store, "alice", "correct horse battery", Some("000000"), &POLICY, now + 2).await.unwrap_err(),
        LoginError::TotpInvalid
    );
}

#[tokio::test]
async fn disabled_accounts_are_told_so_only_with_the_right_password() {
    let (store, id) = store_with_alice().await;
    let mut user = store.get_user(&id).await.unwrap().unwrap();
    user.active = false;
    store.update_user(&user, 2).await.unwrap();
    assert!(matches!(
        authenticate(&store, "alice", "nope", None, &POLICY, 1000).await.unwrap_err(),
        LoginError::Invalid { .. }
    ));
    assert_eq!(
        authenticate(&store, "alice", "correct horse battery", None, &POLICY, 1001).await.unwrap_err(),
        LoginError::Disabled
    );
}

/// Expired sessions and abandoned logins are swept from the store; live ones stay.
#[tokio::test]
async fn the_janitor_removes_only_what_has_expired() {
    use crossfed_store::{ObjectKey, ObjectStore};
    let data = crossfed_testkit::temp_dir();
    let store = crossfed_testkit::test_store("janitor").await;
    let config: crossfed_hub::config::HubConfig = toml::from_str("[hub]\nsession_idle_minutes = 10\n").unwrap();
    let (hub, _) = crossfed_hub::build_hub(
        &config,
        store.clone(),
        data.path(),
        "http://hub.test",
        crossfed_clock::Clock::system(),
    )
    .await
    .unwrap();
    let now = 1_800_000_000;
    let put = |kind: &'static str, id: &'static str, at: i64| {
        let store = store.clone();
        async move {
            store.insert_object(ObjectKey { kind, scope: "hub", name_key: id, id }, "{}", at).await.unwrap();
        }
    };
    put("hub-session", "idle", now - 3600).await;
    put("hub-session", "live", now - 30).await;
    put("hub-pending-login", "abandoned", now - 700).await;
    put("hub-pending-sso", "waiting", now - 100).await;
    assert_eq!(crossfed_hub::janitor::sweep_once(&hub.store, &hub.sessions, now).await.unwrap(), 2);
    assert!(store.get_object("hub-session", "idle").await.unwrap().is_none());
    assert!(store.get_object("hub-session", "live").await.unwrap().is_some());
    assert!(store.get_object("hub-pending-login", "abandoned").await.unwrap().is_none());
    assert!(store.get_object("hub-pending-sso", "waiting").await.unwrap().is_some());
}

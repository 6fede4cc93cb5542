//! What the launch's identity check costs ([`check_identity`]: no other user may yield the value
//! that identifies a person to an application), and what opening a store costs now that it
//! re-keys names and indexes e-mail addresses, on a directory of 10,000 users in a SQLite file.
//!
//! `cargo bench -p crossfed-hub --bench identity_check` prints, per check, the mean time for
//! `${user:subject}` (guaranteed by the primary key: no read), `${user:email}` (one indexed
//! read) and `${user:givenName}` (a scan of every user), then the time to open the store with
//! its keys up to date and with an empty e-mail index (the first start after the upgrade).
//! `CROSSFED_BENCH_USERS` sets the number of users.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use crossfed_hub::apps::identity::check_identity;
use crossfed_hub::apps::mapping::{Template, UserValues};
use crossfed_hub::apps::model::{Application, Kind, RequestSigning, Signing};
use crossfed_store::{Email, NewUser, Store, UserStore};

fn application(name_id: &str) -> Application {
    Application {
        kind: Kind::CustomSaml,
        name: name_id.to_string(),
        acs_url: "https://app.example.com/acs".into(),
        audience: "https://app.example.com".into(),
        name_id_format: crossfed_saml::ns::NAMEID_UNSPECIFIED.into(),
        name_id: Template::parse(name_id).unwrap(),
        attributes: Vec::new(),
        relay_state: None,
        signing: Signing::Assertion,
        assertion_lifetime_seconds: 300,
        requests: RequestSigning::default(),
        logout_url: None,
        own_key: false,
    }
}

/// The mean time of `runs` calls of the check for `user`.
async fn mean(store: &Store, app: &Application, user: &crossfed_store::User, runs: u32) -> Duration {
    let values = UserValues::of(user, Vec::new());
    let start = Instant::now();
    for _ in 0..runs {
        check_identity(store, app, user, &values).await.unwrap();
    }
    start.elapsed() / runs
}

async fn timed_open(url: &str) -> Duration {
    let start = Instant::now();
    let store = Store::connect(url).await.unwrap();
    let took = start.elapsed();
    store.close().await;
    took
}

#[tokio::main]
async fn main() {
    let users: usize = std::env::var("CROSSFED_BENCH_USERS").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let dir = crossfed_testkit::temp_dir();
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    let store = Store::connect(&url).await.unwrap();
    let made = Instant::now();
    let mut middle = None;
    for i in 0..users {
        let new = NewUser {
            user_name: format!("user{i}"),
            emails: vec![Email::work(&format!("user{i}@example.com"))],
            given_name: Some(format!("Given{i}")),
            active: true,
            ..NewUser::default()
        };
        let user = store.create_user(&new, 1).await.unwrap();
        if i == users / 2 {
            middle = Some(user);
        }
    }
    println!("{users} users made in {:.1} s", made.elapsed().as_secs_f64());
    let user = middle.unwrap();
    for (template, runs) in [("${user:subject}", 10_000), ("${user:email}", 2_000), ("${user:givenName}", 20)] {
        let took = mean(&store, &application(template), &user, runs).await;
        println!("check_identity, NameID {template:<20} {:>10.1} µs", took.as_secs_f64() * 1e6);
    }
    store.close().await;
    println!("opening the store, keys up to date:      {:>8.1} ms", timed_open(&url).await.as_secs_f64() * 1e3);
    let raw = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    sqlx::query("DELETE FROM user_emails").execute(&raw).await.unwrap();
    raw.close().await;
    println!("opening the store, e-mail index empty:   {:>8.1} ms", timed_open(&url).await.as_secs_f64() * 1e3);
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(store.find_user_by_email("user1@example.com").await.unwrap().unwrap().user_name, "user1");
    store.close().await;
}

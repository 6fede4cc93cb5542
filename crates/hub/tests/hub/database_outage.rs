//! The database goes away under load and comes back: a PostgreSQL server of the test's own is
//! stopped and started while browsers use the portal and launch, and an administrator creates
//! users. Every answer is classified: served as usual, or 503 saying the database cannot be
//! reached — never "you are signed out", never "your account no longer exists", never 500.
//! Nothing acknowledged lacks its audit record, and the hub recovers by itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossfed_hub::config::HubConfig;
use crossfed_store::{AuditLog, AuditQuery, Outcome, Store, UserStore};
use crossfed_testkit::browser::{field, hidden_fields};
use crossfed_testkit::postgres_server::PostgresServer;
use tokio::sync::Mutex;

use crate::support::{listener, serve, sign_in};

/// How each kind of request was answered, and the longest a refusal took.
#[derive(Default, Debug)]
struct Tally {
    answers: BTreeMap<String, usize>,
    slowest_refusal: Duration,
    created: Vec<String>,
}

impl Tally {
    fn count(&mut self, what: &str) {
        *self.answers.entry(what.to_string()).or_default() += 1;
    }
}

/// Classifies a portal or launch answer; panics on an answer the outage must never cause.
fn classify_page(kind: &str, status: u16, location: Option<&str>, page: &str) -> String {
    assert!(!page.contains("no longer exists or is disabled"), "{kind}: a store error read as a gone account");
    assert!(!location.is_some_and(|l| l.contains("/login")), "{kind}: a store error read as no session");
    match status {
        200 => format!("{kind} 200"),
        503 => {
            assert!(page.contains("unavailable") || page.contains("cannot reach"), "{kind} 503 without why: {page}");
            format!("{kind} 503")
        }
        other => panic!("{kind} answered {other} during the outage: {page}"),
    }
}

async fn portal_and_launch(client: &reqwest::Client, url: &str, csrf: &str, tally: &Mutex<Tally>) {
    let started = Instant::now();
    let portal = client.get(format!("{url}/portal")).send().await.unwrap();
    let (status, location) = (portal.status().as_u16(), portal.headers().get("location").cloned());
    let page = portal.text().await.unwrap();
    let what = classify_page("portal", status, location.as_ref().and_then(|l| l.to_str().ok()), &page);
    note(tally, &what, started).await;
    let started = Instant::now();
    let launch = client
        .post(format!("{url}/apps/wiki/launch"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    let (status, location) = (launch.status().as_u16(), launch.headers().get("location").cloned());
    let page = launch.text().await.unwrap();
    let what = classify_page("launch", status, location.as_ref().and_then(|l| l.to_str().ok()), &page);
    if status == 200 {
        assert!(hidden_fields(&page).iter().any(|(name, _)| name == "SAMLResponse"), "{page}");
    }
    note(tally, &what, started).await;
}

async fn note(tally: &Mutex<Tally>, what: &str, started: Instant) {
    let mut tally = tally.lock().await;
    tally.count(what);
    if what.ends_with("503") {
        tally.slowest_refusal = tally.slowest_refusal.max(started.elapsed());
    }
}

async fn create_user(url: &str, token: &str, name: &str, tally: &Mutex<Tally>) {
    let started = Instant::now();
    let body = serde_json::json!({ "user_name": name, "email": format!("{name}@example.com") });
    let answer = reqwest::Client::new().post(format!("{url}/api/v1/users")).bearer_auth(token).json(&body).send().await;
    let answer = answer.unwrap();
    let status = answer.status().as_u16();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    match status {
        201 => {
            let mut tally = tally.lock().await;
            tally.count("create 201");
            tally.created.push(name.to_string());
        }
        503 => {
            let code = body["error"].as_str().unwrap_or("");
            assert!(["unavailable", "audit_unavailable"].contains(&code), "{body}");
            note(tally, "create 503", started).await;
        }
        other => panic!("a user creation answered {other} during the outage: {body}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_restart_under_load_is_answered_503_and_recovered_from() {
    let server = PostgresServer::start();
    let store = Store::connect(&server.url()).await.unwrap();
    let data = crossfed_testkit::temp_dir().keep();
    let config: HubConfig = toml::from_str(crate::support::ALICE_AND_WIKI).unwrap();
    let (tcp, url) = listener().await;
    let hub = crate::support::build(&config, &store, &data, &url).await;
    let _stop = serve(tcp, Arc::new(hub));
    let token = crate::support::admin_token(&store, &data).await;
    let alice =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let _ = sign_in(&alice, &url, "alice", "alice-password-1").await;
    let portal = alice.get(format!("{url}/portal")).send().await.unwrap().text().await.unwrap();
    let csrf = field(&portal, "csrf").to_string();

    let tally = Arc::new(Mutex::new(Tally::default()));
    let running = Arc::new(AtomicBool::new(true));
    let mut load = Vec::new();
    for worker in 0..3 {
        let (alice, url, csrf, token, tally, running) =
            (alice.clone(), url.clone(), csrf.clone(), token.clone(), tally.clone(), running.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while running.load(Ordering::SeqCst) {
                portal_and_launch(&alice, &url, &csrf, &tally).await;
                create_user(&url, &token, &format!("w{worker}n{n}"), &tally).await;
                n += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    // pg_ctl waits for the server; the load goes on on the other worker threads meanwhile.
    tokio::task::block_in_place(|| server.stop());
    // A load balancer's readiness check says so, naming only the check.
    let ready = reqwest::get(format!("{url}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "not ready", "failing": ["store"]}));
    // Down until the load has met the outage a few times (each refusal waits out the pool's
    // acquire timeout), however slow the machine.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while refusals(&*tally.lock().await) < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::task::block_in_place(|| server.start_again());
    // Up until the readiness check says so, then a little load on the restarted server.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while reqwest::get(format!("{url}/readyz")).await.map_or(true, |r| r.status() != 200)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    running.store(false, Ordering::SeqCst);
    for worker in load {
        worker.await.unwrap();
    }

    let tally = tally.lock().await;
    eprintln!("database outage: {:?}, slowest refusal {:?}", tally.answers, tally.slowest_refusal);
    let refused = refusals(&tally);
    assert!(refused >= 3, "the outage was hardly met: {:?}", tally.answers);
    // Served again after the restart, without a restart of the hub.
    assert_eq!(reqwest::get(format!("{url}/readyz")).await.unwrap().status(), 200);
    let mut again = Mutex::new(Tally::default());
    portal_and_launch(&alice, &url, &csrf, &again).await;
    create_user(&url, &token, "after-the-restart", &again).await;
    let again = again.get_mut();
    assert_eq!(again.answers.keys().collect::<Vec<_>>(), ["create 201", "launch 200", "portal 200"], "{again:?}");
    // Every acknowledged creation is there, with its audit record.
    let query = AuditQuery { action: Some("user.create".to_string()), limit: Some(10_000), ..AuditQuery::default() };
    let recorded: Vec<String> = store
        .query(&query)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.outcome == Outcome::Success)
        .filter_map(|e| e.target)
        .collect();
    for name in &tally.created {
        assert!(store.find_user_by_name(name).await.unwrap().is_some(), "{name} was acknowledged but is gone");
        assert!(recorded.contains(name), "{name} was acknowledged without its audit record");
    }
}

/// How many answers of `tally` were 503s.
fn refusals(tally: &Tally) -> usize {
    tally.answers.iter().filter(|(what, _)| what.ends_with("503")).map(|(_, n)| n).sum()
}

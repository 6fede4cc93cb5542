//! `/metrics`: the series that count sign-ins, launches, refusals and SCIM operations move when
//! those happen, the expiry gauges say the seconds left by the hub's clock, and `/metrics` moves
//! to a listener of its own when asked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::sync::Arc;

use crossfed_hub::config::HubConfig;
use crossfed_testkit::browser::{follow, hidden_fields, new_browser, submit_sign_in};
use serde_json::json;

use crate::support::{ALICE_AND_WIKI, CORP_PEOPLE, federation, listener, portal_sign_in, sign_in};

/// The series of a `/metrics` answer: each sample's name with its labels, and its value.
async fn scrape(url: &str) -> BTreeMap<String, f64> {
    let answer = reqwest::get(format!("{url}/metrics")).await.unwrap();
    assert_eq!(answer.status(), 200);
    let content_type = answer.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let text = answer.text().await.unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            (series.to_string(), value.parse().unwrap_or_else(|_| panic!("a number in {line:?}")))
        })
        .collect()
}

fn value(series: &BTreeMap<String, f64>, name: &str) -> f64 {
    series.get(name).copied().unwrap_or(0.0)
}

/// The value of the one series whose name starts with `prefix`.
fn one_starting(series: &BTreeMap<String, f64>, prefix: &str) -> (String, f64) {
    let found: Vec<_> = series.iter().filter(|(name, _)| name.starts_with(prefix)).collect();
    assert_eq!(found.len(), 1, "one series {prefix}…: {series:#?}");
    (found[0].0.clone(), *found[0].1)
}

const LAUNCHES_OK: &str = "crossfed_launches_total{application=\"wiki\",outcome=\"success\"}";
const LAUNCHES_UNKNOWN: &str = "crossfed_launches_total{application=\"(unknown)\",outcome=\"no_such_application\"}";
const SIGN_INS_OK: &str = "crossfed_sign_ins_total{method=\"directory\",outcome=\"success\"}";
const SIGN_INS_FAILED: &str = "crossfed_sign_ins_total{method=\"directory\",outcome=\"failure\"}";
const SAML_REFUSED: &str = "crossfed_refusals_total{kind=\"saml.request_invalid\"}";
const SCIM_CREATED: &str = "crossfed_scim_operations_total{resource=\"User\",operation=\"create\",status=\"201\"}";
const LAUNCH_LATENCY: &str =
    "crossfed_http_request_duration_seconds_count{method=\"POST\",route=\"/apps/{id}/launch\",status=\"2xx\"}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_move_with_sign_ins_launches_refusals_and_scim_operations() {
    // The hub's clock stands still, so the seconds until each expiry are known exactly.
    let clock = crossfed_clock::Clock::fixed(crossfed_clock::Clock::system().now());
    let now = clock.unix();
    let config: HubConfig = toml::from_str(ALICE_AND_WIKI).unwrap();
    let (store, data) = (crossfed_testkit::test_store("metrics").await, crossfed_testkit::temp_dir());
    let (listener, url) = listener().await;
    let (hub, _) = crossfed_hub::build_hub(&config, store.clone(), data.path(), &url, clock).await.unwrap();
    let signing_not_after = hub.keys.assertion.signing_key().certificate().not_after();
    let (scim_token, _) =
        crossfed_hub::tokens::issue(&store, crossfed_hub::tokens::SCIM, "entra", Some(now + 3_600), now).await.unwrap();
    let _stop = crate::support::serve(listener, Arc::new(hub));

    let before = scrape(&url).await;
    let (name, seconds) = one_starting(&before, "crossfed_certificate_expiry_seconds{certificate=\"assertion\"");
    assert_eq!(seconds as i64, signing_not_after - now, "{name}");
    assert!(seconds > 300.0 * 86_400.0, "a new signing certificate lasts long: {seconds}");
    let token = "crossfed_token_expiry_seconds{purpose=\"scim\",name=\"entra\"}";
    assert_eq!(value(&before, token), 3_600.0);
    assert_eq!(value(&before, "crossfed_ready{check=\"store\"}"), 1.0);
    assert_eq!(value(&before, "crossfed_ready{check=\"signing-certificate\"}"), 1.0);

    // A failed and a successful sign-in, a launch, a launch of no application.
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    assert_eq!(sign_in(&client, &url, "alice", "not-her-password").await.status(), 401);
    let portal = portal_sign_in(&url, "alice", "alice-password-1").await;
    assert_eq!(portal.launch("wiki").await.0, 200);
    assert_eq!(portal.launch("no-such-app").await.0, 404);
    // A SAML request that does not decode.
    let refused = reqwest::get(format!("{url}/saml/sso?SAMLRequest=not-deflate")).await.unwrap();
    assert_eq!(refused.status(), 400);
    // A SCIM client creates a user.
    let created = reqwest::Client::new()
        .post(format!("{url}/scim/v2/Users"))
        .bearer_auth(&scim_token)
        .header("content-type", "application/scim+json")
        .json(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bob"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let after = scrape(&url).await;
    for (series, moved) in [
        (SIGN_INS_FAILED, 1.0),
        (SIGN_INS_OK, 1.0),
        (LAUNCHES_OK, 1.0),
        (LAUNCHES_UNKNOWN, 1.0),
        (SAML_REFUSED, 1.0),
        (SCIM_CREATED, 1.0),
        (LAUNCH_LATENCY, 1.0),
    ] {
        assert_eq!(value(&after, series) - value(&before, series), moved, "{series}: {after:#?}");
    }
    // The store was timed: session lookups of the signed-in requests, the audit log's commits.
    for operation in ["session_lookup", "audit_commit", "ping"] {
        let count = format!("crossfed_store_operation_duration_seconds_count{{operation=\"{operation}\"}}");
        assert!(value(&after, &count) > 0.0, "{count}: {after:#?}");
    }
    // Every record is stored before its request is answered: nothing waits now.
    assert_eq!(value(&after, "crossfed_audit_queue_depth"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_federated_hub_says_when_its_identity_source_expires_and_counts_saml_sign_ins() {
    let f = federation().await;
    let browser = new_browser();
    let login = browser.get(format!("{}/portal", f.hub_url)).send().await.unwrap();
    let (name, password) = CORP_PEOPLE[0];
    let page = submit_sign_in(&browser, login, name, password).await.text().await.unwrap();
    let answer = hidden_fields(&page).into_iter().find(|(name, _)| name == "SAMLResponse").unwrap().1;
    let post = || browser.post(format!("{}/saml/acs", f.hub_url)).form(&[("SAMLResponse", answer.as_str())]).send();
    let landed = follow(&browser, post().await.unwrap()).await;
    assert_eq!(landed.url.path(), "/portal", "{landed:?}");
    // The same answer again is refused: its request was answered already.
    let again = follow(&browser, post().await.unwrap()).await;
    assert_eq!(again.status, 403, "{again:?}");

    let series = scrape(&f.hub_url).await;
    assert_eq!(value(&series, "crossfed_sign_ins_total{method=\"saml\",outcome=\"success\"}"), 1.0, "{series:#?}");
    assert_eq!(value(&series, "crossfed_sign_ins_total{method=\"saml\",outcome=\"failure\"}"), 1.0, "{series:#?}");
    assert_eq!(value(&series, "crossfed_refusals_total{kind=\"saml.not_pending\"}"), 1.0, "{series:#?}");
    // corp's signing certificate, as its metadata gives it: made today, valid for years.
    let (_, seconds) = one_starting(&series, "crossfed_certificate_expiry_seconds{certificate=\"identity_source\"");
    assert!(seconds > 300.0 * 86_400.0, "{seconds}");
    assert_eq!(value(&series, "crossfed_ready{check=\"identity-source-metadata\"}"), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_a_listener_of_their_own_are_not_on_the_hubs() {
    let config: HubConfig = toml::from_str(ALICE_AND_WIKI).unwrap();
    let (store, data) = (crossfed_testkit::test_store("metrics-apart").await, crossfed_testkit::temp_dir());
    let (listener, url) = listener().await;
    let (metrics_listener, metrics_url) = crate::support::listener().await;
    let hub = crate::support::build(&config, &store, data.path(), &url).await;
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = crossfed_web::serving::ServeOptions::default();
    tokio::spawn(crossfed_hub::serve_with(listener, Some(metrics_listener), Arc::new(hub), options, async move {
        let _ = stopped.await;
    }));

    let portal = portal_sign_in(&url, "alice", "alice-password-1").await;
    assert_eq!(portal.launch("wiki").await.0, 200);
    let series = scrape(&metrics_url).await;
    assert_eq!(value(&series, LAUNCHES_OK), 1.0, "{series:#?}");
    // The hub's own listener has no /metrics: a reverse proxy in front of it cannot publish them.
    let hidden = reqwest::get(format!("{url}/metrics")).await.unwrap();
    assert_eq!(hidden.status(), 404);
    // The metrics listener serves nothing else.
    assert_eq!(reqwest::get(format!("{metrics_url}/portal")).await.unwrap().status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_states_are_counted_per_connector() {
    // A peer whose SCIM server takes the pushes, and a connector to a port where nothing listens.
    let (peer_listener, peer_url) = listener().await;
    let peer_store = crossfed_testkit::test_store("metrics-peer").await;
    let peer_data = crossfed_testkit::temp_dir();
    let peer = crate::support::build(&HubConfig::default(), &peer_store, peer_data.path(), &peer_url).await;
    let (peer_token, _) =
        crossfed_hub::tokens::issue(&peer_store, crossfed_hub::tokens::SCIM, "source", None, 1_700_000_000)
            .await
            .unwrap();
    let _peer = crate::support::serve(peer_listener, Arc::new(peer));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let config: HubConfig = toml::from_str(&format!(
        "{ALICE_AND_WIKI}\n[[provisioning.scim]]\nname = \"peer\"\nurl = \"{peer_url}/scim/v2\"\ntoken = \"{peer_token}\"\n\
         [[provisioning.scim]]\nname = \"gone\"\nurl = \"http://{closed}/scim/v2\"\ntoken = \"{peer_token}\"\n"
    ))
    .unwrap();
    let (store, data) = (crossfed_testkit::test_store("metrics-provisioning").await, crossfed_testkit::temp_dir());
    let (listener, url) = listener().await;
    let hub = Arc::new(crate::support::build(&config, &store, data.path(), &url).await);
    hub.provisioning.run_once().await;
    let _stop = crate::support::serve(listener, hub);

    let series = scrape(&url).await;
    let subjects = |connector: &str, state: &str| {
        value(&series, &format!("crossfed_provisioning_subjects{{connector=\"{connector}\",state=\"{state}\"}}"))
    };
    assert_eq!(subjects("scim:peer", "in_sync"), 1.0, "{series:#?}");
    assert_eq!(subjects("scim:gone", "failed"), 1.0, "{series:#?}");
    // Every state of every connector is a series, so a state that empties reads 0, not nothing.
    assert!(series.contains_key("crossfed_provisioning_subjects{connector=\"scim:peer\",state=\"failed\"}"));
    assert_eq!(subjects("scim:peer", "failed") + subjects("scim:gone", "in_sync"), 0.0);
}

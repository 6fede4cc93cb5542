//! Refusals on the audit log: refused SAML requests, bad SCIM and admin tokens, a wrong
//! password and an unassigned launch each get a record naming their kind, the client address
//! and what they concerned, readable through the admin API and the console; repeats are summed
//! up per address and kind once their minute is over, and a flood from many addresses writes a
//! bounded number of records. The hub runs on a fixed clock, so "a minute" is exact.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::{IpAddr, Ipv4Addr};

use crossfed_hub::refusals::{OTHER_SOURCES, SOURCES_PER_MINUTE};
use crossfed_store::{AuditEvent, AuditLog, AuditQuery, Store};
use serde_json::Value;

use crate::support::{Running, start_hub};

/// 2026-12-08 10:00:05 UTC: five seconds into a minute.
const START: i64 = 1_796_724_005;

/// alice and the wiki she is assigned to, and carol, who is not.
fn config() -> String {
    let carol = "[[users]]\nuser_name = \"carol\"\npassword = \"carol-password-1\"\n";
    format!("{carol}{}", crate::support::ALICE_AND_WIKI)
}

/// A hub on a fixed clock, and the clock.
async fn start(name: &str) -> (Running, crossfed_clock::Clock) {
    let data = crossfed_testkit::temp_dir().keep();
    let store = crossfed_testkit::test_store(name).await;
    let clock = crossfed_clock::Clock::fixed(time::OffsetDateTime::from_unix_timestamp(START).unwrap());
    (start_hub(&config(), &store, &data, clock.clone()).await, clock)
}

/// Every refusal record, oldest first.
async fn refusals(store: &Store) -> Vec<AuditEvent> {
    let query = AuditQuery { action: Some("refused.*".into()), limit: Some(10_000), ..AuditQuery::default() };
    let mut events = store.query(&query).await.unwrap();
    events.reverse();
    events
}

fn one<'a>(events: &'a [AuditEvent], action: &str) -> &'a AuditEvent {
    let found: Vec<_> = events.iter().filter(|e| e.action == action).collect();
    assert_eq!(found.len(), 1, "one {action} record in {events:#?}");
    found[0]
}

/// A client whose connections come from loopback address `source`.
fn client_from(source: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::V4(source)).build().unwrap()
}

#[tokio::test]
async fn each_kind_of_refusal_is_recorded_with_its_source_and_repeats_are_summed_up() {
    let (hub, clock) = start("refusals").await;
    let http = reqwest::Client::new();
    for _ in 0..5 {
        let refused = http.get(format!("{}/saml/sso?SAMLRequest=not-a-request", hub.url)).send().await.unwrap();
        assert_eq!(refused.status(), 400);
    }
    let scim = http.get(format!("{}/scim/v2/Users", hub.url)).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(scim.status(), 401);
    let admin = http.get(format!("{}/api/v1/users", hub.url)).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(admin.status(), 401);
    let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let wrong = crate::support::sign_in(&browser, &hub.url, "alice", "not-her-password").await;
    assert_eq!(wrong.status(), 401);
    let wrong = crate::support::sign_in(&browser, &hub.url, "carol", "not-her-password").await;
    assert_eq!(wrong.status(), 401);
    let carol = crate::support::portal_sign_in(&hub.url, "carol", "carol-password-1").await;
    assert_eq!(carol.launch("wiki").await.0, 403, "carol is not assigned to the wiki");

    // Each first refusal of its address and kind is on record at once, in full.
    let events = refusals(&hub.store).await;
    assert!(events.iter().all(|e| e.source.as_deref() == Some("127.0.0.1")), "{events:#?}");
    let saml = one(&events, "refused.saml.request_invalid");
    assert_eq!(saml.actor, "anonymous");
    assert!(!saml.detail.is_empty() && !saml.detail.contains("not-a-request"), "no message body: {saml:?}");
    let tokens = one(&events, "refused.unauthorized");
    assert!(tokens.target.as_deref().is_some_and(|t| t.starts_with("/scim/v2")), "the first bad token: {tokens:?}");
    let login = one(&events, "refused.login.invalid");
    assert_eq!(login.actor, "alice");
    assert!(!login.detail.contains("not-her-password"), "{login:?}");
    let launch = one(&events, "refused.launch.not_assigned");
    assert_eq!((launch.actor.as_str(), launch.target.as_deref()), ("carol", Some("wiki")));
    assert_eq!(events.len(), 4, "{events:#?}");

    // Once the minute is over, one record says how many more each address had of each kind.
    clock.set(time::OffsetDateTime::from_unix_timestamp(START + 60).unwrap());
    hub.hub.refusals.close_past_minute().await;
    let events = refusals(&hub.store).await;
    let summaries: Vec<_> = events.iter().filter(|e| e.detail.contains("more refused in the minute")).collect();
    assert_eq!(summaries.len(), 3, "{events:#?}");
    let saml_more = summaries.iter().find(|e| e.action == "refused.saml.request_invalid").unwrap();
    assert!(saml_more.detail.starts_with("4 more refused in the minute from 10:00"), "{saml_more:?}");
    let token_more = summaries.iter().find(|e| e.action == "refused.unauthorized").unwrap();
    assert!(token_more.detail.starts_with("1 more"), "{token_more:?}");
    let login_more = summaries.iter().find(|e| e.action == "refused.login.invalid").unwrap();
    assert_eq!(login_more.actor, "various", "alice's and carol's refusals are not all alice's: {login_more:?}");

    // The admin API reads them, by family of actions and by client address.
    let read = |query: &'static str| {
        let (http, url, admin) = (http.clone(), hub.url.clone(), hub.admin.clone());
        async move {
            let answer = http.get(format!("{url}/api/v1/audit?{query}")).bearer_auth(admin).send().await.unwrap();
            assert_eq!(answer.status(), 200);
            answer.json::<Value>().await.unwrap()["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(read("action=refused.*&source=127.0.0.1").await, 7);
    assert_eq!(read("action=refused.launch.*").await, 1);
    assert_eq!(read("action=refused.*&source=127.0.0.9").await, 0);
    assert_eq!(read("action=refused").await, 0, "an action without .* is matched exactly");

    // And the console shows them with their address.
    let console = hub.console().await;
    let page = console.get(format!("{}/admin/audit?action=refused.*", hub.url)).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("refused.launch.not_assigned") && page.contains("127.0.0.1"), "{page}");
}

#[tokio::test]
async fn a_flood_from_many_addresses_writes_a_bounded_number_of_records() {
    let (hub, clock) = start("refusal-flood").await;
    let addresses = SOURCES_PER_MINUTE + 50;
    let mut clients = Vec::new();
    for i in 0..addresses {
        let n = u32::try_from(i).unwrap() + 2;
        clients.push(client_from(Ipv4Addr::new(127, 0, (n >> 8) as u8, (n & 0xff) as u8)));
    }
    for round in 0..3 {
        for client in &clients {
            let refused =
                client.get(format!("{}/api/v1/users", hub.url)).bearer_auth("not-a-token").send().await.unwrap();
            assert_eq!(refused.status(), 401, "round {round}");
        }
    }
    let events = refusals(&hub.store).await;
    assert_eq!(events.len(), SOURCES_PER_MINUTE + 1, "one record per address, the rest under one: {}", events.len());
    assert_eq!(events.iter().filter(|e| e.source.as_deref() == Some(OTHER_SOURCES)).count(), 1);

    clock.set(time::OffsetDateTime::from_unix_timestamp(START + 60).unwrap());
    hub.hub.refusals.close_past_minute().await;
    let events = refusals(&hub.store).await;
    assert_eq!(events.len(), 2 * (SOURCES_PER_MINUTE + 1), "450 refusals, 202 records");
    let others = events
        .iter()
        .find(|e| e.source.as_deref() == Some(OTHER_SOURCES) && e.detail.contains("more refused"))
        .expect("the other addresses' summary");
    assert!(others.detail.starts_with("149 more"), "50 addresses x 3 refusals, less the first: {others:?}");
}

//! The whole reference chain with real servers on free ports and one browser-like client:
//! corp (a crossfed hub in built-in-directory mode, playing Entra ID) → hub (trusting corp through
//! a metadata exchange) → the emulated account's sign-in → Amazon Connect's agent workspace.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use crossfed_cloud::config::{CloudConfig, ProviderConfig, RoleConfig, apply};
use crossfed_hub::config::HubConfig;
use crossfed_saml::Timestamp;
use crossfed_store::{Store, UserStore};
use crossfed_testkit::browser::{Landing, reference_chain_journey};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

async fn memory_store(name: &str) -> Store {
    crossfed_testkit::test_store(name).await
}

use crate::support::listener;

fn spawn_hub(listener: TcpListener, hub: crossfed_hub::Hub) -> oneshot::Sender<()> {
    crate::support::serve(listener, Arc::new(hub))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_signs_in_at_corp_and_lands_in_connect_bob_and_carol_do_not() {
    let (corp_listener, corp_url) = listener().await;
    let (hub_listener, hub_url) = listener().await;
    let (cloud_listener, cloud_url) = listener().await;
    let mut stops = Vec::new();

    // corp: the corporate IdP, with the hub registered as an application for alice, bob and carol.
    let corp_config: HubConfig = toml::from_str(&format!(
        r#"
[[users]]
user_name = "alice"
email = "alice@example.com"
given_name = "Alice"
password = "alice-password-1"
[[users]]
user_name = "bob"
email = "bob@example.com"
password = "bob-password-1"
[[users]]
user_name = "carol"
email = "carol@example.com"
password = "carol-password-1"

[[applications]]
id = "hub"
name = "crossfed hub"
assigned_users = ["alice", "bob", "carol"]
[applications.custom]
acs_url = "{hub_url}/saml/acs"
audience = "{hub_url}/saml/sp"
name_id = "${{user:email}}"
[[applications.custom.attributes]]
name = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"
value = "${{user:givenName}}"
"#
    ))
    .unwrap();
    let corp_dir = crossfed_testkit::temp_dir().keep();
    let (corp, _) = crossfed_hub::build_hub(
        &corp_config,
        memory_store("corp").await,
        &corp_dir,
        &corp_url,
        crossfed_clock::Clock::system(),
    )
    .await
    .unwrap();
    stops.push(spawn_hub(corp_listener, corp));

    // The target account: a SAML instance with Connect users alice and carol (bob missing).
    let cloud = Arc::new(crossfed_cloud::App::new(
        memory_store("cloud").await,
        crossfed_cloud::Settings::new("123456789012", "us-east-1", &cloud_url),
        "AKIAADMIN",
        "secret",
    ));
    let agents = ["alice@example.com", "carol@example.com"];
    let instance = crate::support::connect_instance(&cloud, &agents).await;

    // hub: trusts corp through corp's metadata for it, and offers Amazon Connect to alice and bob.
    let hub_config: HubConfig = toml::from_str(&format!(
        r#"
[identity_source]
metadata_url = "{corp_url}/saml/apps/hub/metadata"
provisioning = "just-in-time"

[[applications]]
id = "connect"
name = "Amazon Connect"
assigned_users = ["alice@example.com", "bob@example.com"]
[applications.amazon_connect]
account_id = "123456789012"
region = "us-east-1"
instance_id = "{instance}"
role_name = "ConnectAgent"
provider_name = "Hub"
signin_url = "{cloud_url}/saml"
console_url = "{cloud_url}"
"#
    ))
    .unwrap();
    let hub_store = memory_store("hub").await;
    let hub_dir = crossfed_testkit::temp_dir().keep();
    let (hub, _) =
        crossfed_hub::build_hub(&hub_config, hub_store.clone(), &hub_dir, &hub_url, crossfed_clock::Clock::system())
            .await
            .unwrap();
    stops.push(spawn_hub(hub_listener, hub));

    // The account trusts the hub's Connect application, from the metadata the hub publishes.
    let metadata = reqwest::get(format!("{hub_url}/saml/apps/connect/metadata")).await.unwrap().text().await.unwrap();
    let trust = CloudConfig {
        saml_providers: vec![ProviderConfig::from_xml("Hub", metadata)],
        roles: vec![RoleConfig::connect_agent("ConnectAgent", "Hub", "internal-services")],
        ..crate::support::connect_instance_config(&agents)
    };
    apply(&cloud, &trust, Timestamp::from(crossfed_clock::Clock::system().now()).unix()).await.unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(crossfed_cloud::serve(cloud_listener, cloud, async move {
        let _ = rx.await;
    }));
    stops.push(tx);

    let Landing::Page(status, page) = reference_chain_journey(&hub_url, "connect", "alice", "alice-password-1").await
    else {
        panic!("alice does not see Amazon Connect");
    };
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Agent workspace") && page.contains("alice@example.com"), "{page}");
    // The hub created alice just in time from corp's assertion.
    let alice = hub_store.find_user_by_name("alice@example.com").await.unwrap().unwrap();
    assert_eq!(alice.given_name.as_deref(), Some("Alice"));

    let Landing::Page(status, page) = reference_chain_journey(&hub_url, "connect", "bob", "bob-password-1").await
    else {
        panic!("bob does not see Amazon Connect");
    };
    assert_eq!(status, 403, "{page}");
    assert!(
        crossfed_testkit::browser::unescape(&page).contains("No Amazon Connect user named \"bob@example.com\""),
        "{page}"
    );

    let Landing::NotListed(portal) = reference_chain_journey(&hub_url, "connect", "carol", "carol-password-1").await
    else {
        panic!("carol sees Amazon Connect");
    };
    assert!(portal.contains("id=\"no-apps\""), "{portal}");
    drop(stops);
}

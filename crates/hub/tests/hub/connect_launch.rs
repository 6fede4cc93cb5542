//! The last hops of the reference chain: the hub's Amazon Connect application, from the catalog,
//! launched for a user, posted to the emulated account's sign-in endpoint, federated into Connect.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use base64::Engine;
use crossfed_cloud::config::{CloudConfig, InstanceConfig, ProviderConfig, RoleConfig, UserConfig, apply};
use crossfed_cloud::{App, Settings};
use crossfed_hub::apps::launch::{Launch, build_launch_response};
use crossfed_hub::apps::mapping::UserValues;
use crossfed_hub::apps::model::{AmazonConnect, AwsRole};
use crossfed_saml::{Endpoint, EntityDescriptor, Timestamp};
use crossfed_store::new_id;
use crossfed_xmldsig::SigningKey;

const HUB_ISSUER: &str = "https://hub.example.com/saml/apps/connect";

fn user(name: &str) -> UserValues {
    UserValues {
        subject: new_id(),
        user_name: name.into(),
        email: Some(format!("{name}@example.com")),
        ..UserValues::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_launch_reaches_the_agent_workspace_or_says_why_not() {
    // The target account, configured as the reference setup describes.
    let key = SigningKey::generate_rsa("hub connect app", crossfed_clock::Clock::system().now(), 30).unwrap();
    let metadata = EntityDescriptor::idp(
        HUB_ISSUER,
        vec![key.certificate().clone()],
        vec![Endpoint::post("https://hub.example.com/saml/sso")],
    )
    .to_xml();
    let store = crossfed_testkit::test_store("launch").await;
    let (listener, base) = crate::support::listener().await;
    let app = Arc::new(App::new(store, Settings::new("123456789012", "us-east-1", &base), "AKIAADMIN", "secret"));
    let config = CloudConfig {
        saml_providers: vec![ProviderConfig::from_xml("Hub", metadata)],
        connect_instances: vec![InstanceConfig {
            alias: "internal-services".into(),
            identity_management: "SAML".into(),
            users: ["alice", "carol"].iter().map(|u| UserConfig::agent(&format!("{u}@example.com"))).collect(),
        }],
        roles: vec![RoleConfig::connect_agent("ConnectAgent", "Hub", "internal-services")],
        ..CloudConfig::default()
    };
    apply(&app, &config, Timestamp::from(crossfed_clock::Clock::system().now()).unix()).await.unwrap();
    let instance_id =
        app.resources.list::<crossfed_cloud::model::ConnectInstance>("connect-instance", "123456789012").await.unwrap()
            [0]
        .id
        .clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(crossfed_cloud::serve(listener, app, async move {
        let _ = rx.await;
    }));

    // The hub's application, from the catalog, pointed at the emulated account.
    let connect = AmazonConnect {
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        instance_id: instance_id.clone(),
        role: AwsRole { role_name: "ConnectAgent".into(), provider_name: "Hub".into() },
        signin_url: Some(format!("{base}/saml")),
        console_url: Some(base.clone()),
        destination: Some("/agent-app-v2".into()),
        session_duration: 43200,
    }
    .application("Amazon Connect")
    .unwrap();

    let open = |who: &str| {
        let now = Timestamp::from(crossfed_clock::Clock::system().now());
        let launch =
            Launch { issuer: HUB_ISSUER, in_response_to: None, authn_instant: now, session_index: "_hub-session" };
        let response = build_launch_response(&connect, &launch, &user(who), &key, now).unwrap();
        base64::engine::general_purpose::STANDARD.encode(response.xml)
    };
    let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let relay = connect.relay_state.clone().unwrap();

    let page = browser
        .post(&connect.acs_url)
        .form(&[("SAMLResponse", open("alice")), ("RelayState", relay.clone())])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.url().path().ends_with("/agent-app-v2"), "{}", page.url());
    let text = page.text().await.unwrap();
    assert!(text.contains("Agent workspace") && text.contains("alice@example.com"), "{text}");

    // bob is assigned in the hub but has no Connect user: the failure the reference setup is known for.
    let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let page = browser
        .post(&connect.acs_url)
        .form(&[("SAMLResponse", open("bob")), ("RelayState", relay)])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    assert!(
        crossfed_testkit::browser::unescape(&page.text().await.unwrap())
            .contains("No Amazon Connect user named \"bob@example.com\"")
    );
    let _ = tx.send(());
}

//! Signing-key rotation with overlap: a staged key is published beside the current one before it
//! signs; after activation the hub signs with it, and a service provider that imported the
//! metadata during the overlap accepts the new signatures without any change on its side. Each
//! role rotates on its own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;
use std::sync::Arc;

use crossfed_hub::config::HubConfig;
use crossfed_saml::{EntityDescriptor, Timestamp};
use crossfed_store::{Store, UserStore};
use crossfed_xmldsig::{Certificate, VerifyOptions};

/// Starts the hub on `data` (as a restart would), returns its published IdP certificates and a
/// Response it signs for alice.
async fn restart(data: &Path, store: &Store) -> (Vec<Certificate>, String) {
    let (listener, url) = crate::support::listener().await;
    let config: HubConfig = toml::from_str(crate::support::ALICE_AND_WIKI).unwrap();
    let (hub, _) =
        crossfed_hub::build_hub(&config, store.clone(), data, &url, crossfed_clock::Clock::system()).await.unwrap();
    let hub = Arc::new(hub);
    let alice = store.find_user_by_name("alice").await.unwrap().unwrap();
    let values = hub.directory.user_values(&alice).await.unwrap();
    let catalog = hub.applications.snapshot();
    let app = &catalog.get("wiki").unwrap().app;
    let issuer = hub.app_entity_id("wiki");
    let launch = crossfed_hub::apps::launch::Launch {
        issuer: &issuer,
        in_response_to: None,
        authn_instant: Timestamp::from(crossfed_clock::Clock::system().now()),
        session_index: "_s1",
    };
    let built = crossfed_hub::apps::launch::build_launch_response(
        app,
        &launch,
        &values,
        &hub.keys.assertion.signing_key(),
        Timestamp::from(crossfed_clock::Clock::system().now()),
    )
    .unwrap();
    let tx = crate::support::serve(listener, hub.clone());
    let xml = reqwest::get(format!("{url}/saml/apps/wiki/metadata")).await.unwrap().text().await.unwrap();
    let _ = tx.send(());
    let metadata = EntityDescriptor::parse(xml.as_bytes()).unwrap();
    (metadata.require_idp().unwrap().signing_certificates.clone(), built.xml)
}

fn verifies_with(response: &str, certificates: &[Certificate]) -> bool {
    let document = crossfed_xml::parse(response.as_bytes()).unwrap();
    let assertion = document
        .root_element()
        .children_named(crossfed_saml::ns::ASSERTION, "Assertion")
        .next()
        .expect("the Response holds an assertion");
    crossfed_xmldsig::verify_enveloped(&document, assertion.id(), certificates, &VerifyOptions::default()).is_ok()
}

#[tokio::test]
async fn a_rotated_key_is_published_before_it_signs() {
    let data = crossfed_testkit::temp_dir();
    let store = crossfed_testkit::test_store("keys").await;
    let (before, response) = restart(data.path(), &store).await;
    assert_eq!(before.len(), 1);
    assert!(verifies_with(&response, &before));

    // Staged: published beside the current key, which still signs.
    let files = assertion_files(data.path());
    let next = files.stage_next("assertion", "crossfed hub", crossfed_clock::Clock::system().now()).unwrap();
    let (overlap, response) = restart(data.path(), &store).await;
    assert_eq!(overlap, vec![before[0].clone(), next.clone()]);
    assert!(verifies_with(&response, &before));
    assert!(!verifies_with(&response, std::slice::from_ref(&next)));
    let twice = files.stage_next("assertion", "crossfed hub", crossfed_clock::Clock::system().now()).unwrap_err();
    assert!(twice.to_string().contains("already staged"), "{twice}");

    // Activated: the new key signs; an SP holding the overlap metadata accepts it unchanged.
    assert_eq!(files.activate_next("assertion", 0, None).unwrap(), next);
    let (after, response) = restart(data.path(), &store).await;
    assert_eq!(after, vec![next.clone(), before[0].clone()], "the previous key stays published until retired");
    assert!(verifies_with(&response, &overlap));
    assert!(!verifies_with(&response, &before));
    assert!(data.path().join("signing-previous.key").exists());
    let again = files.activate_next("assertion", 0, None).unwrap_err();
    assert!(again.to_string().contains("no next key is staged"), "{again}");

    // Retired: only the new key is published.
    files.retire_previous("assertion", None).unwrap();
    let (retired, _) = restart(data.path(), &store).await;
    assert_eq!(retired, vec![next.clone()]);
    assert!(!data.path().join("signing-previous.key").exists());
}

fn assertion_files(dir: &Path) -> crossfed_hub::keys::KeyFiles {
    crossfed_hub::keys::KeyFiles::new(dir, &crossfed_hub::keys::KeyRole::Assertion.stem())
}

/// A hub from before the roles were separate had one key for both: after the upgrade its request
/// key is a copy of that key (the identity source trusts it), and from then on each rolls over on
/// its own.
#[tokio::test]
async fn an_upgraded_hub_keeps_its_one_key_for_both_roles_then_rotates_them_apart() {
    let data = crossfed_testkit::temp_dir();
    let old =
        crossfed_hub::keys::load_or_create(data.path(), "crossfed hub", crossfed_clock::Clock::system().now()).unwrap();
    let keys = crossfed_hub::keys::Keys::load(data.path(), crossfed_clock::Clock::system()).unwrap();
    let fingerprint = |ring: &crossfed_hub::keys::KeyRing| ring.signing_key().certificate().fingerprint_hex();
    assert_eq!(fingerprint(&keys.request), old.certificate().fingerprint_hex());
    assert_eq!(fingerprint(&keys.assertion), old.certificate().fingerprint_hex());
    keys.assertion.stage_next().unwrap();
    keys.assertion.activate_next().unwrap();
    assert_ne!(fingerprint(&keys.assertion), old.certificate().fingerprint_hex());
    assert_eq!(fingerprint(&keys.request), old.certificate().fingerprint_hex(), "the request key did not move");
    assert_eq!(keys.request.current().published().len(), 1);

    // A fresh hub gets two different keys.
    let fresh = crossfed_testkit::temp_dir();
    let keys = crossfed_hub::keys::Keys::load(fresh.path(), crossfed_clock::Clock::system()).unwrap();
    assert_ne!(fingerprint(&keys.request), fingerprint(&keys.assertion));
}

/// The certificates an application's IdP metadata lists (SHA-256).
async fn app_certificates(url: &str, app: &str) -> Vec<String> {
    let xml = reqwest::get(format!("{url}/saml/apps/{app}/metadata")).await.unwrap().text().await.unwrap();
    let metadata = EntityDescriptor::parse(xml.as_bytes()).unwrap();
    metadata.require_idp().unwrap().signing_certificates.iter().map(Certificate::fingerprint_hex).collect()
}

/// An application with a key of its own is signed for, published and rolled over apart from the
/// others; a role naming an application without one is refused and makes no key.
#[tokio::test]
async fn an_application_with_its_own_key_rolls_over_alone() {
    let config = format!(
        "{}\n[[applications]]\nid = \"payroll\"\nname = \"Payroll\"\nassigned_users = [\"alice\"]\nown_signing_key = true\n[applications.custom]\nacs_url = \"https://payroll.example.com/acs\"\naudience = \"https://payroll.example.com\"\n",
        crate::support::ALICE_AND_WIKI
    );
    let (store, data) = (crossfed_testkit::test_store("own-key").await, crossfed_testkit::temp_dir());
    let hub = crate::support::start_hub(&config, &store, data.path(), crossfed_clock::Clock::system()).await;
    let (wiki, payroll) = (app_certificates(&hub.url, "wiki").await, app_certificates(&hub.url, "payroll").await);
    assert_eq!((wiki.len(), payroll.len()), (1, 1));
    assert_ne!(wiki, payroll, "payroll has a key of its own");
    assert!(data.path().join("app.payroll.key").exists());

    let api = |path: &str| {
        reqwest::Client::new().post(format!("{}/api/v1/keys/{path}", hub.url)).bearer_auth(&hub.admin).send()
    };
    let staged = api("assertion:payroll/stage").await.unwrap();
    assert_eq!(staged.status(), 200);
    assert_eq!(app_certificates(&hub.url, "payroll").await.len(), 2, "payroll publishes its next key");
    assert_eq!(app_certificates(&hub.url, "wiki").await, wiki, "the wiki's key did not move");

    // The wiki has no key of its own: refused, and no file is made for it.
    let refused = api("assertion:wiki/stage").await.unwrap();
    assert_eq!(refused.status(), 404);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "not_found", "{body}");
    assert!(!data.path().join("app.wiki.key").exists());
    let listing: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/keys", hub.url))
        .bearer_auth(&hub.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let roles: Vec<&str> = listing["roles"].as_array().unwrap().iter().filter_map(|r| r["role"].as_str()).collect();
    assert_eq!(roles, ["request", "assertion", "assertion:payroll"]);
    assert_eq!(listing["roles"][2]["stage"], "staged");
}

//! Outbound provisioning against real servers: the Amazon Connect connector through the Connect
//! API of `crossfed cloud` (create, rename, update, disable, re-enable, adopt, the target down
//! then up, nothing created twice), and the SCIM connector pushing one crossfed's directory into
//! another's SCIM server, on change and in full passes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use crossfed_hub::Hub;
use crossfed_hub::aws::connect::{ConnectClient, ConnectEndpoint};
use crossfed_hub::config::HubConfig;
use crossfed_saml::Timestamp;
use crossfed_store::{AuditLog, AuditQuery, GroupStore, ProvisioningStore, Store, SyncState, UserStore};

const ADMIN_KEY: &str = "AKIAPROVISIONING0001";
const ADMIN_SECRET: &str = "provisioning/secret/for/tests";

async fn memory_store(name: &str) -> Store {
    crossfed_testkit::test_store(name).await
}

/// An emulated target account whose listener can be stopped and started again on its port.
struct Cloud {
    app: Arc<crossfed_cloud::App>,
    address: std::net::SocketAddr,
    url: String,
    instance: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Cloud {
    async fn new(preexisting: &[&str]) -> Cloud {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let url = format!("http://{address}");
        let app = Arc::new(crossfed_cloud::App::new(
            memory_store("cloud").await,
            crossfed_cloud::Settings::new("123456789012", "us-east-1", &url),
            ADMIN_KEY,
            ADMIN_SECRET,
        ));
        let instance = crate::support::connect_instance(&app, preexisting).await;
        let mut cloud = Cloud { app, address, url, instance, stop: None };
        cloud.serve(listener);
        cloud
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(crossfed_cloud::serve(listener, self.app.clone(), async move {
            let _ = rx.await;
        }));
        self.stop = Some(tx);
    }

    async fn down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    async fn up(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.address).await.unwrap();
        self.serve(listener);
    }

    fn client(&self) -> ConnectClient {
        ConnectClient::new(
            ConnectEndpoint {
                base_url: self.url.clone(),
                region: "us-east-1".into(),
                access_key_id: ADMIN_KEY.into(),
                secret_access_key: ADMIN_SECRET.into(),
            },
            crossfed_clock::Clock::system(),
        )
        .unwrap()
    }

    /// Connect users by username, lower-cased, with their IDs.
    async fn users(&self) -> Vec<(String, String)> {
        let mut users: Vec<(String, String)> = self
            .client()
            .list_users(&self.instance)
            .await
            .unwrap()
            .into_iter()
            .map(|u| (u.username.to_lowercase(), u.id))
            .collect();
        users.sort();
        users
    }
}

async fn connect_hub(cloud: &Cloud) -> Arc<Hub> {
    hub_on(cloud, memory_store("hub").await).await
}

/// A hub instance on `store`, provisioning `cloud`'s instance.
async fn hub_on(cloud: &Cloud, store: Store) -> Arc<Hub> {
    let config: HubConfig = toml::from_str(&format!(
        r#"
[provisioning]
retry_base_seconds = 1

[[users]]
user_name = "alice"
email = "alice@example.com"
given_name = "Alice"
[[users]]
user_name = "bob"
email = "bob@example.com"
given_name = "Bob"
[[users]]
user_name = "carol"
email = "carol@example.com"

[[applications]]
id = "connect"
name = "Amazon Connect"
assigned_users = ["alice", "bob"]
assigned_groups = ["Agents"]
[applications.amazon_connect]
account_id = "123456789012"
region = "us-east-1"
instance_id = "{instance}"
role_name = "ConnectAgent"
provider_name = "Hub"
signin_url = "{url}/saml"
console_url = "{url}"
[applications.amazon_connect.provisioning]
api_url = "{url}"
access_key_id = "{ADMIN_KEY}"
secret_access_key = "{ADMIN_SECRET}"
security_profiles = ["Agent"]
"#,
        instance = cloud.instance,
        url = cloud.url,
    ))
    .unwrap();
    let data = crossfed_testkit::temp_dir().keep();
    let (hub, _) = crossfed_hub::build_hub(&config, store, &data, "http://hub.test", crossfed_clock::Clock::system())
        .await
        .unwrap();
    Arc::new(hub)
}

async fn state(hub: &Hub, user_name: &str) -> (SyncState, String) {
    let user = hub.store.find_user_by_name(user_name).await.unwrap().unwrap();
    let record = hub.store.provisioning("connect:connect", &user.id).await.unwrap().unwrap();
    (record.state, record.detail)
}

#[tokio::test]
async fn connect_users_follow_the_directory_and_are_never_created_twice() {
    let cloud = Cloud::new(&["alice@example.com"]).await;
    let hub = connect_hub(&cloud).await;
    let alice_before = cloud.users().await;
    hub.provisioning.run_once().await;
    // alice's hand-made user is adopted, bob's is created; carol is not assigned.
    let users = cloud.users().await;
    assert_eq!(users.iter().map(|u| u.0.as_str()).collect::<Vec<_>>(), ["alice@example.com", "bob@example.com"]);
    assert_eq!(users[0], alice_before[0], "the existing Connect user is kept, not re-created");
    assert_eq!(state(&hub, "alice").await, (SyncState::InSync, "adopt".into()));
    assert_eq!(state(&hub, "bob").await, (SyncState::InSync, "create".into()));
    let bob_id = users[1].1.clone();
    let details = cloud.client().describe_user(&cloud.instance, &bob_id).await.unwrap();
    assert_eq!(details.first_name.as_deref(), Some("Bob"));
    assert_eq!(details.email.as_deref(), Some("bob@example.com"));
    assert_eq!(details.security_profile_ids.len(), 1);
    // A second pass changes nothing.
    hub.provisioning.run_once().await;
    assert_eq!(cloud.users().await, users);
    assert_eq!(state(&hub, "bob").await, (SyncState::InSync, "in sync".into()));

    // Passes started by directory changes trust what earlier passes confirmed and describe no
    // unchanged user (Connect allows 2 calls a second): bob's Connect user, edited by hand,
    // stays as it is until the next full pass puts it back.
    let first_name = |id: String| {
        let client = cloud.client();
        let instance = cloud.instance.clone();
        async move { client.describe_user(&instance, &id).await.unwrap().first_name }
    };
    cloud.client().update_identity_info(&cloud.instance, &bob_id, Some("Bobby"), None, None).await.unwrap();
    hub.provisioning.run_for_changes().await;
    assert_eq!(first_name(bob_id.clone()).await.as_deref(), Some("Bobby"));
    hub.provisioning.run_once().await;
    assert_eq!(first_name(bob_id.clone()).await.as_deref(), Some("Bob"));
    assert_eq!(state(&hub, "bob").await.1, "update");

    // A new given name is an identity-info update of the same Connect user, made by the pass
    // the change starts.
    let mut bob = hub.store.find_user_by_name("bob").await.unwrap().unwrap();
    bob.given_name = Some("Robert".into());
    let bob = hub.store.update_user(&bob, 2).await.unwrap();
    hub.provisioning.run_for_changes().await;
    assert_eq!(cloud.users().await, users);
    let details = cloud.client().describe_user(&cloud.instance, &bob_id).await.unwrap();
    assert_eq!(details.first_name.as_deref(), Some("Robert"));
    assert_eq!(state(&hub, "bob").await.1, "update");

    // A new e-mail is a new RoleSessionName: Connect cannot rename, so the user is replaced.
    let mut bob = bob;
    bob.emails = vec![crossfed_store::Email::work("robert@example.com")];
    let bob = hub.store.update_user(&bob, 3).await.unwrap();
    hub.provisioning.run_once().await;
    let names: Vec<String> = cloud.users().await.into_iter().map(|u| u.0).collect();
    assert_eq!(names, ["alice@example.com", "robert@example.com"]);
    assert_eq!(state(&hub, "bob").await.1, "rename");

    // Disabled: the Connect user goes (Connect has no disabled state); re-enabled: it returns.
    let mut bob = bob;
    bob.active = false;
    let bob = hub.store.update_user(&bob, 4).await.unwrap();
    hub.provisioning.run_once().await;
    assert_eq!(cloud.users().await.len(), 1);
    assert_eq!(state(&hub, "bob").await, (SyncState::Removed, "removed".into()));
    let mut bob = bob;
    bob.active = true;
    hub.store.update_user(&bob, 5).await.unwrap();
    hub.provisioning.run_once().await;
    assert_eq!(cloud.users().await.len(), 2);
    assert_eq!(state(&hub, "bob").await, (SyncState::InSync, "create".into()));

    // Assignment through a group: carol joins Agents and gets a Connect user.
    let agents = hub.store.create_group("Agents", None, 6).await.unwrap();
    let carol = hub.store.find_user_by_name("carol").await.unwrap().unwrap();
    hub.store.add_member(&agents.id, &carol.id).await.unwrap();
    hub.provisioning.run_once().await;
    assert!(cloud.users().await.iter().any(|u| u.0 == "carol@example.com"));

    // Every change is audited.
    let log =
        hub.store.query(&AuditQuery { actor: Some("provisioning".into()), ..AuditQuery::default() }).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    for action in ["connect.create", "connect.adopt", "connect.update", "connect.rename", "connect.delete"] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }
}

/// Two hub instances on one store take turns at the passes: what one confirmed is not trusted
/// once the other has changed the user.
#[tokio::test]
async fn a_change_pass_looks_again_at_what_another_instance_changed() {
    let cloud = Cloud::new(&[]).await;
    let a = connect_hub(&cloud).await;
    let b = hub_on(&cloud, a.store.clone()).await;
    a.provisioning.run_once().await;
    let bob_id = cloud.users().await.into_iter().find(|u| u.0 == "bob@example.com").unwrap().1;
    let first_name = || async { cloud.client().describe_user(&cloud.instance, &bob_id).await.unwrap().first_name };
    let rename = |name: &'static str| {
        let store = a.store.clone();
        async move {
            let mut bob = store.find_user_by_name("bob").await.unwrap().unwrap();
            bob.given_name = Some(name.to_string());
            store.update_user(&bob, 2).await.unwrap();
        }
    };
    rename("Robert").await;
    b.provisioning.run_for_changes().await;
    assert_eq!(first_name().await.as_deref(), Some("Robert"));
    // Back to what instance a confirmed: a's pass sees b's record and describes bob again.
    rename("Bob").await;
    a.provisioning.run_for_changes().await;
    assert_eq!(first_name().await.as_deref(), Some("Bob"));
    assert_eq!(state(&a, "bob").await.1, "update");
}

#[tokio::test]
async fn an_unreachable_target_is_retried_with_backoff_until_it_converges() {
    let mut cloud = Cloud::new(&[]).await;
    let hub = connect_hub(&cloud).await;
    cloud.down().await;
    let next = hub.provisioning.run_once().await.expect("a retry is scheduled");
    let (state_now, detail) = state(&hub, "bob").await;
    assert_eq!(state_now, SyncState::Failed);
    assert!(detail.contains("unavailable"), "{detail}");
    let failures =
        hub.store.query(&AuditQuery { action: Some("connect.failure".into()), ..AuditQuery::default() }).await.unwrap();
    assert_eq!(failures.len(), 2, "one audit record per user and failure streak");
    // Still down at the next attempt: the wait doubles.
    tokio::time::sleep(Duration::from_secs(
        (next - Timestamp::from(crossfed_clock::Clock::system().now()).unix()).max(0) as u64 + 1,
    ))
    .await;
    hub.provisioning.run_once().await;
    let user = hub.store.find_user_by_name("bob").await.unwrap().unwrap();
    let record = hub.store.provisioning("connect:connect", &user.id).await.unwrap().unwrap();
    assert_eq!((record.state, record.attempts), (SyncState::Failed, 2));
    // Back up: the background task converges on its own, and each user exists once.
    cloud.up().await;
    let task = crossfed_hub::tasks::spawn_provisioning(&hub);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while state(&hub, "bob").await.0 != SyncState::InSync || state(&hub, "alice").await.0 != SyncState::InSync {
        assert!(std::time::Instant::now() < deadline, "provisioning did not converge: {:?}", state(&hub, "bob").await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    task.abort();
    assert_eq!(cloud.users().await.len(), 2);
}

/// corp pushes its directory into the hub's SCIM server: on change (the background task) and
/// in full passes, with deactivation, deletion and group membership.
#[tokio::test]
async fn scim_push_provisions_another_crossfed() {
    // The receiving hub, with a SCIM token.
    let hub_store = memory_store("receiver").await;
    let data = crossfed_testkit::temp_dir().keep();
    let (listener, hub_url) = crate::support::listener().await;
    let (receiver, _) = crossfed_hub::build_hub(
        &HubConfig::default(),
        hub_store.clone(),
        &data,
        &hub_url,
        crossfed_clock::Clock::system(),
    )
    .await
    .unwrap();
    let (token, _) = crossfed_hub::tokens::issue(
        &hub_store,
        "scim",
        "corp",
        None,
        Timestamp::from(crossfed_clock::Clock::system().now()).unix(),
    )
    .await
    .unwrap();
    let tx = crate::support::serve(listener, Arc::new(receiver));
    // corp, pushing userName and externalId as the e-mail (what its SAML NameID carries).
    let config: HubConfig = toml::from_str(&format!(
        r#"
[provisioning]
retry_base_seconds = 1
[[provisioning.scim]]
name = "hub"
url = "{hub_url}/scim/v2"
token = "{token}"
user_name = "${{user:email}}"
external_id = "${{user:email}}"

[[users]]
user_name = "alice"
email = "alice@example.com"
given_name = "Alice"
[[users]]
user_name = "bob"
email = "bob@example.com"
"#
    ))
    .unwrap();
    let corp_store = memory_store("corp").await;
    std::fs::create_dir_all(data.join("corp")).unwrap();
    let (corp, _) = crossfed_hub::build_hub(
        &config,
        corp_store.clone(),
        &data.join("corp"),
        "http://corp.test",
        crossfed_clock::Clock::system(),
    )
    .await
    .unwrap();
    let corp = Arc::new(corp);
    let agents = corp_store.create_group("Agents", None, 1).await.unwrap();
    let bob = corp_store.find_user_by_name("bob").await.unwrap().unwrap();
    corp_store.add_member(&agents.id, &bob.id).await.unwrap();
    corp.provisioning.run_once().await;
    let pushed = hub_store.find_user_by_name("alice@example.com").await.unwrap().expect("alice pushed");
    assert_eq!(pushed.external_id.as_deref(), Some("alice@example.com"));
    assert_eq!(pushed.given_name.as_deref(), Some("Alice"));
    let group = hub_store.find_group_by_name("Agents").await.unwrap().expect("group pushed");
    let hub_bob = hub_store.find_user_by_name("bob@example.com").await.unwrap().unwrap();
    assert_eq!(hub_store.members(&group.id).await.unwrap(), vec![hub_bob.id.clone()]);
    // Nothing is created twice.
    corp.provisioning.run_once().await;
    assert_eq!(hub_store.list_users(crossfed_store::Page::default()).await.unwrap().1, 2);

    // Changes travel without waiting for a full pass.
    let task = crossfed_hub::tasks::spawn_provisioning(&corp);
    let mut bob = bob;
    bob.active = false;
    corp_store.update_user(&bob, 2).await.unwrap();
    corp.directory.changes().notify_waiters();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while hub_store.find_user_by_name("bob@example.com").await.unwrap().unwrap().active {
        assert!(std::time::Instant::now() < deadline, "the deactivation did not reach the hub");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let alice = corp_store.find_user_by_name("alice").await.unwrap().unwrap();
    corp_store.delete_user(&alice.id).await.unwrap();
    corp.directory.changes().notify_waiters();
    while hub_store.find_user_by_name("alice@example.com").await.unwrap().is_some() {
        assert!(std::time::Instant::now() < deadline, "the deletion did not reach the hub");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The record follows the remote deletion within the same pass.
    while corp_store.provisioning("scim:hub", &alice.id).await.unwrap().unwrap().state != SyncState::Removed {
        assert!(std::time::Instant::now() < deadline, "the deletion was not recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.abort();
    drop(tx);
}

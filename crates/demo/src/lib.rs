//! The reference chain on one machine — corp (playing Entra ID), the hub, and the target account
//! "internal-services" with Amazon Connect — wired through real metadata exchange, with the
//! reference setup's known gap (bob has no Connect user unless the hub provisions Connect).
//! `crossfed demo` runs it for people; `crossfed bench` and the tests drive it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use crossfed_cloud::config::{CloudConfig, InstanceConfig, ProviderConfig, RoleConfig, UserConfig, apply};
use crossfed_hub::config::HubConfig;
use crossfed_store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The target account's ID.
pub const ACCOUNT: &str = "123456789012";
/// The target account's administrator key; the demo password is its secret.
pub const ADMIN_ACCESS_KEY: &str = "AKIADEMOADMIN0000001";
/// The demo users and their given names.
pub const USERS: [(&str, &str); 3] = [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")];

/// The SQLite store `file` in `dir`, created with the directory when new.
pub async fn store(dir: &Path, file: &str) -> Result<Store> {
    crossfed_files::private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    let url = format!("sqlite://{}", dir.join(file).display());
    Store::connect(&url).await.with_context(|| format!("opening {url}"))
}

fn corp_config(password: &str, hub_url: &str, scim_token: &str) -> Result<HubConfig> {
    // corp provisions the hub by SCIM, as Entra ID provisions IAM Identity Center: the hub's
    // userName and externalId are the e-mail, which is also the NameID corp asserts.
    let mut text = format!(
        r#"[[provisioning.scim]]
name = "hub"
url = "{hub_url}/scim/v2"
token = "{scim_token}"
user_name = "${{user:email}}"
external_id = "${{user:email}}"

"#
    );
    for (name, given) in USERS {
        text.push_str(&format!(
            "[[users]]\nuser_name = \"{name}\"\nemail = \"{name}@example.com\"\ngiven_name = \"{given}\"\npassword = \"{password}\"\n\n"
        ));
    }
    toml::from_str(&text).context("the demo's corp configuration")
}

/// corp's application for the hub, as an administrator creates it at the corporate IdP (an
/// enterprise application in Entra ID): from the hub's SP metadata, through corp's own admin
/// service rather than its configuration file, so it can be re-imported later (a key rollover).
async fn add_corp_application(corp: &crossfed_hub::Hub, hub_sp_metadata: &Path) -> Result<()> {
    let spec: crossfed_hub::config::ApplicationSpec = toml::from_str(
        r#"name = "crossfed hub (IAM Identity Center's part)"
[custom]
name_id = "${user:email}"
[[custom.attributes]]
name = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"
value = "${user:givenName}"
"#,
    )
    .context("the demo's corp application")?;
    let mut spec = spec;
    if let Some(custom) = spec.custom.as_mut() {
        custom.metadata_file = Some(hub_sp_metadata.to_path_buf());
    }
    let spec = spec.with_metadata_read("corp's application hub").await?;
    let apps = corp.apps();
    if apps.entry(CORP_APPLICATION).await.is_err() {
        apps.create("demo", CORP_APPLICATION, &spec).await?;
    }
    for (name, _) in USERS {
        apps.change_assignment("demo", CORP_APPLICATION, crossfed_store::PrincipalKind::User, name, true).await?;
    }
    Ok(())
}

/// corp's application ID for the hub.
pub const CORP_APPLICATION: &str = "hub";

/// The hub's SP metadata, written where corp imports it from: what an administrator downloads
/// from the hub and uploads to the corporate IdP. The hub's keys are created here if they are new.
fn export_hub_sp_metadata(data_dir: &Path, hub_url: &str) -> Result<PathBuf> {
    let hub_dir = data_dir.join("hub");
    crossfed_files::private_dir(&hub_dir).with_context(|| format!("creating {}", hub_dir.display()))?;
    // The request key signs what the hub sends corp; its certificates are what corp trusts.
    let keys = crossfed_hub::keys::Keys::load(&hub_dir, crossfed_clock::Clock::system())?;
    let (entity_id, acs_url) = crossfed_hub::upstream::sp_endpoints(hub_url);
    let certificates = keys.request.current().published();
    let file = data_dir.join("corp").join("hub-sp-metadata.xml");
    crossfed_files::private_dir(&data_dir.join("corp")).context("creating corp's data dir")?;
    let metadata = crossfed_hub::upstream::sp_metadata_xml(&entity_id, &acs_url, &certificates);
    crossfed_files::replace_public(&file, metadata.as_bytes())
        .with_context(|| format!("writing {}", file.display()))?;
    Ok(file)
}

fn hub_config(corp_url: &str, cloud_url: &str, instance: &str, secret: &str, provision: bool) -> Result<HubConfig> {
    // With --provision-connect the hub creates the Connect users of its assigned users.
    let provisioning = match provision {
        true => format!(
            "[applications.amazon_connect.provisioning]\napi_url = \"{cloud_url}\"\naccess_key_id = \"{ADMIN_ACCESS_KEY}\"\nsecret_access_key = \"{secret}\"\n"
        ),
        false => String::new(),
    };
    // The console's chain checks read the account with the demo's one key.
    toml::from_str(&format!(
        r#"
[identity_source]
metadata_url = "{corp_url}/saml/apps/hub/metadata"
provisioning = "required"

[target_account]
endpoint = "{cloud_url}"
access_key_id = "{ADMIN_ACCESS_KEY}"
secret_access_key = "{secret}"

[[applications]]
id = "connect"
name = "Amazon Connect (internal-services)"
assigned_users = ["alice@example.com", "bob@example.com"]
[applications.amazon_connect]
account_id = "{ACCOUNT}"
region = "us-east-1"
instance_id = "{instance}"
role_name = "ConnectAgent"
provider_name = "CrossfedHub"
signin_url = "{cloud_url}/saml"
console_url = "{cloud_url}"
destination = "/agent-app-v2"
{provisioning}"#
    ))
    .context("the demo's hub configuration")
}

fn cloud_instances() -> CloudConfig {
    let users = USERS
        .iter()
        .filter(|(name, _)| *name != "bob") // the reference setup's known gap
        .map(|(name, given)| UserConfig {
            username: format!("{name}@example.com"),
            security_profiles: vec!["Agent".to_string()],
            routing_profile: crossfed_cloud::model::DEFAULT_ROUTING_PROFILE.to_string(),
            first_name: Some(given.to_string()),
            last_name: None,
            email: Some(format!("{name}@example.com")),
        })
        .collect();
    CloudConfig {
        account: crossfed_cloud::config::AccountConfig {
            id: ACCOUNT.to_string(),
            region: "us-east-1".to_string(),
            name: Some("internal-services".to_string()),
        },
        connect_instances: vec![InstanceConfig {
            alias: "internal-services".to_string(),
            identity_management: "SAML".to_string(),
            users,
        }],
        ..CloudConfig::default()
    }
}

/// The three parties of the reference chain, running.
pub struct Chain {
    pub corp_url: String,
    pub hub_url: String,
    pub cloud_url: String,
    pub instance: String,
    pub corp: Arc<crossfed_hub::Hub>,
    pub hub: Arc<crossfed_hub::Hub>,
    pub corp_store: Store,
    pub hub_store: Store,
    pub cloud_store: Store,
    tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
    background: Vec<tokio::task::JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl Chain {
    /// Stops the servers, waiting for requests in flight, and closes the stores.
    pub async fn stop(self) {
        for task in self.background {
            task.abort();
        }
        drop((self.corp, self.hub));
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        for store in [self.corp_store, self.hub_store, self.cloud_store] {
            store.close().await;
        }
    }
}

/// Starts corp, the hub and the target account on `listeners` (in that order), wired through
/// real metadata exchange, with their data in `data_dir`; one provisioning pass each is done.
pub async fn start_chain(
    data_dir: &Path,
    listeners: [TcpListener; 3],
    password: &str,
    scim_token: &str,
    provision_connect: bool,
) -> Result<Chain> {
    let [corp_listener, hub_listener, cloud_listener] = listeners;
    let url = |l: &TcpListener| -> Result<String> { Ok(format!("http://{}", l.local_addr()?)) };
    // corp is another site than the hub, as the corporate IdP is in production (SameSite
    // cookies behave as they would there): "localhost" against the hub's "127.0.0.1".
    let corp_url = format!("http://localhost:{}", corp_listener.local_addr()?.port());
    let (hub_url, cloud_url) = (url(&hub_listener)?, url(&cloud_listener)?);
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let clock = crossfed_clock::Clock::system();
    let now = clock.unix();
    // The target account, first with its Connect instance (the hub needs its ID).
    let cloud_store = store(&data_dir.join("cloud"), "cloud.db").await?;
    let settings = crossfed_cloud::Settings::new(ACCOUNT, "us-east-1", &cloud_url);
    let cloud = Arc::new(crossfed_cloud::App::new(cloud_store.clone(), settings, ADMIN_ACCESS_KEY, password));
    let instances = cloud_instances();
    apply(&cloud, &instances, now).await.context("setting up the target account")?;
    let instance = cloud
        .resources
        .find::<crossfed_cloud::model::ConnectInstance>("connect-instance", ACCOUNT, "internal-services")
        .await?
        .map(|i| i.value.id)
        .context("the demo's Connect instance is missing")?;

    // corp, playing the corporate IdP, importing the hub's SP metadata.
    let hub_sp_metadata = export_hub_sp_metadata(data_dir, &hub_url)?;
    let corp_store = store(&data_dir.join("corp"), "corp.db").await?;
    let (corp, _) = crossfed_hub::build_hub(
        &corp_config(password, &hub_url, scim_token)?,
        corp_store.clone(),
        &data_dir.join("corp"),
        &corp_url,
        clock.clone(),
    )
    .await
    .context("setting up corp")?;
    add_corp_application(&corp, &hub_sp_metadata).await.context("adding the hub to corp")?;
    let corp = Arc::new(corp);
    let corp_task = tokio::spawn(crossfed_hub::serve(corp_listener, corp.clone(), stopped(stop_rx.clone())));

    // The hub, importing corp's metadata for it.
    let hub_store = store(&data_dir.join("hub"), "hub.db").await?;
    let (hub, _) = crossfed_hub::build_hub(
        &hub_config(&corp_url, &cloud_url, &instance, password, provision_connect)?,
        hub_store.clone(),
        &data_dir.join("hub"),
        &hub_url,
        clock,
    )
    .await
    .context("setting up the hub")?;
    crossfed_hub::tokens::adopt(&hub_store, crossfed_hub::tokens::SCIM, "corp", scim_token, now)
        .await
        .context("the hub's SCIM token (--scim-token)")?;
    let hub = Arc::new(hub);
    let hub_task = tokio::spawn(crossfed_hub::serve(hub_listener, hub.clone(), stopped(stop_rx.clone())));

    // The account trusts the hub's Connect application through the metadata the hub publishes.
    let metadata_url = format!("{hub_url}/saml/apps/connect/metadata");
    let mut trust = CloudConfig {
        saml_providers: vec![ProviderConfig {
            name: "CrossfedHub".to_string(),
            metadata_file: None,
            metadata_url: Some(metadata_url),
            metadata_xml: None,
        }],
        roles: vec![RoleConfig::connect_agent("ConnectAgent", "CrossfedHub", "internal-services")],
        ..instances
    };
    trust.fetch_metadata().await.map_err(anyhow::Error::msg)?;
    apply(&cloud, &trust, now).await.context("trusting the hub in the target account")?;
    let cloud_task = tokio::spawn(crossfed_cloud::serve(cloud_listener, cloud, stopped(stop_rx.clone())));

    // Provisioning: corp pushes its people to the hub by SCIM, then (with --provision-connect)
    // the hub creates their Connect users. One pass each before "ready", then on every change.
    corp.provisioning.run_once().await;
    hub.provisioning.run_once().await;
    let background: Vec<_> = [
        Some(crossfed_hub::tasks::spawn_provisioning(&corp)),
        Some(crossfed_hub::tasks::spawn_provisioning(&hub)),
        crossfed_hub::tasks::spawn_metadata_refresh(&hub),
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(Chain {
        corp_url,
        hub_url,
        cloud_url,
        instance,
        corp,
        hub,
        corp_store,
        hub_store,
        cloud_store,
        tasks: vec![corp_task, hub_task, cloud_task],
        background,
        stop: stop_tx,
    })
}

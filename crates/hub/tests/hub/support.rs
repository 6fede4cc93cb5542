//! What the hub's tests share: a listener on a free port, a hub built from a configuration and
//! served on it until the test lets go of it, the first admin token and a console signed in with
//! it, a person signed in to the portal who launches applications; emulated AWS accounts in
//! [`accounts`].

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod accounts;

use std::path::Path;
use std::sync::Arc;

use crossfed_hub::Hub;
use crossfed_hub::config::HubConfig;
use crossfed_store::Store;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A listener on a free loopback port, and its URL.
pub async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// The hub `config` describes, over `store`, its keys in `data`, served at `url`, on the
/// system clock.
pub async fn build(config: &HubConfig, store: &Store, data: &Path, url: &str) -> Hub {
    crossfed_hub::build_hub(config, store.clone(), data, url, crossfed_clock::Clock::system()).await.unwrap().0
}

/// Serves `hub` on `listener` until the returned sender is dropped (or sent to).
pub fn serve(listener: TcpListener, hub: Arc<Hub>) -> oneshot::Sender<()> {
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(crossfed_hub::serve(listener, hub, async move {
        let _ = stopped.await;
    }));
    stop
}

/// A hub served on a free port with its admin token and a SCIM token (of client "entra"),
/// until this is dropped.
pub struct Running {
    pub url: String,
    pub admin: String,
    pub scim: String,
    pub store: Store,
    pub hub: Arc<Hub>,
    _stop: oneshot::Sender<()>,
}

/// Starts the hub the TOML `config` describes over `store`, its keys in `data`, judging time by
/// `clock`: as a start or a restart on the same store and data makes it.
pub async fn start_hub(config: &str, store: &Store, data: &Path, clock: crossfed_clock::Clock) -> Running {
    let (listener, url) = listener().await;
    let config: HubConfig = toml::from_str(config).unwrap();
    let (hub, _) = crossfed_hub::build_hub(&config, store.clone(), data, &url, clock).await.unwrap();
    let admin = admin_token(store, data).await;
    let (scim, _) =
        crossfed_hub::tokens::issue(store, crossfed_hub::tokens::SCIM, "entra", None, 1_700_000_000).await.unwrap();
    let hub = Arc::new(hub);
    let stop = serve(listener, hub.clone());
    Running { url, admin, scim, store: store.clone(), hub, _stop: stop }
}

impl Running {
    /// A browser signed in to the hub's admin console with the admin token.
    pub async fn console(&self) -> reqwest::Client {
        console_session(&self.url, &self.admin).await
    }
}

/// A browser signed in to the console of the hub at `url` with admin token `admin`.
pub async fn console_session(url: &str, admin: &str) -> reqwest::Client {
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let signed_in = client
        .post(format!("{url}/admin/login"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("token", admin)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.url().path(), "/admin", "the console takes the admin token");
    client
}

/// The admin token in `data`: written there at first start, found there at a restart.
pub async fn admin_token(store: &Store, data: &Path) -> String {
    let now = crossfed_clock::Clock::system().unix();
    crossfed_hub::tokens::ensure_admin_token(store, data, now).await.unwrap();
    std::fs::read_to_string(data.join("admin-token")).unwrap().trim().to_string()
}

/// A configuration with one user, alice (password `alice-password-1`), assigned to one custom
/// application, the wiki.
pub const ALICE_AND_WIKI: &str = r#"
[[users]]
user_name = "alice"
email = "alice@example.com"
password = "alice-password-1"

[[applications]]
id = "wiki"
name = "Wiki"
assigned_users = ["alice"]
[applications.custom]
acs_url = "https://wiki.example.com/saml/acs"
audience = "https://wiki.example.com"
"#;

/// The emulated account's ID in the hub's tests.
pub const ACCOUNT: &str = "123456789012";

/// The emulated account's configuration of a SAML Connect instance, "internal-services", whose
/// Connect users are the agents `users` (the rest of a configuration refers to it by alias).
pub fn connect_instance_config(users: &[&str]) -> crossfed_cloud::CloudConfig {
    use crossfed_cloud::config::{CloudConfig, InstanceConfig, UserConfig};
    CloudConfig {
        connect_instances: vec![InstanceConfig {
            alias: "internal-services".into(),
            identity_management: "SAML".into(),
            users: users.iter().map(|u| UserConfig::agent(u)).collect(),
        }],
        ..CloudConfig::default()
    }
}

/// Gives the emulated account `app` the instance of [`connect_instance_config`]; returns its ID.
pub async fn connect_instance(app: &crossfed_cloud::App, users: &[&str]) -> String {
    let config = connect_instance_config(users);
    crossfed_cloud::config::apply(app, &config, crossfed_clock::Clock::system().unix()).await.unwrap();
    let instances = app.resources.list::<crossfed_cloud::model::ConnectInstance>("connect-instance", ACCOUNT);
    instances.await.unwrap().first().expect("the instance just made").id.clone()
}

/// corp (a hub with a built-in directory, playing the corporate IdP) and a hub that signs people
/// in through it, creating them just in time; both served until this is dropped.
pub struct Federation {
    pub corp_url: String,
    pub hub_url: String,
    _stops: Vec<oneshot::Sender<()>>,
}

/// The people corp knows in a [`Federation`]: user name and password (their e-mail, the NameID,
/// is `NAME@example.com`).
pub const CORP_PEOPLE: [(&str, &str); 2] = [("alice", "alice-password-1"), ("mallory", "mallory-password-1")];

/// Starts a [`Federation`]: the hub's SP metadata handed to corp as a file, corp's IdP metadata
/// fetched by the hub from its URL.
pub async fn federation() -> Federation {
    let (corp_listener, corp_url) = listener().await;
    let (hub_listener, hub_url) = listener().await;
    let clock = crossfed_clock::Clock::system();
    let hub_dir = crossfed_testkit::temp_dir().keep();
    let hub_key = crossfed_hub::keys::load_or_create(&hub_dir, "crossfed hub", clock.now()).unwrap();
    let (entity_id, acs_url) = crossfed_hub::upstream::sp_endpoints(&hub_url);
    let sp_xml = crossfed_hub::upstream::sp_metadata_xml(&entity_id, &acs_url, &[hub_key.certificate().clone()]);
    let sp_file = hub_dir.join("sp.xml");
    std::fs::write(&sp_file, &sp_xml).unwrap();

    let mut corp_toml = String::new();
    for (name, password) in CORP_PEOPLE {
        corp_toml +=
            &format!("[[users]]\nuser_name = \"{name}\"\nemail = \"{name}@example.com\"\npassword = \"{password}\"\n");
    }
    corp_toml += "[[applications]]\nid = \"hub\"\nname = \"crossfed hub\"\nassigned_users = [\"alice\", \"mallory\"]\n";
    corp_toml += "[applications.custom]\nname_id = \"${user:email}\"\n";
    let mut corp_config: HubConfig = toml::from_str(&corp_toml).unwrap();
    corp_config.applications[0].custom.as_mut().unwrap().metadata_file = Some(sp_file);
    let corp_store = crossfed_testkit::test_store("corp").await;
    let corp_dir = crossfed_testkit::temp_dir().keep();
    let corp = build(&corp_config, &corp_store, &corp_dir, &corp_url).await;
    let corp_stop = serve(corp_listener, Arc::new(corp));

    let hub_config: HubConfig = toml::from_str(&format!(
        "[identity_source]\nmetadata_url = \"{corp_url}/saml/apps/hub/metadata\"\nprovisioning = \"just-in-time\"\n"
    ))
    .unwrap();
    let hub_store = crossfed_testkit::test_store("hub").await;
    let hub = build(&hub_config, &hub_store, &hub_dir, &hub_url).await;
    let hub_stop = serve(hub_listener, Arc::new(hub));
    Federation { corp_url, hub_url, _stops: vec![corp_stop, hub_stop] }
}

/// Signs `user` in at `hub`'s built-in directory form in `client` (which keeps cookies); the
/// answer is the page the sign-in lands on (the portal).
pub async fn sign_in(client: &reqwest::Client, hub: &str, user: &str, password: &str) -> reqwest::Response {
    let form = client.get(format!("{hub}/login")).send().await.unwrap().text().await.unwrap();
    let nonce = crossfed_testkit::browser::field(&form, "nonce").to_string();
    client
        .post(format!("{hub}/login"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[
            ("nonce", nonce.as_str()),
            ("next", "/portal"),
            ("user_name", user),
            ("password", password),
            ("totp", ""),
        ])
        .send()
        .await
        .unwrap()
}

/// A browser signed in to a hub's built-in directory, with its portal's CSRF token.
pub struct Portal {
    pub client: reqwest::Client,
    pub csrf: String,
    url: String,
}

/// Signs `user` in to the built-in directory of the hub at `url`.
pub async fn portal_sign_in(url: &str, user: &str, password: &str) -> Portal {
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let portal = sign_in(&client, url, user, password).await;
    assert_eq!(portal.status(), 200, "{user} signs in");
    let csrf = crossfed_testkit::browser::field(&portal.text().await.unwrap(), "csrf").to_string();
    Portal { client, csrf, url: url.to_string() }
}

impl Portal {
    /// Launches application `app` from the portal: the status and the page, unescaped.
    pub async fn launch(&self, app: &str) -> (u16, String) {
        let answer = self
            .client
            .post(format!("{}/apps/{app}/launch", self.url))
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[("csrf", self.csrf.as_str())])
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, crossfed_testkit::browser::unescape(&answer.text().await.unwrap()))
    }
}

//! Emulated AWS accounts for the hub's tests: each a `crossfed_cloud` server of its own on a free
//! port, with its own account ID and administrator keys, served until dropped; a SAML provider
//! trusting the metadata a test gives it, and a console-access role ("SAML 2.0 federation" trust
//! on that provider, `SAML:aud` the account's sign-in URLs) are added on demand.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use crossfed_cloud::config::{CloudConfig, ProviderConfig, RoleConfig, apply};
use crossfed_hub::check::TargetAccess;
use tokio::sync::oneshot;

/// The SAML provider the accounts' roles trust.
pub const PROVIDER: &str = "CrossfedHub";
/// The role the accounts give the hub's people.
pub const ROLE: &str = "Admin";
/// The two accounts' IDs.
pub const FIRST: &str = "111111111111";
pub const SECOND: &str = "222222222222";

/// One emulated account, served until dropped.
pub struct Account {
    pub id: String,
    /// The listener's URL: the account's API endpoint; its sign-in is at `URL/saml`.
    pub url: String,
    pub app: Arc<crossfed_cloud::App>,
    pub access_key_id: String,
    pub secret_access_key: String,
    _stop: oneshot::Sender<()>,
}

impl Account {
    /// Starts an empty account `id` (us-east-1) with administrator keys of its own.
    pub async fn start(id: &str) -> Account {
        let (listener, url) = super::listener().await;
        let store = crossfed_testkit::test_store(&format!("account-{id}")).await;
        let access_key_id = format!("AKIA{id}ADMN");
        let secret_access_key = format!("secret-of-{id}");
        let settings = crossfed_cloud::Settings::new(id, "us-east-1", &url);
        let app = Arc::new(crossfed_cloud::App::new(store, settings, &access_key_id, &secret_access_key));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(crossfed_cloud::serve(listener, app.clone(), async move {
            let _ = stopped.await;
        }));
        Account { id: id.to_string(), url, app, access_key_id, secret_access_key, _stop: stop }
    }

    /// Adds (or updates) SAML provider `provider` from `metadata_xml` and role `role` trusting it
    /// for console access.
    pub async fn trust(&self, provider: &str, metadata_xml: &str, role: &str) {
        let config = CloudConfig {
            saml_providers: vec![ProviderConfig::from_xml(provider, metadata_xml.to_string())],
            roles: vec![RoleConfig {
                name: role.to_string(),
                max_session_duration: 3600,
                trust_policy: None,
                trust_saml_provider: Some(provider.to_string()),
                inline_policies: Default::default(),
                connect_federation: Vec::new(),
            }],
            ..CloudConfig::default()
        };
        apply(&self.app, &config, crossfed_clock::Clock::system().unix()).await.unwrap();
    }

    /// The account's sign-in URL.
    pub fn signin_url(&self) -> String {
        format!("{}/saml", self.url)
    }

    pub fn provider_arn(&self, name: &str) -> String {
        format!("arn:aws:iam::{}:saml-provider/{name}", self.id)
    }

    pub fn role_arn(&self, name: &str) -> String {
        format!("arn:aws:iam::{}:role/{name}", self.id)
    }

    /// How the hub reaches the account with its administrator's keys; with `named`, the entry
    /// says which account it is for, otherwise it is learned from the keys.
    pub fn target(&self, named: bool) -> TargetAccess {
        TargetAccess {
            account_id: named.then(|| self.id.clone()),
            endpoint: Some(self.url.clone()),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            signin_url: None,
        }
    }

    /// The same as a `[[target_accounts]]` entry of the hub's configuration.
    pub fn config_entry(&self, named: bool) -> String {
        let account_id = if named { format!("account_id = \"{}\"\n", self.id) } else { String::new() };
        format!(
            "[[target_accounts]]\n{account_id}endpoint = \"{}\"\naccess_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
            self.url, self.access_key_id, self.secret_access_key
        )
    }
}

/// Accounts [`FIRST`] and [`SECOND`], each with provider [`PROVIDER`] trusting `metadata_xml` and
/// role [`ROLE`] trusting the provider.
pub async fn two_accounts(metadata_xml: &str) -> [Account; 2] {
    let (first, second) = tokio::join!(Account::start(FIRST), Account::start(SECOND));
    for account in [&first, &second] {
        account.trust(PROVIDER, metadata_xml, ROLE).await;
    }
    [first, second]
}

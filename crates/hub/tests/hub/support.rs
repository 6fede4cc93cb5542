//! What the hub's tests share: a listener on a free port, a hub built from a configuration and
//! served on it until the test lets go of it, and the first admin token.

#![allow(clippy::unwrap_used, clippy::expect_used)]

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

/// The admin token in `data`: written there at first start, found there at a restart.
pub async fn admin_token(store: &Store, data: &Path) -> String {
    let now = crossfed_clock::Clock::system().unix();
    crossfed_hub::tokens::ensure_admin_token(store, data, now).await.unwrap();
    std::fs::read_to_string(data.join("admin-token")).unwrap().trim().to_string()
}

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

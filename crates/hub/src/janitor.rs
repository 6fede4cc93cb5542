//! Removes what has expired from the store: sessions past their idle or absolute limit, logins
//! and logouts started but never finished, console sessions and test sign-in results. Reading
//! already ignores them; this keeps the tables small. It also re-reads the signing key files, so
//! a rotation made through another instance sharing them reaches this one, and adopts identity
//! source metadata uploaded through another instance.

use std::sync::Arc;
use std::time::Duration;

use crossfed_store::{ObjectStore, StoreError};

use crate::server::{Hub, SESSION_KIND};
use crate::sso::{PENDING_LOGIN, PENDING_SECONDS, PENDING_SSO};

/// How often the sweep runs.
const EVERY: Duration = Duration::from_secs(600);
/// How often the key files are re-read.
const KEYS_EVERY: Duration = Duration::from_secs(30);

/// One sweep at `now`; returns how many records went.
pub async fn sweep_once(hub: &Hub, now: i64) -> Result<u64, StoreError> {
    // A live session is touched at least once a minute while used, hence the extra minute.
    let mut removed =
        hub.store.delete_stale_objects(SESSION_KIND, now - hub.idle_seconds - 60, now - hub.max_seconds).await?;
    for (kind, seconds) in [
        (PENDING_SSO, PENDING_SECONDS),
        (PENDING_LOGIN, PENDING_SECONDS),
        (crate::logout::PENDING_LOGOUT, crate::logout::PENDING_LOGOUT_SECONDS),
        (crate::console::CONSOLE_KIND, crate::console::CONSOLE_SECONDS),
        (crate::console::TEST_KIND, crate::console::TEST_SECONDS),
    ] {
        removed += hub.store.delete_stale_objects(kind, now - seconds, now - seconds).await?;
    }
    Ok(removed)
}

/// Starts the sweep task; it ends with the hub.
pub fn spawn(hub: &Arc<Hub>) -> tokio::task::JoinHandle<()> {
    let weak = Arc::downgrade(hub);
    tokio::spawn(async move {
        let mut last_sweep = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(KEYS_EVERY).await;
            let Some(hub) = weak.upgrade() else { return };
            match hub.keys.reload() {
                Ok(true) => tracing::info!("the signing key files changed; signing and publishing the new set"),
                Ok(false) => {}
                Err(e) => tracing::warn!("re-reading the signing keys: {e}"),
            }
            match crate::metadata_refresh::adopt_upload(&hub).await {
                Ok(true) => tracing::info!("trusting the identity source metadata uploaded through another instance"),
                Ok(false) => {}
                Err(e) => tracing::warn!("reading the uploaded identity source metadata: {e}"),
            }
            if last_sweep.elapsed() >= EVERY {
                last_sweep = tokio::time::Instant::now();
                if let Err(e) = sweep_once(&hub, crate::server::now()).await {
                    tracing::warn!("removing expired sessions: {e}");
                }
            }
        }
    })
}

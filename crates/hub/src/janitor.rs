//! Removes what has expired from the store: sessions past their idle or absolute limit, logins
//! and logouts started but never finished, console sessions and test sign-in results. Reading already ignores them; this keeps the tables small.

use std::sync::Arc;
use std::time::Duration;

use crossfed_store::{ObjectStore, StoreError};

use crate::server::{Hub, SESSION_KIND};
use crate::sso::{PENDING_LOGIN, PENDING_SECONDS, PENDING_SSO};

/// How often the sweep runs.
const EVERY: Duration = Duration::from_secs(600);

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
        loop {
            tokio::time::sleep(EVERY).await;
            let Some(hub) = weak.upgrade() else { return };
            if let Err(e) = sweep_once(&hub, crate::server::now()).await {
                tracing::warn!("removing expired sessions: {e}");
            }
        }
    })
}

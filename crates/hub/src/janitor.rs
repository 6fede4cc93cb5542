//! Removes what has expired from the store: sessions past their idle or absolute limit, and
//! logins started but never finished. Reading already ignores them; this keeps the tables small.

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
    for kind in [PENDING_SSO, PENDING_LOGIN] {
        removed += hub.store.delete_stale_objects(kind, now - PENDING_SECONDS, now - PENDING_SECONDS).await?;
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

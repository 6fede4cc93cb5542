//! Periodic refresh of the upstream IdP's metadata (its keys roll over, endpoints move): the
//! source is read again every few minutes; a copy that fails to load, names another IdP or has
//! expired is refused and the last good copy stays, with the reason in the audit log.

use std::sync::Arc;
use std::time::Duration;

use crossfed_saml::Instant;
use crossfed_store::Outcome;

use crate::server::{Hub, audit};

/// Reads the identity source's metadata again. `Ok(true)` when the copy changed.
pub async fn refresh_once(hub: &Hub) -> Result<bool, String> {
    let Some(source) = &hub.identity_source else { return Ok(false) };
    let Some(refresh) = &source.refresh else { return Ok(false) };
    let fresh =
        crate::bootstrap::read_metadata(refresh.file.as_deref(), refresh.url.as_deref(), "identity source").await?;
    if *source.idp() == fresh {
        return Ok(false);
    }
    source.replace_idp(fresh, Instant::now())?;
    Ok(true)
}

/// Starts the refresh task, if the identity source has a refresh interval; it ends with the hub.
pub fn spawn(hub: &Arc<Hub>) -> Option<tokio::task::JoinHandle<()>> {
    let every = hub.identity_source.as_ref()?.refresh.as_ref()?.every_seconds.max(1);
    let weak = Arc::downgrade(hub);
    Some(tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(every)).await;
            let Some(hub) = weak.upgrade() else { return };
            match refresh_once(&hub).await {
                Ok(true) => {
                    audit(&hub, "system", "metadata.refresh", None, Outcome::Success, "identity source".into()).await;
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!("refreshing the identity source's metadata: {e}; the last good copy stays");
                    audit(&hub, "system", "metadata.refresh", None, Outcome::Failure, e).await;
                }
            }
        }
    }))
}

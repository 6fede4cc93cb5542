//! Periodic refresh of the upstream IdP's metadata (its keys roll over, endpoints move): the
//! source is read again every few minutes; a copy that fails to load, names another IdP or has
//! expired is refused and the last good copy stays, with the reason in the audit log.
//!
//! An administrator may also upload the IdP's metadata (console or API). The upload is kept in
//! the store, so it survives restarts and reaches every instance; it is the trusted copy unless
//! the configuration names a metadata URL, whose refresh then replaces it.

use std::sync::Arc;
use std::time::Duration;

use crossfed_saml::{EntityDescriptor, Instant};
use crossfed_store::{ObjectKey, ObjectStore, Outcome, Store, StoreError};

use crate::server::{Hub, audit};

const UPLOADED_KIND: &str = "idp-metadata";
const UPLOADED_ID: &str = "uploaded";

/// Trusts `xml` as the identity source's metadata from now on, here and (through the store) at
/// every instance. Returns the IdP's entity ID.
pub async fn upload(hub: &Hub, xml: &[u8], actor: &str) -> Result<String, String> {
    let Some(source) = &hub.identity_source else {
        return Err(
            "this hub signs people in with its built-in directory; add [identity_source] to its configuration first"
                .into(),
        );
    };
    let fresh = EntityDescriptor::parse(xml).map_err(|e| format!("the metadata does not read: {e}"))?;
    let entity_id = fresh.entity_id.clone();
    let previous = source.idp().entity_id.clone();
    // Checked before it is stored, and stored before it is trusted: a failure changes nothing.
    let now = hub.clock.now();
    let unusable = |e: String| format!("the metadata is not usable: {e}");
    fresh.require_idp().map_err(|e| unusable(e.to_string()))?;
    fresh.check_valid_at(now).map_err(|e| unusable(e.to_string()))?;
    let text = String::from_utf8_lossy(xml);
    keep_upload(&hub.store, &text, crate::server::now()).await.map_err(|e| format!("storing the metadata: {e}"))?;
    source.adopt_idp(fresh, now).map_err(unusable)?;
    let detail = if previous == entity_id { entity_id.clone() } else { format!("{previous} → {entity_id}") };
    audit(hub, actor, "identity-source.metadata", None, Outcome::Success, detail).await;
    Ok(entity_id)
}

async fn keep_upload(store: &Store, xml: &str, now: i64) -> Result<(), StoreError> {
    match store.get_object(UPLOADED_KIND, UPLOADED_ID).await? {
        Some(stored) => store.update_object(UPLOADED_KIND, UPLOADED_ID, xml, stored.version, now).await.map(|_| ()),
        None => {
            let key = ObjectKey { kind: UPLOADED_KIND, scope: "hub", name_key: UPLOADED_ID, id: UPLOADED_ID };
            store.insert_object(key, xml, now).await
        }
    }
}

/// Trusts the uploaded copy in the store when it differs from the one in use, unless a metadata
/// URL is configured. `Ok(true)` when the copy changed.
pub async fn adopt_upload(hub: &Hub) -> Result<bool, String> {
    let Some(source) = &hub.identity_source else { return Ok(false) };
    if source.refresh.as_ref().is_some_and(|r| r.url.is_some()) {
        return Ok(false);
    }
    let Some(stored) = hub.store.get_object(UPLOADED_KIND, UPLOADED_ID).await.map_err(|e| e.to_string())? else {
        return Ok(false);
    };
    let uploaded =
        EntityDescriptor::parse(stored.body.as_bytes()).map_err(|e| format!("the uploaded metadata: {e}"))?;
    if *source.idp() == uploaded {
        return Ok(false);
    }
    source.adopt_idp(uploaded, hub.clock.now())?;
    Ok(true)
}

/// Reads the identity source's metadata again. `Ok(true)` when the copy changed.
pub async fn refresh_once(hub: &Hub) -> Result<bool, String> {
    let Some(source) = &hub.identity_source else { return Ok(false) };
    let Some(refresh) = &source.refresh else { return Ok(false) };
    if refresh.url.is_none()
        && hub.store.get_object(UPLOADED_KIND, UPLOADED_ID).await.map_err(|e| e.to_string())?.is_some()
    {
        // An uploaded copy outranks the file.
        return Ok(false);
    }
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

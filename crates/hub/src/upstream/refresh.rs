//! Periodic refresh of the upstream IdP's metadata (its keys roll over, endpoints move): the
//! source is read again every few minutes; a copy that fails to load, names another IdP or has
//! expired is refused and the last good copy stays, with the reason in the audit log. Every
//! judgement of the metadata's validity is made at the hub's clock.
//!
//! An administrator may also upload the IdP's metadata (console or API). The upload is kept in
//! the store, so it survives restarts and reaches every instance; it is the trusted copy unless
//! the configuration names a metadata URL, whose refresh then replaces it.

use std::sync::Arc;

use crossfed_clock::Clock;
use crossfed_saml::{EntityDescriptor, MetadataError, Timestamp};
use crossfed_store::{ObjectKey, ObjectStore, Outcome, Store, StoreError};
use thiserror::Error;

use super::{IdentitySource, SourceError};
use crate::audit::Auditor;
use crate::audit_queue::AuditError;
use crate::metadata_source::{FetchError, read_metadata};

const UPLOADED_KIND: &str = "idp-metadata";
const UPLOADED_ID: &str = "uploaded";

#[derive(Debug, Error)]
pub enum RefreshError {
    #[error("the metadata does not read: {0}")]
    Unreadable(MetadataError),
    #[error("the uploaded metadata: {0}")]
    UploadUnreadable(MetadataError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Refused(#[from] SourceError),
    #[error("storing the metadata: {0}")]
    Store(#[from] StoreError),
    #[error(
        "the metadata is stored but its audit record could not be ({0}); it is not acknowledged: check the identity source"
    )]
    Unrecorded(#[from] AuditError),
}

/// The identity source's metadata with what keeping it needs: the store (uploads), the hub's
/// clock (validity) and the audit log. Cheap to clone.
#[derive(Debug, Clone)]
pub struct IdpMetadata {
    pub source: Arc<IdentitySource>,
    pub store: Store,
    pub clock: Clock,
    pub audit: Auditor,
}

impl IdpMetadata {
    fn now(&self) -> Timestamp {
        Timestamp::from(self.clock.now())
    }

    /// Trusts `xml` as the identity source's metadata from now on, here and (through the store) at
    /// every instance. Returns the IdP's entity ID.
    pub async fn upload(&self, xml: &[u8], actor: &str) -> Result<String, RefreshError> {
        let fresh = EntityDescriptor::parse(xml).map_err(RefreshError::Unreadable)?;
        let entity_id = fresh.entity_id.clone();
        let previous = self.source.idp().entity_id.clone();
        // Checked before it is stored, and stored before it is trusted: a failure changes nothing.
        let now = self.now();
        fresh.require_idp().map_err(SourceError::from)?;
        fresh.check_valid_at(now).map_err(SourceError::from)?;
        let text = String::from_utf8_lossy(xml);
        self.keep_upload(&text).await?;
        self.source.adopt_idp(fresh, now)?;
        let detail = if previous == entity_id { entity_id.clone() } else { format!("{previous} → {entity_id}") };
        self.audit.record(actor, "identity-source.metadata", None, Outcome::Success, detail).await?;
        Ok(entity_id)
    }

    async fn keep_upload(&self, xml: &str) -> Result<(), StoreError> {
        let now = self.clock.unix();
        match self.store.get_object(UPLOADED_KIND, UPLOADED_ID).await? {
            Some(stored) => {
                self.store.update_object(UPLOADED_KIND, UPLOADED_ID, xml, stored.version, now).await.map(|_| ())
            }
            None => {
                let key = ObjectKey { kind: UPLOADED_KIND, scope: "hub", name_key: UPLOADED_ID, id: UPLOADED_ID };
                self.store.insert_object(key, xml, now).await
            }
        }
    }

    /// Trusts the uploaded copy in the store when it differs from the one in use, unless a
    /// metadata URL is configured. `Ok(true)` when the copy changed.
    pub async fn adopt_upload(&self) -> Result<bool, RefreshError> {
        if self.source.refresh.as_ref().is_some_and(|r| r.url.is_some()) {
            return Ok(false);
        }
        let Some(stored) = self.store.get_object(UPLOADED_KIND, UPLOADED_ID).await? else {
            return Ok(false);
        };
        let uploaded = EntityDescriptor::parse(stored.body.as_bytes()).map_err(RefreshError::UploadUnreadable)?;
        if *self.source.idp() == uploaded {
            return Ok(false);
        }
        self.source.adopt_idp(uploaded, self.now())?;
        Ok(true)
    }

    /// Reads the identity source's metadata again. `Ok(true)` when the copy changed.
    pub async fn refresh_once(&self) -> Result<bool, RefreshError> {
        let Some(refresh) = &self.source.refresh else { return Ok(false) };
        if refresh.url.is_none() && self.store.get_object(UPLOADED_KIND, UPLOADED_ID).await?.is_some() {
            // An uploaded copy outranks the file.
            return Ok(false);
        }
        let fresh = read_metadata(refresh.file.as_deref(), refresh.url.as_deref(), "identity source").await?;
        if *self.source.idp() == fresh {
            return Ok(false);
        }
        self.source.replace_idp(fresh, self.now())?;
        Ok(true)
    }

    /// One scheduled refresh: a changed copy and a failure are audited, a failure logged (the
    /// last good copy stays).
    pub async fn refresh_audited(&self) {
        match self.refresh_once().await {
            Ok(true) => {
                let detail = "identity source".to_string();
                self.audit.note("system", "metadata.refresh", None, Outcome::Success, detail).await;
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!("refreshing the identity source's metadata: {e}; the last good copy stays");
                self.audit.note("system", "metadata.refresh", None, Outcome::Failure, e.to_string()).await;
            }
        }
    }
}

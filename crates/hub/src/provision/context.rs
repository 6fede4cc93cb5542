//! What every provisioning connector works with: the store, the catalog, the directory, the
//! audit log and the clock ([`Context`]), when to retry ([`Schedule`]), and the per-subject
//! state each attempt leaves ([`Recorder`]).

use std::sync::Arc;
use std::time::Duration;

use crossfed_clock::Clock;
use crossfed_store::{Outcome, ProvisioningRecord, ProvisioningStore, Store, SyncState, UserStore};

use crate::apps::catalog::{Catalog, CatalogCache};
use crate::audit::Auditor;
use crate::directory::Directory;

/// What the connectors read and record with.
#[derive(Debug)]
pub struct Context {
    pub store: Store,
    pub applications: Arc<CatalogCache>,
    pub directory: Directory,
    pub audit: Auditor,
    pub clock: Clock,
    pub schedule: Schedule,
    /// This process's name among the hub instances sharing the store (connector leases).
    pub instance_id: String,
}

impl Context {
    pub fn now(&self) -> i64 {
        self.clock.unix()
    }

    /// The application catalog, as current as the handlers see it.
    pub async fn catalog(&self) -> Arc<Catalog> {
        self.applications.current(&self.store).await
    }
}

/// When and how often provisioning runs.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Seconds between full reconciles.
    pub interval_seconds: u64,
    /// The first retry after a failure waits this long; each further failure doubles it.
    pub retry_base_seconds: i64,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule { interval_seconds: 300, retry_base_seconds: 5 }
    }
}

/// The longest wait between retries of one user.
const MAX_BACKOFF_SECONDS: i64 = 900;

/// The delay before the next attempt after `attempts` failures in a row.
pub(crate) fn backoff(schedule: &Schedule, attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    schedule.retry_base_seconds.max(1).saturating_mul(1_i64 << doublings).min(MAX_BACKOFF_SECONDS)
}

/// Writes the state of one subject after an attempt, and audits what changed.
pub(crate) struct Recorder<'a> {
    pub context: &'a Context,
    pub connector: String,
}

impl Recorder<'_> {
    pub(crate) async fn previous(&self, subject_id: &str) -> Option<ProvisioningRecord> {
        match self.context.store.provisioning(&self.connector, subject_id).await {
            Ok(record) => record,
            Err(e) => {
                tracing::warn!("provisioning {}: reading the state of {subject_id}: {e}", self.connector);
                None
            }
        }
    }

    /// Whether a failed subject must still wait before it is tried again.
    pub(crate) fn waiting(previous: Option<&ProvisioningRecord>, now: i64) -> bool {
        previous.is_some_and(|r| r.state == SyncState::Failed && r.next_attempt_at > now)
    }

    /// Stores `record`; returns it when it was stored.
    async fn save(&self, record: ProvisioningRecord) -> Option<ProvisioningRecord> {
        match self.context.store.save_provisioning(&record).await {
            Ok(()) => Some(record),
            Err(e) => {
                tracing::warn!("provisioning {}: saving the state of {}: {e}", self.connector, record.subject_name);
                None
            }
        }
    }

    /// The subject is in step with the remote record `remote_id`; `action` names what was done
    /// (None when nothing had to change). Returns the record as stored, if it was.
    pub(crate) async fn in_sync(
        &self,
        subject_id: &str,
        name: &str,
        remote_id: &str,
        action: Option<&str>,
    ) -> Option<ProvisioningRecord> {
        let now = self.context.now();
        let stored = self
            .save(ProvisioningRecord {
                connector: self.connector.clone(),
                subject_id: subject_id.to_string(),
                subject_name: name.to_string(),
                remote_id: Some(remote_id.to_string()),
                state: SyncState::InSync,
                detail: action.unwrap_or("in sync").to_string(),
                attempts: 0,
                next_attempt_at: 0,
                updated_at: now,
            })
            .await;
        if let Some(action) = action {
            let action = format!("{}.{action}", self.kind());
            self.context
                .audit
                .note("provisioning", &action, Some(name), Outcome::Success, self.connector.clone())
                .await;
        }
        stored
    }

    /// The remote record was removed (or never existed) because the subject is gone or no
    /// longer assigned.
    pub(crate) async fn removed(&self, subject_id: &str, name: &str, deleted_remote: bool) {
        self.save(ProvisioningRecord {
            connector: self.connector.clone(),
            subject_id: subject_id.to_string(),
            subject_name: name.to_string(),
            remote_id: None,
            state: SyncState::Removed,
            detail: if deleted_remote { "removed" } else { "nothing to remove" }.to_string(),
            attempts: 0,
            next_attempt_at: 0,
            updated_at: self.context.now(),
        })
        .await;
        if deleted_remote {
            let action = format!("{}.delete", self.kind());
            self.context
                .audit
                .note("provisioning", &action, Some(name), Outcome::Success, self.connector.clone())
                .await;
        }
    }

    /// An attempt failed: the reason is kept and the next attempt scheduled with backoff.
    /// Returns when that is.
    pub(crate) async fn failed(
        &self,
        previous: Option<&ProvisioningRecord>,
        subject_id: &str,
        name: &str,
        reason: &str,
    ) -> i64 {
        let now = self.context.now();
        let attempts = previous.filter(|r| r.state == SyncState::Failed).map_or(0, |r| r.attempts) + 1;
        let next = now + backoff(&self.context.schedule, attempts);
        // While a remote record exists, the name stays the one it was made under, so a later
        // pass still recognises a rename.
        let kept_name = previous.filter(|r| r.remote_id.is_some()).map(|r| r.subject_name.clone());
        self.save(ProvisioningRecord {
            connector: self.connector.clone(),
            subject_id: subject_id.to_string(),
            subject_name: kept_name.unwrap_or_else(|| name.to_string()),
            remote_id: previous.and_then(|r| r.remote_id.clone()),
            state: SyncState::Failed,
            detail: reason.to_string(),
            attempts,
            next_attempt_at: next,
            updated_at: now,
        })
        .await;
        // One audit record per failure streak, not per retry.
        if attempts == 1 {
            let detail = format!("{}: {reason}", self.connector);
            let action = format!("{}.failure", self.kind());
            self.context.audit.note("provisioning", &action, Some(name), Outcome::Failure, detail).await;
        }
        next
    }

    fn kind(&self) -> &str {
        self.connector.split(':').next().unwrap_or("provisioning")
    }
}

/// Every user of the directory, page by page.
pub(crate) async fn all_users(store: &Store) -> Result<Vec<crossfed_store::User>, crossfed_store::StoreError> {
    let mut users = Vec::new();
    loop {
        let page = crossfed_store::Page { offset: users.len() as i64, limit: 1000 };
        let (batch, total) = store.list_users(page).await?;
        let done = batch.is_empty() || users.len() as i64 + batch.len() as i64 >= total;
        users.extend(batch);
        if done {
            return Ok(users);
        }
    }
}

/// Retries a call that failed for a passing reason, twice, after short pauses; a failure that
/// outlasts them is left to the next pass's backoff.
pub(crate) async fn with_retries<T, E, F, Fut>(retryable: impl Fn(&E) -> bool, mut call: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut pause = Duration::from_millis(200);
    for _ in 0..2 {
        match call().await {
            Err(e) if retryable(&e) => {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            other => return other,
        }
    }
    call().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        let s = Schedule { interval_seconds: 60, retry_base_seconds: 5 };
        let delays: Vec<i64> = (1..=10).map(|n| backoff(&s, n)).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]);
        assert_eq!(backoff(&s, i64::MAX), 900);
    }
}

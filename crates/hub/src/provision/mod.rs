//! Outbound provisioning: connectors that keep another system's users in step with this hub's
//! directory — another crossfed's (or any) SCIM endpoint, and Amazon Connect for the users
//! assigned to a Connect application. A background task runs every connector after each
//! directory change and at a fixed interval (the full reconcile that repairs drift); each
//! user's state per connector is kept in the store, visible in the admin API and audited.

pub mod connect;
pub mod scim_push;

use std::sync::Arc;
use std::time::Duration;

use crossfed_store::{LeaseStore, Outcome, ProvisioningRecord, ProvisioningStore, SyncState, UserStore};

use crate::server::{Hub, audit, now};

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

/// A connector configured in the file (Connect connectors follow the application catalog).
#[derive(Debug)]
pub enum Connector {
    Scim(scim_push::ScimPush),
}

impl Connector {
    pub fn name(&self) -> String {
        match self {
            Connector::Scim(c) => c.connector_name(),
        }
    }

    /// One pass; `full` ignores what earlier passes already pushed. Returns when the next
    /// retry is due, if any user failed.
    async fn run(&self, hub: &Hub, full: bool) -> Option<i64> {
        match self {
            Connector::Scim(c) => c.run(hub, full).await,
        }
    }
}

/// Runs every connector once now (a full pass), as the admin API's "sync now" and tests do.
pub async fn run_once(hub: &Hub) -> Option<i64> {
    let _pass = hub.provisioning_pass.lock().await;
    run_all(hub, true).await
}

/// Runs every connector once now as a directory change does: what earlier passes confirmed
/// unchanged is not looked at again.
pub async fn run_for_changes(hub: &Hub) -> Option<i64> {
    let _pass = hub.provisioning_pass.lock().await;
    run_all(hub, false).await
}

/// One pass of every connector: the configured SCIM targets, then each Connect application's.
/// Returns when the next retry is due, if any user failed.
async fn run_all(hub: &Hub, full: bool) -> Option<i64> {
    let mut next = None;
    for connector in &hub.connectors {
        if let Some(_lease) = Lease::take(hub, &connector.name()).await {
            next = earliest(next, connector.run(hub, full).await);
        }
    }
    for connector in connect::connectors(hub).await {
        if let Some(_lease) = Lease::take(hub, &connector.connector_name()).await {
            next = earliest(next, connector.run(hub, full).await);
        }
    }
    next
}

/// How long a connector's lease lasts: longer than any pass should take (a pass that outlives it
/// loses exclusivity). It is released when the pass ends.
const LEASE_SECONDS: i64 = 600;

/// A connector's lease in the store, so that of several hub instances on one database only one
/// runs a connector's pass at a time; the others skip it (the holder does the work).
struct Lease<'a> {
    hub: &'a Hub,
    name: String,
}

impl<'a> Lease<'a> {
    async fn take(hub: &'a Hub, connector: &str) -> Option<Lease<'a>> {
        let name = format!("provisioning:{connector}");
        match hub.store.try_acquire_lease(&name, &hub.instance_id, now(), LEASE_SECONDS).await {
            Ok(true) => Some(Lease { hub, name }),
            Ok(false) => {
                tracing::debug!("provisioning {connector}: another hub instance is running it");
                None
            }
            Err(e) => {
                tracing::warn!("provisioning {connector}: taking its lease: {e}");
                None
            }
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // Released in the background: Drop cannot wait. Should it fail, the lease expires.
        let store = self.hub.store.clone();
        let (name, holder) = (std::mem::take(&mut self.name), self.hub.instance_id.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = store.release_lease(&name, &holder).await {
                    tracing::warn!("releasing {name}: {e}");
                }
            });
        }
    }
}

/// The names of the connectors a pass runs now.
pub async fn connector_names(hub: &Hub) -> Vec<String> {
    let mut names: Vec<String> = hub.connectors.iter().map(Connector::name).collect();
    names.extend(connect::connectors(hub).await.iter().map(connect::ConnectSync::connector_name));
    names
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Starts the background task; it ends when the hub is dropped. It runs even with no connector
/// configured, as a Connect application with provisioning can be added through the admin API.
pub fn spawn(hub: Arc<Hub>) -> Option<tokio::task::JoinHandle<()>> {
    let weak = Arc::downgrade(&hub);
    let changed = hub.directory_changed.clone();
    let interval = hub.schedule.interval_seconds.max(1);
    drop(hub);
    Some(tokio::spawn(async move {
        let mut last_full: Option<i64> = None;
        loop {
            // Listen before the pass, so a change made during it starts another.
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let Some(hub) = weak.upgrade() else { return };
            let started = now();
            let full = last_full.is_none_or(|at| started - at >= interval as i64);
            if full {
                last_full = Some(started);
            }
            let next_retry = {
                // One pass at a time in this process (the admin API's sync runs one too).
                let _pass = hub.provisioning_pass.lock().await;
                run_all(&hub, full).await
            };
            drop(hub);
            let until_full = (last_full.unwrap_or(started) + interval as i64 - now()).max(1);
            let wait = next_retry.map_or(until_full, |at| (at - now()).clamp(1, until_full));
            tokio::select! {
                _ = notified => {
                    // Let a burst of changes (a SCIM client's batch) settle into one pass.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                _ = tokio::time::sleep(Duration::from_secs(wait as u64)) => {}
            }
        }
    }))
}

/// The delay before the next attempt after `attempts` failures in a row.
pub(crate) fn backoff(schedule: &Schedule, attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    schedule.retry_base_seconds.max(1).saturating_mul(1_i64 << doublings).min(MAX_BACKOFF_SECONDS)
}

/// Writes the state of one subject after an attempt, and audits what changed.
pub(crate) struct Recorder<'a> {
    pub hub: &'a Hub,
    pub connector: String,
}

impl Recorder<'_> {
    pub(crate) async fn previous(&self, subject_id: &str) -> Option<ProvisioningRecord> {
        match self.hub.store.provisioning(&self.connector, subject_id).await {
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
        match self.hub.store.save_provisioning(&record).await {
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
        let now = now();
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
            audit(
                self.hub,
                "provisioning",
                &format!("{}.{action}", self.kind()),
                Some(name),
                Outcome::Success,
                self.connector.clone(),
            )
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
            updated_at: now(),
        })
        .await;
        if deleted_remote {
            audit(
                self.hub,
                "provisioning",
                &format!("{}.delete", self.kind()),
                Some(name),
                Outcome::Success,
                self.connector.clone(),
            )
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
        let now = now();
        let attempts = previous.filter(|r| r.state == SyncState::Failed).map_or(0, |r| r.attempts) + 1;
        let next = now + backoff(&self.hub.schedule, attempts);
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
            audit(self.hub, "provisioning", &format!("{}.failure", self.kind()), Some(name), Outcome::Failure, detail)
                .await;
        }
        next
    }

    fn kind(&self) -> &str {
        self.connector.split(':').next().unwrap_or("provisioning")
    }
}

/// Every user of the directory, page by page.
pub(crate) async fn all_users(hub: &Hub) -> Result<Vec<crossfed_store::User>, String> {
    let mut users = Vec::new();
    loop {
        let page = crossfed_store::Page { offset: users.len() as i64, limit: 1000 };
        let (batch, total) = hub.store.list_users(page).await.map_err(|e| e.to_string())?;
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
